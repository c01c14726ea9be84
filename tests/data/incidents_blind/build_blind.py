"""Regenerate the blind incident folders: ``python tests/data/incidents_blind/build_blind.py``.

A second evaluation corpus, written without reading the engine's rules, classifiers or
correlation code, to measure how triage generalizes to stacks and wordings it was not tuned on:
Flask + flask-jwt-extended, ASP.NET Core, Rails, NestJS, Fastify/pino, Phoenix, Quarkus
(SmallRye JWT / jose4j), Laravel, Echo, Fiber, Envoy and nginx sidecars, and Google front ends
(Cloud Run IAM, IAP, Cloud Armor WAF and throttle). Each incident mixes in real messiness: runner
clocks off by seconds, naive JUnit stamps, reportlog-only runs, app lines without trace ids,
several instances interleaving, other clients failing at the same moment, exports that miss the
window, several causes in one run. Where the logs do not decide, the expected label is ``unknown``.
The output is deterministic; the folders are committed.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
OUT = HERE
WS403 = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"
HTTPX_STATUS = (
    "httpx.HTTPStatusError: Client error '{code} {phrase}' for url 'https://{host}{path}'"
)
FAKE_JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJlMmUtcnVubmVyIn0.bm90LWEtcmVhbC1zaWduYXR1cmU"
PHRASES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 422: "Unprocessable Entity",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}


def builder(fn: Callable[[], None]) -> Callable[[], None]:
    BUILDERS.append(fn)
    return fn


def T(hh: int, mm: int, ss: float = 0.0) -> datetime:
    return datetime(2026, 11, 26, hh, mm, tzinfo=UTC) + timedelta(seconds=ss)


def http_fail(inc: Incident, code: int, path: str, host: str | None = None) -> str:
    word = "Server" if code >= 500 else "Client"
    return HTTPX_STATUS.format(code=code, phrase=PHRASES[code], host=host or inc.run_host,
                               path=path).replace("Client", word)


def ms(t: datetime, n: float) -> datetime:
    return t + timedelta(milliseconds=n)


def finish(
    inc: Incident,
    *,
    shape: str,
    report: str = "junit",
    offset: float = 0.0,
    stamp: str = "aware",
    zone: float = 0.0,
    notes: str,
    entries: list[dict[str, Any]] | None = None,
    extra: tuple[str, list[dict[str, Any]]] | None = None,
) -> None:
    """Write reports, export and expected.json; ``offset`` is the runner clock minus the log clock."""
    folder = OUT / inc.name
    if folder.exists():
        shutil.rmtree(folder)
    if report in ("junit", "both"):
        inc.write_junit(folder, offset_s=offset, stamp=stamp, zone_hours=zone)
    if report in ("reportlog", "both"):
        inc.write_reportlog(folder, offset_s=offset)
    inc.write_logs(folder, shape, entries)
    if extra:  # a second, overlapping export of the same project in another shape
        inc.write_logs(folder, extra[0], extra[1])
    inc.write_expected(folder, offset_s=-offset, notes=notes)


def flask_access(t: datetime, method: str, path: str, status: int, ua: str = HTTPX_UA) -> str:
    """gunicorn's default access line (``%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"``)."""
    return (f'{RUNNER_IP} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "{method} {path} HTTP/1.1" '
            f'{status} 31 "-" "{ua}"')


# ------------------------------------------------------------------------------------------------
@builder
def flask_jwt_extended_two_causes() -> None:
    inc = Incident("flask_jwt_extended_two_causes", T(9, 4, 12.5), service="ledger")
    ok = inc.test("tests/e2e/test_ledger.py::test_list_accounts", 0.4)
    inc.passing(ok, "GET", "/api/accounts")
    exp = inc.test("tests/e2e/test_ledger.py::test_post_entry", 0.3,
                   failure=http_fail(inc, 401, "/api/entries"), label="invalid_jwt")
    miss = inc.test("tests/e2e/test_ledger.py::test_export_csv", 0.3,
                    failure=http_fail(inc, 401, "/api/export.csv"), label="missing_jwt")
    for case, path, method, msg in ((exp, "/api/entries", "POST", "Token has expired"),
                                    (miss, "/api/export.csv", "GET", "Missing Authorization Header")):
        t = case.at(0.5)
        tr = inc.trace()
        inc.request(t, method, path, 401, trace=tr)
        # app logs the flask-jwt-extended loader's JSON body, correlated by the Cloud Run trace
        inc.text(ms(t, 3), f'WARNING in auth: 401 on {method} {path}: {{"msg": "{msg}"}}',
                 stream="stderr", trace=tr)
        inc.text(ms(t, 4), flask_access(t, method, path, 401))
    inc.health_checks(every=2.0)
    finish(inc, shape="jsonl", offset=3.2,
           notes="Flask + flask-jwt-extended default messages. The ledger token fixture reused a "
                 "token minted the day before (`Token has expired`); the CSV export helper built its "
                 "own httpx client without the header (`Missing Authorization Header`). Runner 3.2 s ahead.")


@builder
def aspnet_bearer_lifetime() -> None:
    inc = Incident("aspnet_bearer_lifetime", T(10, 17, 3.0), service="billing-api")
    ok = inc.test("tests/e2e/test_billing.py::test_list_invoices", 0.5)
    inc.passing(ok, "GET", "/v2/invoices")
    bad = inc.test("tests/e2e/test_billing.py::test_create_invoice", 0.45,
                   failure=http_fail(inc, 401, "/v2/invoices"), label="invalid_jwt")
    t = bad.at(0.4)
    inc.request(t, "POST", "/v2/invoices", 401, latency=0.006)
    cat = "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler"
    # the .NET JSON console formatter writes capitalised keys; no trace id, no "message" key
    inc.json(ms(t, 1), {
        "EventId": 1, "LogLevel": "Information", "Category": cat,
        "Message": "Failed to validate the token.",
        "Exception": "Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime "
                     "validation failed. The token is expired. ValidTo (UTC): '11/26/2026 09:17:02', "
                     "Current time (UTC): '11/26/2026 10:17:04'.\n   at Microsoft.IdentityModel.Tokens."
                     "Validators.ValidateLifetime(Nullable`1 notBefore, Nullable`1 expires, SecurityToken "
                     "securityToken, TokenValidationParameters validationParameters)",
        "State": {"Message": "Failed to validate the token.", "{OriginalFormat}": "Failed to validate the token."},
    })
    inc.json(ms(t, 2), {
        "EventId": 7, "LogLevel": "Information", "Category": cat,
        "Message": "Bearer was not authenticated. Failure message: IDX10223: Lifetime validation "
                   "failed. The token is expired. ValidTo (UTC): '11/26/2026 09:17:02', Current "
                   "time (UTC): '11/26/2026 10:17:04'.",
        "State": {"Message": "Bearer was not authenticated. Failure message: IDX10223: Lifetime "
                  "validation failed. The token is expired.", "AuthenticationScheme": "Bearer",
                  "{OriginalFormat}": "{AuthenticationScheme} was not authenticated. Failure message: {FailureMessage}"},
    })
    inc.json(ms(t, 3), {
        "EventId": 12, "LogLevel": "Information", "Category": cat,
        "Message": "AuthenticationScheme: Bearer was challenged.",
        "State": {"Message": "AuthenticationScheme: Bearer was challenged.", "AuthenticationScheme": "Bearer"},
    })
    inc.health_checks(every=1.5, path="/health")
    finish(inc, shape="gcloud", stamp="naive", zone=-5.0, offset=-1.7,
           notes="ASP.NET Core JwtBearer with the JSON console formatter (capitalised Message key). "
                 "IDX10223 lifetime validation failed: token expired -> invalid_jwt. JUnit stamp is "
                 "naive local time of a UTC-5 runner, 1.7 s behind.")


@builder
def aspnet_cors_preflight() -> None:
    inc = Incident("aspnet_cors_preflight", T(11, 2, 40.0), service="portal-api")
    origin = "https://preview-pr-318.portal.example.dev"
    bad = inc.test("tests/e2e/test_cors.py::test_preflight_from_preview_origin", 0.3,
                   failure="AssertionError: assert 'access-control-allow-origin' in Headers({'date': "
                           "'Thu, 26 Nov 2026 11:02:40 GMT', 'content-length': '0', 'server': 'Google Frontend'})",
                   label="cors_origin")
    t = bad.at(0.5)
    inc.request(t, "OPTIONS", "/api/session", 204, latency=0.003)
    cat = "Microsoft.AspNetCore.Cors.Infrastructure.CorsService"
    inc.text(ms(t, 1), f"info: {cat}[5]\n      CORS policy execution failed.", trace=None)
    inc.text(ms(t, 2), f"info: {cat}[6]\n      Request origin {origin} does not have permission "
                       "to access the resource.")
    # a browser on the production origin passes its preflight at the same moment
    with inc.other_client():
        inc.request(ms(t, 40), "OPTIONS", "/api/session", 204, ua=BROWSER_UA, ip="81.2.69.160",
                    referer="https://portal.example.dev/")
        inc.text(ms(t, 41), f"info: {cat}[4]\n      CORS policy execution successful.")
    ok = inc.test("tests/e2e/test_cors.py::test_preflight_from_prod_origin", 0.2)
    inc.passing(ok, "OPTIONS", "/api/session", 204)
    finish(inc, shape="pretty", offset=5.5,
           notes="ASP.NET Core CorsService (simple console formatter, two-line textPayload): the "
                 "preflight from the preview origin got 204 without Access-Control headers. The "
                 "test fails on a header assertion, not a status. Runner 5.5 s ahead.")


