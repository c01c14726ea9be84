"""Regenerate the cross-stack incident folders: ``python tests/data/incidents/build_incidents.py``.

Each function below writes one incident in the words of one stack (messages taken from the real
libraries: jsonwebtoken 9, express-jwt 8, express-rate-limit 7, Django 5 / DRF 3.16 / simplejwt,
PyJWT 2, Spring Security 6, golang-jwt v5, gorilla/websocket, Google front ends). The output is
deterministic; the folders are committed, so the suite needs no generation step.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.incident_builder import (  # noqa: E402
    BROWSER_UA,
    HTTPX_UA,
    RUNNER_IP,
    SCANNER_UA,
    UPTIME_UA,
    WS_UA,
    Incident,
    TestCase,
)

BUILDERS: list[Callable[[], None]] = []
OUT = (
    HERE  # where the folders go; a test points it at a temporary folder to check the committed ones
)
WS403 = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"
PHRASES = {
    401: "Unauthorized",
    403: "Forbidden",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    302: "Found",
}


def incident(fn: Callable[[], None]) -> Callable[[], None]:
    BUILDERS.append(fn)
    return fn


def ms(t: datetime, n: float) -> datetime:
    return t + timedelta(milliseconds=n)


def http_error(status: int, url: str, nodeid: str) -> tuple[str, str]:
    """pytest's failure message and text for ``response.raise_for_status()`` in httpx 0.28."""
    kind = {True: "Client error", False: "Server error"}[status < 500]
    if status in (301, 302):
        kind = "Redirect response"
    msg = f"httpx.HTTPStatusError: {kind} '{status} {PHRASES[status]}' for url '{url}'"
    test = nodeid.split("::")[0]
    text = (
        f"{test}:31: in {nodeid.split('::')[-1].split('[')[0]}\n    resp.raise_for_status()\n"
        ".venv/lib/python3.12/site-packages/httpx/_models.py:829: in raise_for_status\n"
        "    raise HTTPStatusError(message, request=request, response=self)\n"
        f"E   {msg}\n"
        f"E   For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/{status}"
    )
    return msg, text


def ws_error(nodeid: str, status: int = 403) -> tuple[str, str]:
    """pytest's failure for a websockets 15 handshake the server refused."""
    msg = (
        f"websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP {status}"
    )
    test = nodeid.split("::")[0]
    text = (
        f"{test}:22: in {nodeid.split('::')[-1]}\n    async with connect(WS_URL, additional_headers=headers) as ws:\n"
        ".venv/lib/python3.12/site-packages/websockets/asyncio/client.py:587: in __aenter__\n"
        "    return await self\n"
        ".venv/lib/python3.12/site-packages/websockets/asyncio/client.py:541: in __await_impl__\n"
        "    self.connection = await self.create_connection()\n"
        ".venv/lib/python3.12/site-packages/websockets/client.py:145: in process_response\n"
        "    raise InvalidStatus(response)\n"
        f"E   {msg}"
    )
    return msg, text


def http_test(
    inc: Incident,
    nodeid: str,
    status: int,
    path: str,
    label: str,
    *,
    host: str | None = None,
    duration: float = 0.18,
) -> TestCase:
    msg, text = http_error(status, f"https://{host or inc.run_host}{path}", nodeid)
    return inc.test(nodeid, duration, failure=msg, text=text, label=label)


def ws_test(
    inc: Incident, nodeid: str, label: str, status: int = 403, duration: float = 0.09
) -> TestCase:
    msg, text = ws_error(nodeid, status)
    return inc.test(nodeid, duration, failure=msg, text=text, label=label)


def warmup(inc: Incident, module: str, paths: list[str], access: str | None = None) -> None:
    """Passing tests first, one 200 request each: the run's ordinary traffic."""
    for i, path in enumerate(paths):
        case = inc.test(
            f"{module}::test_{path.strip('/').replace('/', '_').replace('-', '_') or 'root'}_{i}",
            0.12,
        )
        inc.passing(case, "GET", path, access=access)


def emit(
    inc: Incident,
    *,
    shape: str,
    offset_s: float,
    notes: str,
    stamp: str = "aware",
    zone: float = 0.0,
    reportlog: bool = False,
    junit: bool = True,
) -> None:
    folder = OUT / inc.name
    shutil.rmtree(folder, ignore_errors=True)
    inc.write_logs(folder, shape)
    if junit:
        inc.write_junit(folder, offset_s=offset_s, stamp=stamp, zone_hours=zone)
    if reportlog:
        inc.write_reportlog(folder, offset_s=offset_s)
    # expected.json keeps the fixtures' sense: log clock minus runner clock
    inc.write_expected(folder, offset_s=round(-offset_s, 3), notes=notes)


# ---- Django / DRF on Cloud Run ---------------------------------------------------------------------
GUNICORN = '169.254.1.1 - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "{method} {path} HTTP/1.1" {status} {size} "-" "{ua}"'


def gunicorn(
    inc: Incident, t: datetime, method: str, path: str, status: int, ua: str = HTTPX_UA
) -> None:
    inc.text(t, GUNICORN.format(t=t, method=method, path=path, status=status, size=58, ua=ua))


def django_line(t: datetime, level: str, module: str, message: str) -> str:
    return f"{level} {t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} {module} 9 139872361240384 {message}"


@incident
def django_drf_missing_credentials() -> None:
    inc = Incident(
        "django_drf_missing_credentials",
        datetime(2025, 11, 4, 14, 3, 12, 204000, UTC),
        project="ledger-staging",
        service="ledger-api",
    )
    warmup(inc, "tests/e2e/test_health.py", ["/api/health/", "/api/version/"])
    for name, path in (
        ("test_list_projects", "/api/projects/"),
        ("test_create_invoice", "/api/invoices/"),
    ):
        nodeid = f"tests/e2e/test_ledger_api.py::TestLedger::{name}"
        case = http_test(inc, nodeid, 401, path, "missing_jwt")
        t, trace = case.at(0.4), inc.trace()
        method = "GET" if "list" in name else "POST"
        inc.request(t, method, path, 401, trace=trace, latency=0.021)
        inc.json(
            ms(t, 9),
            {
                "message": f"NotAuthenticated on {method} {path}: Authentication credentials were not provided.",
                "logger": "ledger.api.exceptions",
                "status_code": 401,
            },
            trace=trace,
            severity="WARNING",
            stream="stderr",
        )
        inc.text(
            ms(t, 11),
            django_line(ms(t, 11), "WARNING", "log", f"Unauthorized: {path}"),
            stream="stderr",
        )
        gunicorn(inc, ms(t, 12), method, path, 401)
        # another user's browser is refused at the same second, for another reason
        bt = ms(t, 150)
        inc.request(
            bt,
            "GET",
            "/api/admin/audit/",
            403,
            ua=BROWSER_UA,
            ip="81.2.69.160",
            referer="https://ledger.staging.example.dev/",
        )
        with inc.other_client():
            inc.json(
                ms(bt, 7),
                {
                    "message": "PermissionDenied on GET /api/admin/audit/: You do not have permission to "
                    "perform this action.",
                    "logger": "ledger.api.exceptions",
                    "status_code": 403,
                },
                severity="WARNING",
                stream="stderr",
            )
            inc.text(
                ms(bt, 8),
                django_line(ms(bt, 8), "WARNING", "log", "Forbidden: /api/admin/audit/"),
                stream="stderr",
            )
    inc.health_checks(every=2.0, path="/api/health/", ua=UPTIME_UA)
    emit(
        inc,
        shape="gcloud",
        offset_s=3.5,
        notes=(
            "DRF API behind Cloud Run; the suite's client lost its Authorization header after a refactor, so "
            "DRF answers 401 `Authentication credentials were not provided.` (custom exception handler logs "
            "it with the trace; django.request logs `Unauthorized: /path`). A browser is refused 403 "
            "(PermissionDenied) in the same seconds from another IP. Runner clock 3.5 s ahead."
        ),
    )


