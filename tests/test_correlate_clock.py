"""Clock offset estimation: anchors and request order, on plain arrays of epoch nanoseconds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from forensics.correlate import correlate
from forensics.correlate.clock.offset import (
    NS,
    ClockEstimate,
    align_by_order,
    describe_naive,
    from_anchors,
)
from tests._correlate_frames import (
    WS_403,
    case,
    linked_rows,
    log_frame,
    make_tests,
    request,
    run_scenario,
)

BASE = 1_795_000_000 * NS


def _run(n: int = 40, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test windows (runner clock) and one request early in each window (Google clock == runner)."""
    rng = np.random.default_rng(seed)
    dur = rng.uniform(0.5, 3.0, n)
    gap = rng.uniform(0.2, 3.0, n)
    lo = BASE + (np.cumsum(dur + gap) * NS).astype(np.int64)
    hi = lo + (dur * NS).astype(np.int64)
    req = lo + (0.1 * dur * NS).astype(np.int64)
    return lo, hi, req


@pytest.mark.parametrize("offset", [-4.2, 0.0, 6.7])
def test_order_alignment_recovers_offset(offset: float) -> None:
    """Requests shifted by the offset are put back inside their windows."""
    lo, hi, req = _run()
    est = align_by_order(np.sort(req + int(offset * NS)), lo, hi, "utc")
    assert est is not None
    assert abs(est.offset_s - offset) <= est.uncertainty_s < 1.0
    assert est.tests_hit == len(lo)


@pytest.mark.parametrize("zone_h", [-7.0, 5.5, 9.0])
def test_naive_clock_search_finds_zone_and_skew(zone_h: float) -> None:
    """A zone-less runner clock is found across zones, half hours included, plus a skew."""
    lo, hi, req = _run()
    offset = -zone_h * 3600 + 2.3
    est = align_by_order(np.sort(req + int(offset * NS)), lo, hi, "naive")
    assert est is not None
    assert abs(est.offset_s - offset) <= est.uncertainty_s < 1.0
    hh, mm = divmod(int(abs(zone_h) * 60), 60)
    assert f"UTC{'+' if zone_h > 0 else '-'}{hh:02d}:{mm:02d}" in est.method


