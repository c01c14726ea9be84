"""The iteration report of a test-deploy loop, written from the evidence instead of by hand.

The seed's "Test Iteration 1 Report" (summary, failed tests, hypotheses, next steps, metrics) was
written by hand after each run. ``iteration_report`` writes it from the history: the summary from
the run's rows, the failed tests grouped by the cause the logs proved with the lines that decided
it, what changed since the previous run and the deploy in between, next steps from each cause's
remediation, and what stays unexplained.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from forensics.exceptions import HistoryError
from forensics.history.compare import compare_rows
from forensics.history.model import Comparison, RunSummary, TestStatus
from forensics.history.render import rate, short_commit
from forensics.history.store import history_dir, read_history
from forensics.labels import LABELS, REMEDIATION, UNKNOWN, WHAT_HAPPENED
from forensics.report.facts import clip
from forensics.report.mdformat import cell, code, code_cell, literal, table

MAX_LINES = 5  # distinct deciding lines shown per cause


def _when(t: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return t.strftime(fmt) if t else "-"


def _header(k: int, run: RunSummary) -> list[str]:
    out = [f"# Test Iteration {k} Report", f"**Date:** {_when(run.started)} UTC (Google's clock)  "]
    source = f"**Run:** {code(run.run_id)}"
    if run.commit:
        source += f", commit {code(short_commit(run.commit))}"
    if run.branch:
        source += f" on {code(run.branch)}"
    if run.job_url:
        source += f" ([CI job]({run.job_url}))"
    out.append(source + "  ")
    env = ", ".join(run.services) or "services unknown"
    revs = ", ".join(run.revisions) or "no revision seen in the logs"
    out += [
        f"**Environment:** {literal(env)} (revisions {literal(revs)})  ",
        f"**Tests executed:** {run.tests}",
    ]
    return out


def _summary(run: RunSummary, rows: pl.DataFrame) -> list[str]:
    ran = run.passed + run.failed
    causes = ", ".join(f"{n} {c}" for c, n in run.by_root_cause.items())
    out = [
        "## Summary",
        "",
        f"- **Pass rate:** {rate(run).replace(' ', '')} ({run.passed}/{ran} passed)",
        f"- **Failed tests:** {run.failed}" + (f" ({causes})" if causes else ""),
    ]
    if run.skipped:
        out.append(f"- **Skipped:** {run.skipped}")
    durations = rows.get_column("duration_s").drop_nulls().to_list()
    if run.duration_s is not None:
        out.append(
            f"- **Duration:** {run.duration_s:.2f} s on Google's clock "
            f"({_when(run.started, '%H:%M:%S')} to {_when(run.ended, '%H:%M:%S')} UTC)"
        )
    if durations:
        total = sum(durations)
        out.append(
            f"- **Test time:** {total:.2f} s in total, {total / len(durations):.2f} s per test on "
            f"average; slowest {max(durations):.2f} s"
        )
    return out


def _cause_order(run: RunSummary) -> list[str]:
    order = {label: i for i, label in enumerate(LABELS)}
    return sorted(
        run.by_root_cause, key=lambda c: (c == UNKNOWN, -run.by_root_cause[c], order.get(c, 99))
    )


def _failures(run: RunSummary, rows: pl.DataFrame, upto: Comparison) -> list[str]:
    failed = rows.filter(pl.col("outcome").is_in(["failed", "error"]))
    if not failed.height:
        return ["## Failed tests", "", "None: every test that ran passed."]
    first_seen = {(s.root_cause, s.template): s for s in upto.signatures}
    index = {r.run_id: r.index for r in upto.runs}
    out = ["## Failed tests by proven cause"]
    for cause in _cause_order(run):
        group = failed.filter(pl.col("root_cause").fill_null(UNKNOWN) == cause)
        out += ["", f"### {code(cause)}: {group.height} test(s)", ""]
        if cause != UNKNOWN:
            out += [WHAT_HAPPENED[cause][0].upper() + WHAT_HAPPENED[cause][1:] + ".", ""]
        out += table(
            ["test", "confidence", "rule", "the test saw"],
            [
                [code_cell(r["test_id"]), f"{r['confidence'] or 0:.2f}", cell(r["rule"] or "-"),
                 code_cell(clip(r["failure"], 120) or "-")]
                for r in group.iter_rows(named=True)
            ],
        )  # fmt: skip
        lines = (
            group.group_by("template")
            .agg(
                pl.len().alias("n"),
                pl.col("deciding_line").drop_nulls().first(),
                pl.col("reason").first(),
            )
            .sort("n", "template", descending=[True, False])
        )
        out += ["", "Deciding log line(s):" if cause != UNKNOWN else "Why nothing decides:", ""]
        for r in lines.head(MAX_LINES).iter_rows(named=True):
            text = r["deciding_line"] or r["reason"] or r["template"] or "(none)"
            sig = first_seen.get((cause, r["template"]))
            since = (
                f"; first seen in iteration {index[sig.first_run]}"
                if sig and sig.first_run != run.run_id and sig.first_run in index
                else ""
            )
            out.append(f"- {code(clip(text, 240))} ({r['n']} test(s){since})")
    return out


def _names(tests: list[TestStatus], with_cause: bool = False) -> list[str]:
    out = []
    for t in tests:
        move = ""
        if with_cause and t.previous_cause and t.root_cause and t.previous_cause != t.root_cause:
            move = f": {code(t.previous_cause)} -> {code(t.root_cause)}"
        elif with_cause and t.root_cause:
            move = f": {code(t.root_cause)}"
        out.append(f"  - {code(t.test_id)}{move}")
    return out


def _changes(k: int, pair: Comparison, upto: Comparison) -> list[str]:
    if len(pair.runs) < 2:
        return [
            "## What changed",
            "",
            "This is the first recorded run: nothing to compare with yet.",
        ]
    before, after = pair.runs
    out = [f"## What changed since iteration {k - 1} ({code(before.run_id)})", ""]
    deploy = pair.deploys[0] if pair.deploys else None
    if deploy:
        out.append(
            f"- **Deploy:** {literal(deploy.sentence().replace('runs 1 and 2', f'iterations {k - 1} and {k}'))}"
        )
        out.append(
            f"  (before: {literal(', '.join(deploy.before))}; after: {literal(', '.join(deploy.after))})"
        )
    elif before.revisions and before.revisions == after.revisions:
        out.append(
            f"- **Deploy:** none; the same revisions served both runs ({literal(', '.join(after.revisions))})"
        )
    else:
        out.append("- **Deploy:** unknown (no revision seen in the logs of one of the runs)")
    if before.commit and after.commit and before.commit != after.commit:
        out.append(
            f"- **Commit:** {code(short_commit(before.commit))} -> {code(short_commit(after.commit))}"
        )
    elif before.commit and before.commit == after.commit:
        out.append(f"- **Commit:** unchanged ({code(short_commit(after.commit))})")
    flaky = {t.test_id for t in upto.tests if t.status == "flaky"}
    groups = [
        ("Fixed", "fixed", False), ("New failures", "new", True),
        ("Cause changed", "cause_changed", True), ("Still failing, same cause", "persistent", True),
    ]  # fmt: skip
    for title, status, with_cause in groups:
        tests = [t for t in pair.tests if t.status == status and t.test_id not in flaky]
        if tests:
            out += [f"- **{title}** ({len(tests)}):", *_names(tests, with_cause)]
    known_flaky = [t for t in upto.tests if t.status == "flaky"]
    if known_flaky:
        out += [
            f"- **Flaky** ({len(known_flaky)}): passed and failed with nothing changed between, "
            f"in the {len(upto.runs)} iterations so far:",
            *_names(known_flaky),
        ]
    if len(out) == 2:
        out.append("- Nothing: every test did as in the previous run.")
    return out


def _by_file(rows: pl.DataFrame) -> list[str]:
    files = (
        rows.with_columns(pl.col("test_id").str.split("::").list.first().alias("file"))
        .group_by("file")
        .agg(
            (pl.col("outcome").is_in(["passed", "xpassed"])).sum().alias("passed"),
            pl.col("outcome").is_in(["failed", "error"]).sum().alias("failed"),
            pl.len().alias("tests"),
        )
        .sort("file")
    )
    return ["## Results by test file", "", *table(
        ["file", "passed", "failed", "tests"],
        [[code_cell(r["file"]), str(r["passed"]), str(r["failed"]), str(r["tests"])] for r in files.iter_rows(named=True)],
    )]  # fmt: skip


def _next_steps(run: RunSummary) -> list[str]:
    out = ["## Next steps", ""]
    n = 0
    for cause in _cause_order(run):
        n += 1
        out.append(f"{n}. **{cause}** ({run.by_root_cause[cause]} test(s)): {REMEDIATION[cause]}")
    n += 1
    out.append(
        f"{n}. Run the suite again after the fix and record it (`triage ... --history DIR`); "
        "the next report says which tests it fixed."
        if run.failed
        else f"{n}. Nothing failed: keep recording runs to catch regressions and flaky tests."
    )
    return out


def _unexplained(rows: pl.DataFrame) -> list[str]:
    unknown = rows.filter(
        pl.col("outcome").is_in(["failed", "error"])
        & (pl.col("root_cause").fill_null(UNKNOWN) == UNKNOWN)
    )
    out = ["## What stays unexplained", ""]
    if not unknown.height:
        return [*out, "Nothing: the logs prove a cause for every failed test."]
    for r in unknown.iter_rows(named=True):
        out.append(f"- {code(r['test_id'])}: {literal(r['reason'] or 'no reason recorded')}")
    return out


def iteration_report(
    history: str | Path | pl.DataFrame | None = None, run: str | int | None = None
) -> str:
    """The iteration report of one recorded run, as markdown.

    Args:
        history: the history folder (default ``$FORENSICS_HISTORY``, else ``.forensics/history``)
            or a frame from ``load``.
        run: a run id, id prefix or 1-based iteration number (negative from the end); default the
            latest run.

    Raises:
        HistoryError: no history; UsageError: no such run.
    """
    rows = (
        history if isinstance(history, pl.DataFrame) else read_history(history_dir(history)).frame
    )
    everything = compare_rows(rows, last=None)
    if not everything.runs:
        raise HistoryError("the history holds no run yet")
    chosen = everything.run(run if run is not None else -1)
    upto_rows = rows.filter(pl.col("started") <= chosen.started) if chosen.started else rows
    upto = compare_rows(upto_rows, last=None)
    k = next(r.index for r in upto.runs if r.run_id == chosen.run_id)
    pair = compare_rows(upto_rows, last=2)  # this run and the one before it
    this = upto.rows.filter(pl.col("run_id") == chosen.run_id)
    parts = [
        _header(k, chosen), _summary(chosen, this), _failures(chosen, this, upto),
        _changes(k, pair, upto), _next_steps(chosen), _unexplained(this), _by_file(this),
    ]  # fmt: skip
    return "\n\n".join("\n".join(p) for p in parts) + "\n"
