"""Test reports -> test frame: node ids, clocks, timing model, detection and bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from forensics import load_tests, read_tests
from forensics.exceptions import TestReportError
from forensics.schema import TEST_SCHEMA
from forensics.testruns.nodeid import node_id
from forensics.testruns.timing import estimate_windows

DATA = Path(__file__).parent / "data" / "testruns"
NAIVE = DATA / "pytest7_testsuites_naive.xml"
BARE = DATA / "legacy_bare_testsuite_xunit1.xml"


@pytest.mark.parametrize(
    ("classname", "name", "file", "expected"),
    [
        ("tests.e2e.test_x.TestX", "test_y", None, "tests/e2e/test_x.py::TestX::test_y"),
        ("tests.e2e.test_x", "test_y", None, "tests/e2e/test_x.py::test_y"),
        ("tests.e2e.test_x", "test_y[a-1]", None, "tests/e2e/test_x.py::test_y[a-1]"),
        (
            "tests.e2e.test_x.TestX",
            "test_y[1.5-b.c]",
            None,
            "tests/e2e/test_x.py::TestX::test_y[1.5-b.c]",
        ),
        (
            "tests.test_x.TestOuter.TestInner",
            "test_y",
            None,
            "tests/test_x.py::TestOuter::TestInner::test_y",
        ),
        ("test_x", "test_y", None, "test_x.py::test_y"),
        # file tells where the module ends, even with an uppercase package or a --junit-prefix
        ("tests.Unit.test_x", "test_y", "tests/Unit/test_x.py", "tests/Unit/test_x.py::test_y"),
        (
            "tests.e2e.test_x.TestX",
            "test_y",
            "tests/e2e/test_x.py",
            "tests/e2e/test_x.py::TestX::test_y",
        ),
        (
            "ci.tests.e2e.test_x.TestX",
            "test_y",
            "tests/e2e/test_x.py",
            "tests/e2e/test_x.py::TestX::test_y",
        ),
        ("", "tests.e2e.test_broken", None, "tests/e2e/test_broken.py"),  # collection error
        ("tests.e2e-suite.test_x", "test_y", None, "tests/e2e-suite/test_x.py::test_y"),
        (
            "WebSocket connect",
            "rejects without token",
            None,
            "WebSocket connect::rejects without token",
        ),
        ("github.com/acme/api/ws", "TestConnect", None, "github.com/acme/api/ws::TestConnect"),
    ],
)
def test_node_id_rebuilt_from_junit_attributes(
    classname: str, name: str, file: str | None, expected: str
) -> None:
    """JUnit classname/name/file turn back into the pytest node id."""
    assert node_id(classname, name, file) == expected


def test_naive_timestamp_is_kept_as_utc_and_marked_naive() -> None:
    """pytest 6/7 JUnit without offset: starts are the runner's wall time stored as UTC, clock "naive"."""
    frame = load_tests(NAIVE)
    assert frame["clock"].unique().to_list() == ["naive"]
    first = frame.row(0, named=True)
    suite = datetime(2025, 9, 7, 8, 22, 9, 519854, tzinfo=UTC)
    assert (
        first["start"] - timedelta(seconds=first["window_uncertainty_s"]) <= suite <= first["start"]
    )


def test_uncertainty_is_half_the_time_outside_testcases() -> None:
    """44.62 s suite with 22.6 s of testcases: every start is +-11.01 s (plus ms rounding)."""
    frame = load_tests(NAIVE)
    u = frame["window_uncertainty_s"].unique().to_list()
    assert len(u) == 1 and 11.01 <= u[0] < 11.02
    # Starts follow the cumulative durations in document order.
    steps = [d.total_seconds() for d in frame["start"].diff().drop_nulls()]
    assert steps == pytest.approx(frame["duration_s"].to_list()[:-1])


