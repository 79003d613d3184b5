"""Where a run's results may be written: checked before the run, with the standard library only
(so a bad ``--out`` is refused at once, before numpy, pandas or Mesa load)."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

OUTPUT_FILES = {"daily.parquet", "units_monthly.parquet", "topics.parquet", "requests_by_type.parquet",
                "summary.json", "config.toml",
                "provenance.json", "overview.png", "network.graphml"}


class OutputError(InputError):
    """An output directory jiesu must not write to; ``str(err)`` is one line (exit code 2)."""


def check_out_dir(out_dir: str | Path) -> Path:
    """Refuse output directories whose replacement would delete anything jiesu did not write."""
    out = Path(out_dir).resolve()
    cwd = Path.cwd().resolve()
    if out == cwd or out in cwd.parents:
        raise OutputError(f"--out {out_dir}: is the current directory or one of its parents; name a new directory")
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"--out {out_dir}: exists and is not a directory")
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES)
        if foreign:
            raise OutputError(f"--out {out_dir}: holds files jiesu did not write ({', '.join(foreign[:3])}); "
                              "name a new or empty directory")
    return out
