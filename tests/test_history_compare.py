"""Comparing recorded runs: every status, deploy attribution, signatures, the JSON contract."""

from __future__ import annotations

import json

import pytest

from forensics.exceptions import UsageError
from forensics.history import compare
from forensics.history.model import STATUSES
from tests._history_frames import history, run_rows

BYPASS = "E2E bypass header X-E2E-Bypass-Key missing on automated request WS /ws - rejecting"
JWT_BAD = "JWT validation failed for WS /ws: InvalidSignatureError: Signature verification failed"


def _status(rows, test_id: str, **kw) -> str:  # type: ignore[no-untyped-def]
    return next(t.status for t in compare(rows, last=None, **kw).tests if t.test_id == test_id)


def test_fixed_new_persistent_cause_changed_passing() -> None:
    """Between two runs on different revisions each test gets the status of its change."""
    rows = history(
        run_rows(1, {"fix": ("failed", "missing_bypass_header"), "brk": "passed",
                     "same": ("failed", "app_error"), "moved": ("failed", "missing_bypass_header"),
                     "ok": "passed"}, revisions=("svc-00001-abc",)),
        run_rows(2, {"fix": "passed", "brk": ("failed", "cors_origin"), "same": ("error", "app_error"),
                     "moved": ("failed", "invalid_jwt"), "ok": "passed"}, revisions=("svc-00002-def",)),
    )  # fmt: skip
    c = compare(rows)
    got = {t.test_id: t.status for t in c.tests}
    assert got == {
        "fix": "fixed",
        "brk": "new",
        "same": "persistent",
        "moved": "cause_changed",
        "ok": "passing",
    }
    moved = next(t for t in c.tests if t.test_id == "moved")
    assert (moved.previous_cause, moved.root_cause) == ("missing_bypass_header", "invalid_jwt")
    assert [t.status for t in c.tests] == sorted((t.status for t in c.tests), key=STATUSES.index)


def test_a_test_first_seen_failing_is_new() -> None:
    """A test that did not run before and fails now is new."""
    rows = history(
        run_rows(1, {"a": "passed"}), run_rows(2, {"a": "passed", "b": ("failed", "iam_denied")})
    )
    assert _status(rows, "b") == "new"


def test_pass_and_fail_on_the_same_revision_and_commit_is_flaky() -> None:
    """Passing then failing with the same revisions and commit, nothing changed between: flaky."""
    rows = history(
        run_rows(1, {"t": "passed", "u": "passed"}, commit="c1"),
        run_rows(2, {"t": ("failed", "invalid_jwt"), "u": "passed"}, commit="c1"),
        run_rows(3, {"t": "passed", "u": "passed"}, commit="c1"),
    )
    assert _status(rows, "t") == "flaky"
    assert _status(rows, "u") == "passing"


def test_a_flip_across_a_deploy_is_not_flaky() -> None:
    """A test that fails after a deploy and passes after the next one is fixed, not flaky."""
    rows = history(
        run_rows(1, {"t": "passed"}, revisions=("svc-00001-abc",)),
        run_rows(2, {"t": ("failed", "cors_origin")}, revisions=("svc-00002-def",)),
        run_rows(3, {"t": "passed"}, revisions=("svc-00003-ghi",)),
    )
    assert _status(rows, "t") == "fixed"


def test_a_flip_across_a_commit_is_not_flaky() -> None:
    """Same revisions but another commit of the suite: a change, so the pass is a fix."""
    rows = history(
        run_rows(1, {"t": ("failed", "missing_jwt")}, commit="c1"),
        run_rows(2, {"t": "passed"}, commit="c2"),
    )
    assert _status(rows, "t") == "fixed"


def test_a_deploy_between_runs_the_test_skipped_still_counts_as_a_change() -> None:
    """Fail on rev A, absent on rev B, pass on rev A again: a change happened between, not flaky."""
    rows = history(
        run_rows(1, {"t": ("failed", "missing_jwt"), "x": "passed"}, revisions=("a",)),
        run_rows(2, {"x": "passed"}, revisions=("b",)),
        run_rows(3, {"t": "passed", "x": "passed"}, revisions=("a",)),
    )
    assert _status(rows, "t") == "fixed"


def test_skipped_runs_say_nothing_and_a_test_never_run_is_skipped() -> None:
    """Skipped outcomes are passed over when deciding; a test only ever skipped is ``skipped``."""
    rows = history(
        run_rows(1, {"t": ("failed", "app_error"), "s": "skipped"}, revisions=("a",)),
        run_rows(2, {"t": "skipped", "s": "xfailed"}, revisions=("b",)),
        run_rows(3, {"t": "passed", "s": "skipped"}, revisions=("c",)),
    )
    assert _status(rows, "t") == "fixed"
    assert _status(rows, "s") == "skipped"


def test_last_since_and_until_choose_the_runs() -> None:
    """``last`` keeps the latest runs; ``since``/``until`` bound their start (a bare date is a day)."""
    rows = history(*[run_rows(i, {"t": "passed"}) for i in range(1, 6)])
    assert [r.run_id for r in compare(rows, last=2).runs] == ["run0004", "run0005"]
    assert [r.index for r in compare(rows, last=2).runs] == [1, 2]
    assert len(compare(rows, last=None).runs) == 5
    assert [r.run_id for r in compare(rows, last=None, since="2025-09-08T12:00Z").runs] == [
        "run0003", "run0004", "run0005",
    ]  # fmt: skip
    assert len(compare(rows, last=None, until="2025-09-08").runs) == 5
    assert compare(rows, last=None, until="2025-09-07").runs == ()
    with pytest.raises(UsageError, match="not a date"):
        compare(rows, since="yesterday")


