"""Build the eighth blind corpus: five small Cloud Run e2e runs, JUnit only, runner clock 2-6 s off.

Run: python tests/data/incidents_blind8/build_blind8.py (rewrites the incident folders here).
Written from the brief and the taxonomy only, without reading the engine's rules or correlation.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.incident_builder import BROWSER_UA, WS_UA, Incident

OUT = Path(__file__).resolve().parent
T0 = datetime(2026, 11, 20, 14, 3, 7, 120000, tzinfo=UTC)


def starlette_ws_audience() -> tuple[Incident, float, str, str]:
    """WebSocket 403 whose reason is only a plain python-logging stderr line, untraced."""
    inc = Incident("starlette_ws_invalid_audience", T0, service="chat", seed=1)
    ok = inc.test("tests/e2e/test_chat.py::test_health", 0.3)
    inc.passing(ok, "GET", "/healthz")
    case = inc.test(
        "tests/e2e/test_chat.py::test_ws_connect_with_token",
        0.6,
        failure="websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403",
        label="invalid_jwt",
    )
    t = case.at(0.4)
    inc.text(t, "WARNING:app.auth:JWT decode failed: Invalid audience", stream="stderr")
    inc.request(t + timedelta(milliseconds=3), "GET", "/ws/chat", 403, ua=WS_UA)
    with inc.other_client():
        inc.text(
            t + timedelta(milliseconds=200),
            "WARNING:app.auth:JWT decode failed: Signature has expired",
            stream="stderr",
        )
    inc.request(
        t + timedelta(milliseconds=204), "GET", "/ws/chat", 403, ua=BROWSER_UA, ip="81.2.69.160"
    )
    return (
        inc,
        3.4,
        "jsonl",
        "Starlette auth backend logs 'Invalid audience' to stderr untraced; a browser 403s at the same second for an expired token.",
    )


def express_pino_500() -> tuple[Incident, float, str, str]:
    """Express 500 whose only cause is a pino error object."""
    inc = Incident("express_pino_typeerror", T0 + timedelta(minutes=9), service="orders", seed=2)
    ok = inc.test("tests/e2e/test_orders.py::test_list_orders", 0.3)
    inc.passing(ok, "GET", "/api/orders")
    case = inc.test(
        "tests/e2e/test_orders.py::test_create_order",
        0.5,
        failure="AssertionError: assert 500 == 201",
        label="app_error",
    )
    t = case.at(0.5)
    trace = inc.trace()
    inc.json(
        t,
        {
            "level": 50,
            "time": int(t.timestamp() * 1000),
            "pid": 1,
            "hostname": "localhost",
            "msg": "request errored",
            "err": {
                "type": "TypeError",
                "message": "Cannot read properties of undefined (reading 'id')",
                "stack": "TypeError: Cannot read properties of undefined (reading 'id')\n    at createOrder (/app/src/routes/orders.js:42:31)\n    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)",
            },
        },
    )
    inc.request(t + timedelta(milliseconds=4), "POST", "/api/orders", 500, trace=trace)
    return (
        inc,
        2.2,
        "gcloud",
        "Express handler throws a TypeError logged by pino (level 50, err object), untraced; the request log shows the 500.",
    )


def go_slog_cors() -> tuple[Incident, float, str, str]:
    """Go WebSocket handshake rejected for its Origin, said only by slog JSON."""
    inc = Incident("go_slog_origin_rejected", T0 + timedelta(minutes=21), service="stream", seed=3)
    case = inc.test(
        "tests/e2e/test_stream.py::test_subscribe_from_app_origin",
        0.4,
        failure="websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403",
        label="cors_origin",
    )
    t = case.at(0.5)
    inc.json(
        t,
        {
            "time": t.isoformat(),
            "level": "WARN",
            "msg": "rejected",
            "reason": "origin not allowed",
            "origin": "https://evil.example",
        },
        stream="stderr",
    )
    inc.request(t + timedelta(milliseconds=2), "GET", "/v1/stream", 403, ua=WS_UA)
    return (
        inc,
        5.6,
        "pretty",
        "Go service's slog says the handshake origin is not allowed; 403 on the request log.",
    )


def httpx_timeout_no_evidence() -> tuple[Incident, float, str, str]:
    """A read timeout whose only log entries are earlier successes: nothing says why."""
    inc = Incident(
        "httpx_timeout_only_successes", T0 + timedelta(minutes=33), service="search", seed=4
    )
    a = inc.test("tests/e2e/test_search.py::test_index", 0.4)
    inc.passing(a, "GET", "/api/index")
    b = inc.test("tests/e2e/test_search.py::test_query", 0.3)
    inc.passing(b, "GET", "/api/search?q=a")
    inc.test(
        "tests/e2e/test_search.py::test_reindex",
        5.0,
        failure="httpx.ReadTimeout: The read operation timed out",
        label="unknown",
    )
    return (
        inc,
        4.1,
        "jsonl",
        "ReadTimeout with no entry for the timed-out request; only earlier successes.",
    )


def iap_lb_401() -> tuple[Incident, float, str, str]:
    """IAP in front of the load balancer answers 401 without an IAP credential; no app log."""
    inc = Incident(
        "iap_lb_missing_credential",
        T0 + timedelta(minutes=47),
        service="admin",
        seed=5,
        host="admin.staging.example.dev",
    )
    case = inc.test(
        "tests/e2e/test_admin.py::test_admin_dashboard",
        0.4,
        failure="AssertionError: expected 200, got 401",
        label="iap_denied",
    )
    inc.lb(case.at(0.5), "GET", "/admin/dashboard", 401, "handled_by_identity_aware_proxy")
    return (
        inc,
        2.9,
        "gzip",
        "IAP-protected LB returns 401 handled_by_identity_aware_proxy; request never reached the app.",
    )


def main() -> None:
    """Write every incident folder under OUT."""
    for build in (
        starlette_ws_audience,
        express_pino_500,
        go_slog_cors,
        httpx_timeout_no_evidence,
        iap_lb_401,
    ):
        inc, offset, shape, notes = build()
        folder = OUT / inc.name
        inc.write_logs(folder, shape)
        inc.write_junit(folder, offset_s=offset)
        inc.write_expected(folder, offset_s=offset, notes=notes)


if __name__ == "__main__":
    main()
