"""The regulation's articles as data: 北京市接诉即办工作条例 (2021), article number -> Chinese text.

``model/data/regulation_articles.toml`` holds the full adopted text, article by article, with
its chapter and a short English *gloss* per article (a summary written for this project, not a
translation; the Chinese text is the law). It is built from the reference copy of the text
(``reference/regulation-2021.zh.md``) by :func:`build`; tests check the shipped file against it.

:func:`article_numbers` reads the ``article`` metadata of a config field ("Art. 15(1), 32",
"Art. 25-26", "Art. 14; seed (...)") into article numbers, so a report can show the text of the
articles a lever implements.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "model" / "data" / "regulation_articles.toml"
DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
ARTICLE_RE = re.compile(r"^第([一二三四五六七八九十]+)条\s*(.*)$")
CHAPTER_RE = re.compile(r"^##\s*(第[一二三四五六七八九十]+章)\s*(.*)$")


def chinese_number(text: str) -> int:
    """一 .. 九十九 as an int (the article numbers of the regulation)."""
    if "十" not in text:
        return DIGITS[text]
    tens, _, ones = text.partition("十")
    return (DIGITS[tens] if tens else 1) * 10 + (DIGITS[ones] if ones else 0)


def parse_markdown(text: str) -> dict[int, dict]:
    """{article number: {"chapter", "zh"}} from the reference markdown (paragraphs kept, one per line)."""
    out: dict[int, dict] = {}
    chapter, current = "", None
    for line in text.splitlines():
        line = line.strip()
        if m := CHAPTER_RE.match(line):
            chapter, current = f"{m.group(1)} {re.sub(r'[\s\u3000]+', '', m.group(2))}", None
        elif m := ARTICLE_RE.match(line):
            current = chinese_number(m.group(1))
            out[current] = {"chapter": chapter, "zh": [f"第{m.group(1)}条 {m.group(2)}".strip()]}
        elif line and current is not None and not line.startswith("#"):
            out[current]["zh"].append(line)
    return {k: {"chapter": v["chapter"], "zh": "\n".join(v["zh"])} for k, v in out.items()}


def to_toml(articles: dict[int, dict], glosses: dict[int, str], title: str, source: str) -> str:
    """The data file's text: one [articles.N] table per article (literal strings: no escaping)."""
    lines = ["# 北京市接诉即办工作条例 (adopted 2021-09-24): the full text, article by article.",
             "# zh: the Chinese text (the law). gloss_en: a short English gloss written for this project,",
             "# NOT a translation. Built by experiments.report.regulation.build from the reference text.",
             f"title = {json.dumps(title, ensure_ascii=False)}", f"source = {json.dumps(source, ensure_ascii=False)}", ""]
    for n in sorted(articles):
        a = articles[n]
        for value in (a["zh"], glosses[n]):
            if "'''" in value:
                raise ValueError(f"article {n}: text holds ''' and cannot be a TOML literal string")
        lines += [f"[articles.{n}]", f"chapter = '{a['chapter']}'", f"zh = '''\n{a['zh']}'''",
                  f"gloss_en = '''{glosses[n]}'''", ""]
    return "\n".join(lines)


def build(reference: str | Path, glosses: dict[int, str] | None = None, out: str | Path = DATA) -> Path:
    """Write the data file from the reference markdown and the glosses (every article needs one;
    default: the glosses of the shipped file, so re-building keeps them).

        python -c "from experiments.report.regulation import build; build('reference/regulation-2021.zh.md')"
    """
    if glosses is None:
        glosses = {n: a["gloss_en"] for n, a in articles().items()}
    articles_ = parse_markdown(Path(reference).read_text(encoding="utf-8"))
    missing = sorted(set(articles_) - set(glosses))
    if missing:
        raise ValueError(f"no English gloss for article(s) {missing}")
    out = Path(out)
    out.write_text(to_toml(articles_, glosses, "北京市接诉即办工作条例",
                           "adopted 2021-09-24 by the Standing Committee of the 15th Beijing People's Congress"),
                   encoding="utf-8")
    return out


@functools.cache
def articles() -> dict[int, dict]:
    """{number: {"chapter", "zh", "gloss_en"}} from the shipped data file."""
    with open(DATA, "rb") as fh:
        data = tomllib.load(fh)
    return {int(k): v for k, v in data["articles"].items()}


_REF = re.compile(r"Art\.?\s*((?:\d+(?:\(\d+\)(?:\d+(?:,\d+)*)?)?(?:\s*[-–]\s*\d+)?(?:,\s+|\s*$|(?=[;\s])))+)")
_CITE = re.compile(r"(\d+)(?:\(\d+\)(?:\d+(?:,\d+)*)?)?(?:\s*[-–]\s*(\d+))?")


def article_numbers(ref: str) -> list[int]:
    """Article numbers cited by a config field's ``article`` metadata, in order, without repeats.

    "Art. 15(1), 32" -> [15, 32]; "Art. 25-26" -> [25, 26]; "Art. 11(2)3,5" (items 3 and 5 of
    paragraph 2) -> [11]; "Art. 14; seed (...)" -> [14]; numbers outside the regulation are ignored."""
    nums: list[int] = []
    for m in _REF.finditer(ref or ""):
        for c in _CITE.finditer(m.group(1)):
            lo, hi = int(c.group(1)), int(c.group(2) or c.group(1))
            nums += [n for n in range(lo, hi + 1) if 1 <= n <= 38 and n not in nums]
    return nums
