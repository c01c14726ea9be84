"""Correlation on a large log frame: same answers, built from joins (speed is measured in bench/)."""

from __future__ import annotations

import polars as pl

from forensics.correlate import correlate
from tests._correlate_frames import RUNNER_IP, log_frame, make_tests, run_scenario, with_background


def test_hundred_thousand_rows_with_a_busy_browser() -> None:
    """100k rows, 300 tests and a browser calling all the time: offset, fingerprint and links hold."""
    failing = tuple(range(5, 300, 25))
    tests, logs = run_scenario(n_tests=300, failing=failing, skew_s=3.0)
    frame = with_background(log_frame(logs), 100_000)
    assert frame.height == 100_000
    c = correlate(make_tests(tests), frame)
    assert abs(c.clock_offset_s - 3.0) <= c.clock_offset_uncertainty_s < 1.0
    assert c.fingerprint["remote_ips"] == [RUNNER_IP]
    matched = c.requests.filter(pl.col("matches_failure"))
    assert matched.height == len(failing)
    assert matched.get_column("status").to_list() == [403] * len(failing)
    assert matched.get_column("app_lines").min() >= 1
    assert not c.notes