@incident
def django_simplejwt_no_trace() -> None:
    inc = Incident(
        "django_simplejwt_no_trace",
        datetime(2025, 11, 6, 8, 41, 3, 901000, UTC),
        project="ledger-staging",
        service="ledger-api",
    )
    warmup(inc, "tests/e2e/test_public.py", ["/api/health/", "/api/plans/", "/api/version/"])
    for name, path in (
        ("test_me", "/api/users/me/"),
        ("test_refresh_dashboard", "/api/dashboard/"),
    ):
        nodeid = f"tests/e2e/test_session.py::{name}"
        case = http_test(inc, nodeid, 401, path, "invalid_jwt")
        t = case.at(0.3)
        inc.request(t, "GET", path, 401, latency=0.034)
        # console logging to stderr: no trace, join by time and instance only
        inc.text(
            ms(t, 21),
            django_line(ms(t, 21), "WARNING", "log", f"Unauthorized: {path}"),
            stream="stderr",
        )
        inc.text(
            ms(t, 22),
            (
                f'{{"detail":"Given token not valid for any token type","code":"token_not_valid",'
                f'"messages":[{{"token_class":"AccessToken","token_type":"access",'
                f'"message":"Token is invalid or expired"}}]}} path={path}'
            ),
            stream="stderr",
        )
        gunicorn(inc, ms(t, 23), "GET", path, 401)
    emit(
        inc,
        shape="jsonl",
        offset_s=-2.2,
        stamp="naive",
        zone=1.0,
        notes=(
            "simplejwt rejects the suite's access token (minted by a token service with another signing "
            "key): `Given token not valid for any token type` / `Token is invalid or expired`. App lines "
            "go to stderr without trace ids. JUnit timestamp is naive local time of Europe/Berlin (+01:00), "
            "and the runner clock is 2.2 s behind."
        ),
    )


@incident
def django_csrf_origin() -> None:
    inc = Incident(
        "django_csrf_origin",
        datetime(2025, 11, 7, 19, 12, 44, 10000, UTC),
        project="ledger-staging",
        service="ledger-api",
    )
    warmup(inc, "tests/e2e/test_public.py", ["/api/health/", "/api/plans/"])
    nodeid = "tests/e2e/test_forms.py::test_submit_feedback_from_preview_origin"
    case = http_test(inc, nodeid, 403, "/api/feedback/", "cors_origin")
    t, trace = case.at(0.5), inc.trace()
    inc.request(t, "POST", "/api/feedback/", 403, trace=trace, latency=0.011)
    reason = "Origin checking failed - https://pr-1841.preview.example.dev does not match any trusted origins."
    inc.text(
        ms(t, 4),
        django_line(ms(t, 4), "WARNING", "log", f"Forbidden ({reason}): /api/feedback/"),
        stream="stderr",
    )
    gunicorn(inc, ms(t, 5), "POST", "/api/feedback/", 403)
    # a scanner probes at the same moment
    inc.request(ms(t, 300), "GET", "/wp-login.php", 404, ua=SCANNER_UA, ip="45.148.10.81")
    with inc.other_client():
        inc.text(
            ms(t, 302),
            django_line(ms(t, 302), "WARNING", "log", "Not Found: /wp-login.php"),
            stream="stderr",
        )
    inc.health_checks(every=1.5, path="/api/health/", ua=UPTIME_UA)
    emit(
        inc,
        shape="pretty",
        offset_s=0.6,
        notes=(
            "Django's CSRF middleware refuses the preview origin: `Forbidden (Origin checking failed - ... "
            "does not match any trusted origins.): /api/feedback/` (logger django.security.csrf). The Origin "
            "check is the cause: cors_origin. A scanner's /wp-login.php 404 and uptime checks run meanwhile."
        ),
    )


@incident
def django_drf_throttled() -> None:
    inc = Incident(
        "django_drf_throttled",
        datetime(2025, 11, 10, 11, 0, 30, 555000, UTC),
        project="search-staging",
        service="search-api",
    )
    warmup(
        inc,
        "tests/e2e/test_search.py",
        ["/api/search/?q=a", "/api/search/?q=b", "/api/search/?q=c"],
    )
    for i in range(3):
        nodeid = f"tests/e2e/test_search.py::test_search_paginates[page{i + 2}]"
        path = f"/api/search/?q=invoice&page={i + 2}"
        case = http_test(inc, nodeid, 429, path, "rate_limited")
        t, trace = case.at(0.5), inc.trace()
        inc.request(t, "GET", path, 429, trace=trace, latency=0.006)
        inc.json(
            ms(t, 3),
            {
                "message": f"Throttled on GET /api/search/: Request was throttled. Expected available in {42 - i} seconds.",
                "logger": "search.api.exceptions",
                "throttle_scope": "anon",
                "status_code": 429,
            },
            trace=trace,
            severity="WARNING",
            stream="stderr",
        )
        inc.text(
            ms(t, 4),
            django_line(ms(t, 4), "WARNING", "log", "Too Many Requests: /api/search/"),
            stream="stderr",
        )
    emit(
        inc,
        shape="sink",
        offset_s=0.0,
        stamp="none",
        notes=(
            "DRF's AnonRateThrottle (anon scope) throttles the paginating test: 429 and `Request was "
            "throttled. Expected available in N seconds.` JUnit has no timestamp at all; export is a Cloud "
            "Storage sink tree."
        ),
    )


# ---- Express ------------------------------------------------------------------------------------
def morgan(
    inc: Incident, t: datetime, method: str, path: str, status: int, ua: str = HTTPX_UA
) -> None:
    inc.text(
        t,
        f'::ffff:169.254.1.1 - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "{method} {path} HTTP/1.1" {status} '
        f'{27 if status < 500 else 148} "-" "{ua}"',
    )


def node_stack(err: str, frames: list[str]) -> str:
    return err + "".join(f"\n    at {f}" for f in frames)


@incident
def express_jwt_expired_pino() -> None:
    inc = Incident(
        "express_jwt_expired_pino",
        datetime(2025, 11, 12, 16, 20, 5, 77000, UTC),
        project="shop-staging",
        service="orders-api",
    )
    warmup(inc, "tests/e2e/test_catalog.py", ["/api/products", "/api/categories"])
    for name, path in (
        ("test_list_orders", "/api/orders"),
        ("test_order_detail", "/api/orders/1042"),
    ):
        nodeid = f"tests/e2e/test_orders.py::{name}"
        case = http_test(inc, nodeid, 401, path, "invalid_jwt")
        t, trace = case.at(0.5), inc.trace()
        inc.request(t, "GET", path, 401, trace=trace, latency=0.009)
        err = node_stack(
            "TokenExpiredError: jwt expired",
            [
                "/app/node_modules/jsonwebtoken/verify.js:190:21",
                "getSecret (/app/node_modules/jsonwebtoken/verify.js:97:14)",
                "module.exports [as verify] (/app/node_modules/jsonwebtoken/verify.js:101:10)",
                "requireAuth (/app/src/middleware/auth.js:18:24)",
            ],
        )
        inc.json(
            ms(t, 3),
            {
                "level": 40,
                "time": int(ms(t, 3).timestamp() * 1000),
                "pid": 1,
                "hostname": "localhost",
                "req": {"id": 311, "method": "GET", "url": path},
                "err": {
                    "type": "TokenExpiredError",
                    "message": "jwt expired",
                    "stack": err,
                    "expiredAt": "2025-11-12T15:20:00.000Z",
                },
                "msg": "jwt verification failed",
            },
            trace=trace,
        )
        morgan(inc, ms(t, 4), "GET", path, 401)
    emit(
        inc,
        shape="sink",
        offset_s=-6.0,
        notes=(
            "Express orders API, pino JSON logs (numeric level, no severity key): jsonwebtoken "
            "`TokenExpiredError: jwt expired` for the suite's cached token. Runner clock 6 s behind; export "
            "is a Cloud Storage sink tree."
        ),
    )


@incident
def express_missing_token() -> None:
    inc = Incident(
        "express_missing_token",
        datetime(2025, 11, 13, 9, 30, 0, 120000, UTC),
        project="shop-staging",
        service="orders-api",
    )
    warmup(
        inc, "tests/e2e/test_catalog.py", ["/api/products", "/api/categories", "/api/products/7"]
    )
    nodeid = "tests/e2e/test_cart.py::test_add_to_cart"
    case = http_test(inc, nodeid, 401, "/api/cart/items", "missing_jwt")
    t = case.at(0.5)
    inc.request(t, "POST", "/api/cart/items", 401, latency=0.004)
    inc.text(
        ms(t, 2),
        node_stack(
            "UnauthorizedError: No authorization token was found",
            [
                "/app/node_modules/express-jwt/dist/index.js:115:39",
                "step (/app/node_modules/express-jwt/dist/index.js:33:23)",
                "Object.next (/app/node_modules/express-jwt/dist/index.js:14:53)",
            ],
        ),
        stream="stderr",
    )
    morgan(inc, ms(t, 3), "POST", "/api/cart/items", 401)
    nodeid = "tests/e2e/test_cart.py::test_checkout"
    case = http_test(inc, nodeid, 401, "/api/checkout", "missing_jwt")
    t = case.at(0.5)
    inc.request(t, "POST", "/api/checkout", 401, latency=0.005)
    inc.text(
        ms(t, 2),
        "auth: rejecting POST /api/checkout: "
        + node_stack(
            "JsonWebTokenError: jwt must be provided",
            [
                "module.exports [as verify] (/app/node_modules/jsonwebtoken/verify.js:60:17)",
                "checkoutAuth (/app/src/routes/checkout.js:12:9)",
            ],
        ),
        stream="stderr",
    )
    morgan(inc, ms(t, 3), "POST", "/api/checkout", 401)
    emit(
        inc,
        shape="jsonl",
        offset_s=1.2,
        stamp="none",
        reportlog=True,
        notes=(
            "The suite's session fixture failed to log in silently, so no token is sent: express-jwt says "
            "`UnauthorizedError: No authorization token was found`, the hand-rolled checkout check calls "
            "jsonwebtoken with an empty string: `jwt must be provided`. Both are missing_jwt. No trace on "
            "stderr; JUnit without timestamp, reportlog with per-test times 1.2 s ahead."
        ),
    )


