"""A generic log message whose nested payload field holds the real reason is read for that reason."""

from __future__ import annotations

import json

from forensics.classify.rows import REASON_DEPTH, LinkedRow
from tests.test_classify import TRACE, app_line, one, run_request


def _row(payload: object) -> LinkedRow:
    return LinkedRow(
        data={"row": 0, "message": "auth failed", "payload": payload},
        strength=1.0,
        via="trace",
        role="app",
    )


def test_nested_reason_field_is_read_with_the_message() -> None:
    """data.error under a generic msg (Hapi, Bunyan) is part of what message rules search."""
    text = _row(
        '{"msg": "auth failed", "data": {"error": "Token maximum age exceeded"}}'
    ).message_text
    assert "Token maximum age exceeded" in text


def test_nesting_beyond_the_bound_is_not_read() -> None:
    """Reason fields are looked for only a few levels down: a deep blob is not scanned whole."""
    deep: dict = {"error": "jwt expired"}
    for _ in range(REASON_DEPTH + 1):
        deep = {"wrap": deep}
    assert "jwt expired" not in _row(json.dumps(deep)).message_text


def test_non_reason_nested_fields_stay_out_of_message_rules() -> None:
    """Only reason-like keys count: a nested path or URL naming 'expired' is not a reason."""
    text = _row('{"data": {"path": "/token-expired-help"}}').message_text
    assert "token-expired-help" not in text


def test_generic_auth_message_with_nested_expiry_is_invalid_jwt() -> None:
    """Hapi's 'Bad HTTP authentication header format' with data.error naming max age is an expired token."""
    payload = {
        "msg": "Bad HTTP authentication header format",
        "data": {"error": "Token maximum age exceeded", "path": "/feed"},
    }
    v = one(
        [
            run_request(401, "/feed"),
            app_line("Bad HTTP authentication header format", trace=TRACE, payload=payload),
        ]
    )
    assert (v.root_cause, v.detail) == ("invalid_jwt", "expired")