@builder
def rails_three_causes() -> None:
    inc = Incident("rails_three_causes", T(13, 30, 5.0), service="storefront")
    instances = [inc.instance, inc.hex(96)]

    def rails(case: TestCase, method: str, path: str, status: int, word: str, middle: list[str],
              inst: int) -> None:
        t = case.at(0.5)
        inc.instance = instances[inst]
        inc.request(t, method, path, status)
        rid = inc.hex(8) + "-" + inc.hex(4)
        lines = [f'[{rid}] Started {method} "{path}" for {RUNNER_IP} at {t:%Y-%m-%d %H:%M:%S} +0000']
        lines += [f"[{rid}] {m}" for m in middle]
        if word:
            lines.append(f"[{rid}] Completed {status} {word} in 4ms (ActiveRecord: 0.0ms | Allocations: 812)")
        for i, line in enumerate(lines):
            inc.text(ms(t, 1 + i), line)
        inc.instance = instances[0]

    a = inc.test("tests/e2e/test_orders.py::test_list_orders", 0.4,
                 failure=http_fail(inc, 401, "/api/v1/orders"), label="invalid_jwt")
    rails(a, "GET", "/api/v1/orders", 401, "Unauthorized",
          ["Processing by Api::V1::OrdersController#index as JSON",
           "JWT::ExpiredSignature: Signature has expired", "Filter chain halted as :authenticate_user! rendered or redirected"], 1)
    b = inc.test("tests/e2e/test_orders.py::test_search_burst", 1.2,
                 failure=http_fail(inc, 429, "/api/v1/search"), label="rate_limited")
    for i in range(5):
        inc.request(b.at(0.1 + i * 0.05), "GET", "/api/v1/search", 200)
    t = b.at(0.5)
    inc.request(t, "GET", "/api/v1/search", 429, latency=0.001)
    inc.text(ms(t, 1), f'[Rack::Attack] throttle.rack_attack matched="req/ip" discriminator="{RUNNER_IP}" '
                       'path="/api/v1/search" request_id=-')
    c = inc.test("tests/e2e/test_checkout.py::test_submit_form", 0.5,
                 failure=http_fail(inc, 422, "/checkout"), label="middleware_rejection")
    rails(c, "POST", "/checkout", 422, "Unprocessable Entity",
          ["Processing by CheckoutsController#create as HTML",
           "Can't verify CSRF token authenticity.",
           "ActionController::InvalidAuthenticityToken (ActionController::InvalidAuthenticityToken):"], 0)
    inc.health_checks(every=3.0, path="/up")
    finish(inc, shape="sink", offset=-4.0,
           notes="Rails 7, two instances interleaving, no trace ids on app lines (request id tags only). "
                 "JWT::ExpiredSignature -> invalid_jwt; Rack::Attack throttle notification -> rate_limited; "
                 "missing authenticity token (CSRF, not an origin mismatch) -> middleware_rejection. "
                 "Runner 4 s behind.")


@builder
def nestjs_throttler_and_bare_unauthorized() -> None:
    inc = Incident("nestjs_throttler_and_bare_unauthorized", T(8, 45, 0.0), service="notify")
    t0 = inc.test("tests/e2e/test_notify.py::test_send_many", 0.9,
                  failure=http_fail(inc, 429, "/notifications"), label="rate_limited")
    for i in range(10):
        inc.request(t0.at(0.05 + 0.04 * i), "POST", "/notifications", 201)
    t = t0.at(0.6)
    inc.request(t, "POST", "/notifications", 429)
    inc.json(ms(t, 2), {"level": 40, "time": int(t.timestamp() * 1000), "pid": 1, "hostname": "localhost",
                        "req": {"id": 212, "method": "POST", "url": "/notifications"},
                        "res": {"statusCode": 429},
                        "err": {"type": "ThrottlerException", "message": "ThrottlerException: Too Many Requests",
                                "stack": "ThrottlerException: ThrottlerException: Too Many Requests\n    at ThrottlerGuard.throwThrottlingException"},
                        "msg": "request errored"})
    t1 = inc.test("tests/e2e/test_notify.py::test_list_inbox", 0.3,
                  failure=http_fail(inc, 401, "/inbox"), label="unknown")
    t = t1.at(0.5)
    inc.request(t, "GET", "/inbox", 401)
    inc.json(ms(t, 2), {"level": 40, "time": int(t.timestamp() * 1000), "pid": 1, "hostname": "localhost",
                        "req": {"id": 213, "method": "GET", "url": "/inbox"},
                        "res": {"statusCode": 401},
                        "err": {"type": "UnauthorizedException", "message": "Unauthorized"},
                        "msg": "request errored"})
    finish(inc, shape="gzip", report="reportlog", offset=2.0,
           notes="NestJS with nestjs-pino, reportlog only. ThrottlerException -> rate_limited. The 401 "
                 "is Passport's bare UnauthorizedException('Unauthorized'): the AuthGuard throws the same "
                 "for no token, an expired token and a bad signature, so the logs do not decide -> unknown.")


@builder
def envoy_sidecar_jwt_rbac() -> None:
    inc = Incident("envoy_sidecar_jwt_rbac", T(15, 5, 20.0), service="catalog")

    def envoy(t: datetime, method: str, path: str, code: int, details: str) -> None:
        inc.request(t, method, path, code)
        inc.json(ms(t, 1), {
            "start_time": t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "method": method, "path": path,
            "protocol": "HTTP/1.1", "response_code": code, "response_flags": "-",
            "response_code_details": details, "bytes_received": 0, "bytes_sent": 14,
            "duration": 1, "upstream_host": None, "x_forwarded_for": RUNNER_IP,
            "user_agent": HTTPX_UA, "request_id": inc.hex(8) + "-" + inc.hex(4) + "-" + inc.hex(4),
            "authority": inc.run_host,
        })

    a = inc.test("tests/e2e/test_catalog.py::test_update_item", 0.3,
                 failure=http_fail(inc, 401, "/v1/items/42"), label="invalid_jwt")
    envoy(a.at(0.5), "PUT", "/v1/items/42", 401, "jwt_authn_access_denied{Jwt_is_expired}")
    b = inc.test("tests/e2e/test_catalog.py::test_list_items_anonymous_header", 0.3,
                 failure=http_fail(inc, 401, "/v1/items"), label="missing_jwt")
    envoy(b.at(0.5), "GET", "/v1/items", 401, "jwt_authn_access_denied{Jwt_is_missing}")
    c = inc.test("tests/e2e/test_catalog.py::test_admin_reindex", 0.3,
                 failure=http_fail(inc, 403, "/admin/reindex"), label="middleware_rejection")
    envoy(c.at(0.5), "POST", "/admin/reindex", 403, "rbac_access_denied_matched_policy[none]")
    finish(inc, shape="sink", offset=-2.5,
           notes="Envoy sidecar in front of the app container, JSON access log only (the app never "
                 "saw the requests). jwt_authn Jwt_is_expired -> invalid_jwt, Jwt_is_missing -> "
                 "missing_jwt, RBAC policy denial (`RBAC: access denied`) -> middleware_rejection.")


