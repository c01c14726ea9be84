"""Writing results: terminal text, JSON for machines, a markdown postmortem."""

from __future__ import annotations

from forensics.report.json import render_json
from forensics.report.markdown import render_markdown
from forensics.report.text import render_text
from forensics.report.write import write_reports

__all__ = ["render_json", "render_markdown", "render_text", "write_reports"]
