"""The markdown postmortem."""

from __future__ import annotations

from pathlib import Path

from forensics.result import TriageResult


def render_markdown(result: TriageResult, *, plots: dict[str, Path] | None = None) -> str:
    """A postmortem: summary, impact, timeline, one section per cause, unexplained, appendix."""
    raise NotImplementedError