def test_static_outcomes_and_messages() -> None:
    """Failure, setup error, skip and xfail are read from the JUnit children, with their output."""
    rows = {r["test_id"]: r for r in load_tests(NAIVE).iter_rows(named=True)}
    ws = "tests/e2e/test_1_websocket_events_staging.py::TestWebsocketEvents::"
    crit = "tests/e2e/test_2_critical_path_staging.py::"
    assert rows[ws + "test_websocket_connection"]["outcome"] == "failed"
    assert "0af7651916cd43dd8448eb211c80319c" in rows[ws + "test_websocket_connection"]["message"]
    assert "InvalidStatus" in rows[ws + "test_websocket_connection"]["message"]
    assert rows[ws + "test_event_flow[chat-1]"]["outcome"] == "passed"
    assert rows[crit + "test_login"]["outcome"] == "error"
    assert rows[crit + "test_feature_flag"]["outcome"] == "skipped"
    assert rows[crit + "test_known_bug"]["outcome"] == "xfailed"


def test_bare_testsuite_root_and_file_attribute() -> None:
    """A bare <testsuite> root reads like <testsuites>; file attributes fix uppercase packages."""
    loaded = read_tests(BARE)
    assert loaded.frame["test_id"].to_list() == [
        "tests/e2e/test_3_agent_pipeline_staging.py::TestPipeline::test_real_agent_pipeline_execution",
        "tests/e2e/test_3_agent_pipeline_staging.py::TestPipeline::TestNested::test_inner",
        "tests/unit/Helpers/test_helpers.py::test_parse",
        "tests/e2e/test_broken.py",
    ]
    assert loaded.frame["outcome"].cast(pl.String).to_list() == [
        "failed",
        "passed",
        "passed",
        "error",
    ]
    assert "request_id=req-91c2" in loaded.frame["message"][0]


def test_no_timestamp_leaves_tests_untimed() -> None:
    """Without a suite timestamp start and stop are null and the clock is "none"."""
    frame = load_tests(DATA / "no_timestamp.xml")
    assert frame["start"].null_count() == frame.height == 2
    assert frame["clock"].unique().to_list() == ["none"]
    assert frame["duration_s"].to_list() == [1.0, 1.0]


def test_parallel_run_bounds_each_test_by_the_session() -> None:
    """Durations summing past the suite time (xdist) place each test anywhere it fits in the session."""
    frame = load_tests(DATA / "parallel_xdist.xml")
    session = (
        datetime(2025, 9, 7, 15, 22, 9, tzinfo=UTC),
        datetime(2025, 9, 7, 15, 22, 13, tzinfo=UTC),
    )
    for row in frame.iter_rows(named=True):
        u = timedelta(seconds=row["window_uncertainty_s"])
        assert row["start"] - u <= session[0] + timedelta(seconds=0.01)
        assert row["stop"] + u >= session[1] - timedelta(seconds=0.01)


def test_windows_model_without_session_length() -> None:
    """No session length: the unaccounted time is taken as the testcases' total."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    windows = estimate_windows([1.0, 3.0], start, None)
    assert [w[2] for w in windows] == [2.0, 2.0]
    assert windows[1][0] == start + timedelta(seconds=1.0 + 2.0)
    assert estimate_windows([1.0], None, 5.0) == [(None, None, None)]


def test_frame_has_the_test_schema() -> None:
    """The frame has TEST_SCHEMA's columns and dtypes, empty or not."""
    assert dict(load_tests(NAIVE).schema) == TEST_SCHEMA
    assert dict(load_tests().schema) == TEST_SCHEMA


def test_format_is_detected_from_content_not_name(tmp_path: Path) -> None:
    """A JUnit file named .json is still read as JUnit."""
    odd = tmp_path / "report.json"
    odd.write_bytes(NAIVE.read_bytes())
    assert load_tests(odd)["source_format"].unique().to_list() == ["junit"]


REPORTLOG_LINES = [
    {"pytest_version": "9.2.0", "$report_type": "SessionStart"},
    *(
        {
            "nodeid": "tests/test_a.py::test_ok",
            "when": when,
            "outcome": "passed",
            "longrepr": None,
            "sections": [],
            "duration": 0.1,
            "start": 1757258529.0 + i * 0.1,
            "stop": 1757258529.1 + i * 0.1,
            "$report_type": "TestReport",
        }
        for i, when in enumerate(("setup", "call", "teardown"))
    ),
]


