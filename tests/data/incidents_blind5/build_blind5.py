"""Build the fifth blind corpus: ten incidents in the words of uvicorn, FastAPI, Django, Express,
Spring, Go and Google's front ends, with a runner clock off by seconds, JUnit files without per-test
times, untraced app lines, other clients failing the same second, an export that misses the window
and several causes in one run. Written without reading the engine's rules or correlation.

Run: python tests/data/incidents_blind5/build_blind5.py (rewrites the folders next to this file).
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.incident_builder import (
    BROWSER_UA,
    RUNNER_IP,
    UPTIME_UA,
    Incident,
)

OUT = Path(__file__).resolve().parent
DAY = datetime(2026, 11, 24, 14, 0, 0, tzinfo=UTC)
WS_403 = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"
BROWSER_IP = "81.2.69.160"


def ms(n: float) -> timedelta:
    """``n`` milliseconds."""
    return timedelta(milliseconds=n)


def finish(
    inc: Incident,
    *,
    offset: float,
    shape: str,
    stamp: str = "aware",
    notes: str,
    zone: float = 0.0,
    entries: list | None = None,
) -> None:
    """Write the incident's export, its JUnit on a clock off by ``offset`` and expected.json."""
    folder = OUT / inc.name
    if folder.exists():
        shutil.rmtree(folder)
    inc.write_logs(folder, shape, entries)
    inc.write_junit(folder, offset_s=offset, stamp=stamp, zone_hours=zone)
    inc.write_expected(folder, offset_s=-offset, notes=notes)


def fastapi_credentials_expired() -> None:
    """A FastAPI dependency raising HTTPException(403) on an expired token, via a custom logger."""
    inc = Incident("fastapi_credentials_expired", DAY + timedelta(minutes=1), service="chat-api")
    inc.health_checks(every=2.0)
    ok = inc.test("tests/e2e/test_profile.py::test_health", 0.3)
    inc.passing(
        ok, "GET", "/api/health", access='INFO:     {ip}:0 - "{method} {path} HTTP/1.1" {status} OK'
    )
    bad = inc.test(
        "tests/e2e/test_profile.py::test_read_profile",
        0.6,
        failure="AssertionError: assert 403 == 200",
        label="invalid_jwt",
        text="E   AssertionError: assert 403 == 200\nE    +  where 403 = <Response [403 Forbidden]>.status_code",
    )
    tr = inc.trace()
    t = bad.at(0.4)
    inc.request(t, "GET", "/api/profile", 403, trace=tr)
    inc.json(
        t - ms(3),
        {
            "message": "credentials rejected: HTTPException(status_code=403, "
            "detail='Could not validate credentials') after jose.ExpiredSignatureError: "
            "Signature has expired.",
            "logger": "app.deps.auth",
            "path": "/api/profile",
        },
        trace=tr,
        severity="WARNING",
    )
    inc.text(t + ms(5), f'INFO:     {RUNNER_IP}:0 - "GET /api/profile HTTP/1.1" 403 Forbidden')
    finish(
        inc,
        offset=3.2,
        shape="gcloud",
        notes="FastAPI get_current_user raises 403 'Could not validate credentials' because the "
        "token expired; runner clock +3.2 s.",
    )


def django_origin_untraced() -> None:
    """Django's CSRF origin check refuses a POST; the line carries no trace; clock -6 s."""
    inc = Incident("django_origin_untraced", DAY + timedelta(minutes=7), service="orders")
    inc.health_checks(every=1.5)
    ok = inc.test("tests/e2e/test_orders.py::test_list_orders", 0.4)
    inc.passing(ok, "GET", "/api/orders/", access='"{method} {path} HTTP/1.1" {status} 512')
    bad = inc.test(
        "tests/e2e/test_orders.py::test_create_order",
        0.5,
        failure="AssertionError: expected 201, got 403: CSRF verification failed. Request aborted.",
        label="cors_origin",
    )
    t = bad.at(0.5)
    inc.request(t, "POST", "/api/orders/", 403)
    inc.text(
        t - ms(2),
        "Forbidden (Origin checking failed - https://preview-42.orders.example.dev "
        "does not match any trusted origins.): /api/orders/",
        stream="stderr",
    )
    inc.text(
        t + ms(1),
        f'{RUNNER_IP} - - [24/Nov/2026:14:07:00 +0000] "POST /api/orders/ HTTP/1.1" 403 2870',
    )
    finish(
        inc,
        offset=-6.0,
        shape="jsonl",
        notes="Django CsrfViewMiddleware origin check (untraced stderr line); runner clock -6 s.",
    )


