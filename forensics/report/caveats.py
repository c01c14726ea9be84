"""What a postmortem reader must know besides the verdicts: what stayed unexplained and why,
which input was skipped, and how the logs were read (clock offset, runner fingerprint, inputs).
"""

from __future__ import annotations

from forensics.labels import REMEDIATION, UNKNOWN
from forensics.report.facts import rfc3339, skipped_lines
from forensics.report.mdformat import code, prose
from forensics.result import TriageResult
from forensics.runfacts import clock_line


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
    line = clock_line(result.clock)
    out = [
        "## How the logs were read",
        "",
        f"- {prose(result.scrub(line[:1].upper() + line[1:]))}.",
    ]
    fingerprint = result.run.fingerprint
    for what, values in fingerprint.items() if fingerprint else []:
        out.append(
            f"- Runner {what}: " + (", ".join(code(result.scrub(x)) for x in values) or "none")
        )
    tests, logs = result.run.tests, result.run.logs
    if tests:
        out.append(
            f"- Tests: {tests.total} from {_files(result, tests.files)}"
            f", {tests.duplicates_merged} duplicate(s) merged."
        )
    if logs:
        span = f", {rfc3339(logs.first)} to {rfc3339(logs.last)}." if logs.first else "."
        out.append(
            f"- Logs: {logs.entries} entries from {_files(result, logs.files)}"
            f", {logs.duplicates_removed} duplicate(s) removed{span}"
        )
    return [*out, ""]


def _files(result: TriageResult, files: tuple[str, ...]) -> str:
    return prose(", ".join(result.scrub(f) or "" for f in files) or "an in-memory frame")


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