@builder
def echo_and_fiber_jwt() -> None:
    inc = Incident("echo_and_fiber_jwt", T(16, 40, 2.0), service="gateway")
    a = inc.test("tests/e2e/test_gateway.py::test_me", 0.25,
                 failure=http_fail(inc, 401, "/api/me"), label="missing_jwt")
    t = a.at(0.5)
    inc.request(t, "GET", "/api/me", 401)
    inc.json(ms(t, 1), {"time": t.isoformat(), "id": "", "remote_ip": RUNNER_IP, "host": inc.run_host,
                        "method": "GET", "uri": "/api/me", "user_agent": HTTPX_UA, "status": 401,
                        "error": "code=401, message=missing or malformed jwt", "latency": 61000,
                        "latency_human": "61µs", "bytes_in": 0, "bytes_out": 36})
    b = inc.test("tests/e2e/test_gateway.py::test_orders", 0.25,
                 failure=http_fail(inc, 401, "/api/orders"), label="invalid_jwt")
    t = b.at(0.5)
    inc.request(t, "GET", "/api/orders", 401)
    inc.json(ms(t, 1), {"time": t.isoformat(), "id": "", "remote_ip": RUNNER_IP, "host": inc.run_host,
                        "method": "GET", "uri": "/api/orders", "user_agent": HTTPX_UA, "status": 401,
                        "error": "code=401, message=invalid or expired jwt, internal=token has invalid "
                                 "claims: token is expired", "latency": 88000, "latency_human": "88µs",
                        "bytes_in": 0, "bytes_out": 36})
    # the second service of the run is Go Fiber: its default logger line and its jwtware message
    inc.service = "uploads"
    inc.run_host = f"uploads-{inc.hex(10)}-uc.a.run.app"
    inc.instance = inc.hex(96)
    c = inc.test("tests/e2e/test_uploads.py::test_upload_avatar", 0.4,
                 failure=http_fail(inc, 400, "/upload"), label="missing_jwt")
    t = c.at(0.5)
    inc.request(t, "POST", "/upload", 400)
    inc.text(ms(t, 1), f"{t:%H:%M:%S} | 400 |      52µs | {RUNNER_IP} | POST    | /upload         | Missing or malformed JWT")
    finish(inc, shape="gzip", offset=0.8,
           notes="Echo with echo-jwt and the JSON request logger (decision only in the `error` field), "
                 "and Go Fiber with contrib/jwt (400 Missing or malformed JWT in the default logger line). "
                 "'missing or malformed' is what the extractor says when no Bearer token is found -> "
                 "missing_jwt; the parse failure is 'invalid or expired jwt' -> invalid_jwt.")


@builder
def cloud_run_iam_with_scanner() -> None:
    inc = Incident("cloud_run_iam_with_scanner", T(7, 12, 30.0), service="reports")
    iam403 = ("The request was not authorized to invoke this service. Read more at "
              "https://cloud.google.com/run/docs/securing/authenticating Additional troubleshooting "
              "documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#403")
    iam401 = ("The request was not authenticated. Either allow unauthenticated invocations or set the "
              "proper Authorization header. Read more at https://cloud.google.com/run/docs/securing/authenticating "
              "Additional troubleshooting documentation can be found at: "
              "https://cloud.google.com/run/docs/troubleshooting#unauthorized-client")
    a = inc.test("tests/e2e/test_reports.py::test_generate_pdf", 0.6,
                 failure=http_fail(inc, 403, "/generate"), label="iam_denied")
    t = a.at(0.5)
    inc.request(t, "POST", "/generate", 403, text=iam403, app=False, latency=0.001)
    with inc.other_client():
        inc.request(ms(t, 120), "GET", "/.env", 403, ua=SCANNER_UA, ip="45.148.10.92", text=iam403, app=False)
        inc.request(ms(t, 300), "GET", "/wp-login.php", 403, ua=SCANNER_UA, ip="45.148.10.92", text=iam403, app=False)
    b = inc.test("tests/e2e/test_reports.py::test_progress_ws", 0.5, failure=WS403.replace("403", "401"),
                 label="iam_denied")
    t = b.at(0.3)
    inc.request(t, "GET", "/ws/progress", 401, ua=WS_UA, text=iam401, app=False, latency=0.001)
    finish(inc, shape="gcloud", report="reportlog", offset=-6.0,
           notes="Cloud Run IAM invoker check: the suite's identity token went missing after a "
                 "redeploy. Request log only, no app log; a scanner hits 403 on the same service in the "
                 "same second. Reportlog only, runner 6 s behind.")


@builder
def cloud_armor_waf_sqli() -> None:
    inc = Incident("cloud_armor_waf_sqli", T(12, 0, 50.0), service="search")
    ok = inc.test("tests/e2e/test_search.py::test_plain_query", 0.3)
    inc.lb(ok.at(0.5), "GET", "/search?q=blue+shoes", 200, "response_sent_by_backend")
    bad = inc.test("tests/e2e/test_search.py::test_query_with_quote", 0.3,
                   failure=http_fail(inc, 403, "/search?q=o%27reilly+OR+1%3D1", host=inc.host),
                   label="cloud_armor_denied")
    pol = {"name": "search-edge-policy", "priority": 1000, "configuredAction": "DENY",
           "outcome": "DENY", "preconfiguredExprIds": ["owasp-crs-v030301-id942100-sqli"]}
    inc.lb(bad.at(0.5), "GET", "/search?q=o%27reilly+OR+1%3D1", 403, "denied_by_security_policy", policy=pol)
    with inc.other_client():
        inc.lb(bad.at(0.6), "GET", "/search?q=1%27%20UNION%20SELECT", 403, "denied_by_security_policy",
               ua=SCANNER_UA, ip="185.220.101.7", policy=pol)
    finish(inc, shape="jsonl", stamp="aware", zone=8.0, offset=7.5,
           notes="Cloud Armor preconfigured WAF rule (sqli-v33-stable, id942100) denied a test query "
                 "containing a quote and OR 1=1. Load balancer entries only. A scanner is denied by the "
                 "same rule a moment later. JUnit from a UTC+8 runner 7.5 s ahead.")


@builder
def cloud_armor_throttle() -> None:
    inc = Incident("cloud_armor_throttle", T(12, 40, 10.0), service="media")
    bad = inc.test("tests/e2e/test_media.py::test_thumbnail_burst", 1.5,
                   failure=http_fail(inc, 429, "/thumb/77.png", host=inc.host), label="rate_limited")
    for i in range(8):
        inc.lb(bad.at(0.05 + 0.05 * i), "GET", f"/thumb/{70 + i}.png", 200, "response_sent_by_backend")
    pol = {"name": "media-rate-policy", "priority": 900, "configuredAction": "THROTTLE",
           "outcome": "DENY", "rateLimitAction": {"key": RUNNER_IP, "outcome": "RATE_LIMIT_THRESHOLD_EXCEED"}}
    inc.lb(bad.at(0.6), "GET", "/thumb/77.png", 429, "denied_by_security_policy", policy=pol)
    finish(inc, shape="pretty", stamp="naive", zone=2.0, offset=-3.3,
           notes="Cloud Armor throttle rule (rateLimitAction RATE_LIMIT_THRESHOLD_EXCEED) answered 429 "
                 "at the edge: a rate-limit rule -> rate_limited (not cloud_armor_denied). Naive JUnit "
                 "stamp from a UTC+2 runner 3.3 s behind.")


@builder
def iap_audit_denied() -> None:
    inc = Incident("iap_audit_denied", T(14, 22, 0.0), service="admin")
    bad = inc.test("tests/e2e/test_admin.py::test_dashboard", 0.4,
                   failure=http_fail(inc, 403, "/dashboard", host=inc.host), label="iap_denied")
    t = bad.at(0.5)
    inc.lb(t, "GET", "/dashboard", 403, "handled_by_identity_aware_proxy")
    inc.iap_audit(ms(t, -2), "/dashboard", granted=False,
                  principal="e2e-runner@acme-staging.iam.gserviceaccount.com")
    with inc.other_client():
        inc.lb(ms(t, 90), "GET", "/dashboard", 200, "response_sent_by_backend", ua=BROWSER_UA, ip="81.2.69.160")
        inc.iap_audit(ms(t, 88), "/dashboard", granted=True, principal="ops@acme.example", ip="81.2.69.160")
    finish(inc, shape="pretty", offset=1.1,
           notes="IAP denied the runner's service account (no roles/iap.httpsResourceAccessor); an "
                 "operator's browser is granted at the same moment.")


@builder
def phoenix_refused_and_guardian() -> None:
    inc = Incident("phoenix_refused_and_guardian", T(17, 3, 45.0), service="live")
    insts = [inc.instance, inc.hex(96), inc.hex(96)]
    a = inc.test("tests/e2e/test_live.py::test_join_room", 0.5, failure=WS403, label="unknown")
    t = a.at(0.4)
    inc.instance = insts[1]
    # the request log keeps the query string as sent: a token-shaped secret that output must redact
    inc.request(t, "GET", f"/socket/websocket?token={FAKE_JWT}&vsn=2.0.0", 403, ua=WS_UA)
    inc.text(ms(t, 2), "17:03:45.206 [info] REFUSED CONNECTION TO LiveWeb.UserSocket in 412µs\n"
                       "  Transport: :websocket\n  Serializer: Phoenix.Socket.V2.JSONSerializer\n"
                       '  Parameters: %{"token" => "[FILTERED]", "vsn" => "2.0.0"}')
    b = inc.test("tests/e2e/test_live.py::test_fetch_history", 0.3,
                 failure=http_fail(inc, 401, "/api/history"), label="invalid_jwt")
    t = b.at(0.5)
    inc.instance = insts[2]
    inc.request(t, "GET", "/api/history", 401)
    inc.text(ms(t, 1), f"{t:%H:%M:%S.%f}"[:-3] + " request_id=F8a1b2c3d4e5 [info] GET /api/history")
    inc.text(ms(t, 2), f"{t:%H:%M:%S.%f}"[:-3] + " request_id=F8a1b2c3d4e5 [warning] Guardian auth_error: "
                       "{:invalid_token, :token_expired}")
    inc.text(ms(t, 3), f"{t:%H:%M:%S.%f}"[:-3] + " request_id=F8a1b2c3d4e5 [info] Sent 401 in 1ms")
    inc.instance = insts[0]
    inc.health_checks(every=2.0)
    finish(inc, shape="jsonl", stamp="naive", zone=1.0, offset=4.4,
           notes="Phoenix: the socket's connect/3 returned :error and Phoenix only logs `REFUSED "
                 "CONNECTION` (token param present but filtered, no reason) -> unknown. Guardian "
                 "{:invalid_token, :token_expired} on an API call -> invalid_jwt. Three instances, "
                 "no trace on app lines, naive JUnit from UTC+1, runner 4.4 s ahead.")