@incident
def express_signature_malformed_cors() -> None:
    inc = Incident(
        "express_signature_malformed_cors",
        datetime(2025, 11, 14, 13, 5, 44, 300000, UTC),
        project="shop-staging",
        service="orders-api",
    )
    warmup(inc, "tests/e2e/test_catalog.py", ["/api/products"])
    cases = [
        ("test_wishlist", "/api/wishlist", "JsonWebTokenError: invalid signature", "invalid_jwt"),
        (
            "test_wishlist_share",
            "/api/wishlist/share",
            "JsonWebTokenError: jwt malformed",
            "invalid_jwt",
        ),
    ]
    for name, path, err, label in cases:
        case = http_test(inc, f"tests/e2e/test_wishlist.py::{name}", 401, path, label)
        t, trace = case.at(0.5), inc.trace()
        inc.request(t, "GET", path, 401, trace=trace, latency=0.006)
        inc.text(ms(t, 2), f"[auth] token rejected for GET {path}: {err}", stream="stderr")
        morgan(inc, ms(t, 3), "GET", path, 401)
    # cors callback error: Express's default handler answers 500 with the stack
    nodeid = "tests/e2e/test_embed.py::test_embed_widget_preflight"
    case = http_test(inc, nodeid, 500, "/api/embed/config", "cors_origin")
    t, trace = case.at(0.5), inc.trace()
    inc.request(t, "OPTIONS", "/api/embed/config", 500, trace=trace, latency=0.003)
    inc.text(
        ms(t, 1),
        node_stack(
            "Error: Not allowed by CORS",
            [
                "origin (/app/src/server.js:27:16)",
                "/app/node_modules/cors/lib/index.js:219:13",
                "optionsCallback (/app/node_modules/cors/lib/index.js:199:9)",
                "corsMiddleware (/app/node_modules/cors/lib/index.js:204:7)",
            ],
        ),
        stream="stderr",
    )
    morgan(inc, ms(t, 2), "OPTIONS", "/api/embed/config", 500)
    emit(
        inc,
        shape="gcloud",
        offset_s=4.4,
        notes=(
            "Two causes. The wishlist service verifies with a rotated secret: jsonwebtoken `invalid "
            "signature`, and a share link passes a truncated token: `jwt malformed` (both invalid_jwt). The "
            "embed test's Origin is refused by the cors origin callback `Error: Not allowed by CORS`, which "
            "Express's default error handler turns into a 500: the cause is the origin check, not an app "
            "crash. Runner 4.4 s ahead."
        ),
    )


@incident
def express_rate_limit() -> None:
    inc = Incident(
        "express_rate_limit",
        datetime(2025, 11, 15, 22, 45, 1, 0, UTC),
        project="chat-staging",
        service="chat-gateway",
    )
    warmup(
        inc,
        "tests/e2e/test_rooms.py",
        ["/api/rooms", "/api/rooms/1", "/api/rooms/2", "/api/rooms/3"],
    )
    for i in range(2):
        nodeid = f"tests/e2e/test_messages.py::test_burst_send[{i}]"
        case = http_test(inc, nodeid, 429, "/api/messages", "rate_limited")
        t, trace = case.at(0.5), inc.trace()
        inc.request(t, "POST", "/api/messages", 429, trace=trace, latency=0.002)
        inc.text(
            ms(t, 1),
            f"rate-limit: {RUNNER_IP} exceeded 20 req/60s on POST /api/messages -> 429 "
            "Too many requests, please try again later.",
            stream="stderr",
        )
        morgan(inc, ms(t, 2), "POST", "/api/messages", 429)
    inc.health_checks(every=1.0, path="/healthz")
    emit(
        inc,
        shape="gzip",
        offset_s=0.0,
        stamp="naive",
        zone=-5.0,
        notes=(
            "express-rate-limit (20 per minute per IP) refuses the burst test: 429 `Too many requests, "
            "please try again later.` logged by the limiter's handler. JUnit timestamp is naive local time of "
            "America/New_York (-05:00)."
        ),
    )


@incident
def express_typeerror_500() -> None:
    inc = Incident(
        "express_typeerror_500",
        datetime(2025, 11, 17, 10, 2, 13, 480000, UTC),
        project="shop-staging",
        service="orders-api",
    )
    warmup(inc, "tests/e2e/test_catalog.py", ["/api/products", "/api/categories"])
    nodeid = "tests/e2e/test_orders.py::test_reorder"
    case = http_test(inc, nodeid, 500, "/api/orders/1042/reorder", "app_error")
    t = case.at(0.5)
    inc.request(t, "POST", "/api/orders/1042/reorder", 500, latency=0.041)
    inc.text(
        ms(t, 37),
        node_stack(
            "TypeError: Cannot read properties of undefined (reading 'id')",
            [
                "reorder (/app/src/routes/orders.js:88:31)",
                "Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)",
                "next (/app/node_modules/express/lib/router/route.js:149:13)",
            ],
        ),
        stream="stderr",
    )
    morgan(inc, ms(t, 39), "POST", "/api/orders/1042/reorder", 500)
    # a browser hits a forbidden page at the same second
    inc.request(ms(t, 80), "GET", "/admin", 403, ua=BROWSER_UA, ip="90.84.11.23")
    with inc.other_client():
        morgan(inc, ms(t, 82), "GET", "/admin", 403, ua=BROWSER_UA)
    emit(
        inc,
        shape="jsonl",
        offset_s=2.7,
        stamp="none",
        notes=(
            "Unhandled TypeError in the reorder route: 500; the stack is a separate stderr entry without "
            "trace. JUnit without timestamp; a browser gets 403 on /admin meanwhile."
        ),
    )


@incident
def express_ws_bypass_missing() -> None:
    inc = Incident(
        "express_ws_bypass_missing",
        datetime(2025, 11, 18, 7, 55, 20, 0, UTC),
        project="chat-staging",
        service="chat-gateway",
    )
    warmup(inc, "tests/e2e/test_rooms.py", ["/api/rooms", "/api/rooms/1"])
    for name in ("test_ws_join_room", "test_ws_typing_indicator"):
        nodeid = f"tests/e2e/test_realtime.py::{name}"
        case = ws_test(inc, nodeid, "missing_bypass_header")
        t = case.at(0.4)
        inc.request(t, "GET", "/socket", 403, ua=WS_UA, latency=0.002)
        inc.text(
            ms(t, 1),
            f"[e2e-guard] blocked upgrade /socket from automated client (ua={WS_UA}): "
            "header X-E2E-Bypass-Token absent",
            stream="stderr",
        )
    emit(
        inc,
        shape="pretty",
        offset_s=-3.1,
        notes=(
            "Staging's E2E guard (an Express upgrade handler in front of `ws`) requires X-E2E-Bypass-Token "
            "on automated clients; the WebSocket helper does not send it. Handshake 403, guard line on "
            "stderr without trace. Runner 3.1 s behind."
        ),
    )


# ---- Spring Boot ----------------------------------------------------------------------------------
def spring(t: datetime, level: str, thread: str, logger: str, msg: str) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z {level:>5} 1 --- [billing] [{thread}] {logger:<40} : {msg}"