def express_audience_with_browser() -> None:
    """express-jwt wrong audience for the runner; a browser fails the same second without a token."""
    inc = Incident("express_audience_with_browser", DAY + timedelta(minutes=12), service="gateway")
    bad = inc.test(
        "tests/e2e/test_orders_api.py::test_fetch_orders",
        0.4,
        failure="httpx.HTTPStatusError: Client error '401 Unauthorized' for url "
        "'https://gateway.example.dev/v1/orders'",
        label="invalid_jwt",
    )
    t = bad.at(0.5)
    tr = inc.trace()
    inc.request(t, "GET", "/v1/orders", 401, trace=tr)
    inc.json(
        t - ms(2),
        {
            "level": 50,
            "msg": "UnauthorizedError: jwt audience invalid. expected: api://orders-prod",
            "err": {"type": "UnauthorizedError", "code": "invalid_token", "status": 401},
            "req": {"method": "GET", "url": "/v1/orders"},
            "logging.googleapis.com/trace": tr,
        },
        trace=tr,
        severity="ERROR",
    )
    with inc.other_client():
        btr = inc.trace()
        inc.request(t + ms(30), "GET", "/v1/cart", 401, ua=BROWSER_UA, ip=BROWSER_IP, trace=btr)
        inc.json(
            t + ms(28),
            {
                "level": 50,
                "msg": "UnauthorizedError: No authorization token was found",
                "err": {"type": "UnauthorizedError", "code": "credentials_required", "status": 401},
                "req": {"method": "GET", "url": "/v1/cart"},
            },
            trace=btr,
            severity="ERROR",
        )
    finish(
        inc,
        offset=2.0,
        shape="pretty",
        notes="Express jwt audience mismatch for the runner; a browser's missing-token 401 the same second.",
    )


def spring_jwt_and_servlet_error() -> None:
    """Spring: an invalid JWT on one test, a servlet exception on another; naive JUnit stamp, untraced."""
    inc = Incident("spring_jwt_and_servlet_error", DAY + timedelta(minutes=18), service="billing")
    inc.health_checks(every=2.0, path="/actuator/health")
    a = inc.test(
        "tests/e2e/test_billing.py::test_invoices",
        0.5,
        failure="AssertionError: assert 401 == 200",
        label="invalid_jwt",
    )
    t = a.at(0.5)
    inc.request(t, "GET", "/api/invoices", 401)
    inc.text(
        t - ms(4),
        "2026-11-24T14:18:00.310Z DEBUG 1 --- [nio-8080-exec-3] "
        "o.s.s.o.s.r.a.JwtAuthenticationProvider  : Failed to authenticate since the JWT was invalid",
    )
    inc.text(
        t - ms(3),
        "2026-11-24T14:18:00.311Z DEBUG 1 --- [nio-8080-exec-3] "
        "o.s.s.o.s.r.w.BearerTokenAuthenticationFilter : Failed to process authentication request\n"
        "org.springframework.security.oauth2.server.resource.InvalidBearerTokenException: "
        "An error occurred while attempting to decode the Jwt: Signed JWT rejected: Invalid signature",
    )
    b = inc.test(
        "tests/e2e/test_billing.py::test_pay_invoice",
        0.7,
        failure="AssertionError: assert 500 == 200",
        label="app_error",
    )
    t = b.at(0.6)
    inc.request(t, "POST", "/api/invoices/42/pay", 500, latency=0.21)
    inc.text(
        t - ms(8),
        "2026-11-24T14:18:01.020Z ERROR 1 --- [nio-8080-exec-5] "
        "o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet "
        "[dispatcherServlet] in context with path [] threw exception [Request processing "
        "failed: java.lang.IllegalStateException: payment provider returned null] with root cause\n"
        "java.lang.IllegalStateException: payment provider returned null\n"
        "\tat com.acme.billing.PaymentService.pay(PaymentService.java:88)",
        stream="stderr",
    )
    finish(
        inc,
        offset=4.0,
        shape="gzip",
        stamp="naive",
        zone=-5.0,
        notes="Spring resource server: bad JWT signature (401) and a servlet exception (500); "
        "naive JUnit stamp in UTC-5, runner clock +4 s, app lines untraced.",
    )