def _reportlog(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "run.jsonl"
    lines = [json.dumps(x) for x in REPORTLOG_LINES]
    path.write_text("\n".join([lines[0], extra[0], *lines[1:], *extra[1:]]) + "\n")
    return path


def test_reportlog_bad_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    """Garbage, foreign objects and a truncated last line are counted by reason with their line."""
    path = _reportlog(
        tmp_path, "not json at all", '{"foo": 1}', '{"nodeid": "tests/test_a.py::test_b", "wh'
    )
    loaded = read_tests(path)
    assert loaded.frame["test_id"].to_list() == ["tests/test_a.py::test_ok"]
    reasons = {s.reason: (s.count, s.first_line) for s in loaded.skipped}
    assert reasons == {
        "line is not JSON (truncated?)": (2, 2),
        "line is not a pytest report object": (1, 6),
    }
    assert all(s.source == str(path) for s in loaded.skipped)


def test_reportlog_bad_line_fails_when_strict(tmp_path: Path) -> None:
    """strict=True turns the first bad line into an error naming file and line."""
    path = _reportlog(tmp_path, "not json at all")
    with pytest.raises(TestReportError, match=rf"^{re.escape(str(path))}:2: line is not JSON"):
        read_tests(path, strict=True)


def test_reportlog_exact_window(tmp_path: Path) -> None:
    """A reportlog test spans setup start to teardown stop; duration is pytest's phase sum."""
    row = load_tests(_reportlog(tmp_path, "")).row(0, named=True)
    assert row["stop"] - row["start"] == timedelta(seconds=0.3)
    assert row["duration_s"] == pytest.approx(0.3)
    assert (row["clock"], row["window_uncertainty_s"]) == ("utc", 0.0)


BAD_INPUTS = [
    (b"", "empty file"),
    (b" \n\t\n", "empty file"),
    (b"hello world", "neither XML nor JSON"),
    (b"<html><body>not junit</body></html>", "XML root <html> is not JUnit"),
    (
        b'<?xml version="1.0"?>\n<testsuites>\n<testsuite name="x">\n<testcase name="a"',
        ":4: broken XML",
    ),
    (b'{"a": 1}', "JSON but not a pytest report"),
    (b"[1, 2, 3]", "JSON but not a pytest report"),
    (b'{"created": 1.0,\n "tests": [', ":2: not JSON"),
    (b'{"created": "\xff\xfe"}', "not UTF-8"),
    (b"[" * 100000, "nested too deeply"),
    (b'<?xml version="1.0" encoding="tf-8"?><testsuite/>', ":1: XML in an unknown encoding"),
]


@pytest.mark.parametrize(("content", "fragment"), BAD_INPUTS)
def test_bad_input_is_one_line_error_naming_the_file(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    """Unusable reports raise TestReportError: one line, starting with the path, saying why."""
    path = tmp_path / "report.xml"
    path.write_bytes(content)
    with pytest.raises(TestReportError) as err:
        read_tests(path)
    text = str(err.value)
    assert text.startswith(str(path)) and fragment in text and "\n" not in text


def test_missing_file_and_directory(tmp_path: Path) -> None:
    """A missing path or a folder is a TestReportError naming it."""
    with pytest.raises(TestReportError, match=r"missing\.xml: no such file"):
        read_tests(tmp_path / "missing.xml")
    with pytest.raises(TestReportError, match="is a directory"):
        read_tests(tmp_path)


def test_truncated_real_junit_names_the_line(tmp_path: Path) -> None:
    """A JUnit file cut off mid-write names the file and the line where the XML broke."""
    text = NAIVE.read_text()
    path = tmp_path / "cut.xml"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(TestReportError, match=r"cut\.xml:\d+: broken XML"):
        read_tests(path)


def test_testcase_without_name_is_counted(tmp_path: Path) -> None:
    """A testcase lacking a name is skipped and counted, or fails under strict."""
    path = tmp_path / "j.xml"
    path.write_text(
        '<testsuite time="1"><testcase classname="t.test_a" time="1"/>'
        '<testcase classname="t.test_a" name="test_b" time="0"/></testsuite>'
    )
    loaded = read_tests(path)
    assert loaded.frame["test_id"].to_list() == ["t/test_a.py::test_b"]
    assert [(s.reason, s.count) for s in loaded.skipped] == [("testcase without a name", 1)]
    with pytest.raises(TestReportError, match="testcase without a name"):
        read_tests(path, strict=True)


def test_reportlog_test_cut_off_by_a_killed_session_is_an_error(tmp_path: Path) -> None:
    """A test with setup and call but no teardown (runner killed) is an error, not a pass."""
    path = tmp_path / "killed.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in REPORTLOG_LINES[:3]) + "\n")
    row = load_tests(path).row(0, named=True)
    assert row["outcome"] == "error"
    assert "interrupted" in row["message"]


def test_same_id_in_two_suites_keeps_both_executions(tmp_path: Path) -> None:
    """Merged shard/rerun JUnit: a test in two suites keeps two rows; within a suite it merges."""
    path = tmp_path / "merged.xml"
    path.write_text(
        "<testsuites>"
        '<testsuite time="2" timestamp="2025-09-07T08:00:00+00:00">'
        '<testcase classname="t.test_a" name="test_x" time="1"><failure message="boom"/></testcase>'
        '<testcase classname="t.test_a" name="test_x" time="0.5"><error message="failed on teardown"/></testcase>'
        "</testsuite>"
        '<testsuite time="2" timestamp="2025-09-07T09:00:00+00:00">'
        '<testcase classname="t.test_a" name="test_x" time="1"/>'
        "</testsuite></testsuites>"
    )
    frame = load_tests(path)
    assert frame["outcome"].cast(pl.String).to_list() == ["failed", "passed"]
    assert frame["duration_s"].to_list() == [1.5, 1.0]
    assert "boom" in frame["message"][0] and "failed on teardown" in frame["message"][0]


def test_summary_only_json_report_says_what_is_missing(tmp_path: Path) -> None:
    """A json-report written with --json-report-summary has no tests; the error says so."""
    path = tmp_path / "summary.json"
    path.write_text(
        json.dumps({"created": 1757258530.0, "duration": 2.0, "summary": {"passed": 1}})
    )
    with pytest.raises(TestReportError, match="without tests"):
        read_tests(path)


def test_untimed_reports_with_other_durations_stay_separate(tmp_path: Path) -> None:
    """Two untimed JUnit files with equal outcomes but different durations are two runs."""
    paths = []
    for name, seconds in (("a.xml", (1.0, 2.0)), ("b.xml", (4.0, 0.5))):
        path = tmp_path / name
        path.write_text(
            '<testsuite time="9"><testcase classname="t.test_a" name="test_x" '
            f'time="{seconds[0]}"/><testcase classname="t.test_a" name="test_y" time="{seconds[1]}"/></testsuite>'
        )
        paths.append(path)
    loaded = read_tests(*paths)
    assert (loaded.runs, loaded.duplicates, loaded.frame.height) == (2, 0, 4)


ENTITY_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE x [\n <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">\n'
    + "".join(
        f' <!ENTITY {n} "{("&" + p + ";") * 10}">\n'
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + ']>\n<testsuite><testcase classname="t.test_a" name="x"><failure message="&i;"/></testcase></testsuite>\n'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY secret SYSTEM "file://{secret}">]>\n'
    '<testsuite><testcase classname="t.test_a" name="x"><failure message="&secret;"/></testcase></testsuite>\n'
)


@pytest.mark.parametrize(
    "xml", [ENTITY_BOMB, EXTERNAL_ENTITY], ids=["entity-bomb", "external-entity"]
)
def test_hostile_xml_is_refused(tmp_path: Path, xml: str) -> None:
    """Entity expansion bombs and external entities never expand into the frame."""
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t-value")
    path = tmp_path / "hostile.xml"
    path.write_text(xml.replace("{secret}", str(secret)))
    try:
        frame = load_tests(path)
    except TestReportError as err:
        assert str(err).startswith(str(path))
        return
    message = frame["message"][0] or ""
    assert len(message) < 1000 and "s3cr3t-value" not in message


def _reportlog_run(path: Path, start: float, durations: list[float]) -> Path:
    """A reportlog of tests test_0..n run back to back from ``start`` with the given durations."""
    lines, t = [], start
    for i, seconds in enumerate(durations):
        for when, share in (("setup", 0.1), ("call", 0.8), ("teardown", 0.1)):
            lines.append(
                json.dumps(
                    {
                        "nodeid": f"tests/test_a.py::test_{i}",
                        "when": when,
                        "outcome": "passed",
                        "longrepr": None,
                        "duration": seconds * share,
                        "start": t,
                        "stop": t + seconds * share,
                        "$report_type": "TestReport",
                    }
                )
            )
            t += seconds * share
    path.write_text("\n".join(lines) + "\n")
    return path


def test_concurrent_runs_of_one_suite_stay_apart(tmp_path: Path) -> None:
    """Two CI jobs running the same suite at the same moment (overlapping windows) are two runs."""
    a = _reportlog_run(tmp_path / "a.jsonl", 1757258529.0, [1.0, 2.5, 0.7, 3.2, 1.1])
    b = _reportlog_run(tmp_path / "b.jsonl", 1757258529.4, [1.3, 2.1, 0.9, 2.8, 1.6])
    loaded = read_tests(a, b)
    assert (loaded.runs, loaded.duplicates, loaded.frame.height) == (2, 0, 10)


FIXTURE_RUNS = sorted(
    p.parent
    for p in (Path(__file__).parents[1] / "fixtures").glob("*/junit.xml")
    if (p.parent / "report.jsonl").exists()
)


@pytest.mark.parametrize("run", FIXTURE_RUNS, ids=[p.name for p in FIXTURE_RUNS])
def test_replica_runs_junit_band_holds_and_formats_merge(run: Path) -> None:
    """On every recorded replica run, JUnit's +-u band holds the reportlog window and both merge to one run."""
    true = {r["test_id"]: r for r in load_tests(run / "report.jsonl").iter_rows(named=True)}
    estimated = load_tests(run / "junit.xml")
    assert set(estimated["test_id"]) == set(true)
    shift = timedelta(0)
    if estimated["clock"][0] == "naive":  # local wall time: compare after the zone's whole steps
        first = estimated.row(0, named=True)
        quarters = round((true[first["test_id"]]["start"] - first["start"]).total_seconds() / 900)
        shift = timedelta(seconds=900 * quarters)
    for row in estimated.iter_rows(named=True):
        u = timedelta(seconds=row["window_uncertainty_s"])
        start, stop = row["start"] + shift, row["stop"] + shift
        assert start - u <= true[row["test_id"]]["start"] <= start + u
        assert stop - u <= true[row["test_id"]]["stop"] <= stop + u
    merged = read_tests(run / "junit.xml", run / "report.jsonl")
    assert (merged.runs, merged.duplicates, merged.frame.height) == (1, len(true), len(true))


#: JUnit written by real old pytest versions on the realrun sample suite (runner zones +05:30, -08:00).
OLD_PYTEST = {
    "pytest6.2.5_real_naive_xunit2.xml": datetime(2026, 11, 26, 20, 18, 33, 288004, tzinfo=UTC),
    "pytest7.4.4_real_naive_xunit1.xml": datetime(2026, 11, 26, 6, 48, 33, 767817, tzinfo=UTC),
}


@pytest.mark.parametrize("name", list(OLD_PYTEST))
def test_real_old_pytest_junit(name: str) -> None:
    """pytest 6.2 and 7.4 JUnit (naive local timestamps, xunit2 and xunit1) give node ids, outcomes and naive windows."""
    frame = load_tests(DATA / name)
    rows = {r["test_id"]: r for r in frame.iter_rows(named=True)}
    e2e, api = "tests/e2e/test_ws.py::", "tests/test_api_flow.py::"
    assert {k: v["outcome"] for k, v in rows.items()} == {
        e2e + "TestWebsocket::test_connect": "passed",
        e2e + "TestWebsocket::test_rejected": "failed",
        e2e + "TestWebsocket::test_needs_token": "error",
        e2e + "test_payload[1]": "passed",
        e2e + "test_payload[2]": "passed",
        e2e + "test_skipped": "skipped",
        e2e + "test_known_bug": "xfailed",
        e2e + "test_maybe_fixed": "passed",
        e2e + "test_fail_and_teardown_error": "failed",
        e2e + "test_flaky": "failed",
        api + "TestLogin::test_login": "passed",
        api + "test_logout": "passed",
    }
    assert frame["clock"].unique().to_list() == ["naive"]
    first = frame.row(0, named=True)
    suite = OLD_PYTEST[name]  # the wall-clock timestamp, read as if it were UTC
    assert (
        first["start"] - timedelta(seconds=first["window_uncertainty_s"]) <= suite <= first["start"]
    )
    assert "cleanup failed" in rows[e2e + "test_fail_and_teardown_error"]["message"]


def test_retry_records_keep_failed_attempts(tmp_path: Path) -> None:
    """rerunFailure keeps a test failed with every attempt's text; flakyFailure before a pass stays passed."""
    path = tmp_path / "retries.xml"
    path.write_text(
        '<testsuite time="3" timestamp="2025-09-07T08:00:00Z">'
        '<testcase classname="t.test_a" name="test_x" time="1">'
        '<rerunFailure message="attempt 1: HTTP 503">trace=abc123</rerunFailure>'
        '<failure message="attempt 2: HTTP 503"/></testcase>'
        '<testcase classname="t.test_a" name="test_y" time="1">'
        '<flakyFailure message="HTTP 429 once"/></testcase></testsuite>'
    )
    rows = {r["test_id"]: r for r in load_tests(path).iter_rows(named=True)}
    assert rows["t/test_a.py::test_x"]["outcome"] == "failed"
    assert "trace=abc123" in rows["t/test_a.py::test_x"]["message"]
    assert rows["t/test_a.py::test_y"]["outcome"] == "passed"
    assert "HTTP 429 once" in rows["t/test_a.py::test_y"]["message"]


@pytest.mark.parametrize("sample", ["pytest7_testsuites_naive.xml", "reportlog"])
def test_utf16_reports_from_windows_shells_are_read(tmp_path: Path, sample: str) -> None:
    """Reports saved as UTF-16 with a BOM (PowerShell redirection) read like UTF-8 ones."""
    if sample == "reportlog":
        original = _reportlog(tmp_path, "")
        text = original.read_text()
    else:
        original = DATA / sample
        text = original.read_text()  # the declaration still says utf-8, as after redirection
    path = tmp_path / "utf16"
    path.write_bytes(text.encode("utf-16"))
    assert load_tests(path).drop("source_file").equals(load_tests(original).drop("source_file"))


def test_unreadable_file_names_the_os_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the OS refuses to read is a one-line TestReportError with the OS's reason."""
    path = tmp_path / "locked.xml"
    path.write_bytes(NAIVE.read_bytes())

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(TestReportError, match=r"locked\.xml: cannot read \(Permission denied\)$"):
        read_tests(path)


def test_report_without_testcases_is_an_empty_frame(tmp_path: Path) -> None:
    """A JUnit report with no testcases gives an empty frame and counts no run."""
    path = tmp_path / "empty_suite.xml"
    path.write_text('<testsuites><testsuite name="pytest" tests="0" time="0.01"/></testsuites>')
    loaded = read_tests(path)
    assert (loaded.frame.height, loaded.runs, loaded.skipped) == (0, 0, [])
    assert dict(loaded.frame.schema) == TEST_SCHEMA
