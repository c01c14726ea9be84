"""The committed fix-deploy loop (fixtures/iterations), recorded and compared end to end."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from matplotlib.figure import Figure

import forensics
from forensics import history, plot
from forensics.history.iteration import iteration_report
from forensics.labels import LABELS
from tests.conftest import FIXTURES, ROOT

LOOP = FIXTURES / "iterations"
RUNS = sorted(p for p in LOOP.iterdir() if p.is_dir())
FLAKY = "tests/e2e/test_1_websocket_events_staging.py::test_concurrent_websocket_real"
WS_TESTS = {
    "tests/e2e/test_1_websocket_events_staging.py::test_websocket_connection",
    "tests/e2e/test_1_websocket_events_staging.py::test_websocket_event_flow_real",
    FLAKY,
    "tests/e2e/test_3_agent_pipeline_staging.py::test_real_agent_pipeline_execution",
    "tests/e2e/test_3_agent_pipeline_staging.py::test_real_agent_lifecycle_monitoring",
    "tests/e2e/test_3_agent_pipeline_staging.py::test_real_pipeline_error_handling",
}


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seven runs triaged and recorded with their CI job's variables."""
    folder = tmp_path_factory.mktemp("loop")
    for run in RUNS:
        result = forensics.triage([run / "junit.xml"], [run / "logs"])
        assert {v.test_id: v.root_cause for v in result.verdicts} == json.loads(
            (run / "expected.json").read_text()
        )["failures"], run.name
        history.record(result, folder, ci=json.loads((run / "ci.json").read_text()))
    return folder


def _window(loop: Path, first: int, last: int) -> history.Comparison:
    """Compare runs ``first``..``last`` (1-based) of the loop."""
    everything = history.compare(loop, last=None)
    return history.compare(loop, last=last - first + 1, until=everything.runs[last - 1].started)


def _statuses(c: history.Comparison) -> dict[str, str]:
    return {t.test_id: t.status for t in c.tests if t.status != "passing"}


def test_each_run_is_recorded_with_its_revision_and_commit(loop: Path) -> None:
    """Seven runs of 58 tests, each served by its own revision (runs 4 and 5 share one)."""
    runs = history.compare(loop, last=None).runs
    assert [r.tests for r in runs] == [58] * 7
    assert [r.failed for r in runs] == [6, 6, 6, 1, 0, 6, 0]
    assert [r.revisions[0][-9:] for r in runs] == [
        "00310-vob", "00311-kap", "00312-rex", "00313-lim", "00313-lim", "00314-gow", "00315-dax",
    ]  # fmt: skip
    assert runs[3].commit == runs[4].commit and runs[0].commit != runs[1].commit
    assert runs[0].job_url == "https://github.com/acme/chat-app/actions/runs/10871001"


def test_the_header_fix_changes_the_cause(loop: Path) -> None:
    """Runs 1 -> 2: the six WebSocket tests still fail, now on the token: cause_changed."""
    c = _window(loop, 1, 2)
    assert _statuses(c) == dict.fromkeys(WS_TESTS, "cause_changed")
    assert {(t.previous_cause, t.root_cause) for t in c.tests if t.status == "cause_changed"} == {
        ("missing_bypass_header", "invalid_jwt")
    }
    assert [d.sentence() for d in c.deploys] == [
        "revision chat-backend-staging-00311-kap between runs 1 and 2: 0 fixed, 0 new, cause of 6 changed"
    ]


def test_a_redeploy_that_changes_nothing_leaves_them_persistent(loop: Path) -> None:
    """Runs 2 -> 3: a new revision, the same failures for the same reason."""
    c = _window(loop, 2, 3)
    assert _statuses(c) == dict.fromkeys(WS_TESTS, "persistent")
    (d,) = c.deploys
    assert (d.fixed, d.new, d.cause_changed, d.persistent) == (0, 0, 0, 6)


def test_the_fix_deploy_is_credited_with_five_fixes(loop: Path) -> None:
    """Runs 3 -> 4: revision 00313 fixes five tests; one still fails (an expired token now)."""
    c = _window(loop, 3, 4)
    assert _statuses(c) == {**dict.fromkeys(WS_TESTS - {FLAKY}, "fixed"), FLAKY: "persistent"}
    assert [d.sentence() for d in c.deploys] == [
        "revision chat-backend-staging-00313-lim between runs 1 and 2: 5 fixed, 0 new, cause of 0 changed, "
        "1 still failing"
    ]


def test_failing_then_passing_on_the_same_revision_and_commit_is_flaky(loop: Path) -> None:
    """Runs 4 -> 5: a re-run of the same job on the same revision passes: flaky, and no deploy."""
    c = _window(loop, 4, 5)
    assert _statuses(c) == {FLAKY: "flaky"}
    assert c.deploys == ()
    assert _statuses(history.compare(loop, last=None))[FLAKY] == "flaky"


def test_the_origin_regression_is_new_and_its_deploy_named(loop: Path) -> None:
    """Runs 5 -> 6: revision 00314 breaks the six WebSocket tests with cors_origin; 7 fixes them."""
    c = _window(loop, 5, 6)
    assert _statuses(c) == dict.fromkeys(WS_TESTS, "new")
    assert {t.root_cause for t in c.tests if t.status == "new"} == {"cors_origin"}
    assert [(d.introduced, d.new) for d in c.deploys] == [(("chat-backend-staging-00314-gow",), 6)]
    assert _statuses(_window(loop, 6, 7)) == dict.fromkeys(WS_TESTS, "fixed")