@incident
def spring_full_auth_required() -> None:
    inc = Incident(
        "spring_full_auth_required",
        datetime(2025, 11, 19, 12, 14, 9, 0, UTC),
        project="billing-staging",
        service="billing",
    )
    warmup(inc, "tests/e2e/test_actuator.py", ["/actuator/health", "/api/v1/plans"])
    for name, path in (
        ("test_invoices", "/api/v1/invoices"),
        ("test_payment_methods", "/api/v1/payment-methods"),
    ):
        nodeid = f"tests/e2e/test_billing.py::{name}"
        case = http_test(inc, nodeid, 401, path, "missing_jwt")
        t, trace = case.at(0.5), inc.trace()
        inc.request(t, "GET", path, 401, trace=trace, latency=0.015)
        inc.text(
            ms(t, 9),
            spring(
                ms(t, 9),
                "ERROR",
                "nio-8080-exec-4",
                "c.a.billing.security.AuthEntryPointJwt",
                "Unauthorized error: Full authentication is required to access this resource",
            ),
        )
    emit(
        inc,
        shape="gcloud",
        offset_s=-5.0,
        notes=(
            "Spring Boot 3 pattern logs; the suite's billing client sends no bearer token: the entry point "
            "logs `Unauthorized error: Full authentication is required to access this resource` (401). No "
            "trace in the stdout lines. Runner 5 s behind."
        ),
    )


@incident
def spring_jwt_expired_logback_json() -> None:
    inc = Incident(
        "spring_jwt_expired_logback_json",
        datetime(2025, 11, 20, 9, 41, 30, 250000, UTC),
        project="billing-staging",
        service="billing",
    )
    warmup(inc, "tests/e2e/test_actuator.py", ["/actuator/health"])
    for name, path in (
        ("test_invoice_pdf", "/api/v1/invoices/77/pdf"),
        ("test_usage", "/api/v1/usage"),
    ):
        nodeid = f"tests/e2e/test_billing.py::{name}"
        case = http_test(inc, nodeid, 401, path, "invalid_jwt")
        t, trace = case.at(0.5), inc.trace()
        inc.request(t, "GET", path, 401, trace=trace, latency=0.013)
        exc = (
            "org.springframework.security.oauth2.server.resource.InvalidBearerTokenException: An error occurred "
            "while attempting to decode the Jwt: Jwt expired at 2025-11-20T08:58:11Z"
        )
        inc.json(
            ms(t, 6),
            {
                "@timestamp": f"{ms(t, 6):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z",
                "@version": "1",
                "message": "Failed to process authentication request",
                "logger_name": "o.s.s.o.s.r.w.authentication.BearerTokenAuthenticationFilter",
                "thread_name": "http-nio-8080-exec-7",
                "level": "DEBUG",
                "level_value": 10000,
                "stack_trace": exc
                + "\n\tat org.springframework.security.oauth2.server.resource.authentication."
                "JwtAuthenticationProvider.getJwt(JwtAuthenticationProvider.java:103)\n\t...",
            },
            trace=trace,
        )
    emit(
        inc,
        shape="gzip",
        offset_s=7.5,
        notes=(
            "Spring resource server, logstash-logback JSON: BearerTokenAuthenticationFilter's `Failed to "
            "process authentication request` with the InvalidBearerTokenException `Jwt expired at ...` in "
            "stack_trace. Runner 7.5 s ahead; gzip export."
        ),
    )


@incident
def spring_cors_and_access_denied() -> None:
    inc = Incident(
        "spring_cors_and_access_denied",
        datetime(2025, 11, 21, 15, 30, 2, 640000, UTC),
        project="billing-staging",
        service="billing",
    )
    warmup(inc, "tests/e2e/test_actuator.py", ["/actuator/health", "/api/v1/plans"])
    nodeid = "tests/e2e/test_notifications.py::test_sockjs_info_from_portal"
    case = http_test(inc, nodeid, 403, "/ws/info", "cors_origin")
    t, trace = case.at(0.5), inc.trace()
    inc.request(t, "GET", "/ws/info", 403, trace=trace, latency=0.003)
    inc.text(
        ms(t, 1),
        spring(
            ms(t, 1),
            "DEBUG",
            "nio-8080-exec-2",
            "o.s.web.cors.DefaultCorsProcessor",
            "Reject: 'https://portal-e2e.example.dev' origin is not allowed",
        ),
    )
    nodeid = "tests/e2e/test_admin.py::test_list_all_tenants"
    case = http_test(inc, nodeid, 403, "/api/v1/admin/tenants", "middleware_rejection")
    t, trace = case.at(0.5), inc.trace()
    inc.request(t, "GET", "/api/v1/admin/tenants", 403, trace=trace, latency=0.018)
    inc.text(
        ms(t, 12),
        spring(
            ms(t, 12),
            "DEBUG",
            "nio-8080-exec-5",
            "o.s.s.w.a.ExceptionTranslationFilter",
            "Sending JwtAuthenticationToken [Principal=org.springframework.security.oauth2.jwt.Jwt@5c1e2f0a, "
            "Credentials=[PROTECTED], Authenticated=true, Details=WebAuthenticationDetails "
            "[RemoteIpAddress=169.254.1.1, SessionId=null], Granted Authorities=[SCOPE_billing.read]] "
            "to access denied handler since access is denied",
        ),
    )
    inc.text(
        ms(t, 13),
        "org.springframework.security.access.AccessDeniedException: Access is denied\n\tat "
        "org.springframework.security.authorization.method.AuthorizationManagerBeforeMethodInterceptor."
        "attemptAuthorization(AuthorizationManagerBeforeMethodInterceptor.java:256)",
    )
    emit(
        inc,
        shape="jsonl",
        offset_s=0.9,
        notes=(
            "Two causes. The portal origin is not in Spring's CORS configuration: DefaultCorsProcessor "
            "`Reject: '...' origin is not allowed` (403 `Invalid CORS request`), cors_origin. The admin test's "
            "token is valid but lacks the admin authority: `AccessDeniedException: Access is denied` from the "
            "security filter chain, middleware_rejection."
        ),
    )


@incident
def spring_npe_500() -> None:
    inc = Incident(
        "spring_npe_500",
        datetime(2025, 11, 22, 4, 4, 4, 404000, UTC),
        project="billing-staging",
        service="billing",
    )
    warmup(
        inc, "tests/e2e/test_actuator.py", ["/actuator/health", "/api/v1/plans", "/api/v1/usage"]
    )
    nodeid = "tests/e2e/test_billing.py::test_apply_coupon"
    case = http_test(inc, nodeid, 500, "/api/v1/coupons/apply", "app_error")
    t, trace = case.at(0.5), inc.trace()
    inc.request(t, "POST", "/api/v1/coupons/apply", 500, trace=trace, latency=0.052)
    inc.text(
        ms(t, 48),
        spring(
            ms(t, 48),
            "ERROR",
            "nio-8080-exec-9",
            "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
            "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception "
            "[Request processing failed: java.lang.NullPointerException: Cannot invoke "
            '"String.length()" because "code" is null] with root cause\n\n'
            'java.lang.NullPointerException: Cannot invoke "String.length()" because "code" is null\n'
            "\tat com.acme.billing.coupons.CouponService.apply(CouponService.java:61)\n"
            "\tat com.acme.billing.coupons.CouponController.apply(CouponController.java:33)",
        ),
        stream="stdout",
    )
    emit(
        inc,
        shape="gzip",
        offset_s=-1.8,
        stamp="naive",
        zone=0.0,
        notes=(
            "NullPointerException in CouponService: Spring answers 500 and Tomcat's dispatcherServlet logs "
            "the stack in one multi-line stdout entry without trace. Naive UTC JUnit timestamp; runner 1.8 s "
            "behind."
        ),
    )


# ---- Go -------------------------------------------------------------------------------------------
def golog(t: datetime, msg: str) -> str:
    return f"{t:%Y/%m/%d %H:%M:%S} {msg}"


@incident
def go_gorilla_origin() -> None:
    inc = Incident(
        "go_gorilla_origin",
        datetime(2025, 11, 23, 18, 0, 0, 900000, UTC),
        project="chat-staging",
        service="presence",
    )
    warmup(inc, "tests/e2e/test_presence.py", ["/v1/presence", "/v1/presence/u1"])
    for name in ("test_presence_stream", "test_presence_stream_reconnect"):
        nodeid = f"tests/e2e/test_presence.py::{name}"
        case = ws_test(inc, nodeid, "cors_origin")
        t = case.at(0.5)
        inc.request(t, "GET", "/v1/stream", 403, ua=WS_UA, latency=0.001)
        inc.text(
            ms(t, 1),
            golog(
                ms(t, 1), "upgrade: websocket: request origin not allowed by Upgrader.CheckOrigin"
            ),
            stream="stderr",
        )
    inc.health_checks(every=0.8, path="/healthz")
    emit(
        inc,
        shape="gcloud",
        offset_s=2.0,
        notes=(
            "gorilla/websocket's default CheckOrigin refuses the suite's Origin (a different host than the "
            "service's): 403 and the Go std log line `upgrade: websocket: request origin not allowed by "
            "Upgrader.CheckOrigin` on stderr without trace."
        ),
    )