def test_constant_traffic_has_no_contrast() -> None:
    """A client calling every 100 ms fits every offset equally: no estimate, not a false one."""
    lo, hi, _ = _run()
    steady = np.arange(lo.min() - 1000 * NS, hi.max() + 1000 * NS, NS // 10)
    assert align_by_order(steady, lo, hi, "utc") is None


def test_anchor_intervals_intersect() -> None:
    """Two traced requests pin the offset to where both fall inside their tests."""
    pairs = [
        (BASE + 12 * NS, BASE + 10 * NS, BASE + 13 * NS),
        (BASE + 21 * NS, BASE + 20 * NS, BASE + 30 * NS),
    ]
    center, half = from_anchors(pairs)  # type: ignore[misc]
    assert center - half <= 1.0 <= center + half
    assert half < 1.5


def test_describe_naive_names_the_runner_zone() -> None:
    """An offset of -2 h -3.4 s reads as a runner at UTC+02:00, 3.4 s fast: its skew (Google minus
    runner, the sign of every offset a report states) is -3.4 s."""
    assert describe_naive(-7203.4) == "naive runner clock read as UTC+02:00, skew -3.40 s"


def test_a_moved_naive_estimate_describes_its_own_offset() -> None:
    """When a refinement moves a naive clock's offset, its method states the new skew, not the old."""
    first = ClockEstimate(25204.4, 0.5, "request order (3 of 3); " + describe_naive(25204.4))
    moved = replace(first, offset_s=25204.127)
    assert moved.method == "request order (3 of 3); " + describe_naive(25204.127)
    assert moved.method.endswith("read as UTC-07:00, skew +4.13 s")


def test_runner_clock_far_off_is_still_found() -> None:
    """A runner clock 100 s off (no NTP) is found within the plausible skew of a UTC clock."""
    tests, logs = run_scenario(skew_s=-100.0)
    c = correlate(make_tests(tests), log_frame(logs))
    assert abs(c.clock_offset_s + 100.0) <= c.clock_offset_uncertainty_s < 1.0
    assert c.clocks["utc"]["tests_hit"] == 30


def _two_test_run(skew_s: float) -> tuple[list[dict], list[dict]]:
    """Two failed tests 2 s apart, each with its 403; Google time = runner time + ``skew_s``."""
    tests = [
        case("t::send", "failed", 0.0 - skew_s, 0.8 - skew_s, 0, message=WS_403),
        case("t::history", "failed", 1.0 - skew_s, 2.0 - skew_s, 1, message=WS_403),
    ]
    logs = [request(0.1, 403, "/ws"), request(1.2, 403, "/ws"), request(1.5, 200, "/api/me")]
    return tests, logs


def test_earlier_run_ten_minutes_before_is_not_borrowed() -> None:
    """A UTC run whose export holds only an earlier run 10 min before gets no links, and the
    note says the export misses the run (a UTC clock is off by seconds, not minutes)."""
    tests, logs = _two_test_run(skew_s=-600.0)
    c = correlate(make_tests(tests), log_frame(logs))
    assert c.links.is_empty()
    assert c.clock_method.startswith("none:")
    for test_id in ("t::send", "t::history"):
        assert c.notes[test_id].startswith("export covers 2026-11-24 08:10:00")
        assert "this test ran 2026-11-24 08:20:0" in c.notes[test_id]


def test_earlier_looking_run_with_a_trace_anchor_links() -> None:
    """The same 10 min gap with a trace id from the test text on an entry: the anchor's offset
    stands whatever its size, and the failures link."""
    trace = "0af7651916cd43dd8448eb211c80319c"
    tests, logs = _two_test_run(skew_s=-600.0)
    logs[0]["trace"] = trace
    tests[0]["message"] = f"{WS_403}\nX-Cloud-Trace-Context: {trace}/1;o=1"
    c = correlate(make_tests(tests), log_frame(logs))
    assert abs(c.clock_offset_s + 600.0) <= c.clock_offset_uncertainty_s < 2.0
    assert c.clock_method.startswith("trace ids")
    assert 0 in linked_rows(c, "t::send")
    assert c.requests.filter(pl.col("matches_failure")).height == 2


def test_small_run_with_a_five_second_skew_still_aligns() -> None:
    """Two tests on a UTC clock 5 s behind Google still find their own 403s."""
    tests, logs = _two_test_run(skew_s=5.0)
    c = correlate(make_tests(tests), log_frame(logs))
    assert abs(c.clock_offset_s - 5.0) <= c.clock_offset_uncertainty_s < 1.0
    matched = c.requests.filter(pl.col("matches_failure")).sort("test_id")
    assert matched.get_column("test_id").to_list() == ["t::history", "t::send"]


def test_mixed_clock_kinds_get_their_own_offsets() -> None:
    """Tests of a zone-less report and of a UTC report are aligned separately."""
    tests, logs = run_scenario(n_tests=30, skew_s=2.0)
    frame = make_tests(tests).with_columns(
        pl.when(pl.col("order") >= 15)
        .then(pl.col("start") + pl.duration(hours=3))
        .otherwise(pl.col("start"))
        .alias("start"),
        pl.when(pl.col("order") >= 15)
        .then(pl.col("stop") + pl.duration(hours=3))
        .otherwise(pl.col("stop"))
        .alias("stop"),
        pl.when(pl.col("order") >= 15)
        .then(pl.lit("naive"))
        .otherwise(pl.lit("utc"))
        .alias("clock"),
    )
    c = correlate(frame, log_frame(logs))
    assert abs(c.clocks["utc"]["offset_s"] - 2.0) < 1.0
    assert abs(c.clocks["naive"]["offset_s"] - (2.0 - 3 * 3600)) < 1.0


def test_outcomes_pick_the_offset_within_the_plateau() -> None:
    """When several offsets fit, the one where failed tests hold the failing request and passed
    tests the successful ones wins: the 403 goes to the short failed test, not the long next one."""
    tests = make_tests(
        [
            case("t::health", "passed", 3.625, 3.745, 0, window_uncertainty_s=0.02),
            case("t::plans", "passed", 3.745, 3.865, 1, window_uncertainty_s=0.02),
            case("t::stream", "failed", 3.865, 3.955, 2, message=WS_403, window_uncertainty_s=0.02),
            case("t::resume", "failed", 3.955, 7.155, 3, message=WS_403, window_uncertainty_s=0.02),
        ]
    )
    # Google = runner + 1.4 s; the export ends before the resume test's own handshake
    logs = log_frame(
        [request(5.070, 200, "/health"), request(5.200, 200, "/plans"), request(5.315, 403, "/ws")]
    )
    c = correlate(tests, logs)
    assert abs(c.clock_offset_s - 1.4) <= c.clock_offset_uncertainty_s
    assert c.requests.filter(pl.col("matches_failure")).get_column("test_id").to_list() == [
        "t::stream"
    ]
    assert c.requests.filter(pl.col("test_id") == "t::resume").is_empty()


def test_utc_clock_fifty_minutes_off_is_not_a_dropped_zone() -> None:
    """A "utc" run 50 minutes away from the export is no zone slip: nothing is linked, the note says why."""
    tests, logs = run_scenario(skew_s=-3000.0)
    c = correlate(make_tests(tests), log_frame(logs))
    assert c.clock_method.startswith("none:")
    assert c.links.is_empty()
    assert all(note.startswith("export covers") for note in c.notes.values())


def test_utc_clock_off_by_a_half_hour_zone_still_aligns() -> None:
    """A dropped UTC+05:30 zone with a 2 s skew is still recognised as a zone slip."""
    tests, logs = run_scenario(skew_s=-(5.5 * 3600 + 2.0))
    c = correlate(make_tests(tests), log_frame(logs))
    assert "off by a zone" in c.clock_method
    assert abs(c.clock_offset_s - (-(5.5 * 3600 + 2.0))) <= c.clock_offset_uncertainty_s + 0.01


def test_utc_clock_with_two_tests_is_not_read_as_a_zone_slip() -> None:
    """Two "utc" tests that line up with requests 3 h earlier are no zone slip: nothing is linked."""
    tests, logs = run_scenario(n_tests=2, failing=(1,), skew_s=-(3 * 3600 + 2.0), noise=False)
    c = correlate(make_tests(tests), log_frame(logs))
    assert "off by a zone" not in c.clock_method
    assert c.clock_method.startswith("none:")
    assert c.links.is_empty()
