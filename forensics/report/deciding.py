"""One line per failed test for the places a failure is first seen: pytest's summary, CI annotations.

A verdict can hold many entries; where space is one line, the reader needs the entry that decided:
the app's or the edge's own words (``E2E bypass header ... missing``, an IAP audit denial), not the
bare request log line (``403 GET /ws``) that only says a refusal happened. When every entry is a
request log (Cloud Run's IAM check, a Cloud Armor deny), the request log is the decider.
Every string passes through ``TriageResult.scrub``: these lines end up in CI logs.
"""

from __future__ import annotations

import re

from forensics.labels import UNKNOWN
from forensics.report.facts import clip, printable, short_time
from forensics.result import Evidence, TriageResult, Verdict

#: Characters kept of a deciding line or explanation sentence.
LINE_LIMIT = 240

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _is_request_log(evidence: Evidence) -> bool:
    return evidence.log_id.rsplit("/", 1)[-1] == "requests"


def deciding_evidence(verdict: Verdict) -> Evidence | None:
    """The entry that decided ``verdict``: its first non-request-log entry, else its first entry."""
    if not verdict.evidence:
        return None
    return next((e for e in verdict.evidence if not _is_request_log(e)), verdict.evidence[0])


def deciding_line(result: TriageResult, verdict: Verdict, limit: int = LINE_LIMIT) -> str:
    """``2025-09-07 15:22:10.679Z  WARNING ...: E2E bypass header ... missing`` on one line.

    For an ``unknown`` verdict: what is missing (its reason), since no line decides.
    """
    if verdict.root_cause == UNKNOWN:
        reason = result.scrub(verdict.reason) or "nothing in the logs decides"
        return clip(printable(f"no deciding log line: {reason}"), limit)
    entry = deciding_evidence(verdict)
    if entry is None:
        return "no log entry recorded for this verdict"
    text = f"{short_time(entry.timestamp)}  {result.scrub(entry.summary) or ''}"
    return clip(printable(text), limit)


def cause_text(verdict: Verdict) -> str:
    """``invalid_jwt (expired) 0.93``: the label, its detail, and the confidence."""
    detail = f" ({verdict.detail})" if verdict.detail else ""
    return f"{verdict.root_cause}{detail} {verdict.confidence:.2f}"


def first_sentence(result: TriageResult, verdict: Verdict, limit: int = LINE_LIMIT) -> str:
    """The explanation's first sentence, redacted before it is cut (never half a secret)."""
    text = (result.scrub(verdict.explanation) or "").strip()
    return clip(printable(_SENTENCE_END.split(text, maxsplit=1)[0]), limit)


def after_first_sentence(result: TriageResult, verdict: Verdict) -> str:
    """The explanation past its first sentence (entries, rules, scoring), redacted; may be empty."""
    text = (result.scrub(verdict.explanation) or "").strip()
    parts = _SENTENCE_END.split(text, maxsplit=1)
    return printable(parts[1]) if len(parts) > 1 else ""
