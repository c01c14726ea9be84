"""Build the sixth blind corpus: the seed's WebSocket handshake 403 against Cloud Run, many stacks.

Every failing test raises websockets' ``InvalidStatus: server rejected WebSocket connection: HTTP
403``; the truth differs per incident (missing token, origin check, a handshake interceptor's
policy, a missing E2E bypass key, Cloud Run's IAM invoker check, a bare uvicorn line that decides
nothing, and two causes in one run beside a browser failing the same second). Reports are JUnit
only, the runner clock is 2-6 s off, app lines carry no trace and come from two instances.
Run: ``python tests/data/incidents_blind6/build_blind6.py``.
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.incident_builder import BROWSER_UA, WS_UA, Incident

OUT = Path(__file__).resolve().parent
WS403 = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"
IAM_TEXT = (
    "The request was not authenticated. Either allow unauthenticated invocations or set the "
    "proper Authorization header. Read more at https://cloud.google.com/run/docs/securing/"
    "authenticating Additional troubleshooting documentation can be found at: "
    "https://cloud.google.com/run/docs/troubleshooting#unauthorized-client"
)


def _new(name: str, hour: int) -> Incident:
    inc = Incident(name, datetime(2026, 11, 24, hour, 10, 3, 120000, tzinfo=UTC))
    inc.health_checks(every=4.0)
    return inc


def _two_instances(inc: Incident) -> tuple[str, str]:
    return inc.instance, inc.hex(96)


def _ws_fail(
    inc: Incident,
    nodeid: str,
    label: str,
    lines: list,
    *,
    path: str = "/ws",
    app: bool = True,
    text: str | None = None,
    instance: str | None = None,
) -> None:
    """A failing test: one handshake 403 from the runner, then the app's own untraced lines."""
    case = inc.test(nodeid, 2.4, failure=WS403, label=label)
    t = case.at(0.4)
    if instance:
        inc.instance = instance
    inc.request(t, "GET", path, 403, ua=WS_UA, app=app, text=text, latency=0.004)
    for i, (kind, value) in enumerate(lines):
        at = t - timedelta(milliseconds=3 - i)
        (inc.json if kind == "json" else inc.text)(at, value)


def fastapi_structlog_missing_jwt() -> Incident:
    """FastAPI + structlog JSON: the handshake carried no token; uvicorn's 403 line beside it, second instance."""
    inc = _new("fastapi_structlog_missing_jwt", 9)
    a, b = _two_instances(inc)
    ok = inc.test("tests/e2e/test_chat.py::test_login", 1.0)
    inc.passing(ok, "POST", "/api/login", access='{ip}:0 - "{method} {path} HTTP/1.1" {status}')
    _ws_fail(
        inc,
        "tests/e2e/test_chat.py::test_ws_echo",
        "missing_jwt",
        [
            (
                "json",
                {
                    "event": "websocket rejected",
                    "reason": "no access token in query or headers",
                    "path": "/ws",
                    "level": "warning",
                    "logger": "app.realtime.auth",
                    "timestamp": "2026-11-24T09:10:04.6Z",
                },
            ),
            ("text", 'INFO:     169.254.1.1:0 - "WebSocket /ws" 403'),
        ],
        instance=b,
    )
    inc.instance = a
    inc.test("tests/e2e/test_chat.py::test_history", 0.6)
    return inc


def django_channels_origin() -> Incident:
    """Django Channels' OriginValidator refuses a localhost Origin; daphne's WSREJECT; naive JUnit stamp."""
    inc = _new("django_channels_origin", 10)
    ok = inc.test("tests/e2e/test_rooms.py::test_list_rooms", 0.8)
    inc.passing(ok, "GET", "/api/rooms/", access='{ip}:0 - - "{method} {path}" {status} 312')
    _ws_fail(
        inc,
        "tests/e2e/test_rooms.py::test_join_room_socket",
        "cors_origin",
        [
            (
                "text",
                "2026-11-24 10:10:04,311 WARNING channels.security.websocket "
                "OriginValidator denied connection: Origin 'http://localhost:5173' "
                "is not in allowed_origins",
            ),
            ("text", '169.254.1.1:0 - - [24/Nov/2026:10:10:04] "WSREJECT /ws/rooms/lobby/" - -'),
        ],
        path="/ws/rooms/lobby/",
    )
    return inc


def express_ws_bypass() -> Incident:
    """Express + ws (pino JSON): the upgrade lacks the staging E2E bypass header, second instance."""
    inc = _new("express_ws_bypass", 11)
    a, b = _two_instances(inc)
    ok = inc.test("tests/e2e/test_feed.py::test_feed_page", 0.9)
    inc.passing(ok, "GET", "/api/feed", access="{method} {path} {status} 4.112 ms - 211")
    _ws_fail(
        inc,
        "tests/e2e/test_feed.py::test_live_updates",
        "missing_bypass_header",
        [
            (
                "json",
                {
                    "level": 40,
                    "time": 1795000000000,
                    "pid": 1,
                    "hostname": "localhost",
                    "msg": "upgrade refused: x-e2e-bypass header absent on /socket "
                    "(staging requires it for automated clients)",
                },
            ),
        ],
        path="/socket",
        instance=b,
    )
    inc.instance = a
    return inc