@incident
def go_jwt_zap_slog() -> None:
    inc = Incident(
        "go_jwt_zap_slog",
        datetime(2025, 11, 24, 6, 30, 15, 15000, UTC),
        project="chat-staging",
        service="presence",
    )
    warmup(inc, "tests/e2e/test_presence.py", ["/v1/presence", "/healthz"])
    cases = [
        ("test_set_status", "/v1/status", "zap", "token has invalid claims: token is expired"),
        (
            "test_list_friends",
            "/v1/friends",
            "slog",
            "token signature is invalid: signature is invalid",
        ),
        (
            "test_friend_requests",
            "/v1/friends/requests",
            "slog",
            "token is malformed: token contains an invalid number of segments",
        ),
    ]
    for name, path, kind, err in cases:
        nodeid = f"tests/e2e/test_social.py::{name}"
        case = http_test(inc, nodeid, 401, path, "invalid_jwt")
        t, trace = case.at(0.5), inc.trace()
        inc.request(t, "GET", path, 401, trace=trace, latency=0.002)
        if kind == "zap":
            payload = {
                "level": "warn",
                "ts": round(ms(t, 1).timestamp(), 6),
                "caller": "auth/middleware.go:57",
                "msg": "jwt validation failed",
                "path": path,
                "error": err,
            }
        else:
            payload = {
                "time": f"{ms(t, 1):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z",
                "level": "WARN",
                "msg": "rejecting request",
                "route": path,
                "err": err,
            }
        inc.json(ms(t, 1), payload, stream="stderr", trace=trace if kind == "zap" else None)
    emit(
        inc,
        shape="sink",
        offset_s=-4.0,
        reportlog=True,
        notes=(
            "Go service with zap (status) and slog (friends) JSON lines: golang-jwt v5 `token has invalid "
            "claims: token is expired`, `token signature is invalid: signature is invalid`, `token is "
            "malformed: token contains an invalid number of segments`. slog lines carry no trace. Runner 4 s "
            "behind in both JUnit and reportlog."
        ),
    )


@incident
def go_panic_502() -> None:
    inc = Incident(
        "go_panic_502",
        datetime(2025, 11, 25, 13, 13, 13, 130000, UTC),
        project="chat-staging",
        service="presence",
    )
    warmup(inc, "tests/e2e/test_presence.py", ["/v1/presence", "/v1/presence/u1"])
    nodeid = "tests/e2e/test_presence.py::test_presence_of_unknown_user"
    case = http_test(inc, nodeid, 502, "/v1/presence/ghost", "app_error")
    t = case.at(0.5)
    inc.request(
        t,
        "GET",
        "/v1/presence/ghost",
        502,
        latency=0.004,
        text=(
            "The request failed because either the HTTP response was malformed or connection to the instance "
            "had an error. Additional troubleshooting documentation can be found at: "
            "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error"
        ),
    )
    inc.text(
        ms(t, 2),
        golog(
            ms(t, 2),
            "http: panic serving 169.254.1.1:41522: runtime error: invalid memory "
            "address or nil pointer dereference\ngoroutine 41 [running]:\n"
            "net/http.(*conn).serve.func1()\n\t/usr/local/go/src/net/http/server.go:1947 +0xbe\n"
            "panic({0x8c0e20?, 0xd1c3f0?})\n\t/usr/local/go/src/runtime/panic.go:785 +0x132\n"
            "main.(*server).presence(0xc0001a2000, {0xa0f3c8, 0xc0002b6000}, 0xc0002c4000)\n"
            "\t/app/presence.go:88 +0x1d",
        ),
        stream="stderr",
    )
    emit(
        inc,
        shape="jsonl",
        offset_s=0.3,
        stamp="none",
        notes=(
            "A nil map lookup panics in the presence handler; net/http recovers and drops the connection, "
            "Cloud Run answers 502 (`malformed or connection to the instance had an error`). The panic is a "
            "stderr entry without trace."
        ),
    )


# ---- custom redacting logger ----------------------------------------------------------------------
@incident
def redacting_logger_aud() -> None:
    inc = Incident(
        "redacting_logger_aud",
        datetime(2025, 11, 3, 10, 10, 10, 0, UTC),
        project="notes-staging",
        service="notes",
    )
    warmup(inc, "tests/e2e/test_notes.py", ["/notes/health", "/notes/public"])
    for name in ("test_ws_sync", "test_ws_sync_two_devices"):
        nodeid = f"tests/e2e/test_sync.py::{name}"
        case = ws_test(inc, nodeid, "invalid_jwt")
        t = case.at(0.5)
        inc.request(t, "GET", "/sync", 403, ua=WS_UA, latency=0.003)
        inc.text(
            ms(t, 1),
            "auth failed JWT=REDACTED reason=aud mismatch expected=notes-api got=notes-web "
            "peer=169.254.1.1 path=/sync",
        )
        # a browser fails at the same second with another reason: not the runner
        inc.request(ms(t, 40), "GET", "/sync", 403, ua=BROWSER_UA, ip="203.0.113.77")
        with inc.other_client():
            inc.text(
                ms(t, 41), "auth failed JWT=REDACTED reason=expired peer=169.254.1.1 path=/sync"
            )
    emit(
        inc,
        shape="pretty",
        offset_s=-0.7,
        notes=(
            "A custom logger that redacts tokens: `auth failed JWT=REDACTED reason=aud mismatch` (the suite "
            "mints tokens for the web audience). No trace ids; a browser with an expired token fails 403 on the "
            "same path in the same seconds: its line must not decide the runner's failures (same label anyway, "
            "but evidence should be the runner's)."
        ),
    )


# ---- Google front ends ----------------------------------------------------------------------------
IAM_TEXT = (
    "The request was not authenticated. Either allow unauthenticated invocations or set the proper "
    "Authorization header. Read more at https://cloud.google.com/run/docs/securing/authenticating "
    "Additional troubleshooting documentation can be found at: "
    "https://cloud.google.com/run/docs/troubleshooting#unauthorized-client"
)
IAM_TEXT_AUTHZ = (
    "The request was not authorized to invoke this service. Read more at "
    "https://cloud.google.com/run/docs/securing/authenticating Additional troubleshooting "
    "documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#unauthorized-client"
)


@incident
def cloud_run_iam() -> None:
    inc = Incident(
        "cloud_run_iam",
        datetime(2025, 11, 5, 17, 45, 0, 500000, UTC),
        project="reports-staging",
        service="reports",
    )
    warmup(inc, "tests/e2e/test_reports.py", ["/reports/health"])
    nodeid = "tests/e2e/test_reports.py::test_generate_monthly"
    case = http_test(inc, nodeid, 403, "/reports/monthly", "iam_denied")
    inc.request(
        case.at(0.5), "POST", "/reports/monthly", 403, latency=0.0, text=IAM_TEXT_AUTHZ, app=False
    )
    nodeid = "tests/e2e/test_reports.py::test_ws_report_progress"
    case = ws_test(inc, nodeid, "iam_denied")
    inc.request(
        case.at(0.5),
        "GET",
        "/reports/progress",
        403,
        ua=WS_UA,
        latency=0.0,
        text=IAM_TEXT,
        app=False,
    )
    # the browser preflight of another user is refused the same way, in the same second
    inc.request(
        ms(case.at(0.5), 200),
        "OPTIONS",
        "/reports/monthly",
        403,
        ua=BROWSER_UA,
        ip="198.51.100.20",
        latency=0.0,
        text=IAM_TEXT,
        app=False,
        referer="http://localhost:5173/",
    )
    emit(
        inc,
        shape="gcloud",
        offset_s=2.6,
        notes=(
            "The reports service was redeployed without allUsers invoker; the suite's service account lost "
            "roles/run.invoker: POST gets `not authorized to invoke this service`, the WebSocket handshake "
            "(no identity token) `not authenticated`. Request log only, no app log."
        ),
    )


