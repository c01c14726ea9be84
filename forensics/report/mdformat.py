"""Markdown building blocks that show log text exactly as logged, without breaking the document.

Log lines hold ``|``, ``*``, backticks, ``<`` and newlines. Text is put on one line and every
character markdown would act on is backslash-escaped (``_`` only at word edges, so test ids stay
readable in the raw file); table cells escape ``|`` (GFM honours ``\\|`` even inside code spans);
code spans pick a fence longer than any backtick run inside.
"""

from __future__ import annotations

import re

from forensics.report.facts import printable

#: Rows kept in long tables; the rest is counted and left to triage.json.
MAX_ROWS = 60


_ACTIVE = re.compile(r"([\\`*\[\]<>|~])")
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


_MARKER = re.compile(r"\[REDACTED [\w :]*\](?!\()")


def _escape(s: str) -> str:
    return _EDGE_UNDERSCORE.sub(r"\\_", _ACTIVE.sub(r"\\\1", s.replace("&", "&amp;")))


def literal(text: object) -> str:
    """``text`` on one line that markdown renders as written (no emphasis, links, HTML or code).

    Redaction markers keep their brackets unescaped so the raw file stays readable: a bracket
    pair not followed by ``(`` is no link.
    """
    s = printable(" ".join(str(text if text is not None else "").split()))
    out, pos = [], 0
    for m in _MARKER.finditer(s):
        out += [_escape(s[pos : m.start()]), m.group(0)]
        pos = m.end()
    return "".join(out) + _escape(s[pos:])


def cell(text: object) -> str:
    """``text`` as a markdown table cell that renders as written (``|`` cannot split the row)."""
    return literal(text) or " "


def code(text: object) -> str:
    """``text`` as an inline code span outside tables (backticks inside it kept intact)."""
    s = printable(" ".join(str(text if text is not None else "").split()))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def code_cell(text: object) -> str:
    """``text`` as a code span inside a table cell: only ``|`` escaped (GFM reads ``\\|`` there)."""
    return code(text).replace("|", "\\|")


def prose(text: object) -> str:
    """Log-derived text in a paragraph or list item, rendered as written."""
    return literal(text)


def anchor(cause: str) -> str:
    """The HTML anchor of a cause's section (``missing-jwt``), for links from the impact table."""
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
