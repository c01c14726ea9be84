"""Whose request is it: overlapping failed tests, drifting JUnit times, neighbours, run order."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from forensics import load_logs, load_tests
from forensics.correlate import correlate
from tests._correlate_frames import (
    WS_403,
    case,
    linked_rows,
    log_frame,
    make_tests,
    request,
    run_scenario,
)


def test_two_concurrent_failing_tests_get_their_own_requests() -> None:
    """Overlapping failed tests each get one 403, paired in time order, not both."""
    logs = log_frame(
        [request(40.05, 403, "/ws"), request(40.25, 403, "/ws"), request(41.5, 200, "/api/x")]
    )
    tests = make_tests(
        [
            case("t::first", "failed", 40.0, 41.0, 0, message=WS_403),
            case("t::second", "failed", 40.2, 41.2, 1, message=WS_403),
        ]
    )
    c = correlate(tests, logs)
    req = c.requests.filter(pl.col("matches_failure"))
    assert req.filter(pl.col("test_id") == "t::first").get_column("row").to_list() == [0]
    assert req.filter(pl.col("test_id") == "t::second").get_column("row").to_list() == [1]
    assert not req.get_column("shared").any()


def test_concurrent_tests_are_told_apart_by_url_path() -> None:
    """When the URL paths differ, each overlapping test gets the request on its own path."""
    logs = log_frame([request(40.05, 403, "/ws/events"), request(40.10, 403, "/ws/chat")])
    tests = make_tests(
        [
            case(
                "t::chat",
                "failed",
                40.0,
                41.0,
                0,
                message=f"{WS_403} wss://h.run.app/ws/chat?token=abc",
            ),
            case(
                "t::events", "failed", 40.0, 41.0, 1, message=f"{WS_403} wss://h.run.app/ws/events"
            ),
        ]
    )
    c = correlate(tests, logs)
    req = c.requests.filter(pl.col("matches_failure"))
    assert req.filter(pl.col("test_id") == "t::chat").get_column("row").to_list() == [1]
    assert req.filter(pl.col("test_id") == "t::events").get_column("row").to_list() == [0]
    assert "token=abc" not in str(c.notes)


def test_undecidable_overlap_links_both_weakly() -> None:
    """Two overlapping tests and three identical 403s: every claim is kept, marked shared, weaker."""
    logs = log_frame(
        [request(40.05, 403, "/ws"), request(40.10, 403, "/ws"), request(40.15, 403, "/ws")]
    )
    tests = make_tests(
        [
            case("t::x", "failed", 40.0, 41.0, 0, message=WS_403),
            case("t::y", "failed", 40.0, 41.0, 1, message=WS_403),
        ]
    )
    c = correlate(tests, logs)
    assert c.requests.height == 6
    assert c.requests.get_column("shared").all()
    assert c.requests.get_column("strength").max() < 0.5
    assert "could not tell whose" in c.notes["t::x"]


def test_tests_without_times_use_run_order() -> None:
    """Tests with no times search between their timed neighbours and say so in the note."""
    tests, logs = run_scenario(n_tests=12, failing=(4,))
    tests[4] = {**tests[4], "start": None, "stop": None, "clock": "none"}
    c = correlate(make_tests(tests), log_frame(logs))
    test_id = tests[4]["test_id"]
    assert c.requests.filter((pl.col("test_id") == test_id) & pl.col("matches_failure")).get_column(
        "status"
    ).to_list() == [403]
    assert "no start time" in c.notes[test_id]


def test_consecutive_failures_with_drifting_junit_times_get_one_each() -> None:
    """Back-to-back failed tests with blurred JUnit starts each get their own 403, in run order."""
    failing = (10, 11, 12, 13)
    tests, logs = run_scenario(n_tests=20, failing=failing, gap=(0.05, 0.4), seed=4)
    rows, t = [], tests[0]["start"].replace(microsecond=0)
    for r in tests:  # gaps lost: starts drift earlier and earlier
        length = r["stop"] - r["start"]
        rows.append(
            {**r, "start": t, "stop": t + length, "window_uncertainty_s": 1.5, "clock": "naive"}
        )
        t = t + length
    frame = log_frame(logs)
    c = correlate(make_tests(rows), frame)
    got = c.requests.filter(pl.col("matches_failure")).sort("row")
    assert got.height == len(failing)
    assert not got.get_column("shared").any()
    assert got.get_column("test_id").to_list() == [
        f"tests/e2e/test_ws.py::test_{i:02d}" for i in failing
    ]


def test_neighbouring_tests_requests_are_not_context() -> None:
    """With measured times, a passing neighbour's requests (even its expected 403) stay out."""
    tests, logs, t = [], [], 10.0
    for i in range(10):  # requests just inside both ends of every test pin the clock
        failed = i == 5
        tests.append(
            case(
                f"t::{i}",
                "failed" if failed else "passed",
                t,
                t + 0.5,
                i,
                message=WS_403 if failed else None,
            )
        )
        logs += [
            request(t + 0.01, 403 if failed else 200, "/ws" if failed else "/api/a"),
            request(t + 0.49, 200, "/api/b"),
        ]
        t += 0.65
    end4 = 10.0 + 4 * 0.65 + 0.5
    logs += [request(end4 - 0.04, 200, "/api/neighbour"), request(end4 - 0.02, 403, "/ws")]
    frame = log_frame(logs)
    c = correlate(make_tests(tests), frame)
    assert c.clock_offset_uncertainty_s < 0.15
    neighbour = {frame.height - 2, frame.height - 1}
    assert not linked_rows(c, "t::5") & neighbour
    assert c.requests.filter(pl.col("matches_failure")).get_column("row").to_list() == [10]


