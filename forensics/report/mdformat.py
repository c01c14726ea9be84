"""Markdown building blocks that keep log text from breaking the document.

Log lines hold ``|``, backticks, ``<`` and newlines; a postmortem must still render. Tables escape
pipes (GFM lets ``\\|`` through even inside code spans), code spans pick a fence longer than any
backtick run inside, and prose loses raw HTML.
"""

from __future__ import annotations

import re

#: Rows kept in long tables; the rest is counted and left to triage.json.
MAX_ROWS = 60


def cell(text: object) -> str:
    """``text`` safe inside a markdown table cell: one line, ``|`` and ``<`` escaped."""
    s = " ".join(str(text if text is not None else "").split())
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;") or " "


def code(text: object) -> str:
    """``text`` as an inline code span outside tables (backticks inside it kept intact)."""
    s = " ".join(str(text if text is not None else "").split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def code_cell(text: object) -> str:
    """``text`` as a code span inside a table cell: only ``|`` escaped (GFM reads ``\\|`` there)."""
    return code(text).replace("|", "\\|")


def prose(text: object) -> str:
    """Log-derived text in a paragraph or list item: one line, no raw HTML."""
    return " ".join(str(text if text is not None else "").split()).replace("<", "&lt;")


def anchor(cause: str) -> str:
    return cause.replace("_", "-")


def table(header: list[str], rows: list[list[str]], *, limit: int = MAX_ROWS) -> list[str]:
    """A GFM table of already-escaped cells; rows past ``limit`` are counted, not shown."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows[:limit]]
    if len(rows) > limit:
        out.append(
            f"\n_{len(rows) - limit} more row(s) not shown; every failure and entry is in triage.json._"
        )
    return out
