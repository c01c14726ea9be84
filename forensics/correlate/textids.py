"""Identifiers and hints found in a failed test's text (message, traceback, captured output).

Only the test's own words are read here; whether an id is real is decided later by matching it
against the log frame, so a 32-hex string that is not a trace id simply matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Explicit trace carriers: Cloud Trace header, W3C traceparent, Cloud Logging's trace resource name,
# and "trace id: ..." / "trace=..." in log-ish text.
_TRACE_EXPLICIT = [
    re.compile(r"x-cloud-trace-context['\"]?\s*[:=]\s*['\"]?([0-9a-f]{32})(?:/\d+)?", re.I),
    re.compile(
        r"traceparent['\"]?\s*[:=]\s*['\"]?00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}", re.I
    ),
    re.compile(r"\b00-([0-9a-f]{32})-[0-9a-f]{16}-0[01]\b", re.I),
    re.compile(r"projects/[^/\s'\"]+/traces/([0-9a-f]{32})", re.I),
    re.compile(r"trace(?:[ _-]?id)?['\"]?\s*[:=]\s*['\"]?([0-9a-f]{32})\b", re.I),
]
_HEX32 = re.compile(r"(?<![0-9a-f])([0-9a-f]{32})(?![0-9a-f])", re.I)
_REQUEST_ID = re.compile(
    r"(?:x-request-id|request[ _-]?id|x-correlation-id|correlation[ _-]?id|x-amzn-trace-id)['\"]?\s*[:=]\s*['\"]?"
    r"([A-Za-z0-9][A-Za-z0-9._:-]{7,127})",
    re.I,
)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_URL = re.compile(r"\b(wss?|https?)://([A-Za-z0-9.\-\[\]:]+)(/[^\s'\"<>)\]}]*)?", re.I)
# "HTTP 403", "status 403", "status_code=403", "403 Forbidden", "returned 503", "<Response [429]>"
_STATUS = [
    re.compile(r"\bHTTP(?:/\d(?:\.\d)?)?\s*(?:status\s*)?:?\s*([1-5]\d\d)\b", re.I),
    re.compile(r"\bstatus(?:[ _]?code)?['\"]?\s*[:=]?\s*([1-5]\d\d)\b", re.I),
    re.compile(
        r"\b([1-5]\d\d)\s+(?:Forbidden|Unauthorized|Too Many Requests|Internal Server Error|Bad Gateway|"
        r"Service Unavailable|Gateway Time-?out|Not Found|Bad Request|Unprocessable)",
        re.I,
    ),
    re.compile(r"<Response \[([1-5]\d\d)\]>"),
    re.compile(r"\bcode\s*[:=]\s*([1-5]\d\d)\b"),
    re.compile(r"\b([1-5]\d\d) (?:Client|Server) Error\b", re.I),  # requests' raise_for_status
    re.compile(
        r"\b(?:got|returned|received|responded with)\s+(?:an?\s+)?(?:HTTP\s+)?(?:status\s+)?([1-5]\d\d)\b",
        re.I,
    ),
]
# Assertions on a status name two: the one the server answered and the one the test wanted
# ("assert 200 == 401": pytest puts the actual value first; "expected 401 but got 200"; jest's
# "Expected: 401 Received: 200"; testify's "expected: 401 actual: 200"; unittest's "200 != 401").
# Only the answered one is the failing request's status: the wanted 401 may well be in the logs
# (an earlier step that passed) and is not the failure. (answered group, wanted group)
_ASSERTED = [
    (re.compile(r"\bassert\s+([1-5]\d\d)\s*(?:==|in)\s*\(?\[?\{?([1-5]\d\d)\b"), 1, 2),
    (re.compile(r"\b([1-5]\d\d)\s*!=\s*([1-5]\d\d)\b"), 1, 2),
    (
        re.compile(
            r"\bexpected(?:\s+(?:status|HTTP|response))*(?:\s+code)?\s*[:=]?\s*<?\[?([1-5]\d\d)\b"
            r"[^\d]{0,40}?\b(?:got|received|was|actual|but\s+was|returned)\s*[:=]?\s*<?\[?([1-5]\d\d)\b",
            re.I,
        ),
        2,
        1,
    ),
    (
        re.compile(
            r"\b(?:got|received|actual|returned)\s*[:=]?\s*<?([1-5]\d\d)\b[^\d]{0,40}?"
            r"\b(?:expected|wanted|want)\s*[:=]?\s*<?([1-5]\d\d)\b",
            re.I,
        ),
        1,
        2,
    ),
]
# WebSocket close codes after an accepted handshake: "received 1008 (policy violation)",
# "code = 4001", "close code 1011". The handshake itself then succeeded (101).
_WS_CLOSE = re.compile(
    r"(?:received|sent|close(?:d)?(?:\s+frame)?(?:\s+with)?(?:\s+code)?|code)\s*[:=]?\s*(100[1-9]|101[0-5]|[34]\d{3})\b",
    re.I,
)
_TIMEOUT = re.compile(
    r"\b(?:Read|Connect|Pool|Write)?Timeout(?:Error|Exception)?\b|timed out|DeadlineExceeded|deadline exceeded",
    re.I,
)
# A CORS failure seen by the client: a missing Access-Control-Allow-* header, a blocked preflight.
_CORS_HINT = re.compile(r"access-control-allow-|\bCORS\b|\bpreflight\b", re.I)
_WS_HINT = re.compile(
    r"websocket|\bwss?://|InvalidStatus|InvalidHandshake|handshake|ConnectionClosed|upgrade", re.I
)


@dataclass(frozen=True)
class TextIds:
    """What one test's text says about its requests."""

    traces: frozenset[str] = frozenset()  # lower-case 32-hex ids named as traces
    loose_hex: frozenset[str] = frozenset()  # other 32-hex strings: traces only if the logs agree
    request_ids: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()  # URL paths without query ("/ws", "/api/v1/items")
    hosts: tuple[str, ...] = ()
    statuses: frozenset[int] = frozenset()
    websocket: bool = False
    ws_close: frozenset[int] = frozenset()  # WebSocket close codes the text names
    timeout: bool = False  # the client gave up waiting (no status to match)
    cors: bool = False  # the failure is about CORS (headers, preflight), whatever the status
    #: statuses an assertion says the server answered instead of the one the test wanted
    answered: frozenset[int] = frozenset()
    wanted: frozenset[int] = frozenset()  # statuses the test wanted and did not get

    @property
    def accepted_unexpectedly(self) -> bool:
        """The server answered 1xx-3xx where the test wanted a 4xx/5xx (the failure is an acceptance)."""
        return (
            bool(self.answered)
            and all(s < 400 for s in self.answered)
            and any(s >= 400 for s in self.wanted)
        )


