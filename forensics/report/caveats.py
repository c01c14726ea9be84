"""What a postmortem reader must know besides the verdicts: what stayed unexplained and why,
which input was skipped, and how the logs were read (clock offset, runner fingerprint, inputs).
"""

from __future__ import annotations

from forensics.labels import REMEDIATION, UNKNOWN
from forensics.report.facts import offset_text, rfc3339, skipped_lines
from forensics.report.mdformat import code, prose
from forensics.result import TriageResult


def unexplained(result: TriageResult) -> list[str]:
    """The "Unexplained" section: unknown verdicts grouped by their reason, and what to do."""
    unknown = [v for v in result.verdicts if v.root_cause == UNKNOWN]
    out = ["## Unexplained", ""]
    if not unknown:
        return [*out, "Every failed test was explained by log evidence.", ""]
    out.append(f"{len(unknown)} failed test(s) could not be explained from the logs:")
    out.append("")
    by_reason: dict[
        str, list[str]
    ] = {}  # one line per reason: fifty tests rarely have fifty reasons
    for v in unknown:
        why = prose(result.scrub(v.reason or v.explanation or "no reason recorded"))
        by_reason.setdefault(why, []).append(code(result.scrub(v.test_id)))
    for why, ids in by_reason.items():
        out.append(
            f"- {ids[0]}: {why}"
            if len(ids) == 1
            else f"- {len(ids)} tests ({', '.join(ids)}): {why}"
        )
    return [
        *out,
        "",
        f"**What to do:** {REMEDIATION[UNKNOWN]} The appendix has a query for the failures' time range.",
        "",
    ]


def how_read(result: TriageResult) -> list[str]:
    """The "How the logs were read" section: clock offset and method, runner fingerprint, inputs."""
    corr = result.run.get("correlation") or {}
    out = ["## How the logs were read", ""]
    off = offset_text(result)
    if off is not None:
        method = prose(result.scrub(str(corr.get("clock_method") or "an unnamed method")))
        out.append(f"- Clock offset (Google minus runner): {off}, found by {method}.")
    else:
        out.append("- Clock offset: not estimated.")
    for k, vals in (corr.get("fingerprint") or {}).items():
        out.append(
            f"- Runner {k.replace('_', ' ')}: "
            + (", ".join(code(result.scrub(str(x))) for x in vals) or "none")
        )
    tests, logs = result.run.get("tests") or {}, result.run.get("logs") or {}
    if tests:
        out.append(
            f"- Tests: {tests.get('total', '?')} from {_files(result, tests.get('files'))}"
            f", {tests.get('duplicates_merged', 0)} duplicate(s) merged."
        )
    if logs:
        out.append(
            f"- Logs: {logs.get('entries', '?')} entries from {_files(result, logs.get('files'))}"
            f", {logs.get('duplicates_removed', 0)} duplicate(s) removed"
            + (
                f", {rfc3339(logs['first'])} to {rfc3339(logs['last'])}."
                if logs.get("first")
                else "."
            )
        )
    return [*out, ""]


def _files(result: TriageResult, files: object) -> str:
    names = [files] if isinstance(files, str) else list(files or [])  # type: ignore[call-overload]
    return prose(", ".join(result.scrub(str(f)) or "" for f in names) or "an in-memory frame")


def skipped(result: TriageResult) -> list[str]:
    """The "Skipped input" section: every skipped item by file and reason, or that none was."""
    lines = skipped_lines(result)
    if not lines:
        return [
            "## Skipped input",
            "",
            "Nothing was skipped: every line of every input was read.",
            "",
        ]
    total = sum(s.count for s in result.skipped)
    return [
        "## Skipped input",
        "",
        f"{total} input item(s) were skipped, by file and reason:",
        "",
        *(f"- {prose(line)}" for line in lines),
        "",
    ]
