"""Sweep storage: a Parquet dataset under ``results/<sweep>/``, one file per batch of runs.

Layout::

    results/<sweep>/manifest.json          provenance: spec, resolved arm configs, design, root
                                           seed, package versions, git commit, plan hash
    results/<sweep>/runs/batch-000001.parquet   one row per run (factors, seed, outcomes, error)

Each file is written to a hidden temporary name in the same folder, flushed to disk, then
renamed (``os.replace`` is atomic), so a sweep killed at any moment leaves only whole files
behind; readers (``pyarrow.dataset``, ``pandas.read_parquet``) skip hidden names. The same
provenance is kept in every file's schema metadata (key ``jiesu``), so a file copied away
from its folder still says where it came from. Resume reads the ``run_id`` column of the
stored files and skips those runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.numeric import numeric_platform

from .argtypes import CliError

BATCH_RE = re.compile(r"^batch-(\d+)\.parquet$")
PACKAGES = ("jiesu", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "SALib", "dask",
            "distributed", "ema-workbench")


def environment() -> dict:
    """Package versions, the git commit of the model code and the numeric platform (provenance)."""
    pkgs = {}
    for p in PACKAGES:
        try:
            pkgs[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pkgs[p] = None
    here = Path(__file__).resolve().parent
    commit = dirty = None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=here, timeout=5).stdout.strip() or None
        if commit:
            dirty = subprocess.run(["git", "status", "--porcelain", "--", "model"], capture_output=True,
                                   text=True, cwd=here.parent, timeout=10).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        pass
    return {"packages": pkgs, "git_commit": commit, "model_dirty": dirty, "numeric_platform": numeric_platform(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _atomic_write_bytes(path: Path, write) -> None:
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class RunStore:
    """The runs of one sweep on disk: manifest plus batch files; resumable."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.manifest_path = self.root / "manifest.json"

    # ------------------------------------------------------------------ manifest
    def manifest(self) -> dict | None:
        if not self.manifest_path.exists():
            return None
        return json.loads(self.manifest_path.read_text())

    def open(self, manifest: dict) -> None:
        """Create the folders and manifest, or check that an existing sweep is the same plan."""
        old = self.manifest()
        if old is not None:
            if old.get("plan_hash") != manifest["plan_hash"]:
                raise CliError(f"{self.root} holds a different sweep (plan {old.get('plan_hash')}, this spec "
                               f"{manifest['plan_hash']}): choose another --out or delete that folder")
        self.runs.mkdir(parents=True, exist_ok=True)
        for stale in self.runs.glob(".tmp-*"):          # left by a killed writer; never complete
            stale.unlink(missing_ok=True)
        if old is None:
            text = json.dumps(manifest, indent=1, ensure_ascii=False, default=str)
            _atomic_write_bytes(self.manifest_path, lambda p: p.write_text(text))

    # ------------------------------------------------------------------ batches
    def batch_files(self) -> list[Path]:
        if not self.runs.exists():
            return []
        return sorted(p for p in self.runs.iterdir() if BATCH_RE.match(p.name))

    def done_ids(self) -> set[str]:
        ids: set[str] = set()
        for f in self.batch_files():
            ids.update(pq.read_table(f, columns=["run_id"]).column("run_id").to_pylist())
        return ids

    def write_batch(self, rows: list[dict], schema: pa.Schema, provenance: dict) -> Path:
        """Write rows as the next batch file, atomically; returns its path."""
        files = self.batch_files()
        n = int(BATCH_RE.match(files[-1].name).group(1)) + 1 if files else 1
        meta = {b"jiesu": json.dumps(provenance, ensure_ascii=False, default=str).encode()}
        table = pa.Table.from_pylist(rows, schema=schema.with_metadata(meta))
        path = self.runs / f"batch-{n:06d}.parquet"
        _atomic_write_bytes(path, lambda p: pq.write_table(table, p))
        return path

    def read(self) -> pd.DataFrame:
        """All stored runs, sorted by arm, row and replicate."""
        files = self.batch_files()
        if not files:
            return pd.DataFrame()
        df = pa.concat_tables([pq.read_table(f) for f in files]).to_pandas()
        return df.sort_values(["arm", "row", "replicate"], kind="stable").reset_index(drop=True)


def file_provenance(path: str | Path) -> dict:
    """The provenance stored in one batch file's schema metadata."""
    return json.loads(pq.read_schema(path).metadata[b"jiesu"])
