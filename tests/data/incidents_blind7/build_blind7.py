"""Build the seventh blind corpus: REST + WebSocket e2e runs on Cloud Run with messy evidence.

Written without reading the engine's rules or correlation. Run: python build_blind7.py
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.incident_builder import BROWSER_UA, UPTIME_UA, Incident

OUT = Path(__file__).resolve().parent
T0 = datetime(2026, 11, 20, 9, 14, 3, 120000, tzinfo=UTC)
MS = timedelta(milliseconds=1)
HTTP401 = "httpx.HTTPStatusError: Client error '401 Unauthorized' for url '{url}'"


def _finish(inc: Incident, shape: str, offset: float, notes: str) -> Path:
    folder = OUT / inc.name
    inc.write_logs(folder, shape)
    inc.write_junit(folder, offset_s=offset)
    inc.write_expected(folder, offset_s=-offset, notes=notes)
    return folder


def spring_jwt_expired() -> None:
    """Spring Security logback JSON: generic message, cause only in stack_trace; untraced."""
    inc = Incident("spring_jwt_stacktrace", T0, service="orders", seed=1)
    ok = inc.test("tests/e2e/test_orders.py::test_list_orders", 0.3)
    inc.passing(ok, "GET", "/api/orders")
    url = f"https://{inc.run_host}/api/orders/42"
    bad = inc.test("tests/e2e/test_orders.py::test_get_order", 0.4,
                   failure=HTTP401.format(url=url), label="invalid_jwt")
    t = bad.at(0.5)
    inc.request(t, "GET", "/api/orders/42", 401)
    inc.json(t - 4 * MS, {
        "@timestamp": "2026-11-20T09:14:03.9Z", "@version": "1",
        "message": "Failed to authenticate since the JWT was invalid",
        "logger_name": "org.springframework.security.oauth2.server.resource.web.authentication.BearerTokenAuthenticationFilter",
        "thread_name": "http-nio-8080-exec-3", "level": "DEBUG", "level_value": 10000,
        "stack_trace": "org.springframework.security.oauth2.server.resource.InvalidBearerTokenException: "
        "An error occurred while attempting to decode the Jwt: Jwt expired at 2026-11-20T09:10:00Z\n"
        "\tat org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider.getJwt(JwtAuthenticationProvider.java:103)\n"
        "Caused by: org.springframework.security.oauth2.jwt.JwtValidationException: "
        "An error occurred while attempting to decode the Jwt: Jwt expired at 2026-11-20T09:10:00Z\n",
    })
    with inc.other_client():
        inc.request(bad.at(0.6), "GET", "/", 200, ua=UPTIME_UA, ip="35.238.10.4")
    inc.health_checks(every=2.0)
    _finish(inc, "gcloud", 4.2, "Spring JwtAuthenticationProvider: Jwt expired, only in stack_trace")


def express_armor_and_ratelimit() -> None:
    """Behind an HTTPS LB: Cloud Armor denies one test (LB only), express-rate-limit 429s another."""
    inc = Incident("express_armor_ratelimit", T0 + timedelta(minutes=7), service="shop", seed=2)
    ok = inc.test("tests/e2e/test_shop.py::test_catalog", 0.25)
    inc.lb(ok.at(0.5), "GET", "/api/catalog", 200, "response_sent_by_backend")
    denied = inc.test("tests/e2e/test_shop.py::test_search_sqlish", 0.3,
                      failure="httpx.HTTPStatusError: Client error '403 Forbidden' for url "
                      f"'https://{inc.host}/api/search?q=1%27%20OR%201=1'", label="cloud_armor_denied")
    inc.lb(denied.at(0.4), "GET", "/api/search?q=1%27%20OR%201=1", 403, "denied_by_security_policy",
           policy={"name": "shop-edge-policy", "priority": 1000, "configuredAction": "DENY",
                   "outcome": "DENY", "preconfiguredExprIds": ["owasp-crs-v030301-id942100-sqli"]})
    limited = inc.test("tests/e2e/test_shop.py::test_checkout_burst", 0.6,
                       failure="AssertionError: assert 429 == 201", label="rate_limited")
    for i in range(3):
        t = limited.at(0.2 + 0.2 * i)
        status = 201 if i < 2 else 429
        tr = inc.trace()
        inc.lb(t, "POST", "/api/checkout", status, "response_sent_by_backend", trace=tr)
        inc.request(t + 2 * MS, "POST", "/api/checkout", status, trace=tr)
    inc.json(limited.at(0.62), {"level": "warn", "msg": "express-rate-limit: limit exceeded",
                                 "limiter": "checkout", "key": "34.123.77.201", "limit": 2,
                                 "windowMs": 60000, "status": 429})
    with inc.other_client():
        inc.lb(limited.at(0.5), "GET", "/", 403, "denied_by_security_policy", ua=BROWSER_UA,
               ip="81.2.69.160", policy={"name": "shop-edge-policy", "priority": 900,
                                         "configuredAction": "DENY", "outcome": "DENY"})
    _finish(inc, "jsonl", -3.1, "Cloud Armor DENY (LB only) + express-rate-limit 429")


def django_unauthorized_no_reason() -> None:
    """django.request 'Unauthorized' only; DRF detail not logged: unknown between jwt causes."""
    inc = Incident("django_unauthorized_bare", T0 + timedelta(minutes=15), service="crm", seed=3)
    ok = inc.test("tests/e2e/test_contacts.py::test_health", 0.1)
    inc.passing(ok, "GET", "/healthz")
    url = f"https://{inc.run_host}/api/contacts/"
    bad = inc.test("tests/e2e/test_contacts.py::test_list_contacts", 0.3,
                   failure=HTTP401.format(url=url), label="unknown")
    t = bad.at(0.5)
    inc.request(t, "GET", "/api/contacts/", 401)
    inc.text(t - 3 * MS, "WARNING django.request Unauthorized: /api/contacts/",
             stream="stderr")
    with inc.other_client():
        inc.request(bad.at(0.55), "GET", "/admin/login/", 500, ua=BROWSER_UA, ip="90.4.11.3")
    _finish(inc, "pretty", 2.4, "Django 'Unauthorized:' without reason: missing vs invalid token undecidable")


def go_wrong_revision() -> None:
    """App logs in the export come from another service on the same path; the failing one has none."""
    inc = Incident("go_logs_from_other_service", T0 + timedelta(minutes=22), service="ledger", seed=4)
    ok = inc.test("tests/e2e/test_ledger.py::test_balance", 0.2)
    inc.passing(ok, "GET", "/v1/balance")
    bad = inc.test("tests/e2e/test_ledger.py::test_post_entry", 0.3,
                   failure="AssertionError: expected 201, got 401", label="unknown")
    t = bad.at(0.5)
    inc.request(t, "POST", "/v1/entries", 401)
    other = inc.json(t + 8 * MS, {"level": "warn", "msg": "auth: token is expired",
                                  "path": "/v1/entries", "method": "POST", "status": 401})
    other["resource"]["labels"].update(service_name="ledger-canary", configuration_name="ledger-canary",
                                       revision_name="ledger-canary-00003-wiq")
    other["labels"] = {"instanceId": "00f46b9" + "c" * 60}
    inc.foreign.append(other["insertId"])
    _finish(inc, "sink", 5.5, "only app line is ledger-canary's, not the failing ledger service")


def fastapi_param_ws() -> None:
    """Parametrized and class-based test names; cause in structlog ws_auth_failed expired_signature."""
    inc = Incident("fastapi_param_ws", T0 + timedelta(minutes=30), service="chat", seed=5)
    ok = inc.test("tests/e2e/test_chat.py::TestChat::test_history", 0.2)
    inc.passing(ok, "GET", "/api/history")
    fail = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"
    for tid in ("tests/e2e/test_chat.py::test_ws[chrome-1]", "tests/e2e/test_chat.py::TestChat::test_send"):
        bad = inc.test(tid, 0.35, failure=fail, label="invalid_jwt", gap=0.3)
        t = bad.at(0.4)
        tr = inc.trace()
        inc.request(t, "GET", "/ws", 403, ua="Python/3.12 websockets/15.0.1", trace=tr)
        inc.json(t - 2 * MS, {"event": "ws_auth_failed", "reason": "expired_signature",
                              "path": "/ws", "level": "warning"})
        inc.text(t - MS, 'INFO:     34.123.77.201:0 - "WebSocket /ws" 403')
    with inc.other_client():
        inc.request(inc.cursor - timedelta(seconds=0.2), "GET", "/ws", 403, ua=BROWSER_UA,
                    ip="77.12.3.9")
    _finish(inc, "gzip", 6.8, "PyJWT ExpiredSignatureError via structlog reason=expired_signature")


def iam_short_text() -> None:
    """Cloud Run IAM invoker 403 with the short text, no app log."""
    inc = Incident("iam_short_text", T0 + timedelta(minutes=41), service="reports", seed=6)
    ok = inc.test("tests/e2e/test_reports.py::test_public_status", 0.2)
    inc.passing(ok, "GET", "/status")
    url = f"https://{inc.run_host}/api/reports"
    bad = inc.test("tests/e2e/test_reports.py::test_generate", 0.3,
                   failure=f"httpx.HTTPStatusError: Client error '403 Forbidden' for url '{url}'",
                   label="iam_denied")
    inc.request(bad.at(0.5), "POST", "/api/reports", 403, app=False, latency=0.001,
                text="The request was not authorized to invoke this service. "
                "Read more at https://cloud.google.com/run/docs/securing/authenticating")
    with inc.other_client():
        inc.request(bad.at(0.6), "GET", "/", 200, ua=UPTIME_UA, ip="35.199.66.1")
    _finish(inc, "jsonl", 3.0, "Cloud Run IAM invoker, short text, no app log")


def two_causes_by_trace_in_stdout() -> None:
    """Two 401s in the same second; untraced app lines; trace ids printed in the tests' system-out."""
    inc = Incident("two_causes_trace_in_stdout", T0 + timedelta(minutes=50), service="notes", seed=7)
    a = inc.test("tests/e2e/test_notes.py::test_create_note", 0.2,
                 failure="AssertionError: assert 401 == 201", label="missing_jwt")
    # pytest-xdist: two workers run both tests at once, so time cannot tell their requests apart
    b = inc.test("tests/e2e/test_notes.py::test_share_note", 0.2,
                 failure="AssertionError: assert 401 == 200", label="invalid_jwt", gap=-0.19)
    outs = {}
    for case, frac, message in ((a, 0.55, "auth: missing bearer token"),
                                (b, 0.35, "auth: token signature is invalid")):
        t = case.at(frac)
        tr = inc.trace()
        inc.request(t, "POST", "/api/notes", 401, trace=tr)
        inc.json(t + MS, {"message": message, "severity": "WARNING"}, trace=tr, severity="WARNING")
        tid = tr.rsplit("/", 1)[1]
        outs[case.nodeid.split("::")[1]] = f"POST /api/notes -> 401 X-Cloud-Trace-Context: {tid}/123;o=1\n"
    with inc.other_client():
        inc.request(a.at(0.6), "POST", "/api/notes", 401, ua=BROWSER_UA, ip="62.1.2.3")
    folder = _finish(inc, "gcloud", -2.6, "xdist: missing vs invalid token same second; only system-out trace ids split them")
    junit = folder / "junit.xml"
    xml = junit.read_text()
    for name, out in outs.items():
        head = f'name="{name}"'
        i = xml.index(head)
        j = xml.index("</testcase>", i)
        xml = xml[:j] + f"<system-out>{out}</system-out>" + xml[j:]
    junit.write_text(xml)