@incident
def iap_lb_denied() -> None:
    inc = Incident(
        "iap_lb_denied",
        datetime(2025, 11, 8, 20, 20, 20, 200000, UTC),
        project="portal-staging",
        service="portal",
        host="portal.staging.example.dev",
    )
    warmup_case = inc.test("tests/e2e/test_portal.py::test_static_assets", 0.1)
    inc.lb(warmup_case.at(0.5), "GET", "/static/app.js", 200, "response_sent_by_backend")
    nodeid = "tests/e2e/test_portal.py::test_status_page"
    case = http_test(inc, nodeid, 302, "/api/status", "iap_denied", host=inc.host)
    case.failure = case.failure.replace("'302 Found'", "'302 Found'")
    case.text += "\nE   Redirect location: 'https://accounts.google.com/o/oauth2/v2/auth?client_id=418205519672-iap.apps.googleusercontent.com'"
    inc.lb(case.at(0.5), "GET", "/api/status", 302, "handled_by_identity_aware_proxy")
    for name, path in (
        ("test_admin_api", "/api/admin/users"),
        ("test_reports_api", "/api/reports"),
    ):
        nodeid = f"tests/e2e/test_portal.py::{name}"
        case = http_test(inc, nodeid, 403, path, "iap_denied", host=inc.host)
        t = case.at(0.5)
        inc.lb(t, "GET", path, 403, "handled_by_identity_aware_proxy")
        inc.iap_audit(
            ms(t, 2),
            path,
            granted=False,
            principal="e2e-runner@portal-staging.iam.gserviceaccount.com",
        )
    emit(
        inc,
        shape="jsonl",
        offset_s=-2.5,
        stamp="naive",
        zone=-8.0,
        notes=(
            "The portal is behind an external ALB with IAP. The runner's service account has a valid OIDC "
            "token but no IAP access: 403 with IAP audit `granted: false`; a request without credentials is "
            "redirected 302 to Google sign-in (statusDetails handled_by_identity_aware_proxy). Naive "
            "America/Los_Angeles JUnit timestamp; runner 2.5 s behind."
        ),
    )


@incident
def cloud_armor_deny_and_ban() -> None:
    inc = Incident(
        "cloud_armor_deny_and_ban",
        datetime(2025, 11, 9, 3, 33, 3, 303000, UTC),
        project="chat-staging",
        service="chat",
        host="chat.staging.example.dev",
    )
    for i in range(2):
        case = inc.test(f"tests/e2e/test_chat.py::test_rooms_{i}", 0.1)
        inc.lb(
            case.at(0.5),
            "GET",
            f"/api/rooms/{i}",
            200,
            "response_sent_by_backend",
            policy={
                "name": "chat-edge-policy",
                "priority": 2147483647,
                "configuredAction": "ALLOW",
                "outcome": "ACCEPT",
            },
        )
    nodeid = "tests/e2e/test_chat.py::test_message_with_markup"
    case = http_test(inc, nodeid, 403, "/api/messages", "cloud_armor_denied", host=inc.host)
    t = case.at(0.5)
    inc.lb(
        t,
        "POST",
        "/api/messages",
        403,
        "denied_by_security_policy",
        policy={
            "name": "chat-edge-policy",
            "priority": 1000,
            "configuredAction": "DENY",
            "outcome": "DENY",
            "preconfiguredExprIds": ["owasp-crs-v030301-id941100-xss"],
        },
    )
    # a scanner is denied by the same policy in the same second
    inc.lb(
        ms(t, 120),
        "GET",
        "/wp-login.php",
        403,
        "denied_by_security_policy",
        ua=SCANNER_UA,
        ip="45.148.10.81",
        policy={
            "name": "chat-edge-policy",
            "priority": 900,
            "configuredAction": "DENY",
            "outcome": "DENY",
        },
    )
    for i in range(3):
        nodeid = f"tests/e2e/test_chat.py::test_history_scrollback[{i}]"
        case = http_test(
            inc, nodeid, 429, f"/api/messages?before={1000 - i * 50}", "rate_limited", host=inc.host
        )
        inc.lb(
            case.at(0.5),
            "GET",
            f"/api/messages?before={1000 - i * 50}",
            429,
            "denied_by_security_policy",
            policy={
                "name": "chat-edge-policy",
                "priority": 800,
                "configuredAction": "RATE_BASED_BAN",
                "outcome": "DENY",
                "rateLimitAction": {"key": RUNNER_IP, "outcome": "BAN_THRESHOLD_EXCEED"},
            },
        )
    emit(
        inc,
        shape="gcloud",
        offset_s=5.2,
        notes=(
            "Two edge causes. Cloud Armor's preconfigured XSS rule (priority 1000) denies the message with "
            "markup: 403 denied_by_security_policy, cloud_armor_denied. A rate_based_ban rule (priority 800) "
            "bans the runner's IP during scrollback: 429, rate_limited. A scanner is denied at the same "
            "moment. Runner 5.2 s ahead."
        ),
    )


@incident
def lb_backend_down() -> None:
    inc = Incident(
        "lb_backend_down",
        datetime(2025, 11, 11, 23, 50, 0, 0, UTC),
        project="shop-staging",
        service="orders-api",
        host="shop.staging.example.dev",
    )
    boot = inc.start - timedelta(seconds=4)
    inc.text(
        boot,
        node_stack(
            "Error: connect ECONNREFUSED 10.20.0.3:5432",
            ["TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)"],
        ),
        stream="stderr",
    )
    inc.system(ms(boot, 30), "Container called exit(1).", severity="WARNING")
    inc.system(
        ms(boot, 40),
        'Default STARTUP TCP probe failed 1 time consecutively for container "orders-api-1" '
        "on port 8080. The instance was not started.",
        severity="ERROR",
    )
    for name, path in (("test_products", "/api/products"), ("test_orders", "/api/orders")):
        case = http_test(
            inc, f"tests/e2e/test_shop.py::{name}", 503, path, "app_error", host=inc.host
        )
        inc.lb(case.at(0.5), "GET", path, 503, "failed_to_pick_backend")
    emit(
        inc,
        shape="jsonl",
        offset_s=0.0,
        notes=(
            "The new revision cannot reach its database and exits at startup (`connect ECONNREFUSED`, "
            "`Container called exit(1).`); the load balancer has no backend to pick: 503 "
            "failed_to_pick_backend for every call. The app failed: app_error."
        ),
    )


# ---- unknowns -------------------------------------------------------------------------------------
@incident
def window_miss_express() -> None:
    inc = Incident(
        "window_miss_express",
        datetime(2025, 11, 16, 14, 0, 0, 0, UTC),
        project="shop-staging",
        service="orders-api",
    )
    # the export holds an hour before the run: startup and someone else's traffic
    early = inc.start - timedelta(hours=1, minutes=5)
    inc.text(early, "orders-api listening on :8080")
    inc.request(ms(early, 5000), "GET", "/api/orders", 401, ua=BROWSER_UA, ip="81.2.69.160")
    with inc.other_client():
        inc.text(
            ms(early, 5002),
            "[auth] token rejected for GET /api/orders: JsonWebTokenError: invalid signature",
            stream="stderr",
        )
    before = list(inc.entries)
    warmup(inc, "tests/e2e/test_catalog.py", ["/api/products"])
    case = http_test(
        inc, "tests/e2e/test_orders.py::test_list_orders", 401, "/api/orders", "unknown"
    )
    inc.request(case.at(0.5), "GET", "/api/orders", 401)
    inc.entries = before
    emit(
        inc,
        shape="gcloud",
        offset_s=0.0,
        notes=(
            "The export was taken for the wrong hour: it ends an hour before the run. A browser's 401 with "
            "`invalid signature` is in it, but nothing from the runner: unknown."
        ),
    )


@incident
def uvicorn_bare_ws_and_assertion() -> None:
    inc = Incident(
        "uvicorn_bare_ws_and_assertion",
        datetime(2025, 11, 26, 9, 9, 9, 90000, UTC),
        project="chat-staging",
        service="chat-backend",
    )
    warmup(
        inc,
        "tests/e2e/test_api.py",
        ["/api/threads", "/api/threads/1"],
        access='INFO:     169.254.1.1:0 - "{method} {path} HTTP/1.1" {status} OK',
    )
    nodeid = "tests/e2e/test_ws.py::test_ws_subscribe"
    case = ws_test(inc, nodeid, "unknown")
    t = case.at(0.5)
    inc.request(t, "GET", "/ws", 403, ua=WS_UA, latency=0.002)
    inc.text(ms(t, 1), 'INFO:     169.254.1.1:0 - "WebSocket /ws" 403', stream="stderr")
    inc.text(ms(t, 1.2), "INFO:     connection rejected (403 Forbidden)", stream="stderr")
    inc.text(ms(t, 1.3), "INFO:     connection closed", stream="stderr")
    nodeid = "tests/e2e/test_api.py::test_thread_count"
    case = inc.test(
        nodeid,
        0.15,
        failure="AssertionError: assert 3 == 4",
        label="unknown",
        text=(
            'tests/e2e/test_api.py:41: in test_thread_count\n    assert len(resp.json()["threads"]) == 4\n'
            "E   AssertionError: assert 3 == 4\nE    +  where 3 = len([{...}, {...}, {...}])"
        ),
    )
    inc.passing(
        case,
        "GET",
        "/api/threads",
        access='INFO:     169.254.1.1:0 - "{method} {path} HTTP/1.1" {status} OK',
    )
    # a browser is refused on /ws at the same moment
    inc.request(ms(t, 30), "GET", "/ws", 403, ua=BROWSER_UA, ip="203.0.113.9")
    emit(
        inc,
        shape="jsonl",
        offset_s=3.0,
        notes=(
            "The WebSocket failure's only evidence is uvicorn's bare `\"WebSocket /ws\" 403` / `connection "
            "rejected (403 Forbidden)`: no app line says why the app closed before accept, so unknown. The "
            "thread-count failure is a plain assertion on a 200 response: unknown (nothing in the logs failed)."
        ),
    )


