"""Build the fourth blind corpus: stacks the other corpora do not speak, with run messiness.

Written without reading the engine's rules or correlation. Each incident is one e2e run against a
Cloud Run staging service whose failures look alike to the client (websockets ``InvalidStatus ...
HTTP 403`` or httpx ``HTTPStatusError``) while only the logs tell the causes apart: Litestar, Sanic,
aiohttp, Koa, Gin with Firebase Auth, Ktor with Supabase tokens, .NET minimal APIs with Auth0,
Micronaut, chi, Hapi, Cloud Endpoints (ESPv2) and API Gateway in front. Run:
``python tests/data/incidents_blind4/build_blind4.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from incident_builder import BROWSER_UA, UPTIME_UA, WS_UA, Incident

OUT = Path(__file__).resolve().parent
T0 = datetime(2026, 11, 24, 14, 2, 7, 311000, tzinfo=UTC)
WS403 = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"


def http_err(code: int, phrase: str, path: str) -> str:
    return (
        f"httpx.HTTPStatusError: Client error '{code} {phrase}' for url "
        f"'https://chat.staging.example.dev{path}'"
    )


def failing(
    inc: Incident, case, method, path, status, lines=(), *, traced=True, ua=WS_UA, frac=0.5
):
    """The runner's failing request and the app's lines about it (traced or not)."""
    t = case.at(frac)
    trace = inc.trace()
    inc.request(t, method, path, status, ua=ua, trace=trace)
    for i, line in enumerate(lines):
        at = t - timedelta(milliseconds=4 - i)
        if isinstance(line, dict):
            inc.json(
                at, line, trace=trace if traced else None, severity=line.pop("_sev", "WARNING")
            )
        else:
            inc.text(at, line, trace=trace if traced else None, stream="stderr")
    return trace


def on_instance(inc: Incident, instance: str):
    old = inc.instance
    inc.instance = instance
    return old


def save(
    inc: Incident,
    shape: str,
    *,
    offset: float,
    notes: str,
    report="junit",
    stamp="aware",
    zone=0.0,
    entries=None,
) -> Path:
    folder = OUT / inc.name
    shutil.rmtree(folder, ignore_errors=True)
    inc.write_logs(folder, shape, entries)
    if report in ("junit", "both"):
        inc.write_junit(folder, offset_s=offset, stamp=stamp, zone_hours=zone)
    if report in ("reportlog", "both"):
        inc.write_reportlog(folder, offset_s=offset)
    inc.write_expected(folder, offset_s=offset, notes=notes)
    return folder


def litestar_no_token() -> None:
    inc = Incident("litestar_ws_no_token", T0, service="chat-api", seed=1)
    inc.health_checks(every=2.0)
    a = inc.test("tests/e2e/test_chat.py::test_login", 0.4)
    inc.passing(a, "POST", "/api/login")
    b = inc.test(
        "tests/e2e/test_chat.py::test_join_room_ws", 0.8, failure=WS403, label="missing_jwt"
    )
    inc.passing(b, "GET", "/api/rooms", frac=0.2)
    failing(
        inc,
        b,
        "GET",
        "/ws/rooms/42",
        403,
        [
            "WARNING - litestar - NotAuthorizedException: No JWT token found in request header",
            'INFO:     ("34.123.77.201", 0) - "WebSocket /ws/rooms/42" 403',
        ],
        traced=False,
    )
    inc.test("tests/e2e/test_chat.py::test_logout", 0.3)
    inc.passing(inc.tests[-1], "POST", "/api/logout")
    save(
        inc,
        "gcloud",
        offset=-4.2,
        notes="Litestar JWT middleware finds no token on the handshake; "
        "its lines carry no trace; runner clock 4.2 s behind.",
    )


def sanic_expired() -> None:
    inc = Incident("sanic_expired_signature", T0, service="notify", seed=2)
    inc.health_checks(every=3.0)
    a = inc.test(
        "tests/e2e/test_notify.py::test_subscribe", 1.2, failure=WS403, label="invalid_jwt"
    )
    failing(
        inc,
        a,
        "GET",
        "/feed",
        403,
        [
            "[2026-11-24 14:02:08 +0000] [7] [WARNING] Authentication failed for /feed: "
            "sanic_jwt.exceptions.InvalidToken: Signature has expired.",
            "[2026-11-24 14:02:08 +0000] - (sanic.access)[INFO][34.123.77.201:0]: GET wss://notify/feed  403 0",
        ],
    )
    b = inc.test("tests/e2e/test_notify.py::test_list", 0.3)
    inc.passing(b, "GET", "/api/notifications")
    save(
        inc,
        "jsonl",
        offset=6.5,
        stamp="naive",
        zone=-5.0,
        notes="Sanic rejects an expired token; JUnit naive local time of UTC-5, runner 6.5 s ahead.",
    )


def aiohttp_origin() -> None:
    inc = Incident("aiohttp_origin_with_browser", T0, service="ws-gw", seed=3)
    inc.health_checks(every=2.0)
    a = inc.test(
        "tests/e2e/test_ws.py::test_connect_from_admin_ui", 0.9, failure=WS403, label="cors_origin"
    )
    t = a.at(0.5)
    trace = failing(
        inc,
        a,
        "GET",
        "/ws",
        403,
        [
            "aiohttp.server WARNING Rejected WebSocket upgrade: Origin 'https://admin.staging.example.dev' "
            "is not in ALLOWED_ORIGINS",
        ],
    )
    inc.text(
        t + timedelta(milliseconds=3),
        '169.254.1.1 [24/Nov/2026:14:02:07 +0000] "GET /ws HTTP/1.1" 403 '
        '180 "-" "Python/3.12 websockets/15.0.1"',
        trace=trace,
    )
    # a browser on the same path fails at the same moment, for another reason
    with inc.other_client():
        tb = inc.trace()
        inc.request(
            t + timedelta(milliseconds=40),
            "GET",
            "/ws",
            403,
            ua=BROWSER_UA,
            ip="81.2.69.160",
            trace=tb,
        )
        inc.text(
            t + timedelta(milliseconds=42),
            "aiohttp.server WARNING ws auth: session cookie expired",
            trace=tb,
        )
        inc.request(
            t + timedelta(milliseconds=60), "GET", "/", 503, ua=UPTIME_UA, ip="35.186.164.1"
        )
    b = inc.test("tests/e2e/test_ws.py::test_echo", 0.5)
    inc.passing(b, "GET", "/api/ping")
    save(
        inc,
        "pretty",
        offset=-3.1,
        report="reportlog",
        notes="aiohttp origin check refuses the admin UI origin; a browser (expired session) and an "
        "uptime check fail within 60 ms; reportlog clock 3.1 s behind.",
    )


def espv2_time_constraint() -> None:
    inc = Incident("espv2_jwt_time_constraint", T0, service="esp-chat", seed=4)
    inc.health_checks(every=2.0)
    a = inc.test(
        "tests/e2e/test_api.py::test_get_profile",
        0.5,
        failure=http_err(401, "Unauthorized", "/v1/profile"),
        label="invalid_jwt",
    )
    t = a.at(0.5)
    trace = inc.trace()
    inc.request(t, "GET", "/v1/profile", 401, trace=trace)
    inc.json(
        t + timedelta(milliseconds=1),
        {
            "message": "JWT validation failed: TIME_CONSTRAINT_FAILURE",
            "response_code_detail": "jwt_authn_access_denied{Jwt_is_expired}",
            "http_method": "GET",
            "url": "/v1/profile",
            "http_status": 401,
            "logger": "espv2.envoy",
        },
        severity="WARNING",
        trace=trace,
    )
    b = inc.test("tests/e2e/test_api.py::test_health", 0.2)
    inc.passing(b, "GET", "/v1/health")
    save(
        inc,
        "jsonl",
        offset=8.0,
        notes="ESPv2 in front rejects an expired JWT "
        "(TIME_CONSTRAINT_FAILURE); runner clock 8 s ahead.",
    )


def api_gateway_missing() -> None:
    inc = Incident("api_gateway_jwt_missing", T0, service="rooms", seed=5)
    a = inc.test(
        "tests/e2e/test_rooms.py::test_create_room",
        0.6,
        failure=http_err(401, "Unauthorized", "/v1/rooms"),
        label="missing_jwt",
    )
    b = inc.test("tests/e2e/test_rooms.py::test_list_rooms", 0.4)
    res = {
        "type": "apigateway.googleapis.com/Gateway",
        "labels": {"gateway_id": "rooms-gw", "location": "us-central1", "project_id": inc.project},
    }
    for case, status, detail in (
        (a, 401, "jwt_authn_access_denied{Jwt_is_missing}"),
        (b, 200, "via_upstream"),
    ):
        t = case.at(0.5)
        e = inc._base(
            t,
            "apigateway.googleapis.com/requests",
            resource=res,
            short_id=True,
            severity="WARNING" if status >= 400 else "INFO",
            trace=inc.trace(),
        )
        e["httpRequest"] = {
            "requestMethod": "POST" if case is a else "GET",
            "requestUrl": "https://rooms-gw-3kq8x1.uc.gateway.dev/v1/rooms",
            "status": status,
            "userAgent": "python-httpx/0.28.1",
            "remoteIp": "34.123.77.201",
            "latency": "0.003s",
        }
        e["jsonPayload"] = {
            "response_code_detail": detail,
            "api_method": "1.rooms_api.CreateRoom",
            **({"error_cause": "Jwt is missing"} if status == 401 else {}),
        }
        if status == 200:
            inc.request(t + timedelta(milliseconds=5), "GET", "/v1/rooms", 200, ua="APIs-Google")
    save(
        inc,
        "gcloud",
        offset=0.0,
        stamp="none",
        notes="API Gateway answers 401 'Jwt is missing' "
        "before the backend; JUnit without timestamps.",
    )


def koa_bypass() -> None:
    inc = Incident("koa_bypass_with_uptime", T0, service="edge-api", seed=6)
    inc.health_checks(every=1.5)
    a = inc.test(
        "tests/e2e/test_presence.py::test_presence_ws",
        0.7,
        failure=WS403,
        label="missing_bypass_header",
    )
    t = a.at(0.5)
    failing(
        inc,
        a,
        "GET",
        "/presence",
        403,
        [
            {
                "level": 40,
                "time": int(t.timestamp() * 1000),
                "pid": 1,
                "hostname": "localhost",
                "name": "koa-app",
                "msg": "staging guard: x-e2e-bypass header absent on upgrade, refusing",
                "req": {"method": "GET", "url": "/presence"},
            },
        ],
        traced=False,
    )
    with inc.other_client():
        inc.request(
            t + timedelta(milliseconds=15), "GET", "/presence", 403, ua=BROWSER_UA, ip="81.2.69.161"
        )
        inc.request(
            t + timedelta(milliseconds=20), "GET", "/", 502, ua=UPTIME_UA, ip="35.186.164.9"
        )
    b = inc.test(
        "tests/e2e/test_presence.py::test_status_api",
        0.4,
        failure=http_err(403, "Forbidden", "/api/status"),
        label="missing_bypass_header",
    )
    failing(
        inc,
        b,
        "GET",
        "/api/status",
        403,
        [
            {
                "level": 40,
                "name": "koa-app",
                "msg": "staging guard: x-e2e-bypass value does not match E2E_BYPASS_KEY",
                "req": {"method": "GET", "url": "/api/status"},
            },
        ],
        ua="python-httpx/0.28.1",
    )
    save(
        inc,
        "sink",
        offset=3.4,
        notes="Koa staging guard refuses the bypass header (absent on the "
        "upgrade, wrong value on httpx); a browser and an uptime check fail at the same moment.",
    )


def gin_firebase() -> None:
    inc = Incident("gin_firebase_multi_instance", T0, service="go-chat", seed=7)
    inc.health_checks(every=2.0)
    inst2 = inc.hex(96)
    a = inc.test("tests/e2e/test_go.py::test_send_message", 0.6, failure=WS403, label="invalid_jwt")
    failing(
        inc,
        a,
        "GET",
        "/ws/send",
        403,
        [
            "auth.go:58: verify firebase token: ID token has expired at: 1764008401",
            '[GIN] 2026/11/24 - 14:02:07 | 403 |     812.3µs |   34.123.77.201 | GET      "/ws/send"',
        ],
        traced=False,
    )
    b = inc.test("tests/e2e/test_go.py::test_history", 0.5, failure=WS403, label="invalid_jwt")
    old = on_instance(inc, inst2)
    failing(
        inc,
        b,
        "GET",
        "/ws/history",
        403,
        [
            "auth.go:58: verify firebase token: ID token has expired at: 1764008401",
            '[GIN] 2026/11/24 - 14:02:08 | 403 |     640.1µs |   34.123.77.201 | GET      "/ws/history"',
        ],
        traced=False,
    )
    inc.instance = old
    c = inc.test("tests/e2e/test_go.py::test_ping", 0.2)
    inc.passing(c, "GET", "/ping")
    save(
        inc,
        "gzip",
        offset=-5.5,
        stamp="naive",
        notes="Gin with Firebase Admin: expired ID token; "
        "lines untraced on two instances; naive UTC JUnit, runner 5.5 s behind.",
    )


def ktor_interleaved() -> None:
    inc = Incident("ktor_audience_and_crash", T0, service="kt-api", seed=8)
    inc.health_checks(every=2.0)
    a = inc.test("tests/e2e/test_kt.py::test_board_ws", 0.9, failure=WS403, label="invalid_jwt")
    b = inc.test(
        "tests/e2e/test_kt.py::test_board_export",
        0.9,
        failure=http_err(500, "Internal Server Error", "/api/board/export").replace(
            "Client", "Server"
        ),
        label="app_error",
        gap=-0.5,
    )  # concurrent with the first
    failing(
        inc,
        a,
        "GET",
        "/board",
        403,
        [
            "14:02:07.803 [eventLoopGroupProxy-4-2] WARN  io.ktor.server.auth.jwt - JWT verification failed: "
            "The Claim 'aud' value doesn't contain the required audience.",
        ],
    )
    failing(
        inc,
        b,
        "GET",
        "/api/board/export",
        500,
        [
            "14:02:08.101 [eventLoopGroupProxy-4-3] ERROR Application - Unhandled: GET - /api/board/export\n"
            "java.lang.IllegalStateException: export bucket not configured\n\tat com.acme.ExportKt.export(Export.kt:41)",
        ],
        ua="python-httpx/0.28.1",
        frac=0.3,
    )
    c = inc.test("tests/e2e/test_kt.py::test_board_list", 0.3)
    inc.passing(c, "GET", "/api/board")
    save(
        inc,
        "gcloud",
        offset=4.0,
        report="reportlog",
        notes="Ktor: a Supabase token with the wrong "
        "audience and, overlapping in time, a 500 from an unconfigured export.",
    )


def dotnet_half_export() -> None:
    inc = Incident("dotnet_auth0_half_export", T0, service="dn-api", seed=9)
    inc.health_checks(every=2.0)
    a = inc.test("tests/e2e/test_dn.py::test_orders_ws", 0.6, failure=WS403, label="invalid_jwt")
    failing(
        inc,
        a,
        "GET",
        "/hubs/orders",
        403,
        [
            {
                "Timestamp": "2026-11-24T14:02:07.61Z",
                "Level": "Information",
                "Category": "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler",
                "Message": "Failed to validate the token.",
                "Exception": "Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime "
                "validation failed. The token is expired. ValidTo (UTC): '11/24/2026 13:59:00'",
            },
            {
                "Category": "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler",
                "Level": "Information",
                "Message": "Bearer was not authenticated. Failure message: IDX10223: Lifetime validation failed. The token is expired.",
            },
        ],
    )
    cut = inc.cursor
    b = inc.test(
        "tests/e2e/test_dn.py::test_orders_list",
        0.5,
        failure=http_err(403, "Forbidden", "/api/orders"),
        label="unknown",
        gap=2.0,
    )
    failing(
        inc,
        b,
        "GET",
        "/api/orders",
        403,
        [
            {
                "Category": "Microsoft.AspNetCore.Authorization.DefaultAuthorizationService",
                "Level": "Information",
                "Message": "Authorization failed. These requirements were not met: "
                "RolesAuthorizationRequirement",
            },
        ],
    )
    kept = [
        e
        for e in inc.entries
        if e["timestamp"] < (cut + timedelta(seconds=0.5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ]
    save(
        inc,
        "jsonl",
        offset=-7.0,
        entries=kept,
        notes="ASP.NET Core JwtBearer rejects an expired "
        "Auth0 token; the export stops before the second failure, which must stay unknown.",
    )


def micronaut_setup_and_assert() -> None:
    inc = Incident("micronaut_limit_setup_assert", T0, service="mn-api", seed=10)
    inc.health_checks(every=2.0)
    a = inc.test(
        "tests/e2e/test_mn.py::test_burst_connect",
        0.8,
        failure=WS403.replace("403", "429"),
        label="rate_limited",
    )
    failing(
        inc,
        a,
        "GET",
        "/stream",
        429,
        [
            "14:02:07.9 [default-nioEventLoopGroup-1-3] WARN  c.a.ws.RateLimitFilter - "
            "io.github.resilience4j.ratelimiter.RequestNotPermitted: RateLimiter 'ws-connect' does not permit "
            "further calls",
        ],
    )
    b = inc.test(
        "tests/e2e/test_mn.py::test_message_order",
        0.6,
        failure="AssertionError: assert ['b', 'a'] == ['a', 'b']",
        label="unknown",
    )
    inc.passing(b, "GET", "/stream", 101, ua=WS_UA)
    c = inc.test(
        "tests/e2e/test_mn.py::test_admin_stats",
        0.3,
        failure="httpx.ConnectTimeout: timed out",
        label="unknown",
    )
    d = inc.test("tests/e2e/test_mn.py::test_stats", 0.2)
    inc.passing(d, "GET", "/api/stats")
    folder = save(
        inc,
        "jsonl",
        offset=2.2,
        notes="Micronaut's resilience4j limiter answers 429; an "
        "ordering assertion with a clean 101; a fixture that times out before any request "
        "(setup error): both unknown.",
    )
    junit = (folder / "junit.xml").read_text()
    old = f'name="{c.nodeid.split("::")[1]}" time="0.300"><failure message="httpx.ConnectTimeout: timed out">'
    assert old in junit
    junit = junit.replace(
        old,
        old.replace(
            '<failure message="httpx.ConnectTimeout: timed out"',
            '<error message="failed on setup with &quot;httpx.ConnectTimeout: timed out&quot;"',
        ),
    )
    junit = junit.replace(
        "E   httpx.ConnectTimeout: timed out</failure>",
        "E   httpx.ConnectTimeout: timed out</error>",
    )
    junit = junit.replace('errors="0" failures="3"', 'errors="1" failures="2"')
    (folder / "junit.xml").write_text(junit)


def chi_bare_403() -> None:
    inc = Incident("chi_bare_403", T0, service="chi-svc", seed=11)
    inc.health_checks(every=2.0)
    a = inc.test("tests/e2e/test_chi.py::test_subscribe_ws", 0.5, failure=WS403, label="unknown")
    t = a.at(0.5)
    failing(
        inc,
        a,
        "GET",
        "/sub",
        403,
        [
            '"GET http://chi-svc/sub HTTP/1.1" from 169.254.1.1:41822 - 403 0B in 98.4µs',
        ],
        traced=False,
    )
    inc.text(
        t + timedelta(milliseconds=30),
        'level=INFO msg="connect rpc" procedure=/chat.v1.Chat/List code=ok',
    )
    save(
        inc,
        "gcloud",
        offset=5.0,
        notes="chi's request logger shows only the 403; no line says why: unknown.",
    )


def hapi_overlap() -> None:
    inc = Incident("hapi_overlapping_exports", T0, service="hapi-api", seed=12)
    inc.health_checks(every=2.0)
    a = inc.test("tests/e2e/test_hapi.py::test_feed_ws", 0.6, failure=WS403, label="invalid_jwt")
    failing(
        inc,
        a,
        "GET",
        "/feed",
        403,
        [
            {
                "level": "warn",
                "tags": ["auth", "jwt"],
                "msg": "Bad HTTP authentication header format",
                "data": {"error": "Token maximum age exceeded", "path": "/feed"},
            },
        ],
    )
    b = inc.test(
        "tests/e2e/test_hapi.py::test_profile",
        0.4,
        failure=http_err(403, "Forbidden", "/api/profile"),
        label="middleware_rejection",
    )
    failing(
        inc,
        b,
        "GET",
        "/api/profile",
        403,
        [
            {
                "level": "warn",
                "tags": ["auth", "tenant"],
                "msg": "onPreAuth tenantGuard: tenant 'e2e' suspended, request refused",
                "data": {"path": "/api/profile"},
            },
        ],
        ua="python-httpx/0.28.1",
    )
    folder = save(
        inc,
        "gcloud",
        offset=-8.6,
        notes="Hapi: token past max age, then a tenant guard "
        "refusal; the export is handed over twice (gcloud array and JSONL overlapping).",
    )
    half = inc._sorted()[len(inc.entries) // 3 :]
    (folder / "logs" / "entries-second-pull.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in half)
    )


def nextjs_two_clients_untraced() -> None:
    inc = Incident("nextjs_supabase_two_clients", T0, service="web", seed=13)
    inc.health_checks(every=2.0)
    a = inc.test("tests/e2e/test_web.py::test_realtime_ws", 0.6, failure=WS403, label="unknown")
    t = a.at(0.5)
    inc.request(t, "GET", "/api/realtime", 403, ua=WS_UA)
    with inc.other_client():
        inc.request(
            t + timedelta(milliseconds=3),
            "GET",
            "/api/realtime",
            403,
            ua=BROWSER_UA,
            ip="81.2.69.170",
        )
    # two untraced lines after both requests, naming neither client: which is whose cannot be read
    inc.text(
        t + timedelta(milliseconds=10),
        "[api/realtime] AuthApiError: invalid JWT: unable to parse or "
        "verify signature, token has invalid claims: token is expired",
        stream="stderr",
    )
    inc.text(
        t + timedelta(milliseconds=14),
        "[api/realtime] AuthSessionMissingError: Auth session missing!",
        stream="stderr",
    )
    b = inc.test("tests/e2e/test_web.py::test_home", 0.3)
    inc.passing(b, "GET", "/")
    save(
        inc,
        "jsonl",
        offset=-3.0,
        notes="A browser and the runner fail on the same route 3 ms apart; "
        "the route's two untraced lines (expired Supabase JWT, no session), both written after both "
        "requests, name no client, so the runner's cause cannot be told: unknown.",
    )


def tornado_origin() -> None:
    inc = Incident("tornado_preview_origin", T0, service="live", seed=14)
    inc.health_checks(every=2.0)
    a = inc.test(
        "tests/e2e/test_live.py::test_live_updates", 0.7, failure=WS403, label="cors_origin"
    )
    failing(
        inc,
        a,
        "GET",
        "/live",
        403,
        [
            "[W 261124 14:02:07 live:88] check_origin: rejecting cross-origin handshake from "
            "https://pr-481.preview.staging.example.dev",
            "[W 261124 14:02:07 web:2348] 403 GET /live (169.254.1.1) 1.21ms",
        ],
        traced=False,
    )
    b = inc.test("tests/e2e/test_live.py::test_snapshot", 0.3)
    inc.passing(b, "GET", "/snapshot")
    save(
        inc,
        "gcloud",
        offset=9.0,
        stamp="naive",
        zone=1.0,
        notes="Tornado's check_origin override "
        "refuses a preview origin; untraced lines; naive UTC+1 JUnit 9 s ahead.",
    )


def connect_go_sig_and_oom() -> None:
    inc = Incident("connect_go_signature_and_oom", T0, service="rpc", seed=15)
    inc.health_checks(every=2.0)
    a = inc.test(
        "tests/e2e/test_rpc.py::test_join",
        0.5,
        failure=http_err(401, "Unauthorized", "/chat.v1.ChatService/Join"),
        label="invalid_jwt",
    )
    failing(
        inc,
        a,
        "POST",
        "/chat.v1.ChatService/Join",
        401,
        [
            {
                "time": "2026-11-24T14:02:07.6Z",
                "level": "WARN",
                "msg": "rpc refused",
                "procedure": "/chat.v1.ChatService/Join",
                "code": "unauthenticated",
                "err": "unauthenticated: verify id token: failed to verify token signature",
            },
        ],
        ua="connect-go/1.17.0 (go1.23.4)",
    )
    b = inc.test(
        "tests/e2e/test_rpc.py::test_bulk_import",
        2.0,
        failure=http_err(503, "Service Unavailable", "/chat.v1.ChatService/Import").replace(
            "Client", "Server"
        ),
        label="app_error",
    )
    t = b.at(0.9)
    inc.request(
        t,
        "POST",
        "/chat.v1.ChatService/Import",
        503,
        ua="connect-go/1.17.0 (go1.23.4)",
        latency=1.6,
        text="The request failed because either the HTTP response was malformed or connection to "
        "the instance had an error. Additional troubleshooting documentation can be found at: "
        "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error",
    )
    inc.system(
        t - timedelta(milliseconds=30),
        "Memory limit of 512 MiB exceeded with 531 MiB used. "
        "Consider increasing the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits",
    )
    inc.system(
        t - timedelta(milliseconds=10), "Container terminated on signal 9.", severity="WARNING"
    )
    save(
        inc,
        "gzip",
        offset=-9.0,
        report="reportlog",
        notes="Connect-go refuses a token with a bad "
        "signature; a bulk import kills the instance by memory (Cloud Run's 503 and system lines).",
    )


def main() -> None:
    """Rebuild every incident folder under OUT."""
    for build in (
        litestar_no_token,
        sanic_expired,
        aiohttp_origin,
        espv2_time_constraint,
        api_gateway_missing,
        koa_bypass,
        gin_firebase,
        ktor_interleaved,
        dotnet_half_export,
        micronaut_setup_and_assert,
        chi_bare_403,
        hapi_overlap,
        nextjs_two_clients_untraced,
        tornado_origin,
        connect_go_sig_and_oom,
    ):
        build()
    print("built", len(list(OUT.glob("*/expected.json"))), "incidents")


if __name__ == "__main__":
    main()