def export_misses_window() -> None:
    """The export was read for the wrong hour: a 500 earlier that day, nothing in the run's window."""
    inc = Incident("export_misses_window", T0 + timedelta(hours=2), service="billing", seed=8)
    early = Incident("export_misses_window", T0 - timedelta(hours=1), service="billing", seed=8)
    tr = early.trace()
    early.request(early.start, "POST", "/api/invoices", 500, trace=tr)
    early.text(early.start + 3 * MS, "panic: runtime error: invalid memory address or nil pointer "
               "dereference", stream="stderr", trace=tr, severity="ERROR")
    early.health_checks(every=5.0)
    inc.test("tests/e2e/test_billing.py::test_list_invoices[eur]", 0.2)
    inc.test("tests/e2e/test_billing.py::test_create_invoice[eur]", 0.4,
             failure="AssertionError: assert 500 == 201", label="unknown")
    folder = OUT / inc.name
    inc.write_logs(folder, "jsonl", early.entries)
    inc.write_junit(folder, offset_s=2.0)
    inc.write_expected(folder, offset_s=-2.0, notes="export covers an hour before the run: nothing in the window")


def main() -> None:
    for child in OUT.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
    for build in (spring_jwt_expired, express_armor_and_ratelimit, django_unauthorized_no_reason,
                  go_wrong_revision, fastapi_param_ws, iam_short_text, two_causes_by_trace_in_stdout, export_misses_window):
        build()


if __name__ == "__main__":
    main()
