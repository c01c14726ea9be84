"""The lines of the ``forensics`` section of pytest's terminal summary.

    forensics: 3 failed test(s), from 212 log entries; test times exact (recorded by the plugin)
    pulled 212 entries of acme-chat-staging from http://127.0.0.1:8086 in 1 page(s), 0.1s
    waited 2.0 s for late entries (3 pulls)
    tests/e2e/test_ws.py::test_connect - missing_bypass_header 0.99
        2025-09-07 15:22:10.679Z  WARNING chat-backend-staging: E2E bypass header X-E2E-Bypass-Key missing ...
    causes: missing_bypass_header 3
    reports: out/triage.txt, out/triage.json, out/postmortem.md, ...

Every line is redacted (``TriageResult.scrub``) and free of control characters. No line starts
with ``FAILED``: scripts that count pytest's own ``FAILED`` lines must not count these.
"""

from __future__ import annotations

from forensics.plugin.explain import Explained
from forensics.report.deciding import cause_text, deciding_line
from forensics.report.facts import causes_in_order, printable


def section_lines(explained: Explained) -> list[str]:
    """The section's lines: the source of the logs, one block per failed test, totals, reports."""
    result = explained.result
    lines = [
        f"forensics: {len(result.verdicts)} failed test(s), from {result.logs.height:,} log entries; "
        "test times exact (recorded by the plugin, every phase)"
    ]
    lines += [printable(note) for note in explained.notes]
    for v in result.verdicts:
        lines.append(f"{printable(result.scrub(v.test_id) or '')} - {cause_text(v)}")
        lines.append(f"    {deciding_line(result, v)}")
    causes = ", ".join(f"{cause} {len(vs)}" for cause, vs in causes_in_order(result))
    lines.append(f"causes: {causes or 'none'}")
    if explained.reports:
        lines.append("reports: " + ", ".join(str(p) for p in explained.reports.values()))
    return lines
