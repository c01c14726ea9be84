"""The terminal summary: a table of failed tests, totals by cause, the clock offset used."""

from __future__ import annotations

from typing import IO

from forensics.result import TriageResult


def render_text(result: TriageResult, file: IO[str] | None = None, *, width: int | None = None) -> None:
    """Print the summary table with rich to ``file`` (stdout by default)."""
    raise NotImplementedError
