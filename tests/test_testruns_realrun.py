"""Reports written by real pytest runs (JUnit XML, reportlog, json-report) read into the test frame."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from forensics import read_tests

pytestmark = pytest.mark.realrun

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
E2E = "tests/e2e/test_ws.py"
API = "tests/test_api_flow.py"

CONFTEST = """
import pytest

@pytest.fixture
def broken_token():
    raise RuntimeError("token service unavailable")

@pytest.fixture
def leaky():
    yield
    raise RuntimeError("cleanup failed")
"""

TEST_WS = f"""
import logging
import os
import sys
import time
import pytest

TRACE = "{TRACE_ID}"

class TestWebsocket:
    def test_connect(self):
        time.sleep(0.01)
        print(f"connecting trace={{TRACE}}")

    def test_rejected(self, record_property):
        record_property("request_id", "req-prop-9")
        logging.getLogger("client").warning("retrying request_id=req-log-5")
        print(f"X-Cloud-Trace-Context: {{TRACE}}/1;o=1 url=https://api.staging.example.com/ws")
        print("request_id=req-7f3a", file=sys.stderr)
        assert 403 == 101, "server rejected WebSocket connection: HTTP 403"

    def test_needs_token(self, broken_token):
        pass

@pytest.mark.parametrize("size", [1, 2])
def test_payload(size):
    time.sleep(0.002 * size)

@pytest.mark.skip(reason="feature flag off")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known bug 123", strict=True)
def test_known_bug():
    assert False

@pytest.mark.xfail(reason="maybe fixed", strict=False)
def test_maybe_fixed():
    pass

def test_fail_and_teardown_error(leaky):
    assert False, "call failed"

def test_flaky():
    flag = os.environ.get("FLAKY_PASS", "0")
    assert flag == "1", "upstream timeout request_id=req-42"
"""

TEST_API = """
import time
import pytest

@pytest.fixture(scope="module")
def client():
    time.sleep(0.03)  # module setup: counted in the first test's setup only
    return object()

class TestLogin:
    def test_login(self, client):
        time.sleep(0.005)

def test_logout(client):
    time.sleep(0.005)
"""

#: What every format must report for run 1 (JUnit cannot tell a non-strict xpass from a pass).
EXPECTED = {
    f"{E2E}::TestWebsocket::test_connect": "passed",
    f"{E2E}::TestWebsocket::test_rejected": "failed",
    f"{E2E}::TestWebsocket::test_needs_token": "error",
    f"{E2E}::test_payload[1]": "passed",
    f"{E2E}::test_payload[2]": "passed",
    f"{E2E}::test_skipped": "skipped",
    f"{E2E}::test_known_bug": "xfailed",
    f"{E2E}::test_maybe_fixed": "xpassed",
    f"{E2E}::test_fail_and_teardown_error": "failed",
    f"{E2E}::test_flaky": "failed",
    f"{API}::TestLogin::test_login": "passed",
    f"{API}::test_logout": "passed",
}
FORMATS = {"junit": "run1.xml", "reportlog": "run1.jsonl", "json-report": "run1.json"}


def _run_pytest(suite: Path, out: Path, name: str, env_extra: dict[str, str], *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(env_extra)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "tests",
        f"--junitxml={out / f'{name}.xml'}",
        f"--report-log={out / f'{name}.jsonl'}",
        *args,
    ]
    done = subprocess.run(cmd, cwd=suite, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # 1 = some tests failed, as designed


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the sample suite twice with real pytest: run 1 (all formats, runner zone UTC-8), run 2 a rerun."""
    suite = tmp_path_factory.mktemp("suite")
    (suite / "pytest.ini").write_text("[pytest]\n")
    (suite / "tests/e2e").mkdir(parents=True)
    (suite / "tests/e2e/conftest.py").write_text(textwrap.dedent(CONFTEST))
    (suite / E2E).write_text(textwrap.dedent(TEST_WS))
    (suite / API).write_text(textwrap.dedent(TEST_API))
    out = tmp_path_factory.mktemp("reports")
    _run_pytest(
        suite,
        out,
        "run1",
        {"TZ": "America/Los_Angeles"},
        "-o",
        "junit_logging=all",
        "--json-report",
        f"--json-report-file={out / 'run1.json'}",
    )
    # The rerun: the flaky test now passes; xunit1 adds the file attribute to testcases.
    _run_pytest(suite, out, "run2", {"TZ": "UTC", "FLAKY_PASS": "1"}, "-o", "junit_family=xunit1")
    return out


