"""The postmortem's appendix: how to open each cause's evidence again in Cloud Logging."""

from __future__ import annotations

from datetime import timedelta

from forensics.labels import UNKNOWN
from forensics.report.facts import causes_in_order, failure_times, unique_evidence
from forensics.report.queries import (
    LogQuery,
    log_names_by_insert_id,
    main_project,
    queries_for,
    window_query,
)
from forensics.result import TriageResult


def appendix(result: TriageResult) -> list[str]:
    """The appendix: per cause a Cloud Logging query and Logs Explorer link for its evidence."""
    out = ["## Appendix: find the evidence in Cloud Logging", ""]
    known = log_names_by_insert_id(result.logs)
    any_query = False
    for cause, vs in causes_in_order(result):
        evidence = unique_evidence(vs)
        if not evidence:
            continue
        any_query = True
        out += [f"### `{cause}`", ""]
        for q in queries_for(evidence, known):
            where = (
                f"project `{q.project}`"
                if q.project
                else "project unknown (no logName on the evidence)"
            )
            out += [
                f"Query ({where}):",
                "",
                "```",
                q.filter,
                "```",
                "",
                f"[Open in Logs Explorer]({q.url})",
                "",
            ]
    window = unexplained_query(result)
    if window is not None:
        any_query = True
        out += [
            "### Unexplained failures",
            "",
            "Everything logged while they ran:",
            "",
            "```",
            window.filter,
            "```",
            "",
            f"[Open in Logs Explorer]({window.url})",
            "",
        ]
    if not any_query:
        out += ["No evidence entries to query.", ""]
    return out + redacted(result)


def redacted(result: TriageResult) -> list[str]:
    """What this triage's output hides, counted by kind (distinct values, never the values)."""
    counts = result.to_dict()["run"]["redacted"]
    if not result.redact:
        said = "Redaction is off: nothing was hidden."
    elif not counts:
        said = "No secret was found in what this report shows."
    else:
        kinds = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        said = f"Hidden as `[REDACTED <kind> sha256:…]` (distinct values by kind): {kinds}."
    return ["### Secrets redacted", "", said, ""]


def unexplained_query(result: TriageResult) -> LogQuery | None:
    """A time-range query around the unknown failures (padded by their times' uncertainty)."""
    times = failure_times(result)
    unknown = [
        times[v.test_id] for v in result.verdicts if v.root_cause == UNKNOWN and v.test_id in times
    ]
    moments = [t for ft in unknown for t in (ft.start, ft.stop) if t is not None]
    if not moments:
        return None
    pad = timedelta(seconds=5 + max(ft.uncertainty_s for ft in unknown))
    return window_query(main_project(result.logs), min(moments) - pad, max(moments) + pad)
