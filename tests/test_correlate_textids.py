"""What a failed test's text names: trace ids, request ids, URLs, HTTP statuses."""

from __future__ import annotations

import pytest

from forensics.correlate.textids import extract_ids

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    "text",
    [
        f"X-Cloud-Trace-Context: {TRACE}/6717435283485126581;o=1",
        f"headers={{'traceparent': '00-{TRACE}-00f067aa0ba902b7-01'}}",
        f"logName trace=projects/staging-123/traces/{TRACE.upper()}",
        f"trace_id={TRACE}",
    ],
)
def test_trace_carriers_are_recognized(text: str) -> None:
    """Cloud Trace header, W3C traceparent, trace resource names and trace_id= all give the id."""
    assert extract_ids(text).traces == {TRACE}


def test_bare_hex_is_kept_apart_from_named_traces() -> None:
    """A 32-hex string not named as a trace is a candidate only (the logs decide)."""
    ids = extract_ids(f"md5 of body {TRACE}")
    assert ids.traces == frozenset()
    assert ids.loose_hex == {TRACE}


def test_request_ids_and_uuids() -> None:
    """X-Request-Id values and UUIDs are request-id candidates."""
    ids = extract_ids(
        "X-Request-Id: req-7f3a9c21b0 failed; correlation_id=1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    )
    assert "req-7f3a9c21b0" in ids.request_ids
    assert "1b4e28ba-2fa1-11d2-883f-0016d3cca427" in ids.request_ids


def test_urls_give_paths_without_query() -> None:
    """ws/wss/https URLs give host and path; the query (tokens!) is dropped."""
    ids = extract_ids(
        "connect wss://chat-abc.a.run.app/ws/events?token=eyJhbGciOi.secret and https://api.example.com/v1/items."
    )
    assert ids.paths == ("/ws/events", "/v1/items")
    assert "chat-abc.a.run.app" in ids.hosts
    assert ids.websocket


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (
            "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403",
            403,
        ),
        ("httpx.HTTPStatusError: Client error '429 Too Many Requests' for url", 429),
        ("AssertionError: assert 502 == 200\n +  where 502 = <Response [502]>.status_code", 502),
        ("InvalidStatusCode: status_code=401", 401),
        ("HTTP/1.1 503 Service Unavailable", 503),
    ],
)
def test_http_statuses_in_many_wordings(text: str, status: int) -> None:
    """The HTTP status of the failure is found whatever the client library's wording."""
    assert status in extract_ids(text).statuses


def test_empty_text_names_nothing() -> None:
    """No message, no ids."""
    ids = extract_ids(None)
    assert not ids.traces and not ids.paths and not ids.statuses and not ids.websocket


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (
            "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://x.run.app/api",
            403,
        ),
        ("AssertionError: expected 200 but got 401", 401),
        ("the server responded with 503", 503),
    ],
)
def test_statuses_in_client_error_wordings(text: str, status: int) -> None:
    """requests' raise_for_status and 'got NNN' phrasing give the failure's status."""
    assert status in extract_ids(text).statuses


def test_websocket_close_codes() -> None:
    """Close codes after an accepted handshake are kept apart from HTTP statuses."""
    ids = extract_ids(
        "ConnectionClosedError: received 1008 (policy violation) invalid token; then sent 1008"
    )
    assert ids.ws_close == {1008}
    assert not ids.statuses


def test_timeouts_are_recognized() -> None:
    """Client timeouts in several libraries' words set the timeout hint."""
    for text in (
        "httpx.ReadTimeout: timed out",
        "asyncio.exceptions.TimeoutError",
        "grpc DEADLINE_EXCEEDED: Deadline Exceeded",
    ):
        assert extract_ids(text).timeout, text
    assert not extract_ids("AssertionError: 3 != 4").timeout


@pytest.mark.parametrize(
    "text",
    [
        "AssertionError: tampered token was accepted\nassert 200 == 401",
        "expected status 401 but got 200",
        "expect(received).toBe(expected)\n    Expected: 401\n    Received: 200",
        "Error: Not equal:\n    expected: 401\n    actual  : 200",
        "AssertionError: 200 != 401",
    ],
)
def test_status_assertion_names_the_answered_status_not_the_wanted_one(text: str) -> None:
    """An assertion on a status names the answered 200 as the failure's status, never the wanted 401."""
    ids = extract_ids(text)
    assert ids.statuses == {200}
    assert ids.accepted_unexpectedly


def test_failing_status_assertion_is_not_an_acceptance() -> None:
    """`assert 500 == 200` names the 500 the server answered; the test wanted a success."""
    ids = extract_ids("assert 500 == 200")
    assert ids.statuses == {500}
    assert not ids.accepted_unexpectedly


def test_count_assertion_is_not_a_status() -> None:
    """`assert 120 == 100` compares counts: it names no status and no acceptance."""
    ids = extract_ids("AssertionError: expected all rows\nassert 120 == 100")
    assert ids.statuses == frozenset()
    assert not ids.accepted_unexpectedly