# ---- harder mixes ---------------------------------------------------------------------------------
@incident
def express_two_instances_no_trace() -> None:
    inc = Incident(
        "express_two_instances_no_trace",
        datetime(2025, 11, 27, 11, 11, 11, 110000, UTC),
        project="shop-staging",
        service="orders-api",
    )
    other = inc.hex(96)
    warmup(
        inc, "tests/e2e/test_catalog.py", ["/api/products", "/api/products/3", "/api/categories"]
    )
    plan = [
        (
            "test_cart_total",
            "/api/cart",
            "missing_jwt",
            "UnauthorizedError: No authorization token was found",
        ),
        ("test_cart_badge", "/api/cart/count", "invalid_jwt", "TokenExpiredError: jwt expired"),
    ]
    for name, path, label, err in plan:
        case = http_test(inc, f"tests/e2e/test_cart.py::{name}", 401, path, label, duration=0.06)
        t = case.at(0.5)
        inc.request(t, "GET", path, 401, latency=0.003)
        inc.text(ms(t, 2), f"auth middleware: {err}", stream="stderr")
        morgan(inc, ms(t, 2.5), "GET", path, 401)
        # a browser on the other instance fails on the same path at the same millisecond, for the other reason
        mine = inc.instance
        inc.instance = other
        inc.request(ms(t, 0.4), "GET", path, 401, ua=BROWSER_UA, ip="81.2.69.160", latency=0.003)
        theirs = plan[1][3] if label == "missing_jwt" else plan[0][3]
        with inc.other_client():
            inc.text(ms(t, 2.2), f"auth middleware: {theirs}", stream="stderr")
            morgan(inc, ms(t, 2.7), "GET", path, 401, ua=BROWSER_UA)
        inc.instance = mine
    emit(
        inc,
        shape="jsonl",
        offset_s=6.5,
        stamp="none",
        notes=(
            "Two back-to-back 60 ms tests fail 401 for different reasons (no token; expired token), with no "
            "trace ids anywhere in the app lines. A browser on a second instance fails on the same paths "
            "within a millisecond with the opposite reason each time: only the instance id (and the morgan "
            "line's user agent) tells the runner's line apart. JUnit has no timestamp."
        ),
    )


@incident
def spring_bypass_export_cut() -> None:
    inc = Incident(
        "spring_bypass_export_cut",
        datetime(2025, 11, 28, 8, 0, 5, 0, UTC),
        project="billing-staging",
        service="billing",
    )
    warmup(inc, "tests/e2e/test_actuator.py", ["/actuator/health", "/api/v1/plans"])
    case = ws_test(inc, "tests/e2e/test_live_usage.py::test_usage_stream", "missing_bypass_header")
    t, trace = case.at(0.5), inc.trace()
    inc.request(t, "GET", "/ws/usage", 403, ua=WS_UA, trace=trace, latency=0.002)
    inc.text(
        ms(t, 1),
        spring(
            ms(t, 1),
            " WARN",
            "nio-8080-exec-1",
            "c.a.billing.e2e.E2eBypassFilter",
            "Rejected automated client: X-E2E-Bypass-Key present but does not match the "
            "configured key (key id e2e-2025-10)",
        ),
        trace=trace,
    )
    # the resume test waits 3 s before reconnecting (inside the test: JUnit times have no gaps)
    case = ws_test(
        inc, "tests/e2e/test_live_usage.py::test_usage_stream_resume", "unknown", duration=3.2
    )
    t = case.at(0.97)
    inc.request(t, "GET", "/ws/usage", 403, ua=WS_UA, latency=0.002)
    inc.text(
        ms(t, 1),
        spring(
            ms(t, 1),
            " WARN",
            "nio-8080-exec-3",
            "c.a.billing.e2e.E2eBypassFilter",
            "Rejected automated client: X-E2E-Bypass-Key present but does not match the configured key",
        ),
    )
    # the export was cut 2 s before the second handshake: everything after is missing
    end = t - timedelta(seconds=2)
    # uptime checks every second show the export covers the first failure's window and more
    inc.health_checks(every=1.0, path="/actuator/health", ua=UPTIME_UA)
    inc.entries = [e for e in inc.entries if e["timestamp"] <= f"{end:%Y-%m-%dT%H:%M:%S.%f}Z"]
    emit(
        inc,
        shape="gcloud",
        offset_s=-1.4,
        notes=(
            "Spring's E2E bypass filter rejects the rotated key (`X-E2E-Bypass-Key present but does not "
            "match`): missing_bypass_header. The export was pulled with an end time 2 s before the second "
            "handshake (uptime checks show it covers the first failure's window and a second more), so "
            "the second failure has no entries: unknown (the export ends inside its 3.2 s window)."
        ),
    )


@incident
def django_500_behind_lb_reportlog() -> None:
    inc = Incident(
        "django_500_behind_lb_reportlog",
        datetime(2025, 11, 29, 16, 16, 16, 160000, UTC),
        project="ledger-staging",
        service="ledger-api",
        host="ledger.staging.example.dev",
    )
    for i, path in enumerate(["/api/health/", "/api/plans/"]):
        case = inc.test(f"tests/e2e/test_public.py::test_public_{i}", 0.1)
        tr = inc.trace()
        inc.lb(case.at(0.5), "GET", path, 200, "response_sent_by_backend", trace=tr)
        inc.request(ms(case.at(0.5), 2), "GET", path, 200, trace=tr)
    case = http_test(
        inc,
        "tests/e2e/test_ledger_api.py::test_export_csv",
        500,
        "/api/exports/csv/",
        "app_error",
        host=inc.host,
    )
    t, tr = case.at(0.5), inc.trace()
    inc.lb(t, "GET", "/api/exports/csv/", 500, "response_sent_by_backend", trace=tr, latency=0.2)
    inc.request(ms(t, 3), "GET", "/api/exports/csv/", 500, trace=tr, latency=0.19)
    inc.text(
        ms(t, 150),
        django_line(ms(t, 150), "ERROR", "log", "Internal Server Error: /api/exports/csv/"),
        stream="stderr",
    )
    inc.text(
        ms(t, 151),
        'Traceback (most recent call last):\n  File "/app/ledger/exports.py", line 57, in export_csv\n'
        "    writer.writerow(row.as_tuple())\nAttributeError: 'NoneType' object has no attribute 'as_tuple'",
        stream="stderr",
    )
    gunicorn(inc, ms(t, 152), "GET", "/api/exports/csv/", 500)
    for i in range(2):
        case = http_test(
            inc,
            f"tests/e2e/test_login.py::test_login_retry[{i}]",
            429,
            "/api/login/",
            "rate_limited",
            host=inc.host,
        )
        t, tr = case.at(0.5), inc.trace()
        inc.lb(t, "POST", "/api/login/", 429, "response_sent_by_backend", trace=tr)
        inc.request(ms(t, 2), "POST", "/api/login/", 429, trace=tr)
        inc.json(
            ms(t, 6),
            {
                "message": f"ratelimited: group=accounts.views.login key=ip:{RUNNER_IP} rate=5/m",
                "logger": "accounts.ratelimit",
            },
            severity="WARNING",
            trace=tr,
        )
        inc.text(
            ms(t, 7),
            django_line(ms(t, 7), "WARNING", "log", "Too Many Requests: /api/login/"),
            stream="stderr",
        )
    emit(
        inc,
        shape="gzip",
        offset_s=8.0,
        junit=False,
        reportlog=True,
        notes=(
            "Django behind an external ALB (LB and Cloud Run entries share the trace). CSV export raises "
            "AttributeError: `Internal Server Error: /api/exports/csv/` and the traceback are separate stderr "
            "entries without trace. django-ratelimit (RATELIMIT_VIEW answering 429) limits the login "
            "retries. Only a reportlog, its clock 8 s ahead."
        ),
    )