def test_untimed_failures_pair_with_their_requests_in_run_order() -> None:
    """With no times at all, k failed tests and k failing runner requests pair up in order."""
    rows = [
        case(
            f"t::{i}",
            "failed" if i in (1, 3) else "passed",
            None,
            None,
            i,
            message=WS_403 if i in (1, 3) else None,
        )
        for i in range(5)
    ]
    logs = log_frame(
        [
            request(1.0 + i, 403 if i in (1, 3) else 200, "/ws" if i in (1, 3) else "/api")
            for i in range(5)
        ]
    )
    c = correlate(make_tests(rows), logs)
    req = c.requests.filter(pl.col("matches_failure"))
    assert req.filter(pl.col("test_id") == "t::1").get_column("row").to_list() == [1]
    assert req.filter(pl.col("test_id") == "t::3").get_column("row").to_list() == [3]
    assert (
        req.get_column("strength").max() < 0.75
    )  # order alone is weaker than the test's own times
    assert "no start time" in c.notes["t::1"]


def test_another_failures_request_is_not_context() -> None:
    """Two overlapping failures with different statuses: each gets its own, not the other's as context."""
    logs = log_frame([request(50.05, 403, "/ws"), request(50.30, 429, "/api/messages")])
    tests = make_tests(
        [
            case("t::ws", "failed", 50.0, 50.4, 0, message=WS_403, window_uncertainty_s=0.5),
            case(
                "t::rate",
                "failed",
                50.2,
                50.6,
                1,
                message="HTTP 429 Too Many Requests",
                window_uncertainty_s=0.5,
            ),
        ]
    )
    c = correlate(tests, logs)
    assert c.requests.filter(pl.col("test_id") == "t::ws").get_column("row").to_list() == [0]
    assert c.requests.filter(pl.col("test_id") == "t::rate").get_column("row").to_list() == [1]


def test_context_request_inside_a_neighbours_own_times_is_the_neighbours() -> None:
    """A successful call made during the previous test (40 ms before the failed one started) is not the failed test's context."""
    from forensics.correlate.assign import keep_nearest

    ms = 1_000_000
    cores = pl.DataFrame(
        {
            "test_id": ["t::ok", "t::fail"],
            "core_lo": [0, 1060 * ms],
            "core_hi": [1030 * ms, 10_000 * ms],
        }
    )
    cand = pl.DataFrame(
        {
            "test_id": ["t::fail", "t::fail"],
            "row": [1, 2],
            # row 1 during the ok test; row 2 between the two tests, nearer the ok one
            "t_ns": [1020 * ms, 1040 * ms],
            "matches_failure": [False, False],
        }
    )
    kept = keep_nearest(cand, cores, frozenset())
    assert kept.get_column("row").to_list() == [2]


def test_a_short_junit_test_does_not_take_its_neighbours_calls() -> None:
    """The seed run from its JUnit report alone (start times rebuilt from durations, far off):
    each failed test gets the handshakes its reportlog gives it, in order, not the 12 ms
    test_websocket_connection all three of the first tests' 403s."""
    seed = Path(__file__).resolve().parents[1] / "fixtures" / "seed"
    logs = load_logs(seed / "logs").with_row_index("row")

    def evidence(report: str) -> dict[str, list[int]]:
        c = correlate(load_tests(seed / report), logs)
        req = c.requests.filter(pl.col("matches_failure")).sort("row")
        return {t: sorted(rows) for t, rows in req.group_by("test_id").agg("row").iter_rows()}

    from_junit, from_reportlog = evidence("junit.xml"), evidence("report.jsonl")
    assert from_junit == from_reportlog
    first = "tests/e2e/test_1_websocket_events_staging.py::test_websocket_connection"
    assert len(from_junit[first]) == 1