def _by_id(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["test_id"]: row for row in frame.iter_rows(named=True)}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_node_ids_and_outcomes_match_pytest(reports: Path, fmt: str) -> None:
    """Every format yields pytest's node ids and outcomes (JUnit reads a non-strict xpass as passed)."""
    loaded = read_tests(reports / FORMATS[fmt])
    expected = dict(EXPECTED)
    if fmt == "junit":
        expected[f"{E2E}::test_maybe_fixed"] = "passed"
    got = {r["test_id"]: r["outcome"] for r in loaded.frame.iter_rows(named=True)}
    assert got == expected
    assert loaded.frame["source_format"].unique().to_list() == [fmt]
    assert loaded.skipped == []


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_rows_are_in_run_order_with_ordered_windows(reports: Path, fmt: str) -> None:
    """Rows follow the run: order counts up, starts never go back, each stop is at or after its start."""
    frame = read_tests(reports / FORMATS[fmt]).frame
    assert frame["order"].to_list() == list(range(frame.height))
    starts = frame["start"].to_list()
    assert all(s is not None for s in starts)
    assert starts == sorted(starts)
    assert (frame["stop"] >= frame["start"]).all()
    assert frame["clock"].unique().to_list() == ["utc"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_failure_message_keeps_output_with_trace_and_request_ids(reports: Path, fmt: str) -> None:
    """The failed test's message holds the assertion, its captured stdout (trace id, URL) and stderr."""
    rows = _by_id(read_tests(reports / FORMATS[fmt]).frame)
    message = rows[f"{E2E}::TestWebsocket::test_rejected"]["message"]
    for needle in (
        "HTTP 403",
        TRACE_ID,
        "https://api.staging.example.com/ws",
        "request_id=req-7f3a",
        "retrying request_id=req-log-5",
    ):
        assert needle in message
    if fmt != "json-report":  # json-report does not keep record_property values
        assert "request_id: req-prop-9" in message
    assert "token service unavailable" in rows[f"{E2E}::TestWebsocket::test_needs_token"]["message"]
    both = rows[f"{E2E}::test_fail_and_teardown_error"]["message"]
    assert "call failed" in both and "cleanup failed" in both


def test_reportlog_windows_are_exact(reports: Path) -> None:
    """reportlog rows run from setup start to teardown stop with zero uncertainty."""
    frame = read_tests(reports / "run1.jsonl").frame
    assert frame["window_uncertainty_s"].to_list() == [0.0] * frame.height
    login = _by_id(frame)[f"{API}::TestLogin::test_login"]
    # The module fixture's 30 ms sleep sits in this test's setup, so it is inside its window.
    assert login["stop"] - login["start"] >= timedelta(seconds=0.03)


@pytest.mark.parametrize("fmt", ["junit", "json-report"])
def test_estimated_windows_contain_the_measured_ones(reports: Path, fmt: str) -> None:
    """[start - u, stop + u] from durations alone covers the window reportlog measured for every test."""
    estimated = _by_id(read_tests(reports / FORMATS[fmt]).frame)
    for test_id, true in _by_id(read_tests(reports / "run1.jsonl").frame).items():
        est = estimated[test_id]
        u = timedelta(seconds=est["window_uncertainty_s"])
        assert est["start"] - u <= true["start"] <= est["start"] + u, test_id
        assert est["stop"] - u <= true["stop"] <= est["stop"] + u, test_id


def test_junit_uncertainty_is_half_the_unaccounted_time(reports: Path) -> None:
    """JUnit uncertainty is half of suite time minus the testcase durations (plus ms rounding)."""
    xml = (reports / "run1.xml").read_text()
    suite_s = float(re.search(r'<testsuite [^>]*time="([0-9.]+)"', xml).group(1))
    case_s = sum(float(t) for t in re.findall(r'<testcase [^>]*time="([0-9.]+)"', xml))
    frame = read_tests(reports / "run1.xml").frame
    u = frame["window_uncertainty_s"]
    assert u.n_unique() == 1
    assert (suite_s - case_s) / 2 <= u[0] <= (suite_s - case_s) / 2 + 0.02


def test_junit_offset_timestamp_becomes_utc(reports: Path) -> None:
    """A suite timestamp written with the runner's offset (-08:00) is converted to UTC, clock "utc"."""
    xml = (reports / "run1.xml").read_text()
    raw = re.search(r'timestamp="([^"]+)"', xml).group(1)
    assert raw.endswith("-08:00")
    suite_start = datetime.fromisoformat(raw).astimezone(UTC)
    first = read_tests(reports / "run1.xml").frame.row(0, named=True)
    assert first["clock"] == "utc"
    assert first["start"] - timedelta(
        seconds=first["window_uncertainty_s"]
    ) <= suite_start + timedelta(seconds=0.01)
    assert first["start"] >= suite_start


def test_junit_without_offset_is_naive_local_time(reports: Path, tmp_path: Path) -> None:
    """An offset-less timestamp (older pytest: runner local time) is kept as if UTC, clock "naive"."""
    xml = (reports / "run1.xml").read_text()
    raw = re.search(r'timestamp="([^"]+)"', xml).group(1)
    naive = tmp_path / "naive.xml"
    naive.write_text(xml.replace(raw, raw[: -len("-08:00")]))
    offset_frame = read_tests(reports / "run1.xml").frame
    naive_frame = read_tests(naive).frame
    assert naive_frame["clock"].unique().to_list() == ["naive"]
    # Local wall time read as UTC is eight hours early compared to the true UTC instant.
    assert (offset_frame["start"] - naive_frame["start"]).unique().to_list() == [timedelta(hours=8)]


def test_same_run_in_three_formats_counts_once(reports: Path) -> None:
    """JUnit + reportlog + json-report of one session give one row per test, reportlog timing, all messages."""
    loaded = read_tests(reports / "run1.xml", reports / "run1.json", reports / "run1.jsonl")
    assert loaded.frame.height == len(EXPECTED)
    assert loaded.duplicates == 2 * len(EXPECTED)
    assert loaded.runs == 1
    assert loaded.frame["source_format"].unique().to_list() == ["reportlog"]
    assert loaded.frame["window_uncertainty_s"].max() == 0.0
    rows = _by_id(loaded.frame)
    assert {k: v["outcome"] for k, v in rows.items()} == EXPECTED
    assert TRACE_ID in rows[f"{E2E}::TestWebsocket::test_rejected"]["message"]


def test_naive_junit_merges_with_reportlog_of_the_same_run(reports: Path, tmp_path: Path) -> None:
    """A naive JUnit (hours off UTC) is still recognised as the reportlog's run and merged into it."""
    xml = (reports / "run1.xml").read_text()
    raw = re.search(r'timestamp="([^"]+)"', xml).group(1)
    naive = tmp_path / "naive.xml"
    naive.write_text(xml.replace(raw, raw[: -len("-08:00")]))
    loaded = read_tests(naive, reports / "run1.jsonl")
    assert (loaded.runs, loaded.duplicates, loaded.frame.height) == (
        1,
        len(EXPECTED),
        len(EXPECTED),
    )
    assert loaded.frame["clock"].unique().to_list() == ["utc"]


def test_rerun_keeps_both_executions_and_the_failure(reports: Path) -> None:
    """A rerun in other files is a second run: the flaky test keeps its failed row and gains a passed one."""
    loaded = read_tests(
        reports / "run2.xml", reports / "run1.xml", reports / "run2.jsonl", reports / "run1.jsonl"
    )
    assert loaded.runs == 2
    assert loaded.duplicates == 2 * len(EXPECTED)  # each run's JUnit merged into its reportlog
    flaky = loaded.frame.filter(pl.col("test_id") == f"{E2E}::test_flaky")
    assert flaky["outcome"].cast(pl.String).to_list() == ["failed", "passed"]  # run 1 came first
    assert flaky["start"][0] < flaky["start"][1]
    assert loaded.frame["order"].to_list() == list(range(loaded.frame.height))


def test_xunit1_file_attribute_gives_the_same_node_ids(reports: Path) -> None:
    """JUnit with file attributes (xunit1) yields exactly the node ids reportlog has."""
    xml = (reports / "run2.xml").read_text()
    assert 'file="tests/e2e/test_ws.py"' in xml
    assert set(read_tests(reports / "run2.xml").frame["test_id"]) == set(
        read_tests(reports / "run2.jsonl").frame["test_id"]
    )


def test_identical_outcomes_an_hour_apart_are_two_runs(reports: Path, tmp_path: Path) -> None:
    """Same ids and outcomes but non-overlapping session windows: two runs, nothing merged."""
    later = tmp_path / "later.jsonl"
    lines = []
    for line in (reports / "run1.jsonl").read_text().splitlines():
        entry = json.loads(line)
        for key in ("start", "stop"):
            if key in entry:
                entry[key] += 3600.0
        lines.append(json.dumps(entry))
    later.write_text("\n".join(lines) + "\n")
    loaded = read_tests(reports / "run1.jsonl", later)
    assert (loaded.runs, loaded.duplicates, loaded.frame.height) == (2, 0, 2 * len(EXPECTED))


def test_untimed_junit_joins_its_run_by_duration_fingerprint(reports: Path, tmp_path: Path) -> None:
    """A JUnit without timestamp merges into the json-report of the same session (durations match)."""
    xml = (reports / "run1.xml").read_text()
    untimed = tmp_path / "untimed.xml"
    untimed.write_text(re.sub(r' timestamp="[^"]+"', "", xml))
    loaded = read_tests(untimed, reports / "run1.json")
    assert (loaded.runs, loaded.duplicates) == (1, len(EXPECTED))
    assert loaded.frame["source_format"].unique().to_list() == ["json-report"]


def test_call_only_junit_durations_still_join_their_run(reports: Path, tmp_path: Path) -> None:
    """JUnit written with junit_duration_report=call (shorter durations) still merges into its run."""
    xml = (reports / "run1.xml").read_text()
    call_only = tmp_path / "call_only.xml"
    call_only.write_text(re.sub(r'(<testcase [^>]*time=")[0-9.]+"', r'\g<1>0.000"', xml))
    loaded = read_tests(call_only, reports / "run1.jsonl")
    assert (loaded.runs, loaded.duplicates) == (1, len(EXPECTED))
