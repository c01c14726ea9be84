"""One linked log row as rules see it.

A ``LinkedRow`` is one log row plus how it was tied to a failed test (``via``, ``strength``), what
kind of entry it is (``role``: request, edge, app, audit, other: correlate's ``links.role``, else
the log frame's own, see ``forensics.logs.kinds``), and the texts rules search (the message with
the payload's error/reason fields; every string of the payload). ``context`` groups a test's rows
by request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import regex

from forensics.logs.kinds import ACCESS_LINE

#: Payload keys whose text is searched with the message: where structured loggers put the cause.
REASON_KEYS = (
    "error",
    "err",
    "errors",
    "reason",
    "detail",
    "details",
    "error_description",
    "errorMessage",
    "error_message",
    "exception",
    "exc_info",
    "stack",
    "stack_trace",
    "stacktrace",
    "cause",
    "response_code_details",  # Envoy/Istio access logs: why the proxy answered what it did
    # API Gateway / ESPv2 (Envoy-based) request logs: the same, in their own words
    "response_code_detail",
    "error_cause",
)

#: How deep reason fields are looked for in a payload, and how many texts are kept from them:
#: a structured line nests its cause a level or two down, never dozens.
REASON_DEPTH = 4
MAX_REASONS = 50

_ACCESS_LINE = regex.compile(ACCESS_LINE)


@dataclass
class LinkedRow:
    """One log row tied to a failed test."""

    data: dict[str, Any]  # the log frame row (LOG_SCHEMA columns + KIND_SCHEMA ones)
    strength: float
    via: str
    role: str
    request_row: int | None = None  # the request entry this row belongs to (from correlate)
    share: int = 1  # failed tests among which correlate divided this row's request (``shared``)
    detached: bool = False  # a time-joined line that names another path: about another request
    same: list[LinkedRow] = field(default_factory=list, repr=False)  # rows of the same request

    @property
    def undivided(self) -> float:
        """The link strength before correlate divided it among tests that share the request."""
        return min(1.0, self.strength * self.share)

    @property
    def group(self) -> int:
        """A key shared by every row of the same request."""
        return min([self.row, *(r.row for r in self.same)])

    @property
    def row(self) -> int:
        return int(self.data["row"])

    def get(self, column: str) -> Any:
        return self.data.get(column)

    @property
    def is_request(self) -> bool:
        """A request-log entry written in front of the app (Cloud Run or a load balancer)."""
        return self.role in ("request", "edge")

    @cached_property
    def payload(self) -> Any:
        """The parsed ``payload`` JSON (None when absent or not JSON)."""
        return _parse_json(self.data.get("payload"))

    @cached_property
    def labels(self) -> Any:
        return _parse_json(self.data.get("labels"))

    @cached_property
    def message_text(self) -> str:
        """The message plus the payload's error/reason fields: what ``message`` conditions search.

        Structured loggers often put the cause beside the message
        (``{"message": "auth failed", "error": "jwt expired"}``), or nested under it (Hapi's
        ``{"msg": "Bad HTTP authentication header format", "data": {"error": "Token maximum age
        exceeded"}}``): reason fields are read at any depth down to ``REASON_DEPTH``.
        """
        parts = [self.data.get("message") or ""]
        _collect_reasons(self.payload, parts, REASON_DEPTH)
        return "\n".join(dict.fromkeys(p for p in parts if p))

    @cached_property
    def access_status(self) -> int | None:
        """The status an app access line reports (uvicorn, gunicorn, Express morgan), else None."""
        if self.role != "app":
            return None
        found = _ACCESS_LINE.search(self.data.get("message") or "")
        return int(found.group(2)) if found else None

    @cached_property
    def text(self) -> str:
        """The message plus every payload field as ``key=value``: what ``text`` conditions search.

        Structured loggers often keep the decision in fields under a generic message
        (``{"msg": "handshake refused", "check": "e2e_bypass_key", "result": "mismatch"}``), so
        keys count as much as values: one line per scalar, its dotted path, ``=``, its value.
        """
        parts = [self.data.get("message") or ""]
        _collect_fields(self.payload, "", parts)
        return "\n".join(p for p in parts if p)


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _collect_fields(value: Any, path: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _collect_fields(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list):
        for v in value:
            _collect_fields(v, path, out)
    elif value is not None and not isinstance(value, (dict, list)):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        out.append(f"{path}={text}" if path else text)


def _collect_reasons(value: Any, out: list[str], depth: int) -> None:
    """The text of every ``REASON_KEYS`` field in ``value``, nested down to ``depth`` levels."""
    if depth <= 0 or len(out) > MAX_REASONS:
        return
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        if isinstance(key, str) and key in REASON_KEYS and item is not None:
            _collect_strings(item, out)
        elif isinstance(item, (dict, list)):
            _collect_reasons(item, out, depth - 1)


def _collect_strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _collect_strings(v, out)
