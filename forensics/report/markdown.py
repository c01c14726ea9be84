"""The markdown postmortem: what a team pastes into an incident doc or a pull request.

Sections: summary (what failed, the verdict in one sentence), impact, timeline in UTC, one section
per root cause with its evidence table and the TAXONOMY remediation, what stayed unexplained and
why, skipped input, how the logs were aligned, and an appendix with the Cloud Logging query and a
Logs Explorer link for each cause. Every claim names the log entries (insertIds) behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from forensics.labels import LAYERS, MEANING, REMEDIATION, UNKNOWN
from forensics.report.appendix import appendix
from forensics.report.caveats import how_read, skipped, unexplained
from forensics.report.deciding import after_first_sentence, deciding_line, first_sentence
from forensics.report.facts import (
    FailureTime,
    causes_in_order,
    clip,
    failure_times,
    parse_time,
    short_time,
    unique_evidence,
)
from forensics.report.mdformat import anchor, cell, code, code_cell, prose, table
from forensics.result import TriageResult, Verdict

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Timeline rows shown: enough for a large run's failures and their key entries.
TIMELINE_ROWS = 200
#: The plot shown under the summary; the others follow the root causes.
TOP_PLOT = "timeline"
#: One line under each plot saying what to look at.
PLOT_CAPTIONS = {
    "timeline": "One lane per failed test: its window on Google's clock (grey box) and the log "
    "entries tied to it (squares: request logs, circles: the app's own lines). The markers "
    "inside each window are the refusals that failed it.",
    "causes": "Failed tests per root cause: the longest bar is where to start.",
    "requests_by_status": "The run's requests over time by HTTP status class, failed-test windows "
    "shaded: a 4xx or 5xx burst inside the shading is the failure seen from the server.",
}


def _verdict_sentence(result: TriageResult) -> str:
    causes = causes_in_order(result)
    n = len(result.verdicts)
    if n == 0:
        return "No test failed, so there is nothing to explain."
    known = [(c, vs) for c, vs in causes if c != UNKNOWN]
    unknown = sum(len(vs) for c, vs in causes if c == UNKNOWN)
    if len(known) == 1 and not unknown:
        c = known[0][0]
        return f"All {n} failed test(s) have one root cause, `{c}`: {MEANING.get(c, c)}."
    parts = [f"{len(vs)} `{c}` ({MEANING.get(c, c)})" for c, vs in known]
    tail = f"{unknown} stayed unexplained" if unknown else "none stayed unexplained"
    if not parts:
        return f"None of the {n} failed test(s) could be explained from the logs."
    return f"Of {n} failed test(s): " + "; ".join(parts) + f"; {tail}."


def _evidence_line(n: int) -> str:
    if n == 0:
        return "no log entry backs a verdict (see Unexplained)."
    return f"{n} log entries back these verdicts (listed per cause below, with queries to open them in the appendix)."


def _span(times: list[FailureTime]) -> tuple[str, str]:
    ats = sorted(t.at for t in times if t.at is not None)
    return (short_time(ats[0]), short_time(ats[-1])) if ats else ("unknown", "unknown")


def _summary(result: TriageResult) -> list[str]:
    total = result.run.tests.total if result.run.tests else None
    failed = len(result.verdicts)
    what = f"{failed} of {total} test(s) failed" if total else f"{failed} test(s) failed"
    ids = ", ".join(code(result.scrub(v.test_id)) for v in result.verdicts[:8])
    more = f" and {failed - 8} more" if failed > 8 else ""
    return [
        "## Summary",
        "",
        f"- **What failed:** {what}" + (f": {ids}{more}." if ids else "."),
        f"- **Verdict:** {_verdict_sentence(result)}",
        f"- **Evidence:** {_evidence_line(len(unique_evidence(result.verdicts)))}",
        "",
    ]


def _impact(result: TriageResult, times: dict[str, FailureTime]) -> list[str]:
    rows = []
    for cause, vs in causes_in_order(result):
        first, last = _span([times[v.test_id] for v in vs if v.test_id in times])
        link = f"[`{cause}`](#{anchor(cause)})" if cause != UNKNOWN else "`unknown`"
        layers = sorted({v.layer for v in vs if v.layer}) or [LAYERS.get(cause) or "-"]
        rows.append([link, cell(" and ".join(layers)), str(len(vs)), first, last])
    if not rows:
        return ["## Impact", "", "No test failed.", ""]
    first, last = _span(list(times.values()))
    note = (
        ""
        if first != "unknown"
        else (" The test report has no per-test times, so failure times are unknown.")
    )
    return [
        "## Impact",
        "",
        f"Failures from **{first}** to **{last}** (UTC: {_clock_phrase(result)}).{note}",
        "",
        *table(["cause", "layer", "tests", "first failure", "last failure"], rows),
        "",
    ]


def _clock_phrase(result: TriageResult) -> str:
    """How runner times were moved onto Google's clock, with the offset's uncertainty."""
    clock = result.clock
    return (
        "runner clock, no offset estimated"
        if clock is None
        else f"runner clock {clock.offset_text()}"
    )


def _timeline(result: TriageResult, times: dict[str, FailureTime]) -> list[str]:
    events: list[tuple[datetime | None, str, str, str]] = []
    for v in result.verdicts:
        t = times.get(v.test_id)
        if t and t.at:
            events.append(
                (
                    t.at,
                    short_time(t.at),
                    f"test failed (`{v.root_cause}`)",
                    cell(result.scrub(v.test_id)),
                )
            )
    for e in unique_evidence(result.verdicts):
        at = parse_time(e.timestamp)
        events.append(
            (
                at,
                short_time(e.timestamp),
                f"log entry {code_cell(e.insert_id)}",
                cell(clip(result.scrub(f"{e.log_id}: {e.summary or ''}"), 160)),
            )
        )
    if not events:
        return [
            "## Timeline (UTC)",
            "",
            "No timed event: the tests carry no times and no evidence was linked.",
            "",
        ]
    events.sort(key=lambda ev: (ev[0] is None, ev[0] or _EPOCH))
    return [
        "## Timeline (UTC)",
        "",
        *table(
            ["time (UTC)", "event", "detail"],
            [[t, what, d] for _, t, what, d in events],
            limit=TIMELINE_ROWS,
        ),
        "",
    ]


def _cause_section(result: TriageResult, cause: str, vs: list[Verdict]) -> list[str]:
    out = [f'<a id="{anchor(cause)}"></a>', f"### `{cause}`: {len(vs)} test(s)", ""]
    meaning = MEANING.get(cause, cause)
    details: dict[str, int] = {}
    for v in vs:
        if v.detail:
            details[v.detail] = details.get(v.detail, 0) + 1
    by_detail = (
        " By detail: "
        + ", ".join(f"{code(d)} {n}" for d, n in sorted(details.items(), key=lambda kv: -kv[1]))
        + "."
        if details
        else ""
    )
    out += [f"{meaning[:1].upper()}{meaning[1:]}.{by_detail}", ""]
    for v in vs:
        out += _test_bullet(result, v)
    evidence = unique_evidence(vs)
    out += ["", f"Evidence ({len(evidence)} entries):", ""]
    if evidence:
        out += table(
            ["insertId", "timestamp (UTC)", "log", "summary"],
            [
                [
                    code_cell(e.insert_id),
                    cell(short_time(e.timestamp)),
                    cell(result.scrub(e.log_id)),
                    cell(clip(result.scrub(e.summary), 200)),
                ]
                for e in evidence
            ],
        )
    else:
        out.append("_No log entry backs this verdict._")
    out += ["", f"**Remediation:** {REMEDIATION.get(cause, '-')}", ""]
    return out


def _test_bullet(result: TriageResult, v: Verdict) -> list[str]:
    """One plain sentence and the deciding log line; the scoring detail folded in ``<details>``."""
    extra = ", ".join(
        x for x in (v.detail and f"detail {code(v.detail)}", v.rule and f"rule {code(v.rule)}") if x
    )
    lead = prose(first_sentence(result, v))
    line = deciding_line(result, v)
    decided = (
        f"Deciding log line: {code(line)}."
        if v.evidence
        else f"{prose(line)[:1].upper()}{prose(line)[1:]}."
    )
    rest = after_first_sentence(result, v)
    return [
        f"- {code(result.scrub(v.test_id))}: {lead} {decided}",
        "",
        f"  <details><summary>How it was scored (confidence {v.confidence:.2f}"
        + (f", {extra}" if extra else "")
        + ")</summary>",
        "",
        f"  {prose(rest) if rest else 'No more detail recorded.'}",
        "",
        "  </details>",
        "",
    ]


def _plot(name: str, path: Path) -> list[str]:
    """A plot embedded with its caption (what to see in it)."""
    caption = PLOT_CAPTIONS.get(name)
    return [f"![{cell(name)}]({Path(path).as_posix()})", *([f"_{caption}_"] if caption else []), ""]


def _passed(result: TriageResult) -> str:
    """The whole postmortem of a run where no test failed: it passed, and that is all."""
    tests = result.run.tests
    counted = f"all {tests.total} test(s) passed" if tests and tests.total else "no test failed"
    out = [
        "# Postmortem: the run passed",
        "",
        f"The run passed: {counted}, so there is no failure to explain.",
        "",
    ]
    out += skipped(result)
    return "\n".join(out).rstrip() + "\n"


def render_markdown(
    result: TriageResult, *, plots: dict[str, Path] | None = None, notes: list[str] | None = None
) -> str:
    """A postmortem: summary, impact, timeline, one section per cause, unexplained, appendix.

    Args:
        result: the triage; every log-derived string goes through ``result.scrub``.
        plots: name -> image path, embedded as given (pass paths relative to the markdown file).
        notes: lines about the report itself (e.g. plots that could not be drawn), listed under Plots.

    Returns:
        The markdown text, ending with a newline.
    """
    if not result.verdicts:
        return _passed(result)
    times = failure_times(result)
    causes = causes_in_order(result)
    title = ", ".join(f"{c} {len(vs)}" for c, vs in causes) or "no failures"
    out = [f"# Postmortem: {len(result.verdicts)} failed test(s) ({title})", ""]
    out += _summary(result)
    plots = dict(plots or {})
    if TOP_PLOT in plots:
        out += _plot(TOP_PLOT, plots.pop(TOP_PLOT))
    out += _impact(result, times) + _timeline(result, times)
    out += ["## Root causes", ""]
    explained = [(c, vs) for c, vs in causes if c != UNKNOWN]
    for cause, vs in explained:
        out += _cause_section(result, cause, vs)
    if not explained:
        out += ["No failed test has a root cause backed by the logs.", ""]
    out += unexplained(result) + skipped(result)
    if plots or notes:
        out += ["## Plots", ""]
        out += [line for name, p in plots.items() for line in _plot(name, p)]
        out += [f"- {prose(result.scrub(n))}" for n in notes or []] + [""]
    out += how_read(result) + appendix(result)
    if not result.redact:
        out.insert(
            1,
            "> **Redaction is off** (`--no-redact`): this report may show secrets from the logs. Do not share it.\n",
        )
    return "\n".join(out).rstrip() + "\n"
