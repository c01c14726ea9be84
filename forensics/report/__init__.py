"""Writing results: terminal text, JSON for machines, a markdown postmortem, all redacted."""

from __future__ import annotations

from forensics.report.json import render_json, verdicts_from_json
from forensics.report.markdown import render_markdown
from forensics.report.queries import LogQuery, queries_for
from forensics.report.text import render_text, text_report
from forensics.report.write import atomic_write, write_reports

__all__ = [
    "LogQuery",
    "atomic_write",
    "queries_for",
    "render_json",
    "render_markdown",
    "render_text",
    "text_report",
    "verdicts_from_json",
    "write_reports",
]
