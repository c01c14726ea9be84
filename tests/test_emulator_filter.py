"""The local server's Cloud Logging filter evaluation (the subset forensics writes)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.emulator.filter import FilterSyntaxError, compile_filter, timestamp_ns

ENTRY = {
    "insertId": "abc1",
    "timestamp": "2026-01-15T10:00:05.123456789Z",
    "severity": "WARNING",
    "logName": "projects/p1/logs/run.googleapis.com%2Frequests",
    "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api", "k8s-pod/app": "x"}},
    "httpRequest": {"status": 403, "requestUrl": "https://api.example.com/ws"},
    "trace": "projects/p1/traces/0af7651916cd43dd8448eb211c80319c",
    "textPayload": "The request was not authenticated.",
}


@pytest.mark.parametrize(("text", "expected"), [
    ('timestamp >= "2026-01-15T10:00:05Z"', True),
    ('timestamp >= "2026-01-15T10:00:05.2Z"', False),
    ('timestamp <= "2026-01-15T10:00:05.123456789Z"', True),
    ('timestamp < "2026-01-15T10:00:05.123456789Z"', False),
    ('timestamp > "2026-01-15T11:00:00+02:00"', True),
    ('resource.type = "cloud_run_revision"', True),
    ('resource.type = "http_load_balancer"', False),
    ('resource.type = ("http_load_balancer" OR "cloud_run_revision")', True),
    ('logName = "projects/p1/logs/run.googleapis.com%2Frequests"', True),
    ('log_id("run.googleapis.com/requests")', True),
    ("httpRequest.status = 403", True),
    ("httpRequest.status >= 500", False),
    ("httpRequest.status != 403", False),
    ("severity >= WARNING", True),
    ("severity >= ERROR", False),
    ("severity = warning", True),
    ('trace = "projects/p1/traces/0af7651916cd43dd8448eb211c80319c"', True),
    ('textPayload : "NOT AUTHENTICATED"', True),
    ('textPayload =~ "^The request"', True),
    ('textPayload !~ "^The request"', False),
    ("httpRequest.status:*", True),
    ("jsonPayload.message:*", False),
    ('jsonPayload.message = "x"', False),
    ('NOT jsonPayload.message = "x"', True),
    ('jsonPayload.message != "x"', True),
    ('resource.labels."k8s-pod/app" = "x"', True),
    ('-resource.type = "cloud_run_revision"', False),
    ('resource.type = "cloud_run_revision" httpRequest.status = 403', True),  # implicit AND
    ('resource.type = "x" OR httpRequest.status = 403', True),
    ('resource.type = "x" AND httpRequest.status = 403', False),
    # OR binds tighter than AND in the Logging query language: a AND (b OR c)
    ('resource.type = "x" AND resource.type = "y" OR httpRequest.status = 403', False),
    ('(resource.type = "x" AND resource.type = "y") OR httpRequest.status = 403', True),
    ('NOT (severity >= ERROR OR httpRequest.status >= 500)', True),
    ('"not authenticated"', True),
    ("authenticated", True),
    ('severity >= WARNING -- a comment', True),
    ("", True),
])
def test_filter_matches_like_cloud_logging(text: str, expected: bool) -> None:
    """Each supported construct selects the entry exactly when Cloud Logging would."""
    assert compile_filter(text)(ENTRY) is expected


@pytest.mark.parametrize("text", [
    'timestamp >= "yesterday"',
    "severity >= LOUD",
    "resource.type = ",
    "(severity >= ERROR",
    'textPayload = "unterminated',
    'textPayload =~ "("',
    "severity >= ERROR )",
])
def test_bad_filters_raise_syntax_errors(text: str) -> None:
    """A filter outside the language is rejected (the server answers 400), never silently matched."""
    with pytest.raises(FilterSyntaxError):
        compile_filter(text)


def test_timestamps_compare_at_nanosecond_precision() -> None:
    """Timestamps with 9 fractional digits and offsets become exact instants."""
    assert timestamp_ns("2026-01-15T10:00:05.000000001Z") - timestamp_ns("2026-01-15T10:00:05Z") == 1
    assert timestamp_ns("2026-01-15T12:00:05+02:00") == timestamp_ns("2026-01-15T10:00:05Z")
    assert timestamp_ns("not a time") is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='abc ()"=<>!:~-.*ORANDT0123456789\\', max_size=40))
def test_any_text_compiles_or_raises_syntax_error(text: str) -> None:
    """Arbitrary filter text never crashes the server: it compiles or raises FilterSyntaxError."""
    try:
        predicate = compile_filter(text)
    except FilterSyntaxError:
        return
    assert predicate(ENTRY) in (True, False)