@builder
def quarkus_debug_logger() -> None:
    inc = Incident("quarkus_debug_logger", T(6, 58, 20.0), service="inventory")
    bad = inc.test("tests/e2e/test_inventory.py::test_reserve_stock", 0.4,
                   failure=http_fail(inc, 401, "/stock/reserve"), label="invalid_jwt")
    t = bad.at(0.5)
    tr = inc.trace()
    inc.request(t, "POST", "/stock/reserve", 401, trace=tr)
    inc.json(ms(t, 1), {
        "timestamp": t.isoformat(), "sequence": 8812, "loggerClassName": "org.jboss.logging.Logger",
        "loggerName": "io.quarkus.smallrye.jwt.runtime.auth.MpJwtValidator", "level": "DEBUG",
        "message": "Authentication failed: SRJWT07000: Failed to verify a token",
        "threadName": "vert.x-eventloop-thread-1", "hostName": "localhost",
        "exception": {"refId": 1, "exceptionType": "io.smallrye.jwt.auth.principal.ParseException",
                      "message": "SRJWT07000: Failed to verify a token",
                      "causedBy": {"exception": {"refId": 2, "exceptionType": "org.jose4j.jwt.consumer.InvalidJwtException",
                                   "message": "JWT (claims->{\"iss\":\"https://auth.acme.example\",\"sub\":\"e2e\"}) rejected due to "
                                              "invalid claims or other invalid content. Additional details: [[1] The JWT is no "
                                              "longer valid - the evaluation time NumericDate{1795683500 -> Nov 26, 2026, 6:58:20 AM UTC} "
                                              "is on or after the Expiration Time (exp=1795679900 -> Nov 26, 2026, 5:58:20 AM UTC) claim value "
                                              "(even when providing 30 seconds of leeway to account for clock skew).]"}}},
    }, severity="DEBUG", trace=tr)
    ok = inc.test("tests/e2e/test_inventory.py::test_list_stock", 0.3)
    inc.passing(ok, "GET", "/stock")
    finish(inc, shape="gcloud", offset=-8.6,
           notes="Quarkus with SmallRye JWT: the decision is logged only at DEBUG by MpJwtValidator "
                 "(jose4j: the JWT is no longer valid, past exp) -> invalid_jwt. Runner 8.6 s behind.")


@builder
def fastify_structured_reason() -> None:
    inc = Incident("fastify_structured_reason", T(18, 10, 0.0), service="feed")
    insts = [inc.instance, inc.hex(96)]
    cases = [("test_feed_home", "/v1/feed", "token_expired", "invalid_jwt", 0),
             ("test_feed_saved", "/v1/saved", "no_token", "missing_jwt", 1)]
    for i, (name, path, reason, label, inst) in enumerate(cases):
        c = inc.test(f"tests/e2e/test_feed.py::{name}", 0.35,
                     failure=http_fail(inc, 401, path), label=label)
        t = c.at(0.5)
        inc.instance = insts[inst]
        inc.request(t, "GET", path, 401)
        rid = f"req-{17 + i}"
        inc.json(ms(t, 1), {"level": 30, "time": int(t.timestamp() * 1000), "pid": 7, "reqId": rid,
                            "req": {"method": "GET", "url": path, "remoteAddress": "169.254.1.1"},
                            "msg": "incoming request"})
        inc.json(ms(t, 2), {"level": 40, "time": int(t.timestamp() * 1000), "pid": 7, "reqId": rid,
                            "event": "auth_failed", "reason": reason, "route": path})
        inc.json(ms(t, 3), {"level": 30, "time": int(t.timestamp() * 1000), "pid": 7, "reqId": rid,
                            "res": {"statusCode": 401}, "responseTime": 2.1, "msg": "request completed"})
    inc.instance = insts[0]
    finish(inc, shape="jsonl", report="reportlog", offset=0.0,
           notes="Fastify/pino on two instances; the auth hook logs only {event: auth_failed, "
                 "reason: ...}: the reason is in a structured field, not in msg. token_expired -> "
                 "invalid_jwt, no_token -> missing_jwt. Reportlog only.")


@builder
def gunicorn_500_traceback_and_content() -> None:
    inc = Incident("gunicorn_500_traceback_and_content", T(19, 20, 30.0), service="pricing")
    a = inc.test("tests/e2e/test_pricing.py::test_quote", 0.6,
                 failure=http_fail(inc, 500, "/quote"), label="app_error")
    t = a.at(0.6)
    inc.request(t, "POST", "/quote", 500, latency=0.31)
    inc.text(ms(t, 300), "[2026-11-26 19:20:30,912] ERROR in app: Exception on /quote [POST]\n"
                        "Traceback (most recent call last):\n"
                        '  File "/app/.venv/lib/python3.12/site-packages/flask/app.py", line 1511, in wsgi_app\n'
                        "    response = self.full_dispatch_request()\n"
                        '  File "/app/pricing/quote.py", line 88, in quote\n'
                        "    rate = fx.rate(currency)\n"
                        '  File "/app/pricing/fx.py", line 31, in rate\n'
                        "    return self._table[currency]\n"
                        "KeyError: 'CHF'", stream="stderr", severity="ERROR")
    inc.text(ms(t, 2), flask_access(t, "POST", "/quote", 500))
    b = inc.test("tests/e2e/test_pricing.py::test_quote_rounding", 0.3,
                 failure="AssertionError: assert Decimal('19.989999') == Decimal('19.99')",
                 label="unknown")
    inc.request(b.at(0.5), "POST", "/quote", 200)
    inc.text(ms(b.at(0.5), 2), flask_access(b.at(0.5), "POST", "/quote", 200))
    finish(inc, shape="gcloud", stamp="naive", zone=-8.0, offset=2.7,
           notes="Flask under gunicorn: a KeyError traceback in one multi-line stderr textPayload for "
                 "the 500 -> app_error. The rounding test fails on content after a 200: nothing in the "
                 "logs explains it -> unknown. Naive JUnit from UTC-8, runner 2.7 s ahead.")


@builder
def timeout_and_monitoring_noise() -> None:
    inc = Incident("timeout_and_monitoring_noise", T(20, 5, 0.0), service="exports")
    a = inc.test("tests/e2e/test_exports.py::test_big_export", 10.2,
                 failure="httpx.ReadTimeout: The read operation timed out", label="unknown")
    inc.request(a.at(0.02), "POST", "/exports", 202)
    # an uptime check fails with 503 on another path in the same seconds: not the runner's
    with inc.other_client():
        inc.request(a.at(0.5), "GET", "/status", 503, ua=UPTIME_UA, ip="35.238.118.10")
        inc.text(a.at(0.5), "uptime probe: dependency 'warehouse' degraded", severity="WARNING")
    b = inc.test("tests/e2e/test_exports.py::test_export_has_header_row", 0.4,
                 failure="AssertionError: assert 'id,name,amount' == 'id;name;amount'", label="unknown")
    inc.request(b.at(0.5), "GET", "/exports/latest.csv", 200)
    inc.health_checks(every=2.0)
    finish(inc, shape="sink", offset=-1.2,
           notes="Two failures the logs cannot explain: a client read timeout after the server answered "
                 "202 (no error logged), and a content assertion on a 200. An uptime check gets 503 "
                 "on /status at the same moment: another client, never the runner's evidence -> unknown.")


@builder
def uvicorn_ws_generic_403_with_browser() -> None:
    inc = Incident("uvicorn_ws_generic_403_with_browser", T(21, 33, 15.0), service="chat")
    a = inc.test("tests/e2e/test_chat.py::test_ws_connect", 0.4, failure=WS403, label="unknown")
    t = a.at(0.5)
    inc.request(t, "GET", "/ws", 403, ua=WS_UA)
    inc.text(ms(t, 1), f"INFO:     ('{RUNNER_IP}', 0) - \"WebSocket /ws\" 403", stream="stderr")
    inc.text(ms(t, 1), "INFO:     connection rejected (403 Forbidden)", stream="stderr")
    with inc.other_client():
        tb = ms(t, 150)
        inc.request(tb, "GET", "/ws", 403, ua=BROWSER_UA, ip="81.2.69.160")
        inc.text(ms(tb, 1), "WARNING:  ws origin refused: https://evil-clone.example not in ALLOWED_ORIGINS",
                 stream="stderr")
        inc.text(ms(tb, 2), "INFO:     ('81.2.69.160', 0) - \"WebSocket /ws\" 403", stream="stderr")
        inc.text(ms(tb, 2), "INFO:     connection rejected (403 Forbidden)", stream="stderr")
    finish(inc, shape="gcloud", stamp="naive", zone=-3.0, offset=9.0,
           notes="The runner's handshake gets 403 and the app only logs uvicorn's generic lines; a "
                 "browser from a foreign origin is refused 150 ms later with an origin line of its own. "
                 "The runner's own request has no decision line -> unknown (never borrow the browser's "
                 "origin reason). Naive JUnit from UTC-3, runner 9 s ahead.")