def test_signatures_of_the_loop(loop: Path) -> None:
    """Four signatures, the bad-signature JWT line first: two runs, six tests, two revisions."""
    sigs = history.compare(loop, last=None).signatures
    assert [(s.root_cause, s.failures, s.runs, s.tests) for s in sigs] == [
        ("invalid_jwt", 12, 2, 6), ("cors_origin", 6, 1, 6),
        ("missing_bypass_header", 6, 1, 6), ("invalid_jwt", 1, 1, 1),
    ]  # fmt: skip
    assert "Signature verification failed" in sigs[0].template
    assert [r[-9:] for r in sigs[0].revisions] == ["00311-kap", "00312-rex"]
    assert "Signature has expired" in sigs[3].template
    assert "X-E2E-Bypass-Key missing" in sigs[2].template and "<num>" in sigs[2].template


def test_iteration_report_from_the_evidence(loop: Path) -> None:
    """Iteration 4's report: summary, the failure with its deciding line, the deploy credited with
    five fixes, next steps from the cause's remediation; iteration 5 names the flaky test."""
    text = iteration_report(loop, 4)
    assert text.startswith("# Test Iteration 4 Report\n")
    assert "**Pass rate:** 98.3% (57/58 passed)" in text
    assert "### `invalid_jwt`: 1 test(s)" in text
    assert "ExpiredSignatureError: Signature has expired" in text
    assert "revision chat-backend-staging-00313-lim between iterations 3 and 4: 5 fixed" in text
    assert "commit `9d03a7e` -> `c71e5a9`" in text.replace("**Commit:** ", "commit ")
    assert "Compare the token's `iss`/`aud`/`exp`" in text
    assert "Nothing: the logs prove a cause for every failed test." in text
    five = iteration_report(loop, 5)
    assert "**Flaky** (1)" in five and FLAKY in five
    assert "none; the same revisions served both runs" in five
    two = iteration_report(loop, "20250908T0941")
    assert "**Cause changed** (6)" in two and "`missing_bypass_header` -> `invalid_jwt`" in two
    assert "Signature verification failed` (6 test(s))" in two  # seen here first
    assert (
        "Signature verification failed` (6 test(s); first seen in iteration 2)"
        in iteration_report(loop, 3)
    )


def test_the_run_grid_colours_each_cell_by_cause_and_marks_deploys(loop: Path) -> None:
    """The flaky test's row reads bypass, jwt, jwt, jwt, pass, cors, pass; dashed lines sit at deploys."""
    c = history.compare(loop, last=None)
    fig = plot.run_grid(c)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    cells = ax.collections[0].get_array().reshape(len(c.tests[:60]), len(c.runs))
    row = [t.test_id for t in c.tests].index(FLAKY)
    code = {label: 3 + i for i, label in enumerate(LABELS)}
    assert list(cells[row]) == [
        code["missing_bypass_header"], code["invalid_jwt"], code["invalid_jwt"], code["invalid_jwt"], 1,
        code["cors_origin"], 1,
    ]  # fmt: skip
    assert sorted(line.get_xdata()[0] for line in ax.lines) == [1.5, 2.5, 3.5, 5.5, 6.5]


def test_causes_per_run_and_pass_rate(loop: Path) -> None:
    """Stacked bars add up to each run's failures; the pass-rate line has one point per run."""
    c = history.compare(loop, last=None)
    ax = plot.causes_per_run(c).axes[0]
    heights = (
        pl.DataFrame(
            {
                "x": [p.get_x() + p.get_width() / 2 for p in ax.patches],
                "h": [p.get_height() for p in ax.patches],
            }
        )
        .group_by("x")
        .agg(pl.col("h").sum())
        .sort("x")
    )
    assert heights["h"].to_list() == [6, 6, 6, 1, 0, 6, 0]
    rate = plot.pass_rate(c).axes[0]
    assert [round(y, 3) for y in rate.lines[0].get_ydata()] == [
        0.897,
        0.897,
        0.897,
        0.983,
        1.0,
        0.897,
        1.0,
    ]


def test_the_reports_in_the_docs_are_what_report_iteration_writes(
    loop: Path, tmp_path: Path
) -> None:
    """docs/reports holds the seed's report and iteration 4's exactly as the command writes them today."""
    reports = ROOT / "docs" / "reports"
    assert (reports / "test-iteration-4-report.md").read_text() == iteration_report(loop, 4)
    history.record_path(FIXTURES / "seed", tmp_path, ci={})
    assert (reports / "test-iteration-1-report.md").read_text() == iteration_report(tmp_path)
    assert (
        (reports / "test-iteration-1-report.handwritten.md")
        .read_text()
        .startswith("# Test Iteration 1 Report - Ultimate Test Deploy Loop")
    )


def test_runs_recorded_from_the_incidents(tmp_path: Path) -> None:
    """Incident folders recorded as runs of one suite: an export that missed the window (unknown),
    then the gate's refusals twice (cause changed, then persistent), one signature across runs."""
    for name in ("window_miss", "browser_same_moment", "no_trace_ids"):
        history.record_path(FIXTURES / name, tmp_path, ci={})
    ws = set(WS_TESTS)
    middle = history.compare(tmp_path, last=2, until="2025-09-24")
    assert _statuses(middle) == dict.fromkeys(ws, "cause_changed")
    assert {(t.previous_cause, t.root_cause) for t in middle.tests if t.test_id in ws} == {
        ("unknown", "missing_bypass_header")
    }
    latest = history.compare(tmp_path, last=2)
    assert _statuses(latest) == dict.fromkeys(ws, "persistent")
    gate = [s for s in latest.signatures if s.root_cause == "missing_bypass_header"]
    assert len(gate) == 1 and (gate[0].runs, gate[0].tests, gate[0].failures) == (2, 6, 12)