def _clean_path(path: str) -> str:
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip(".,;:")
    return path or "/"


def extract_ids(text: str | None) -> TextIds:
    """Pull trace ids, request ids, URLs, HTTP statuses and a WebSocket hint out of test text.

    Args:
        text: the test's failure message, traceback and captured output (may be None).

    Returns:
        A ``TextIds``; empty when the text names nothing.
    """
    if not text:
        return TextIds()
    traces = {m.group(1).lower() for rx in _TRACE_EXPLICIT for m in rx.finditer(text)}
    loose = {m.group(1).lower() for m in _HEX32.finditer(text)} - traces
    request_ids = {m.group(1) for m in _REQUEST_ID.finditer(text)}
    request_ids |= {m.group(0).lower() for m in _UUID.finditer(text)}
    request_ids = {r for r in request_ids if r.lower() not in traces}
    paths: list[str] = []
    hosts: list[str] = []
    for m in _URL.finditer(text):
        host = m.group(2).lower()
        path = _clean_path(m.group(3) or "/")
        if host not in hosts:
            hosts.append(host)
        if path not in paths:
            paths.append(path)
    statuses = {int(m.group(1)) for rx in _STATUS for m in rx.finditer(text)}
    answered, wanted = _asserted_statuses(text)
    statuses = (statuses - (wanted - answered)) | answered
    return TextIds(
        traces=frozenset(traces),
        loose_hex=frozenset(loose),
        request_ids=frozenset(request_ids),
        paths=tuple(paths),
        hosts=tuple(hosts),
        statuses=frozenset(statuses),
        websocket=bool(_WS_HINT.search(text)),
        ws_close=frozenset(int(m.group(1)) for m in _WS_CLOSE.finditer(text)),
        timeout=bool(_TIMEOUT.search(text)),
        cors=bool(_CORS_HINT.search(text)),
        answered=frozenset(answered),
        wanted=frozenset(wanted - answered),
    )


def _asserted_statuses(text: str) -> tuple[set[int], set[int]]:
    """(answered, wanted) statuses of the status assertions in ``text``."""
    answered: set[int] = set()
    wanted: set[int] = set()
    for rx, got, want in _ASSERTED:
        for m in rx.finditer(text):
            a, w = int(m.group(got)), int(m.group(want))
            # "assert 120 == 100" compares counts, not statuses: both sides must be statuses
            if a in _KNOWN_STATUSES and w in _KNOWN_STATUSES and a != w:
                answered.add(a)
                wanted.add(w)
    return answered, wanted


#: HTTP statuses in use (RFC 9110 and common extensions): what a status assertion compares.
_KNOWN_STATUSES = frozenset(
    [100, 101, *range(200, 209), 226, *range(300, 309), *range(400, 432), 451, *range(500, 512)]
)