@builder
def export_misses_window() -> None:
    inc = Incident("export_misses_window", T(10, 0, 0.0), service="api")
    a = inc.test("tests/e2e/test_api.py::test_login", 0.3,
                 failure=http_fail(inc, 401, "/login"), label="unknown")
    b = inc.test("tests/e2e/test_api.py::test_ws_notifications", 0.3, failure=WS403, label="unknown")
    inc.request(a.at(0.5), "POST", "/login", 401)
    inc.text(ms(a.at(0.5), 1), "auth: missing bearer token for POST /login")
    inc.request(b.at(0.5), "GET", "/ws/notifications", 403, ua=WS_UA)
    inc.text(ms(b.at(0.5), 1), "ws: JWT signature invalid for /ws/notifications")
    # the engineer exported the hour before the run (wrong filter): the run itself is not in it
    for k in range(30):
        inc.request(T(8, 58, 20.0 * k), "GET", "/healthz", 200, ua="GoogleHC/1.0", ip="35.191.9.17")
    t = T(9, 10, 0.0)
    inc.request(t, "POST", "/login", 401)
    inc.text(ms(t, 1), "auth: missing bearer token for POST /login")
    entries = [e for e in inc.entries if e["timestamp"] < "2026-11-26T09:59"]
    finish(inc, shape="gcloud", offset=1.0, entries=entries,
           notes="The export covers 08:58-09:10 while the run was at 10:00: nothing in the window. A "
                 "401 with a 'missing bearer token' line an hour earlier must not be borrowed -> unknown.")


