"""The filter a live pull pushes to Cloud Logging, and the window it covers."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from forensics.exceptions import UsageError
from forensics.live import MAX_FILTER_CHARS, build_filter
from forensics.live.window import Window, window_from_options, window_from_tests

SINCE = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
UNTIL = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


def test_filter_always_has_both_timestamp_bounds_with_slack() -> None:
    """The window plus slack is always in the filter, so the client adds no silent 24-hour window."""
    text = build_filter(SINCE, UNTIL, slack_s=90, resource_types=None)
    assert text == 'timestamp >= "2026-01-15T09:58:30.000000Z" AND timestamp <= "2026-01-15T10:31:30.000000Z"'


def test_filter_names_the_resource_types_triage_reads() -> None:
    """Cloud Run, load balancers and audit logs are asked for by default."""
    text = build_filter(SINCE, UNTIL)
    for kind in ("cloud_run_revision", "http_load_balancer", "http_external_regional_lb_rule", "audited_resource"):
        assert f'"{kind}"' in text


def test_extra_filter_is_anded_in_parentheses() -> None:
    """A user's OR cannot escape the window."""
    text = build_filter(SINCE, UNTIL, extra="severity >= ERROR OR httpRequest.status >= 500")
    assert text.endswith("AND (severity >= ERROR OR httpRequest.status >= 500)")


def test_service_names_are_quoted_safely() -> None:
    """Quotes and backslashes in a service name cannot break the filter."""
    text = build_filter(SINCE, UNTIL, services=['a"b\\c'])
    assert 'resource.labels.service_name = "a\\"b\\\\c"' in text


def test_too_many_services_drop_the_service_clause_to_stay_under_the_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Thousands of service names would pass 20,000 characters: the filter stays valid and says so."""
    services = [f"service-number-{i}" for i in range(2000)]
    text = build_filter(SINCE, UNTIL, services=services)
    assert len(text) < MAX_FILTER_CHARS
    assert "timestamp >=" in text and "service-number-1" not in text
    assert "pulling every service" in capsys.readouterr().err


def test_some_services_fit_and_are_kept() -> None:
    """A normal list of services stays in the filter, which stays under the limit."""
    text = build_filter(SINCE, UNTIL, services=[f"svc-{i}" for i in range(50)])
    assert '"svc-49"' in text and len(text) < MAX_FILTER_CHARS


def test_an_oversized_user_filter_is_a_usage_error() -> None:
    """A --filter that alone passes the API limit is refused before any request."""
    with pytest.raises(UsageError, match="20,000"):
        build_filter(SINCE, UNTIL, extra=" OR ".join(f'textPayload:"word{i}"' for i in range(2000)))


def test_reversed_window_is_a_usage_error() -> None:
    """--until before --since is refused."""
    with pytest.raises(UsageError, match="before --since"):
        build_filter(UNTIL, SINCE)


def test_times_without_a_zone_are_read_as_utc() -> None:
    """--since 2026-01-15T10:00:00 means UTC; a bad value names the option."""
    window = window_from_options("2026-01-15T10:00:00", "2026-01-15T12:00:00+02:00")
    assert window.since == SINCE and window.until == SINCE
    with pytest.raises(UsageError, match="--since 'monday'"):
        window_from_options("monday", None)


def test_window_from_tests_spans_first_start_to_last_stop() -> None:
    """The window runs from the first test's start to the last test's stop, plus clock uncertainty."""
    frame = pl.DataFrame({
        "start": [datetime(2026, 1, 15, 10, 5, tzinfo=UTC), datetime(2026, 1, 15, 10, 1, tzinfo=UTC), None],
        "stop": [None, datetime(2026, 1, 15, 10, 2, tzinfo=UTC), None],
        "duration_s": [30.0, 60.0, 1.0],
        "window_uncertainty_s": [2.0, 5.0, None],
    })
    window = window_from_tests(["r.xml"], frame)
    assert window == Window(datetime(2026, 1, 15, 10, 1, tzinfo=UTC),
                            datetime(2026, 1, 15, 10, 5, 30, tzinfo=UTC), 5.0, from_tests=True)


def test_report_without_times_asks_for_since_and_until() -> None:
    """A report with no test times cannot give a window; the error says what to pass instead."""
    frame = pl.DataFrame({"start": [None], "stop": [None], "duration_s": [1.0], "window_uncertainty_s": [None]},
                         schema={"start": pl.Datetime("ns", "UTC"), "stop": pl.Datetime("ns", "UTC"),
                                 "duration_s": pl.Float64, "window_uncertainty_s": pl.Float64})
    with pytest.raises(UsageError, match="pass --since and --until"):
        window_from_tests(["r.xml"], frame)


def test_recent_windows_are_not_settled() -> None:
    """A window that ended minutes ago may still receive entries; an old one is settled."""
    now = datetime(2026, 1, 15, 10, 40, tzinfo=UTC)
    assert not Window(SINCE, UNTIL).settled(120, now=now)
    assert Window(SINCE, UNTIL).settled(120, now=datetime(2026, 1, 15, 11, 0, tzinfo=UTC))


def test_zone_less_report_times_pull_every_zone_window() -> None:
    """Times without a zone are pulled at every UTC offset in use, each range in its own parentheses."""
    from forensics.emulator.filter import compile_filter
    from forensics.live.filters import ZONE_OFFSETS_H

    text = build_filter(SINCE, SINCE, slack_s=60, resource_types=None, zone_offsets_h=ZONE_OFFSETS_H)
    assert text.count("timestamp >=") == len(ZONE_OFFSETS_H) and len(text) < MAX_FILTER_CHARS
    matches = compile_filter(text)
    # a runner in UTC-5 wrote 10:00 local: its logs are at 15:00 UTC; 12:00 UTC is no zone's 10:00
    assert matches({"timestamp": "2026-01-15T15:00:30Z"})
    assert matches({"timestamp": "2026-01-15T10:00:00Z"})
    assert not matches({"timestamp": "2026-01-15T12:20:00Z"})


def test_overlapping_zone_windows_merge() -> None:
    """A long run's windows at neighbouring offsets merge into one range instead of repeating."""
    text = build_filter(SINCE, SINCE.replace(hour=14), slack_s=0, resource_types=None, zone_offsets_h=[0, 1, 2])
    assert text == 'timestamp >= "2026-01-15T08:00:00.000000Z" AND timestamp <= "2026-01-15T14:00:00.000000Z"'


def test_report_with_zone_less_times_is_marked_naive() -> None:
    """A report whose clock is naive gives a naive window, settled only after every zone has passed."""
    frame = pl.DataFrame({"start": [SINCE], "stop": [UNTIL], "duration_s": [1.0], "window_uncertainty_s": [1.0],
                          "clock": ["naive"]})
    window = window_from_tests(["r.xml"], frame)
    assert window.naive
    assert not window.settled(300, now=datetime(2026, 1, 15, 20, 0, tzinfo=UTC))
    assert window.settled(300, now=datetime(2026, 1, 16, 0, 0, tzinfo=UTC))
