"""An Origin refused because it is not in an allowlist named by its setting is cors_origin."""

from __future__ import annotations

import pytest

from tests.test_classify import TRACE, app_line, one, run_request


@pytest.mark.parametrize(
    "line",
    [
        "Rejected WebSocket upgrade: Origin 'https://admin.example.dev' is not in ALLOWED_ORIGINS",
        "origin https://preview.example.dev not listed in settings.CORS_ALLOWED_ORIGINS",
        'Origin "http://localhost:5173" not included in trustedOrigins',
        "handshake refused: origin 'null' is not in the permitted origins",
    ],
)
def test_origin_not_in_a_named_allowlist_is_cors_origin(line: str) -> None:
    """'Origin X is not in ALLOWED_ORIGINS' (no 'CORS' word) is an origin refusal."""
    assert one([run_request(403, "/ws"), app_line(line, trace=TRACE)]).root_cause == "cors_origin"


def test_a_path_named_origin_not_in_an_allowlist_is_not_an_origin_refusal() -> None:
    """'origin' inside a path or host name does not make an allowlist miss an Origin refusal."""
    line = "GET /api/origin/sync: tenant not in ALLOWED_TENANTS"
    assert (
        one([run_request(403, "/api/origin/sync"), app_line(line, trace=TRACE)]).root_cause
        != "cors_origin"
    )


@pytest.mark.parametrize(
    "line",
    [
        'failed to accept WebSocket connection: request Origin "evil.example" is not authorized for Host "api.example"',
        'failed to accept WebSocket connection: request Origin "::bad" is not a valid URL with a host',
    ],
)
def test_coder_websocket_origin_errors_are_cors_origin(line: str) -> None:
    """coder/nhooyr websocket's Accept errors about the request Origin are origin refusals."""
    assert one([run_request(403, "/ws"), app_line(line, trace=TRACE)]).root_cause == "cors_origin"