def test_deploy_attribution_counts_what_changed_with_the_new_revision() -> None:
    """A revision change between runs 3 and 4 carries the fixed, new and changed causes of that step."""
    before = {f"f{i}": ("failed", "invalid_jwt") for i in range(5)} | {"n": "passed", "c1": ("failed", "missing_bypass_header"),
              "c2": ("failed", "missing_bypass_header"), "p": ("failed", "app_error")}  # fmt: skip
    after = {f"f{i}": "passed" for i in range(5)} | {"n": ("failed", "cors_origin"), "c1": ("failed", "invalid_jwt"),
             "c2": ("failed", "invalid_jwt"), "p": ("failed", "app_error")}  # fmt: skip
    rows = history(
        run_rows(1, before, revisions=("svc-00312-rex",)),
        run_rows(2, before, revisions=("svc-00312-rex",)),
        run_rows(3, before, revisions=("svc-00312-rex",)),
        run_rows(4, after, revisions=("svc-00314-gow",)),
    )
    c = compare(rows, last=None)
    assert len(c.deploys) == 1
    d = c.deploys[0]
    assert (d.fixed, d.new, d.cause_changed, d.persistent) == (5, 1, 2, 1)
    assert d.between == ("run0003", "run0004")
    assert d.sentence() == (
        "revision svc-00314-gow between runs 3 and 4: 5 fixed, 1 new, cause of 2 changed, 1 still failing"
    )
    assert d.to_dict()["revisions"] == {"before": ["svc-00312-rex"], "after": ["svc-00314-gow"]}


def test_no_deploy_when_revisions_are_unknown_or_unchanged() -> None:
    """Runs without revisions (no request entry seen) or with the same ones mark no deploy."""
    rows = history(
        run_rows(1, {"t": "passed"}, revisions=()),
        run_rows(2, {"t": "passed"}, revisions=("a",)),
        run_rows(3, {"t": "passed"}, revisions=("a",)),
    )
    assert compare(rows, last=None).deploys == ()


def test_signatures_group_failures_by_cause_and_template() -> None:
    """Lines that differ in numbers and ids are one signature; each counts runs, tests, revisions."""
    rows = history(
        run_rows(1, {"a": ("failed", "missing_bypass_header", BYPASS + " (req 4411)"),
                     "b": ("failed", "missing_bypass_header", BYPASS + " (req 4412)")}, revisions=("r1",)),
        run_rows(2, {"a": ("failed", "invalid_jwt", JWT_BAD), "b": ("failed", "missing_bypass_header", BYPASS + " (req 97)"),
                     "c": ("failed", "missing_bypass_header", BYPASS + " (req 98)")}, revisions=("r2",)),
        run_rows(3, {"a": ("failed", "invalid_jwt", JWT_BAD), "b": "passed", "c": "passed"}, revisions=("r2",)),
    )  # fmt: skip
    sigs = compare(rows, last=None).signatures
    assert [(s.root_cause, s.failures, s.runs, s.tests) for s in sigs] == [
        ("missing_bypass_header", 4, 2, 3),
        ("invalid_jwt", 2, 2, 1),
    ]
    top = sigs[0]
    assert top.template.endswith("(req <num>)")
    assert (top.first_run, top.last_run, top.revisions) == ("run0001", "run0002", ("r1", "r2"))
    assert (
        top.first_seen is not None and top.last_seen is not None and top.first_seen < top.last_seen
    )
    assert top.example is not None and top.example.startswith(BYPASS)


def test_json_contract() -> None:
    """The JSON has the contract's keys; outcomes are passed|failed|error|skipped|absent."""
    rows = history(
        run_rows(
            1,
            {"a": ("failed", "missing_bypass_header", BYPASS), "b": "passed"},
            revisions=("r1",),
            commit="c1",
        ),
        run_rows(2, {"a": "passed", "c": "xfailed"}, revisions=("r2",), commit="c2"),
    )
    data = json.loads(json.dumps(compare(rows).to_dict()))
    run = data["runs"][0]
    assert {"run_id", "started", "ended", "tests", "failed", "revisions", "commit"} <= set(run)
    assert (run["tests"], run["failed"], run["revisions"], run["commit"]) == (2, 1, ["r1"], "c1")
    assert run["started"].endswith("Z")
    tests = {t["test_id"]: t for t in data["tests"]}
    assert {"test_id", "status", "history"} <= set(tests["a"])
    assert tests["a"]["history"] == [
        {"run_id": "run0001", "outcome": "failed", "root_cause": "missing_bypass_header"},
        {"run_id": "run0002", "outcome": "passed", "root_cause": None},
    ]
    assert [h["outcome"] for h in tests["b"]["history"]] == ["passed", "absent"]
    assert [h["outcome"] for h in tests["c"]["history"]] == ["absent", "skipped"]
    deploy = data["deploys"][0]
    assert {"between", "revisions", "fixed", "new", "cause_changed"} <= set(deploy)
    assert deploy["between"] == ["run0001", "run0002"] and deploy["fixed"] == 1
    sig = data["signatures"][0]
    assert {"root_cause", "template", "first_seen", "last_seen", "runs", "tests"} <= set(sig)
    outcomes = {h["outcome"] for t in data["tests"] for h in t["history"]}
    assert outcomes <= {"passed", "failed", "error", "skipped", "absent"}


def test_run_lookup_by_index_prefix_and_id() -> None:
    """A run is found by 1-based index, negative index, or id prefix; anything else is a usage error."""
    c = compare(history(*[run_rows(i, {"t": "passed"}) for i in (1, 2, 3)]), last=None)
    assert c.run(1).run_id == "run0001" and c.run(-1).run_id == "run0003"
    assert c.run("run0002").index == 2
    with pytest.raises(UsageError):
        c.run("run")  # several
    with pytest.raises(UsageError):
        c.run(7)
