"""A comparison of runs as a person reads it (plain text, markdown) and as a machine does (JSON).

Every text here was redacted when the run was recorded; log-derived text is still passed through
``printable`` (terminal) or the markdown escapes, since a log line may hold control characters.
"""

from __future__ import annotations

import json
from typing import Any

from forensics.history.model import STATUS_MEANING, Comparison, RunSummary, TestStatus
from forensics.report.facts import clip, printable
from forensics.report.mdformat import cell, code_cell, literal, table

#: Outcome glyphs of the per-run strips: passed, failed, error, skipped, absent.
GLYPHS = {"passed": ".", "failed": "F", "error": "E", "skipped": "s", "absent": "-"}
STRIP_RUNS = 40  # runs shown in a strip; older ones are left out (the JSON has them all)
MAX_TESTS = 100  # tests listed per report; the rest are counted
SIGNATURES_SHOWN = 20


def short_time(run: RunSummary) -> str:
    return run.started.strftime("%Y-%m-%d %H:%M:%S") if run.started else "-"


def rate(run: RunSummary) -> str:
    return f"{run.pass_rate * 100:.1f} %" if run.pass_rate is not None else "-"


def short_commit(commit: str | None) -> str:
    return commit[:7] if commit else "-"


def strip(history: list[dict[str, Any]]) -> str:
    """``..FF.F.``: the test's outcome in each of the latest ``STRIP_RUNS`` runs."""
    return "".join(GLYPHS.get(h["outcome"], "?") for h in history[-STRIP_RUNS:])


def listed(comparison: Comparison) -> list[TestStatus]:
    """Tests worth a line: every status but ``passing``, most urgent first."""
    return [t for t in comparison.tests if t.status != "passing"]


def _span(comparison: Comparison) -> str:
    runs = comparison.runs
    if not runs:
        return "no runs"
    first, last = runs[0], runs[-1]
    return f"{len(runs)} run(s), {short_time(first)} .. {short_time(last)} UTC"


def _status_line(comparison: Comparison) -> str:
    counts = comparison.counts()
    return ", ".join(f"{n} {s}" for s, n in counts.items()) or "no tests"


def _cause_move(t: TestStatus) -> str:
    if t.status == "cause_changed":
        return f"{t.previous_cause} -> {t.root_cause}"
    return t.root_cause or (f"(was {t.previous_cause})" if t.previous_cause else "-")


def render_text(comparison: Comparison) -> str:
    """The comparison as plain text for a terminal or a CI log."""
    c = comparison
    where = f" from {c.folder}" if c.folder else ""
    out = [f"forensics history: {_span(c)}{where}"]
    if c.damaged:
        out.append(f"skipped damaged partition(s): {', '.join(c.damaged)}")
    if not c.runs:
        return "\n".join([*out, "nothing recorded yet"]) + "\n"
    out.append(
        f"  {'run':>4}  {'id':<26} {'started (UTC)':<19}  {'tests':>5}  {'failed':>6}  {'pass rate':>9}  "
        f"{'commit':<7}  revisions"
    )
    for r in c.runs:
        out.append(
            f"  {r.index:>4}  {printable(r.run_id):<26} {short_time(r):<19}  {r.tests:>5}  "
            f"{r.failed:>6}  {rate(r):>9}  {short_commit(r.commit):<7}  "
            f"{printable(', '.join(r.revisions) or '-')}"
        )
    out.append("")
    if c.deploys:
        out.append("deploys (the revisions serving the runner changed):")
        out += [f"  {printable(d.sentence())}" for d in c.deploys]
    else:
        out.append("deploys: none between the compared runs")
    out += ["", f"tests: {_status_line(c)}"]
    tests = listed(c)
    if tests:
        shown = tests[:MAX_TESTS]
        histories = c.histories([t.test_id for t in shown])
        width = min(len(c.runs), STRIP_RUNS)
        out.append(
            f"  {'status':<14} {'runs':<{max(width, 4)}}  {'cause now':<40} test"
            f"   (. passed, F failed, E error, s skipped, - absent; oldest first)"
        )
        for t in shown:
            out.append(
                f"  {t.status:<14} {strip(histories[t.test_id]):<{max(width, 4)}}  "
                f"{printable(_cause_move(t)):<40} {printable(t.test_id)}"
            )
        if len(tests) > len(shown):
            out.append(f"  ... {len(tests) - len(shown)} more (every test is in --format json)")
    if c.signatures:
        out += ["", "signatures (failures by cause and deciding line, most frequent first):"]
        for s in c.signatures[:SIGNATURES_SHOWN]:
            seen = "run" if s.runs == 1 else "runs"
            out.append(
                f"  {s.root_cause}: {s.failures} failure(s) of {s.tests} test(s) in {s.runs} {seen}, "
                f"{s.first_run} .. {s.last_run}; on {printable(', '.join(s.revisions) or '-')}"
            )
            out.append(f"      {printable(clip(s.template, 160))}")
        if len(c.signatures) > SIGNATURES_SHOWN:
            out.append(f"  ... {len(c.signatures) - SIGNATURES_SHOWN} more signature(s)")
    return "\n".join(out) + "\n"


