"""The JSON contract of a triage."""

from __future__ import annotations

import json

from forensics.result import TriageResult


def render_json(result: TriageResult) -> str:
    """``result.to_dict()`` as indented JSON text."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