@builder
def export_ends_mid_run() -> None:
    inc = Incident("export_ends_mid_run", T(11, 45, 0.0), service="api")
    a = inc.test("tests/e2e/test_api.py::test_profile", 0.4,
                 failure=http_fail(inc, 401, "/profile"), label="missing_jwt")
    t = a.at(0.5)
    tr = inc.trace()
    inc.request(t, "GET", "/profile", 401, trace=tr)
    inc.json(ms(t, 1), {"severity": "INFO", "message": "request rejected: no Authorization header present",
                        "path": "/profile"}, trace=tr)
    inc.test("tests/e2e/test_api.py::test_slow_setup", 20.0)
    b = inc.test("tests/e2e/test_api.py::test_settings", 0.4,
                 failure=http_fail(inc, 401, "/settings"), label="unknown")
    inc.request(b.at(0.5), "GET", "/settings", 401)
    inc.json(ms(b.at(0.5), 1), {"severity": "INFO", "message": "request rejected: token signature mismatch",
                                "path": "/settings"})
    inc.health_checks(every=1.0)
    cut = (a.start + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    entries = [e for e in inc.entries if e["timestamp"] < cut]
    finish(inc, shape="jsonl", offset=-2.0, entries=entries,
           notes="The export's time range ends 5 s into the run: the first failure is covered "
                 "(no Authorization header -> missing_jwt), the last one 20 s later is not -> unknown.")


@builder
def nginx_sidecar_limit_and_oom() -> None:
    inc = Incident("nginx_sidecar_limit_and_oom", T(22, 14, 8.0), service="docs")
    a = inc.test("tests/e2e/test_docs.py::test_render_many", 1.0,
                 failure=http_fail(inc, 429, "/render"), label="rate_limited")
    for i in range(4):
        tt = a.at(0.1 + 0.1 * i)
        inc.request(tt, "POST", "/render", 200)
        inc.text(ms(tt, 1), f'{RUNNER_IP} - - [{tt:%d/%b/%Y:%H:%M:%S} +0000] "POST /render HTTP/1.1" 200 5120 "-" "{HTTPX_UA}"')
    t = a.at(0.6)
    inc.request(t, "POST", "/render", 429)
    inc.text(ms(t, 1), f"{t:%Y/%m/%d %H:%M:%S} [error] 22#22: *41 limiting requests, excess: 5.120 by zone "
                       f'"render", client: {RUNNER_IP}, server: _, request: "POST /render HTTP/1.1", '
                       f'host: "{inc.run_host}"', stream="stderr")
    inc.text(ms(t, 1), f'{RUNNER_IP} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "POST /render HTTP/1.1" 429 169 "-" "{HTTPX_UA}"')
    b = inc.test("tests/e2e/test_docs.py::test_render_large_pdf", 3.0,
                 failure=http_fail(inc, 502, "/render"), label="app_error")
    t = b.at(0.8)
    inc.request(t, "POST", "/render", 502, latency=2.3)
    inc.text(ms(t, 2250), "[2026-11-26 22:14:11 +0000] [1] [ERROR] Worker (pid:14) was sent SIGKILL! Perhaps out of memory?",
             stream="stderr")
    inc.text(ms(t, 2290), f"{t:%Y/%m/%d %H:%M:%S} [error] 22#22: *47 upstream prematurely closed connection while "
                        f'reading response header from upstream, client: {RUNNER_IP}, server: _, request: '
                        f'"POST /render HTTP/1.1", upstream: "http://127.0.0.1:8081/render"', stream="stderr")
    finish(inc, shape="jsonl", offset=6.1,
           notes="nginx sidecar in front of gunicorn: limit_req (limit_req_status 429) -> rate_limited; "
                 "the gunicorn worker killed for memory, nginx 502 upstream prematurely closed -> app_error. "
                 "No trace ids. Runner 6.1 s ahead.")


@builder
def laravel_several_causes() -> None:
    inc = Incident("laravel_several_causes", T(5, 30, 0.0), service="crm")

    def laravel(case: TestCase, method: str, path: str, status: int, line: str | None) -> None:
        t = case.at(0.5)
        inc.request(t, method, path, status)
        if line:
            inc.text(ms(t, 2), f"[{t:%Y-%m-%d %H:%M:%S}] production.{line}", stream="stderr")

    a = inc.test("tests/e2e/test_crm.py::test_contacts", 0.3,
                 failure=http_fail(inc, 401, "/api/contacts"), label="invalid_jwt")
    laravel(a, "GET", "/api/contacts", 401,
            "ERROR: Token has expired {\"exception\":\"[object] (Tymon\\\\JWTAuth\\\\Exceptions\\\\TokenExpiredException(code: 0): "
            "Token has expired at /var/www/vendor/tymon/jwt-auth/src/Claims/Expiration.php:31)\"}")
    b = inc.test("tests/e2e/test_crm.py::test_deals", 0.3,
                 failure=http_fail(inc, 401, "/api/deals"), label="unknown")
    laravel(b, "GET", "/api/deals", 401,
            "INFO: Illuminate\\Auth\\AuthenticationException: Unauthenticated.")
    c = inc.test("tests/e2e/test_crm.py::test_bulk_import", 0.8,
                 failure=http_fail(inc, 429, "/api/import"), label="rate_limited")
    laravel(c, "POST", "/api/import", 429,
            "WARNING: Illuminate\\Http\\Exceptions\\ThrottleRequestsException: Too Many Attempts.")
    d = inc.test("tests/e2e/test_crm.py::test_e2e_seed", 0.3,
                 failure=http_fail(inc, 403, "/internal/seed"), label="missing_bypass_header")
    laravel(d, "POST", "/internal/seed", 403,
            "WARNING: E2eGate: header X-E2E-Bypass absent; seeding endpoints are closed outside test traffic")
    finish(inc, shape="sink", report="both", offset=-5.0,
           notes="Laravel, four causes in one run, monolog lines on stderr without trace ids. "
                 "tymon/jwt-auth TokenExpiredException -> invalid_jwt; Sanctum's bare 'Unauthenticated.' "
                 "does not say whether a token was sent -> unknown; ThrottleRequestsException -> "
                 "rate_limited; custom E2E gate without the bypass header -> missing_bypass_header.")


@builder
def tenant_middleware_and_bypass_key() -> None:
    inc = Incident("tenant_middleware_and_bypass_key", T(23, 1, 0.0), service="tenants")
    a = inc.test("tests/e2e/test_tenants.py::test_tenant_dashboard", 0.3,
                 failure=http_fail(inc, 403, "/t/acme-e2e/dashboard"), label="middleware_rejection")
    t = a.at(0.5)
    tr = inc.trace()
    inc.request(t, "GET", "/t/acme-e2e/dashboard", 403, trace=tr)
    inc.json(ms(t, 1), {"logger": "app.middleware.tenancy", "level": "warning",
                        "msg": "tenant 'acme-e2e' is suspended; refusing request",
                        "status": 403}, severity="WARNING", trace=tr)
    b = inc.test("tests/e2e/test_tenants.py::test_ws_events", 0.3, failure=WS403,
                 label="missing_bypass_header")
    t = b.at(0.5)
    tr = inc.trace()
    inc.request(t, "GET", "/ws/events", 403, ua=WS_UA, trace=tr)
    inc.json(ms(t, 1), {"logger": "app.security.e2e_gate", "level": "info",
                        "msg": "handshake refused", "check": "e2e_bypass_key", "result": "mismatch",
                        "header": "x-e2e-key"}, severity="INFO", trace=tr)
    finish(inc, shape="gzip", stamp="none", offset=0.0,
           notes="A tenancy middleware refuses a suspended tenant -> middleware_rejection; the E2E "
                 "gate logs at INFO in its own logger that the bypass key did not match (msg is "
                 "generic, the check is in fields) -> missing_bypass_header. JUnit without timestamp; "
                 "trace ids link the lines.")


@builder
def chi_same_path_clock_skew() -> None:
    inc = Incident("chi_same_path_clock_skew", T(4, 10, 0.0), service="profile")
    for name, path in (("test_health", "/healthz"), ("test_openapi", "/openapi.json")):
        ok = inc.test(f"tests/e2e/test_profile.py::{name}", 0.12)
        inc.passing(ok, "GET", path)
    a = inc.test("tests/e2e/test_profile.py::test_me_without_login", 0.15,
                 failure=http_fail(inc, 401, "/api/me"), label="missing_jwt")
    b = inc.test("tests/e2e/test_profile.py::test_me_with_stale_session", 0.15,
                 failure=http_fail(inc, 401, "/api/me"), label="invalid_jwt", gap=0.02)
    for case, err in ((a, "no token found"), (b, "token is expired")):
        t = case.at(0.5)
        inc.request(t, "GET", "/api/me", 401, latency=0.002)
        inc.json(ms(t, 1), {"time": t.isoformat(), "level": "WARN", "msg": "jwt verify failed",
                            "err": err, "method": "GET", "path": "/api/me"}, severity="WARNING")
    ok = inc.test("tests/e2e/test_profile.py::test_version", 0.1)
    inc.passing(ok, "GET", "/version")
    finish(inc, shape="pretty", stamp="naive", zone=5.5, offset=-8.5,
           notes="Go chi + go-chi/jwtauth, slog JSON lines (reason in `err`, no trace). Two "
                 "back-to-back tests hit the same path 0.2 s apart while the runner clock is 8.5 s "
                 "behind (naive stamp, UTC+5:30): only run order and the passing tests' anchors tell "
                 "which 401 is whose. First: no token found -> missing_jwt; second: token is expired "
                 "-> invalid_jwt.")


@builder
def iap_programmatic_401() -> None:
    inc = Incident("iap_programmatic_401", T(3, 3, 3.0), service="internal-tools")
    bad = inc.test("tests/e2e/test_tools.py::test_api_jobs", 0.3,
                   failure=http_fail(inc, 401, "/api/jobs", host=inc.host), label="iap_denied")
    inc.lb(bad.at(0.5), "GET", "/api/jobs", 401, "handled_by_identity_aware_proxy")
    ok = inc.test("tests/e2e/test_tools.py::test_static", 0.2)
    inc.lb(ok.at(0.5), "GET", "/static/app.js", 200, "response_from_cache")
    finish(inc, shape="gcloud", report="reportlog", offset=3.9,
           notes="Programmatic call through IAP without an OIDC token for the IAP client: IAP answers "
                 "401 (`Invalid IAP credentials: empty token` to the client). Only the load balancer entry "
                 "handled_by_identity_aware_proxy, no audit entry (data access logs off) -> iap_denied.")


@builder
def cloud_run_oom_503_overlapping_exports() -> None:
    inc = Incident("cloud_run_oom_503_overlapping_exports", T(2, 20, 0.0), service="thumbs")
    bad = inc.test("tests/e2e/test_thumbs.py::test_resize_huge", 2.0,
                   failure=http_fail(inc, 503, "/resize"),
                   label="app_error")
    t = bad.at(0.2)
    inc.request(t, "POST", "/resize", 503, latency=1.4, text=(
        "The request failed because either the HTTP response was malformed or connection to the "
        "instance had an error. Additional troubleshooting documentation can be found at: "
        "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error"))
    inc.system(ms(t, 1350), "Memory limit of 512 MiB exceeded with 531 MiB used. Consider increasing "
                            "the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits")
    with inc.other_client():
        inc.request(ms(t, 1200), "GET", "/", 503, ua=BROWSER_UA, ip="81.2.69.160", latency=0.2)
    ok = inc.test("tests/e2e/test_thumbs.py::test_resize_small", 0.4)
    inc.passing(ok, "POST", "/resize")
    inc.health_checks(every=1.0)
    rows = sorted(inc.entries, key=lambda e: e["timestamp"])
    half = len(rows) // 2
    finish(inc, shape="gcloud", offset=-0.6, entries=rows[: half + 4], extra=("jsonl", rows[half - 4:]),
           notes="Cloud Run answered 503 (malformed response / connection error) while the instance was "
                 "killed for exceeding its memory limit (varlog/system) -> app_error. Two overlapping "
                 "exports (gcloud array and JSONL) share 8 entries; a browser also gets 503.")


@builder
def armor_preview_then_app_jwt() -> None:
    inc = Incident("armor_preview_then_app_jwt", T(1, 15, 0.0), service="orders")
    bad = inc.test("tests/e2e/test_orders.py::test_cancel_order", 0.4,
                   failure=http_fail(inc, 401, "/orders/9/cancel", host=inc.host), label="invalid_jwt")
    t = bad.at(0.5)
    tr = inc.trace()
    inc.lb(t, "POST", "/orders/9/cancel", 401, "response_sent_by_backend", trace=tr, extra={
        "previewSecurityPolicy": {"name": "orders-edge", "priority": 2000, "configuredAction": "DENY",
                                  "outcome": "DENY", "preconfiguredExprIds": ["owasp-crs-v030301-id932105-rce"]},
        "enforcedSecurityPolicy": {"name": "orders-edge", "priority": 2147483647,
                                   "configuredAction": "ALLOW", "outcome": "ACCEPT"}})
    inc.request(ms(t, 2), "POST", "/orders/9/cancel", 401, trace=tr)
    inc.json(ms(t, 4), {"message": "request denied", "error": "TokenExpiredError: jwt expired",
                        "expiredAt": "2026-11-26T00:15:00.000Z", "component": "koa-jwt"},
             severity="WARNING", trace=tr)
    finish(inc, shape="jsonl", offset=2.2,
           notes="A Cloud Armor rule in preview would have denied the call (previewSecurityPolicy DENY) "
                 "but the enforced outcome is ACCEPT and the backend answered: Koa + koa-jwt rejected an "
                 "expired token -> invalid_jwt, not cloud_armor_denied.")


@builder
def litestar_parallel_shards() -> None:
    inc = Incident("litestar_parallel_shards", T(0, 40, 0.0), service="shop")
    shard2 = "34.123.77.215"  # the other CI shard: same suite, same UA, another runner
    ok = inc.test("tests/e2e/test_shop.py::test_catalog", 0.3)
    inc.passing(ok, "GET", "/api/catalog")
    with inc.other_client():
        inc.request(ok.at(0.55), "GET", "/api/catalog", 200, ip=shard2)
    bad = inc.test("tests/e2e/test_shop.py::test_items", 0.4,
                   failure=http_fail(inc, 401, "/api/items"), label="missing_jwt")
    t = bad.at(0.5)

    def litestar(at: datetime, path: str, detail: str) -> None:
        inc.text(at, f"ERROR - {at:%Y-%m-%d %H:%M:%S},{at.microsecond // 1000:03d} - litestar - config - "
                     f"Uncaught exception (connection_type=http, path={path}):\n"
                     "Traceback (most recent call last):\n"
                     '  File "/app/.venv/lib/python3.12/site-packages/litestar/middleware/_internal/exceptions/middleware.py", line 159, in __call__\n'
                     "    await self.app(scope, receive, send)\n"
                     '  File "/app/.venv/lib/python3.12/site-packages/litestar/middleware/authentication.py", line 90, in __call__\n'
                     "    auth_result = await self.authenticate_request(ASGIConnection(scope))\n"
                     f"litestar.exceptions.http_exceptions.NotAuthorizedException: 401: {detail}",
                 stream="stderr")

    with inc.other_client():
        inc.request(ms(t, -20), "GET", "/api/cart", 401, ip=shard2)
        litestar(ms(t, -18), "/api/cart", "Invalid token")
    inc.request(t, "GET", "/api/items", 401)
    litestar(ms(t, 2), "/api/items", "No JWT token found in request header")
    finish(inc, shape="gcloud", offset=-3.0,
           notes="Two CI shards of the same suite hit the service in the same second from two runner IPs "
                 "with the same user agent; only this shard's report is given. Litestar logs "
                 "NotAuthorizedException tracebacks (log_exceptions=always) with the path, no trace id: "
                 "ours (/api/items) is 'No JWT token found' -> missing_jwt; the other shard's /api/cart "
                 "'Invalid token' 20 ms earlier is foreign.")


@builder
def edge_security_policy_cdn() -> None:
    inc = Incident("edge_security_policy_cdn", T(0, 5, 0.0), service="assets")
    bad = inc.test("tests/e2e/test_assets.py::test_download_report_pdf", 0.3,
                   failure=http_fail(inc, 403, "/reports/q3.pdf", host=inc.host), label="cloud_armor_denied")
    inc.lb(bad.at(0.5), "GET", "/reports/q3.pdf", 403, "denied_by_security_policy", extra={
        "enforcedEdgeSecurityPolicy": {"name": "assets-edge-geo", "priority": 100,
                                       "configuredAction": "DENY", "outcome": "DENY"},
        "cacheDecision": ["RESPONSE_HAS_CONTENT_TYPE", "CACHE_MODE_CACHE_ALL_STATIC"]})
    ok = inc.test("tests/e2e/test_assets.py::test_download_logo", 0.2)
    inc.lb(ok.at(0.5), "GET", "/img/logo.svg", 200, "response_from_cache")
    finish(inc, shape="sink", stamp="naive", zone=-7.0, offset=1.4,
           notes="An edge security policy on a CDN backend bucket (enforcedEdgeSecurityPolicy, a geo "
                 "rule: the runner's region is not allowed) denied the download -> cloud_armor_denied. "
                 "Naive JUnit from UTC-7.")


@builder
def iam_denied_with_app_noise() -> None:
    inc = Incident("iam_denied_with_app_noise", T(23, 50, 0.0), service="graphql")
    bad = inc.test("tests/e2e/test_graphql.py::test_query_viewer", 0.3,
                   failure=http_fail(inc, 403, "/graphql"), label="iam_denied")
    t = bad.at(0.5)
    inc.request(t, "POST", "/graphql", 403, app=False, latency=0.001, text=(
        "The request was not authorized to invoke this service. Read more at "
        "https://cloud.google.com/run/docs/securing/authenticating Additional troubleshooting "
        "documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#403"))
    # the public web service, same project, answers a browser 401 with a token line at that moment
    inc.service, keep = "web", inc.service
    with inc.other_client():
        inc.request(ms(t, 30), "GET", "/api/session", 401, ua=BROWSER_UA, ip="81.2.69.160")
        inc.text(ms(t, 31), "auth: request without bearer token (GET /api/session) -> 401")
    inc.service = keep
    finish(inc, shape="jsonl", report="reportlog", offset=-7.3,
           notes="Cloud Run IAM refused the runner's call to the private graphql service (request log "
                 "text, no instance) -> iam_denied. In the same 30 ms the public web service logs a "
                 "missing-token 401 for a browser: another service, another client.")


@builder
def micronaut_logback_500() -> None:
    inc = Incident("micronaut_logback_500", T(22, 48, 0.0), service="payments")
    bad = inc.test("tests/e2e/test_payments.py::test_capture", 0.8,
                   failure=http_fail(inc, 500, "/payments/capture"), label="app_error")
    t = bad.at(0.3)
    inc.request(t, "POST", "/payments/capture", 500, latency=0.41)
    inc.json(ms(t, 400), {
        "@timestamp": (t + timedelta(milliseconds=400)).isoformat(), "@version": "1",
        "message": "Unexpected error occurred: Connection is not available, request timed out after 30000ms.",
        "logger_name": "io.micronaut.http.server.RouteExecutor", "thread_name": "default-nioEventLoopGroup-1-3",
        "level": "ERROR", "level_value": 40000,
        "stack_trace": "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, "
                       "request timed out after 30000ms.\n\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException"
                       "(HikariPool.java:696)\n\tat com.acme.payments.CaptureController.capture(CaptureController.java:41)",
    }, severity="ERROR")
    with inc.other_client():  # a browser's 500 on another route a moment later, with its own error
        inc.request(ms(t, 600), "GET", "/payments/history", 500, ua=BROWSER_UA, ip="81.2.69.160")
        inc.json(ms(t, 601), {"message": "Unexpected error occurred: Index 0 out of bounds for length 0",
                              "logger_name": "io.micronaut.http.server.RouteExecutor", "level": "ERROR"},
                 severity="ERROR")
    finish(inc, shape="pretty", offset=4.0,
           notes="Micronaut with logstash-logback JSON: the capture call's 500 and a Hikari pool timeout "
                 "in stack_trace -> app_error. A browser hits another 500 a moment later.")


@builder
def neighbour_line_not_borrowed() -> None:
    inc = Incident("neighbour_line_not_borrowed", T(6, 6, 6.0), service="rooms")
    a = inc.test("tests/e2e/test_rooms.py::test_ws_join", 0.3, failure=WS403, label="unknown")
    t = a.at(0.5)
    inc.request(t, "GET", "/ws/rooms/7", 403, ua=WS_UA)
    inc.text(ms(t, 1), "WebSocket /ws/rooms/7 403")
    b = inc.test("tests/e2e/test_rooms.py::test_rest_rooms", 0.3,
                 failure=http_fail(inc, 401, "/api/rooms"), label="invalid_jwt", gap=0.4)
    t = b.at(0.5)
    inc.request(t, "GET", "/api/rooms", 401)
    inc.text(ms(t, 1), "auth: rejected GET /api/rooms: jwt expired 3m ago (exp=1795644000)")
    finish(inc, shape="jsonl", stamp="naive", zone=0.0, offset=9.0,
           notes="Two failures 0.7 s apart while the runner clock is 9 s ahead. The WebSocket 403 has only "
                 "a generic 'WebSocket /ws/rooms/7 403' line -> unknown; the REST 401 that follows has an "
                 "expired-token line -> invalid_jwt. The REST line must not be lent to the handshake.")


@builder
def hono_challenge_and_interrupted_run() -> None:
    inc = Incident("hono_challenge_and_interrupted_run", T(5, 5, 5.0), service="events")
    a = inc.test("tests/e2e/test_events.py::test_list_events", 0.3,
                 failure=http_fail(inc, 401, "/api/events"), label="invalid_jwt")
    t = a.at(0.5)
    inc.request(t, "GET", "/api/events", 401)
    inc.text(ms(t, 1), "<-- GET /api/events")
    inc.text(ms(t, 2), 'auth challenge sent: Bearer realm="events", error="invalid_token", '
                       'error_description="token verification failure"')
    inc.text(ms(t, 3), "--> GET /api/events \x1b[33m401\x1b[0m 2ms")
    b = inc.test("tests/e2e/test_events.py::test_stream_events", 30.0, failure="", label="unknown")
    inc.request(b.at(0.01), "GET", "/api/events/stream", 200, latency=29.5)
    inc.text(ms(b.at(0.01), 1), "<-- GET /api/events/stream")
    folder = OUT / inc.name
    finish(inc, shape="gzip", report="reportlog", offset=-0.9,
           notes="Hono: the bearer-auth challenge names error=invalid_token (token verification failure) "
                 "-> invalid_jwt. The runner was killed inside test_stream_events (reportlog ends without "
                 "its call/teardown reports, the stream itself was answered 200): nothing explains it -> unknown.")
    # the runner was killed mid-test: keep only the setup report of the last test, no SessionFinish
    lines = (folder / "report.jsonl").read_text().splitlines()
    keep = [ln for ln in lines if "test_stream_events" not in ln or '"when": "setup"' in ln]
    keep = [ln for ln in keep if "SessionFinish" not in ln]
    (folder / "report.jsonl").write_text("\n".join(keep) + "\n")


@builder
def ambiguous_missing_or_invalid() -> None:
    inc = Incident("ambiguous_missing_or_invalid", T(3, 33, 0.0), service="sinatra-api")
    bad = inc.test("tests/e2e/test_notes.py::test_create_note", 0.3,
                   failure=http_fail(inc, 401, "/notes"), label="unknown")
    t = bad.at(0.5)
    inc.request(t, "POST", "/notes", 401)
    inc.text(ms(t, 1), f'W, [{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d} #1]  WARN -- : halt 401: missing or '
                       'invalid token (POST /notes)')
    inc.text(ms(t, 2), f'{RUNNER_IP} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "POST /notes HTTP/1.1" 401 34 0.0021')
    finish(inc, shape="jsonl", offset=1.9,
           notes="Sinatra helper halts with one message for two causes: 'missing or invalid token'. The "
                 "logs do not say whether a token was sent -> unknown.")


@builder
def casbin_policy_denied() -> None:
    inc = Incident("casbin_policy_denied", T(2, 2, 2.0), service="admin-api")
    bad = inc.test("tests/e2e/test_admin_api.py::test_delete_user", 0.3,
                   failure=http_fail(inc, 403, "/admin/users/17"), label="middleware_rejection")
    t = bad.at(0.5)
    tr = inc.trace()
    inc.request(t, "DELETE", "/admin/users/17", 403, trace=tr)
    inc.json(ms(t, 1), {"level": "warn", "msg": "casbin: request denied by policy",
                        "sub": "e2e-runner@acme.iam", "obj": "/admin/users/17", "act": "DELETE",
                        "logging.googleapis.com/trace": tr}, severity="WARNING", trace=tr)
    inc.json(ms(t, 2), {"level": "info", "msg": "request", "status": 403, "method": "DELETE",
                        "path": "/admin/users/17", "latency": "312µs"}, trace=tr)
    finish(inc, shape="gzip", offset=-2.2,
           notes="Gin + casbin authorization middleware denies the runner's identity by policy "
                 "(authenticated, token fine) -> middleware_rejection.")


@builder
def downstream_429_surfaces_as_500() -> None:
    inc = Incident("downstream_429_surfaces_as_500", T(1, 1, 1.0), service="summarizer")
    bad = inc.test("tests/e2e/test_summarize.py::test_summarize_article", 1.5,
                   failure=http_fail(inc, 500, "/summarize"), label="app_error")
    t = bad.at(0.2)
    inc.request(t, "POST", "/summarize", 500, latency=1.1)
    inc.text(ms(t, 1090), "[2026-11-26 01:01:02 +0000] [1] [ERROR] Exception occurred while handling uri: "
                          f"'https://{inc.run_host}/summarize'\n"
                          "Traceback (most recent call last):\n"
                          '  File "handle_request", line 132, in handle_request\n'
                          '  File "/app/summarizer/routes.py", line 44, in summarize\n'
                          "    resp.raise_for_status()\n"
                          "httpx.HTTPStatusError: Client error '429 Too Many Requests' for url "
                          "'https://llm-gateway.internal.example/v1/complete'", stream="stderr", severity="ERROR")
    finish(inc, shape="sink", offset=3.6,
           notes="Sanic app: a downstream service answered 429 and the app turned it into a 500 with a "
                 "traceback. The failing request is a 500 from our app -> app_error, not rate_limited.")


@builder
def security_test_expected_401_got_200() -> None:
    inc = Incident("security_test_expected_401_got_200", T(0, 20, 0.0), service="vault")
    bad = inc.test("tests/e2e/test_security.py::test_rejects_alg_none_token", 0.4,
                   failure="AssertionError: tampered token was accepted\nassert 200 == 401", label="unknown")
    t = bad.at(0.25)
    inc.request(t, "GET", "/api/secrets", 401)
    inc.text(ms(t, 2), 'WARNING in auth: 401 on GET /api/secrets: {"msg": "Missing Authorization Header"}',
             stream="stderr")
    t = bad.at(0.7)
    inc.request(t, "GET", "/api/secrets", 200)
    finish(inc, shape="gcloud", report="reportlog", offset=0.5,
           notes="A security test first checks that no token gets 401 (it does: 'Missing Authorization "
                 "Header' is the expected behaviour), then that an alg=none token is rejected: the app "
                 "answered 200. The failure is an acceptance, not a rejection; no label fits -> unknown.")


@builder
def trace_mismatch_concurrent_client() -> None:
    inc = Incident("trace_mismatch_concurrent_client", T(21, 0, 0.0), service="wallet")
    bad = inc.test("tests/e2e/test_wallet.py::test_balance", 0.3,
                   failure=http_fail(inc, 401, "/v1/balance"), label="unknown")
    t = bad.at(0.5)
    inc.request(t, "GET", "/v1/balance", 401, trace=inc.trace())
    with inc.other_client():
        tr = inc.trace()
        inc.request(ms(t, 4), "GET", "/v1/balance", 401, ua="okhttp/4.12.0", ip="102.89.40.5", trace=tr)
        inc.json(ms(t, 5), {"severity": "WARNING", "message": "jwt: token is expired",
                            "path": "/v1/balance"}, severity="WARNING", trace=tr)
    finish(inc, shape="pretty", offset=-4.8,
           notes="The runner's 401 has a trace id and no app line carries it; a mobile client's 401 on the "
                 "same path 4 ms later has an app line with its own trace id saying the token expired. "
                 "The trace ids tell the line is not ours -> unknown.")


@builder
def jwt_ok_then_crash() -> None:
    inc = Incident("jwt_ok_then_crash", T(19, 59, 0.0), service="ledger-go")
    bad = inc.test("tests/e2e/test_ledger_go.py::test_monthly_totals", 0.5,
                   failure=http_fail(inc, 500, "/v1/totals?month=2026-11"), label="app_error")
    t = bad.at(0.4)
    tr = inc.trace()
    inc.request(t, "GET", "/v1/totals?month=2026-11", 500, trace=tr, latency=0.05)
    inc.json(ms(t, 1), {"level": "debug", "msg": "jwt verified", "sub": "e2e-runner", "exp_in": "3599s",
                        "aud": "ledger"}, severity="DEBUG", trace=tr)
    inc.text(ms(t, 40), "panic: runtime error: integer divide by zero\n\ngoroutine 118 [running]:\n"
                        "main.monthlyTotals(0xc0001a2000, {0xc00001e0c8, 0x7})\n\t/src/totals.go:57 +0x1d4\n"
                        "net/http.HandlerFunc.ServeHTTP(0xc000010250?, {0x8d4e10?, 0xc0000e01c0?}, 0xc0000f2000?)\n"
                        "\t/usr/local/go/src/net/http/server.go:2220 +0x29", stream="stderr", trace=tr)
    inc.text(ms(t, 41), "http: panic serving 169.254.1.1:48122: runtime error: integer divide by zero",
             stream="stderr")
    finish(inc, shape="gcloud", offset=-1.1,
           notes="Go net/http: the token was verified (DEBUG 'jwt verified'), then the handler panicked "
                 "(integer divide by zero, multi-line stderr) -> app_error. JWT words in the request's "
                 "lines must not outweigh the 500 and the panic.")


@builder
def header_present_origin_refused() -> None:
    inc = Incident("header_present_origin_refused", T(18, 30, 0.0), service="collab")
    bad = inc.test("tests/e2e/test_collab.py::test_ws_from_staging_origin", 0.3, failure=WS403,
                   label="cors_origin")
    t = bad.at(0.5)
    inc.request(t, "GET", "/ws/doc/5", 403, ua=WS_UA)
    inc.text(ms(t, 1), "ws-guard: Authorization header present, but Origin https://staging-web.collab.example "
                       "is not in the allow list [https://collab.example]; closing before accept")
    inc.text(ms(t, 2), f"INFO:     ('{RUNNER_IP}', 0) - \"WebSocket /ws/doc/5\" 403", stream="stderr")
    finish(inc, shape="jsonl", stamp="naive", zone=-4.0, offset=2.4,
           notes="A custom WebSocket guard logs that the Authorization header is present but the Origin is "
                 "not allowed -> cors_origin (the token words are a negation, not a missing token).")


@builder
def iap_allowed_app_rejects_assertion() -> None:
    inc = Incident("iap_allowed_app_rejects_assertion", T(17, 45, 0.0), service="hr-portal")
    bad = inc.test("tests/e2e/test_hr.py::test_org_chart", 0.4,
                   failure=http_fail(inc, 401, "/org-chart", host=inc.host), label="invalid_jwt")
    t = bad.at(0.5)
    tr = inc.trace()
    inc.iap_audit(ms(t, -3), "/org-chart", granted=True, principal="e2e-runner@acme-staging.iam.gserviceaccount.com")
    inc.lb(t, "GET", "/org-chart", 401, "response_sent_by_backend", trace=tr)
    inc.request(ms(t, 2), "GET", "/org-chart", 401, trace=tr)
    inc.json(ms(t, 3), {"severity": "WARNING", "message": "x-goog-iap-jwt-assertion rejected: Token has wrong "
                        "audience /projects/418205519672/global/backendServices/5120937741837716245, expected "
                        "one of ['/projects/418205519672/apps/hr-portal']"}, severity="WARNING", trace=tr)
    finish(inc, shape="pretty", offset=-3.5,
           notes="IAP granted access (audit granted, backend answered); the app verifies IAP's signed header "
                 "with the App Engine-style audience while it runs behind a backend service: wrong audience "
                 "-> invalid_jwt, not iap_denied.")


def main() -> None:
    for fn in BUILDERS:
        fn()
    print(f"wrote {len(BUILDERS)} incidents under {OUT}")


if __name__ == "__main__":
    main()