def go_iat_and_panic() -> None:
    """Go: a token used before issued (issuer clock ahead) then a nil-pointer panic; clock -3 s."""
    inc = Incident("go_iat_and_panic", DAY + timedelta(minutes=25), service="presence")
    a = inc.test(
        "tests/e2e/test_presence.py::test_subscribe", 0.8, failure=WS_403, label="invalid_jwt"
    )
    t = a.at(0.3)
    tr = inc.trace()
    inc.request(t, "GET", "/ws/presence", 403, trace=tr)
    inc.text(
        t - ms(1),
        "2026/11/24 14:25:00 ws: upgrade refused for /ws/presence: auth: token used before issued",
        stream="stderr",
        trace=tr,
    )
    b = inc.test(
        "tests/e2e/test_presence.py::test_status_list",
        0.4,
        failure="AssertionError: assert 500 == 200",
        label="app_error",
    )
    t = b.at(0.5)
    tr = inc.trace()
    inc.request(t, "GET", "/api/status", 500, trace=tr)
    inc.text(
        t - ms(1),
        "2026/11/24 14:25:01 http: panic serving 169.254.1.1:40612: runtime error: "
        "invalid memory address or nil pointer dereference\ngoroutine 42 [running]:\n"
        "net/http.(*conn).serve.func1()",
        stream="stderr",
    )
    finish(
        inc,
        offset=-3.0,
        shape="sink",
        notes="Go service: iat in the future (token used before issued) and a panic; runner clock -3 s.",
    )


def cloud_run_iam_with_browser() -> None:
    """Cloud Run's invoker check refuses the runner; a browser gets the same 403 the same second."""
    inc = Incident("cloud_run_iam_with_browser", DAY + timedelta(minutes=31), service="notify")
    bad = inc.test(
        "tests/e2e/test_notify.py::test_send",
        0.3,
        failure="AssertionError: assert 403 == 202",
        label="iam_denied",
    )
    t = bad.at(0.5)
    msg = (
        "The request was not authenticated. Either allow unauthenticated invocations or set the "
        "proper Authorization header. Read more at https://cloud.google.com/run/docs/securing/authenticating "
        "Additional troubleshooting documentation can be found at: "
        "https://cloud.google.com/run/docs/troubleshooting#unauthorized-client"
    )
    inc.request(t, "POST", "/v1/send", 403, text=msg, app=False, latency=0.001)
    inc.request(
        t + ms(200),
        "GET",
        "/favicon.ico",
        403,
        ua=BROWSER_UA,
        ip=BROWSER_IP,
        text=msg,
        app=False,
        latency=0.001,
    )
    finish(
        inc,
        offset=7.0,
        shape="gcloud",
        notes="Cloud Run IAM invoker denial for the runner; a browser denied too; runner clock +7 s.",
    )


def armor_and_slowapi() -> None:
    """Cloud Armor denies one call; slowapi rate-limits another; an uptime check fails meanwhile."""
    inc = Incident("armor_and_slowapi", DAY + timedelta(minutes=36), service="search")
    a = inc.test(
        "tests/e2e/test_search.py::test_admin_export",
        0.3,
        failure="AssertionError: assert 403 == 200",
        label="cloud_armor_denied",
    )
    t = a.at(0.5)
    inc.lb(
        t,
        "GET",
        "/admin/export",
        403,
        "denied_by_security_policy",
        policy={
            "name": "edge-waf",
            "priority": 1000,
            "configuredAction": "DENY",
            "outcome": "DENY",
            "preconfiguredExprIds": ["owasp-crs-v030301-id942100-sqli"],
        },
    )
    with inc.other_client():
        inc.request(
            t + ms(100),
            "GET",
            "/",
            503,
            ua=UPTIME_UA,
            ip="35.238.118.12",
            text="The request failed because the instance could not start successfully.",
            app=False,
        )
    b = inc.test(
        "tests/e2e/test_search.py::test_search_burst",
        1.0,
        failure="AssertionError: assert 429 == 200",
        label="rate_limited",
    )
    for i in range(6):
        tr = inc.trace()
        status = 200 if i < 5 else 429
        tt = b.at(0.1 + 0.15 * i)
        inc.request(tt, "GET", "/api/search", status, trace=tr)
        if status == 429:
            inc.text(
                tt - ms(1),
                "WARNING:slowapi:ratelimit 5 per 1 minute (34.123.77.201) exceeded at "
                "endpoint: /api/search",
                stream="stderr",
                trace=tr,
            )
    finish(
        inc,
        offset=1.5,
        shape="jsonl",
        notes="Cloud Armor WAF DENY then slowapi 429; an uptime check's 503 meanwhile; clock +1.5 s.",
    )