@incident
def edge_policy_go_policy_bare_401() -> None:
    inc = Incident(
        "edge_policy_go_policy_bare_401",
        datetime(2025, 11, 30, 21, 21, 21, 210000, UTC),
        project="chat-staging",
        service="presence",
        host="presence.staging.example.dev",
    )
    for i in range(2):
        case = inc.test(f"tests/e2e/test_presence.py::test_presence_{i}", 0.1)
        tr = inc.trace()
        inc.lb(case.at(0.5), "GET", f"/v1/presence/u{i}", 200, "response_sent_by_backend", trace=tr)
        inc.request(ms(case.at(0.5), 2), "GET", f"/v1/presence/u{i}", 200, trace=tr)
    case = http_test(
        inc,
        "tests/e2e/test_geo.py::test_presence_from_blocked_region",
        403,
        "/v1/presence",
        "cloud_armor_denied",
        host=inc.host,
    )
    inc.lb(
        case.at(0.5),
        "GET",
        "/v1/presence",
        403,
        "denied_by_security_policy",
        extra={
            "enforcedEdgeSecurityPolicy": {
                "name": "presence-edge-geo",
                "priority": 100,
                "configuredAction": "DENY",
                "outcome": "DENY",
            }
        },
    )
    case = http_test(
        inc,
        "tests/e2e/test_orgs.py::test_join_foreign_org",
        403,
        "/v1/orgs/42/members",
        "middleware_rejection",
        host=inc.host,
    )
    t, tr = case.at(0.5), inc.trace()
    inc.lb(t, "POST", "/v1/orgs/42/members", 403, "response_sent_by_backend", trace=tr)
    inc.request(ms(t, 2), "POST", "/v1/orgs/42/members", 403, trace=tr)
    inc.json(
        ms(t, 3),
        {
            "time": f"{ms(t, 3):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z",
            "level": "WARN",
            "msg": "authz middleware denied request",
            "policy": "org-membership",
            "reason": "subject is not a member of org 42",
            "route": "/v1/orgs/{id}/members",
        },
        stream="stderr",
        trace=tr,
    )
    case = http_test(
        inc,
        "tests/e2e/test_orgs.py::test_org_settings",
        401,
        "/v1/orgs/42/settings",
        "unknown",
        host=inc.host,
    )
    t, tr = case.at(0.5), inc.trace()
    inc.lb(t, "GET", "/v1/orgs/42/settings", 401, "response_sent_by_backend", trace=tr)
    inc.request(ms(t, 2), "GET", "/v1/orgs/42/settings", 401, trace=tr)
    emit(
        inc,
        shape="sink",
        offset_s=-7.0,
        stamp="naive",
        zone=5.5,
        notes=(
            "Three different outcomes. A Cloud Armor edge policy (enforcedEdgeSecurityPolicy, geo rule) "
            "denies the region test: cloud_armor_denied. Go's authz middleware (slog) refuses a foreign org: "
            "middleware_rejection. The settings call gets 401 with no app line at all: unknown (nothing says "
            "why). Naive JUnit timestamp in Asia/Kolkata (+05:30), runner 7 s behind."
        ),
    )


@incident
def starlette_pyjwt_ws() -> None:
    inc = Incident(
        "starlette_pyjwt_ws",
        datetime(2025, 12, 1, 2, 2, 2, 20000, UTC),
        project="chat-staging",
        service="chat-edge",
    )
    warmup(inc, "tests/e2e/test_http.py", ["/api/health", "/api/me", "/api/rooms"])
    msg = (
        "websockets.exceptions.ConnectionClosedError: received 1008 (policy violation) token expired; "
        "then sent 1008 (policy violation) token expired"
    )
    case = inc.test(
        "tests/e2e/test_ws.py::test_ws_stays_open",
        0.25,
        failure=msg,
        label="invalid_jwt",
        text="tests/e2e/test_ws.py:40: in test_ws_stays_open\n    await ws.recv()\nE   " + msg,
    )
    t = case.at(0.2)
    inc.request(t, "GET", "/ws", 101, ua=WS_UA, latency=0.09, severity="INFO")
    inc.json(
        ms(t, 60),
        {
            "event": "ws auth failed, closing 1008",
            "error": "Signature has expired",
            "logger": "chat_edge.ws",
            "level": "warning",
            "timestamp": f"{ms(t, 60):%Y-%m-%dT%H:%M:%S.%f}Z",
        },
        stream="stderr",
    )
    case = http_test(
        inc, "tests/e2e/test_http.py::test_room_invite", 401, "/api/rooms/9/invite", "invalid_jwt"
    )
    t = case.at(0.5)
    inc.request(t, "POST", "/api/rooms/9/invite", 401, latency=0.004)
    inc.json(
        ms(t, 2),
        {
            "event": "JWT rejected",
            "error": "Audience doesn't match",
            "aud_expected": "chat-edge",
            "logger": "chat_edge.auth",
            "level": "warning",
            "timestamp": f"{ms(t, 2):%Y-%m-%dT%H:%M:%S.%f}Z",
        },
        stream="stderr",
    )
    inc.text(
        ms(t, 3),
        'INFO:     169.254.1.1:0 - "POST /api/rooms/9/invite HTTP/1.1" 401 Unauthorized',
        stream="stderr",
    )
    case = ws_test(inc, "tests/e2e/test_ws.py::test_ws_from_admin_console", "cors_origin")
    t = case.at(0.5)
    inc.request(t, "GET", "/ws", 403, ua=WS_UA, latency=0.002)
    inc.json(
        ms(t, 1),
        {
            "event": "websocket origin rejected before accept",
            "origin": "https://admin-console.example.dev",
            "allowed": ["https://chat.staging.example.dev"],
            "logger": "chat_edge.ws",
            "level": "warning",
            "timestamp": f"{ms(t, 1):%Y-%m-%dT%H:%M:%S.%f}Z",
        },
        stream="stderr",
    )
    inc.text(ms(t, 1.5), 'INFO:     169.254.1.1:0 - "WebSocket /ws" 403', stream="stderr")
    inc.text(ms(t, 1.6), "INFO:     connection rejected (403 Forbidden)", stream="stderr")
    inc.health_checks(every=1.0, path="/api/health")
    emit(
        inc,
        shape="gcloud",
        offset_s=8.0,
        stamp="naive",
        zone=9.0,
        notes=(
            "Plain Starlette with structlog JSON (no severity, no trace) and PyJWT: an accepted WebSocket is "
            "closed 1008 after `Signature has expired` (the handshake itself is 101), an HTTP call is refused "
            "with `Audience doesn't match`, and an admin-console Origin is refused before accept (403). "
            "Runner 8 s ahead; naive JUnit timestamp in Asia/Tokyo (+09:00)."
        ),
    )


@incident
def gunicorn_worker_timeout() -> None:
    inc = Incident(
        "gunicorn_worker_timeout",
        datetime(2025, 12, 2, 10, 0, 0, 500000, UTC),
        project="ledger-staging",
        service="ledger-api",
    )
    warmup(inc, "tests/e2e/test_public.py", ["/api/health/", "/api/plans/"])
    nodeid = "tests/e2e/test_reports.py::test_annual_report"
    case = http_test(inc, nodeid, 502, "/api/reports/annual/", "app_error", duration=30.3)
    t = case.at(0.003)
    inc.request(
        t,
        "GET",
        "/api/reports/annual/",
        502,
        latency=30.01,
        text=(
            "The request failed because either the HTTP response was malformed or connection to the instance "
            "had an error. Additional troubleshooting documentation can be found at: "
            "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error"
        ),
    )
    end = t + timedelta(seconds=30)
    inc.text(
        end,
        f"[{end:%Y-%m-%d %H:%M:%S} +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:8)",
        stream="stderr",
    )
    inc.text(
        ms(end, 4),
        f"[{end:%Y-%m-%d %H:%M:%S} +0000] [8] [ERROR] Error handling request /api/reports/annual/",
        stream="stderr",
    )
    inc.text(
        ms(end, 60),
        f"[{end:%Y-%m-%d %H:%M:%S} +0000] [1] [ERROR] Worker (pid:8) was sent SIGKILL! Perhaps out of memory?",
        stream="stderr",
    )
    inc.text(
        ms(end, 90),
        f"[{end:%Y-%m-%d %H:%M:%S} +0000] [41] [INFO] Booting worker with pid: 41",
        stream="stderr",
    )
    inc.health_checks(every=5.0, path="/api/health/", ua=UPTIME_UA)
    emit(
        inc,
        shape="pretty",
        offset_s=-2.0,
        stamp="none",
        notes=(
            "The annual report query runs past gunicorn's 30 s worker timeout: `WORKER TIMEOUT (pid:8)`, the "
            "worker is killed, Cloud Run answers 502 with latency 30 s. The request entry's timestamp is the "
            "start of the call, the gunicorn lines come 30 s later. JUnit without timestamp."
        ),
    )


def main() -> None:
    for build in BUILDERS:
        build()
    print(f"wrote {len(BUILDERS)} incidents under {OUT}")


if __name__ == "__main__":
    main()