def spring_tenant_interceptor() -> Incident:
    """Spring WebSocket: a HandshakeInterceptor refuses the tenant by access policy (middleware)."""
    inc = _new("spring_tenant_interceptor", 12)
    ok = inc.test("tests/e2e/test_orders.py::test_create_order", 1.1)
    inc.passing(ok, "POST", "/api/orders", 201)
    _ws_fail(
        inc,
        "tests/e2e/test_orders.py::test_order_stream",
        "middleware_rejection",
        [
            (
                "text",
                "2026-11-24 12:10:04.402  WARN 1 --- [nio-8080-exec-7] "
                "c.a.orders.ws.TenantHandshakeInterceptor : Handshake refused for /stomp: "
                "tenant 'e2e-ci' is suspended by access policy POL-17",
            ),
        ],
        path="/stomp",
    )
    return inc


def go_iam_invoker_edge() -> Incident:
    """Go service behind Cloud Run's IAM invoker check: request log says not authenticated, no app log."""
    inc = _new("go_iam_invoker_edge", 13)
    ok = inc.test("tests/e2e/test_presence.py::test_status", 0.7)
    inc.passing(
        ok,
        "GET",
        "/v1/status",
        access='time=2026-11-24T13:10:03Z level=INFO msg="request" method={method} '
        "path={path} status={status}",
    )
    _ws_fail(
        inc,
        "tests/e2e/test_presence.py::test_presence_socket",
        "iam_denied",
        [],
        path="/v1/ws",
        app=False,
        text=IAM_TEXT,
    )
    return inc


def bare_uvicorn_403() -> Incident:
    """Only uvicorn's bare 'WebSocket /ws/notes 403' and 'connection rejected': nothing says why -> unknown."""
    inc = _new("bare_uvicorn_403", 14)
    ok = inc.test("tests/e2e/test_notes.py::test_notes_list", 0.5)
    inc.passing(
        ok, "GET", "/notes", access='INFO:     {ip}:0 - "{method} {path} HTTP/1.1" {status} OK'
    )
    _ws_fail(
        inc,
        "tests/e2e/test_notes.py::test_notes_ws",
        "unknown",
        [
            ("text", 'INFO:     169.254.1.1:0 - "WebSocket /ws/notes" 403'),
            ("text", "INFO:     connection rejected (403 Forbidden)"),
            ("text", "INFO:     connection closed"),
        ],
        path="/ws/notes",
    )
    return inc


def nhooyr_origin() -> Incident:
    """Go nhooyr/coder websocket: accept fails because the Origin is not in OriginPatterns."""
    inc = _new("nhooyr_origin", 15)
    _ws_fail(
        inc,
        "tests/e2e/test_game.py::test_game_socket",
        "cors_origin",
        [
            (
                "json",
                {
                    "severity": "WARN",
                    "msg": "websocket accept failed",
                    "err": "failed to accept WebSocket connection: request Origin "
                    '"https://e2e-runner.internal" is not a valid URL with a host '
                    "authorized by OriginPatterns",
                },
            ),
        ],
        path="/game/ws",
    )
    inc.test("tests/e2e/test_game.py::test_scoreboard", 0.4)
    return inc


def mixed_two_causes() -> Incident:
    """Go-style missing bearer token, then a rejected E2E bypass key; a browser's origin 403 the same second."""
    inc = _new("mixed_two_causes", 16)
    a, b = _two_instances(inc)
    _ws_fail(
        inc,
        "tests/e2e/test_mix.py::test_chat_socket",
        "missing_jwt",
        [
            (
                "text",
                "2026/11/24 16:10:04 ws: handshake rejected: no bearer token in "
                "Authorization header or Sec-WebSocket-Protocol",
            ),
        ],
        instance=a,
    )
    case = inc.test(
        "tests/e2e/test_mix.py::test_admin_socket",
        2.4,
        failure=WS403,
        label="missing_bypass_header",
        gap=1.5,
    )
    t = case.at(0.4)
    inc.instance = b
    inc.request(t, "GET", "/admin/ws", 403, ua=WS_UA, latency=0.004)
    inc.text(
        t - timedelta(milliseconds=2),
        "WARNING:app.e2e_gate:E2E bypass key rejected on /admin/ws: "
        "X-E2E-Key did not match the key configured for this environment",
    )
    with inc.other_client():  # a developer's browser denied by the origin check, the same second
        inc.request(
            t + timedelta(milliseconds=180),
            "GET",
            "/admin/ws",
            403,
            ua=BROWSER_UA,
            ip="81.2.69.160",
            latency=0.003,
        )
        inc.text(
            t + timedelta(milliseconds=178),
            "WARNING:app.origin:rejected websocket: Origin "
            "'https://preview-42.web.app' not in ALLOWED_ORIGINS",
        )
    inc.instance = a
    return inc


BUILDS = [
    (fastapi_structlog_missing_jwt, "gcloud", 3.2, "aware"),
    (django_channels_origin, "jsonl", -2.4, "naive"),
    (express_ws_bypass, "pretty", 5.1, "aware"),
    (spring_tenant_interceptor, "gzip", -4.0, "aware"),
    (go_iam_invoker_edge, "sink", 2.7, "aware"),
    (bare_uvicorn_403, "jsonl", -5.8, "aware"),
    (nhooyr_origin, "gcloud", 4.4, "aware"),
    (mixed_two_causes, "jsonl", 6.0, "aware"),
]


def main() -> None:
    """Rebuild every incident folder under OUT (reports, logs, expected.json)."""
    for build, shape, offset, stamp in BUILDS:
        inc = build()
        folder = OUT / inc.name
        if folder.exists():
            shutil.rmtree(folder)
        inc.write_logs(folder, shape)
        zone = -5.0 if stamp == "naive" else 0.0  # the naive stamp is a runner in UTC-5
        inc.write_junit(folder, offset_s=offset, stamp=stamp, zone_hours=zone)
        inc.write_expected(folder, offset_s=-offset, notes=(build.__doc__ or inc.name).strip())


if __name__ == "__main__":
    main()