def uvicorn_bare_403() -> None:
    """Only uvicorn's access line for a refused handshake: no decision logged, so unknown."""
    inc = Incident("uvicorn_bare_403", DAY + timedelta(minutes=42), service="chat-api")
    inc.health_checks(every=1.0)
    bad = inc.test("tests/e2e/test_chat.py::test_join_room", 1.2, failure=WS_403, label="unknown")
    t = bad.at(0.4)
    inc.request(t, "GET", "/ws/rooms/7", 403)
    inc.text(t + ms(2), f'INFO:     {RUNNER_IP}:0 - "WebSocket /ws/rooms/7" 403')
    inc.text(t + ms(3), "INFO:     connection rejected (403 Forbidden)")
    inc.text(t + ms(4), "INFO:     connection closed")
    finish(
        inc,
        offset=2.5,
        shape="gcloud",
        notes="uvicorn access lines only, no line says why the handshake was refused.",
    )


def export_ten_minutes_early() -> None:
    """The export covers an earlier run 10 minutes before the failures: nothing to link, unknown."""
    inc = Incident("export_ten_minutes_early", DAY + timedelta(minutes=50), service="chat-api")
    a = inc.test("tests/e2e/test_chat.py::test_send_message", 0.5, failure=WS_403, label="unknown")
    b = inc.test(
        "tests/e2e/test_chat.py::test_history",
        0.4,
        failure="AssertionError: assert 401 == 200",
        label="unknown",
    )
    early = timedelta(minutes=10)
    for case, path, status in ((a, "/ws/chat", 403), (b, "/api/history", 401)):
        t = case.at(0.5) - early
        tr = inc.trace()
        inc.request(t, "GET", path, status, trace=tr)
        inc.text(t - ms(2), "jwt rejected: Signature has expired", trace=tr, severity="WARNING")
    finish(
        inc,
        offset=0.8,
        shape="jsonl",
        notes="The export ends ten minutes before the run; its 403/401s belong to an earlier run.",
    )


def junit_untimed_three_causes() -> None:
    """JUnit without any timestamp, untraced lines: missing token, missing bypass header, a 200 mismatch."""
    inc = Incident("junit_untimed_three_causes", DAY + timedelta(minutes=55), service="chat-api")
    inc.health_checks(every=1.0)
    a = inc.test(
        "tests/e2e/test_ws.py::test_connect_without_token", 0.6, failure=WS_403, label="missing_jwt"
    )
    t = a.at(0.5)
    inc.request(t, "GET", "/ws/chat", 403)
    inc.text(
        t - ms(1),
        "WARNING:app.ws:rejecting websocket /ws/chat: no token in Authorization "
        "header or Sec-WebSocket-Protocol (Not authenticated)",
        stream="stderr",
    )
    inc.text(t + ms(2), f'INFO:     {RUNNER_IP}:0 - "WebSocket /ws/chat" 403')
    b = inc.test(
        "tests/e2e/test_ws.py::test_preview_handshake",
        0.6,
        failure=WS_403,
        label="missing_bypass_header",
        gap=3.0,
    )
    t = b.at(0.5)
    inc.request(t, "GET", "/ws/preview", 403)
    inc.text(
        t - ms(1),
        "WARNING:app.e2e_guard:handshake refused: x-e2e-bypass header absent "
        "(preview environment requires it)",
        stream="stderr",
    )
    c = inc.test(
        "tests/e2e/test_ws.py::test_message_echo",
        0.8,
        failure="AssertionError: assert 'hello' == 'hello!'",
        label="unknown",
        gap=3.0,
    )
    inc.request(c.at(0.2), "GET", "/ws/chat", 101, trace=inc.trace())
    finish(
        inc,
        offset=-5.0,
        shape="gzip",
        stamp="none",
        notes="JUnit without timestamps, runner clock -5 s; untraced decision lines; the third "
        "failure is an assertion on content the logs cannot explain.",
    )


def main() -> None:
    """Rebuild every incident folder under OUT."""
    for build in (
        fastapi_credentials_expired,
        django_origin_untraced,
        express_audience_with_browser,
        spring_jwt_and_servlet_error,
        go_iat_and_panic,
        cloud_run_iam_with_browser,
        armor_and_slowapi,
        uvicorn_bare_403,
        export_ten_minutes_early,
        junit_untimed_three_causes,
    ):
        build()
    print("built", len(list(OUT.glob("*/expected.json"))), "incidents")


if __name__ == "__main__":
    main()