def render_json(comparison: Comparison) -> str:
    """The JSON contract (``Comparison.to_dict``), indented, ending with a newline."""
    return json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_markdown(comparison: Comparison, *, plots: dict[str, str] | None = None) -> str:
    """The comparison as a markdown page (``plots``: name -> image path to embed)."""
    c = comparison
    out = [f"# Run history: {_span(c)}", ""]
    if c.damaged:
        out += [f"_Skipped damaged partition(s): {literal(', '.join(c.damaged))}._", ""]
    if not c.runs:
        return "\n".join([*out, "Nothing recorded yet."]) + "\n"
    out += ["## Runs", ""]
    rows = [
        [
            str(r.index), code_cell(r.run_id), short_time(r), str(r.tests), str(r.failed), rate(r),
            code_cell(short_commit(r.commit)), cell(", ".join(r.revisions) or "-"),
            cell(", ".join(f"{k} {n}" for k, n in r.by_root_cause.items()) or "-"),
        ]
        for r in c.runs
    ]  # fmt: skip
    out += table(
        [
            "run",
            "id",
            "started (UTC)",
            "tests",
            "failed",
            "pass rate",
            "commit",
            "revisions",
            "causes",
        ],
        rows,
    )
    for name, path in (plots or {}).items():
        out += ["", f"![{name}]({path})"]
    out += ["", "## Deploys", ""]
    out += [f"- {literal(d.sentence())}" for d in c.deploys] or [
        "No deploy between the compared runs."
    ]
    out += ["", f"## Tests: {_status_line(c)}", ""]
    tests = listed(c)
    if tests:
        shown = tests[:MAX_TESTS]
        histories = c.histories([t.test_id for t in shown])
        out += table(
            ["status", "runs (oldest first)", "cause now", "test"],
            [
                [
                    t.status,
                    code_cell(strip(histories[t.test_id])),
                    cell(_cause_move(t)),
                    code_cell(t.test_id),
                ]
                for t in shown
            ],
            limit=MAX_TESTS,
        )
        out += ["", "`.` passed, `F` failed, `E` error, `s` skipped, `-` absent."]
        out += [f"- **{s}**: {STATUS_MEANING[s]}" for s in c.counts() if s != "passing"]
    else:
        out.append("Every test passes in the compared runs.")
    if c.signatures:
        out += ["", "## Signatures", ""]
        out += table(
            ["cause", "deciding line (template)", "failures", "tests", "runs", "first run", "last run", "revisions"],
            [
                [
                    s.root_cause, code_cell(clip(s.template, 200)), str(s.failures), str(s.tests),
                    str(s.runs), code_cell(s.first_run), code_cell(s.last_run),
                    cell(", ".join(s.revisions) or "-"),
                ]
                for s in c.signatures[:SIGNATURES_SHOWN]
            ],
        )  # fmt: skip
    return "\n".join(out) + "\n"
