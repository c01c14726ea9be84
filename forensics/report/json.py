"""The JSON contract of a triage, for machines (CI annotations, dashboards, other tools).

The shape is ``TriageResult.to_dict`` (documented in ``forensics.result`` and docs/output.md)::

    {"run": {"tests": {...}, "logs": {...}, "correlation": {...}, "rules": N,
             "skipped": [{"source", "reason", "count", "first_line"}], "redacted": {kind: N}},
     "failures": [{"test_id", "root_cause", "confidence", "layer", "evidence": [
         {"insert_id", "timestamp", "log_id", "summary", "log_name"}],
         "explanation", "detail", "rule", "reason"}],
     "summary": {"failed_tests", "by_root_cause", "unknown", "skipped_input"}}

Every string is redacted unless ``result.redact`` is off, and evidence timestamps are RFC 3339 UTC.
"""

from __future__ import annotations

import json
from typing import Any

from forensics.report.facts import rfc3339
from forensics.result import Evidence, Skipped, TriageResult, Verdict


def json_dict(result: TriageResult) -> dict[str, Any]:
    """``result.to_dict()`` with evidence and log-window times in RFC 3339 UTC (``...Z``)."""
    data = result.to_dict()
    logs = (data.get("run") or {}).get("logs")
    if isinstance(logs, dict):
        for key in ("first", "last"):
            if logs.get(key) is not None:
                logs[key] = rfc3339(logs[key])
    for failure in data.get("failures", []):
        for ev in failure.get("evidence", []):
            ev["timestamp"] = rfc3339(ev.get("timestamp"))
    return data


def render_json(result: TriageResult) -> str:
    """``result`` as indented JSON text (the contract above), ending with a newline."""
    # values JSON has no type for (paths, datetimes) become strings, redacted like the rest
    text = json.dumps(
        json_dict(result), indent=2, ensure_ascii=False, default=lambda o: result.scrub(str(o))
    )
    return text + "\n"


def verdicts_from_json(data: dict[str, Any] | str) -> list[Verdict]:
    """Rebuild the verdicts of a JSON report (``render_json`` output, or its parsed dict).

    Args:
        data: the JSON text or the parsed object.

    Returns:
        The verdicts, validated like fresh ones (a label outside TAXONOMY raises ``ValueError``).
    """
    obj = json.loads(data) if isinstance(data, str) else data
    out = []
    for f in obj.get("failures", []):
        fields = dict(f)
        fields["evidence"] = tuple(Evidence(**e) for e in f.get("evidence", []))
        out.append(Verdict(**fields))
    return out


def skipped_from_json(data: dict[str, Any] | str) -> list[Skipped]:
    """The skipped-input records of a JSON report."""
    obj = json.loads(data) if isinstance(data, str) else data
    return [Skipped(**s) for s in (obj.get("run") or {}).get("skipped", [])]
