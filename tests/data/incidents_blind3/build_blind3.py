"""Build the third blind incident corpus: correlation messiness over wording.

Written without reading the engine's rules, classifier or correlation code, on
tests/incident_builder.py. Each incident is a folder with the run's test report(s), ``logs/`` in
one of the export shapes people hand over, and ``expected.json`` with the label a careful engineer
reads from the logs for every failed test (``unknown`` when the logs do not decide).

Run ``python tests/data/incidents_blind3/build_blind3.py`` to rewrite the folders.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.incident_builder import (
    BROWSER_UA,
    RUNNER_IP,
    WS_UA,
    Incident,
    TestCase,
)

OUT = Path(__file__).resolve().parent
WS403 = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"
OTHER_IP = "203.0.113.77"


def at(h: int, m: int, s: int) -> datetime:
    return datetime(2026, 11, 19, h, m, s, 250000, tzinfo=UTC)


def ms(t: datetime, n: float) -> datetime:
    return t + timedelta(milliseconds=n)


def fill(inc: Incident, module: str, n: int, path: str = "/api/health/deep", dur: float = 0.3) -> None:
    """``n`` passing tests, each with one runner request answered 200 (and an app access line)."""
    for i in range(n):
        case = inc.test(f"{module}::test_ok_{i:02d}", dur)
        inc.passing(case, "GET", f"{path}/{i}" if "{" not in path else path.format(i=i))


# writers the builder lacks ---------------------------------------------------------------------
def write_junit_errors(inc: Incident, folder: Path, setup_errors: set[str]) -> None:
    """A pytest-8 JUnit (aware timestamp) where ``setup_errors`` tests errored in a fixture."""
    first = inc.tests[0].start
    total = (inc.tests[-1].start - first).total_seconds() + inc.tests[-1].duration
    cases = []
    for c in inc.tests:
        module, _, name = c.nodeid.partition("::")
        classname = module.removesuffix(".py").replace("/", ".")
        head = f'<testcase classname={quoteattr(classname)} name={quoteattr(name)} time="{c.duration:.3f}"'
        if c.nodeid in setup_errors:
            msg = f'failed on setup with "{c.failure}"'
            cases.append(f"{head}><error message={quoteattr(msg)}>{escape(c.text)}</error></testcase>")
        elif c.failure:
            cases.append(f"{head}><failure message={quoteattr(c.failure)}>{escape(c.text)}</failure></testcase>")
        else:
            cases.append(head + " />")
    errs = len(setup_errors)
    fails = sum(1 for c in inc.tests if c.failure) - errs
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        f'<testsuite name="pytest" errors="{errs}" failures="{fails}" skipped="0" tests="{len(inc.tests)}" '
        f'time="{total:.3f}" timestamp="{first.isoformat()}" hostname="gha-runner-7">'
        + "".join(cases)
        + "</testsuite></testsuites>\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "junit.xml").write_text(xml)


def write_json_report(inc: Incident, folder: Path, offset_s: float = 0.0) -> None:
    """A pytest-json-report file (``--json-report``): ``created`` is written at session end."""
    first = inc.tests[0].start
    end = inc.tests[-1].start + timedelta(seconds=inc.tests[-1].duration + 0.05)
    tests = []
    for c in inc.tests:
        path, _, _ = c.nodeid.partition("::")
        call: dict = {"duration": c.duration, "outcome": "failed" if c.failure else "passed"}
        if c.failure:
            call["crash"] = {"path": f"/builds/app/{path}", "lineno": c.line, "message": c.failure}
            call["traceback"] = [{"path": path, "lineno": c.line, "message": c.failure.split(":")[0]}]
            call["longrepr"] = c.text
        tests.append(
            {
                "nodeid": c.nodeid,
                "lineno": c.line,
                "outcome": "failed" if c.failure else "passed",
                "keywords": [c.nodeid.split("::")[-1], path.rsplit("/", 1)[-1], "e2e"],
                "setup": {"duration": 0.0006, "outcome": "passed"},
                "call": call,
                "teardown": {"duration": 0.0004, "outcome": "passed"},
            }
        )
    failed = sum(1 for c in inc.tests if c.failure)
    data = {
        "created": end.timestamp() + offset_s,
        "duration": (end - first).total_seconds() + 1.4,
        "exitcode": 1,
        "root": "/builds/app",
        "environment": {"Python": "3.12.7", "Platform": "Linux-6.8.0-x86_64-with-glibc2.39"},
        "summary": {"passed": len(inc.tests) - failed, "failed": failed, "total": len(inc.tests), "collected": len(inc.tests)},
        "collectors": [],
        "tests": tests,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(data, indent=2) + "\n")


def finish(inc: Incident, folder: Path, notes: str, *, offset_s: float = 0.0) -> None:
    inc.write_expected(folder, offset_s=offset_s, notes=notes)


# (a) the seed's story in a Node `ws` server's words, decisions without trace ids ----------------
def ws_untraced_decisions_two_instances() -> None:
    name = "ws_untraced_decisions_two_instances"
    folder = OUT / name
    inc = Incident(name, at(9, 4, 10), service="realtime", host="app.staging.example.dev")
    inst_a, inst_b = inc.instance, inc.hex(96)
    inc.health_checks(every=2.0)
    mod = "tests/e2e/test_realtime_staging.py"
    for i in range(4):
        case = inc.test(f"{mod}::test_rest_ok_{i}", 0.4)
        inc.passing(case, "GET", f"/api/rooms/{i}")
    plan = [("test_socket_connects", inst_a), ("test_socket_event_flow", inst_b),
            ("test_socket_concurrent_clients", inst_a), ("test_agent_stream_over_socket", inst_b)]
    for k, (test, inst) in enumerate(plan):
        case = inc.test(f"{mod}::{test}", 0.9, failure=WS403, label="invalid_jwt")
        t = case.at(0.3)
        inc.instance = inst
        inc.request(t, "GET", "/ws/v1/stream", 403, ua=WS_UA, latency=0.009)
        inc.json(ms(t, 3), {"level": "warn", "time": int(ms(t, 3).timestamp() * 1000), "pid": 1,
                             "hostname": "localhost", "msg": "upgrade refused",
                             "reason": "jwt verify failed: invalid signature", "path": "/ws/v1/stream",
                             "code": 403}, severity="WARNING")
        # a browser on another IP is refused on the same path a few ms later, on the other instance
        # for k even, on the same instance for k odd: its decision line names the origin
        inc.instance = inst_b if k % 2 == 0 else inst
        with inc.other_client():
            tb = ms(t, 40 + 15 * k)
            inc.request(tb, "GET", "/ws/v1/stream", 403, ua=BROWSER_UA, ip=OTHER_IP, latency=0.007)
            inc.json(ms(tb, 2), {"level": "warn", "time": int(ms(tb, 2).timestamp() * 1000), "pid": 1,
                                  "hostname": "localhost", "msg": "upgrade refused",
                                  "reason": "origin https://preview-pr-311.example.dev not in allowlist",
                                  "path": "/ws/v1/stream", "code": 403}, severity="WARNING")
        inc.instance = inst_a
    for i in range(3):
        case = inc.test(f"{mod}::test_rest_after_{i}", 0.3)
        inc.passing(case, "GET", "/api/me")
    inc.write_reportlog(folder)
    inc.write_logs(folder, "sink")
    finish(inc, folder, "Node ws server (pino JSON, no trace ids) on two instances. Each runner handshake "
           "is followed within 3 ms, on the same instance, by 'upgrade refused ... jwt verify failed: "
           "invalid signature'. A browser from 203.0.113.77 is refused on the same path 40-85 ms later "
           "with an origin-allowlist reason; its lines are foreign. Runner failures: invalid_jwt.")


# (b) runner 7 s behind, JUnit only, many passing tests ----------------------------------------
def django_clock_behind_junit_only() -> None:
    name = "django_clock_behind_junit_only"
    folder = OUT / name
    inc = Incident(name, at(10, 21, 3), service="orders", host="orders.staging.example.dev")
    inc.health_checks(every=3.0)
    mod = "tests/e2e/test_orders_api.py"
    failing = {5: "/api/v1/orders/", 13: "/api/v1/invoices/", 21: "/api/v1/orders/export/"}
    for i in range(26):
        if i in failing:
            path = failing[i]
            case = inc.test(f"{mod}::test_list_{i:02d}", 0.45,
                            failure="AssertionError: assert 401 == 200",
                            text=f"E   AssertionError: assert 401 == 200\nE    +  where 401 = <Response [401 Unauthorized]>.status_code\n"
                                 f"    GET https://orders.staging.example.dev{path}",
                            label="missing_jwt")
            t = case.at(0.5)
            tr = inc.trace()
            inc.request(t, "GET", path, 401, trace=tr, latency=0.021)
            inc.text(ms(t, 4), f"WARNING 2026-11-19 10:21 orders.auth: no Authorization header on request "
                               f"{path}; authentication credentials were not provided", stream="stderr")
            inc.text(ms(t, 5), f"WARNING django.request: Unauthorized: {path}", stream="stderr")
        else:
            case = inc.test(f"{mod}::test_list_{i:02d}", 0.3 + 0.01 * (i % 5))
            inc.passing(case, "GET", f"/api/v1/catalog/{i}/",
                        access='INFO "{method} {path} HTTP/1.1" {status}')
    inc.write_junit(folder, offset_s=-7.0, stamp="aware", zone_hours=-5)
    inc.write_logs(folder, "gcloud")
    finish(inc, folder, "Django behind Cloud Run; runner clock 7 s behind, JUnit only (aware -05:00). Three "
           "401s on the runner's requests, each followed by the app's 'no Authorization header ... credentials "
           "were not provided' line (stderr, no trace). 23 passing tests with 200s in between; alignment by "
           "request order is needed. missing_jwt.", offset_s=7.0)


# (c) naive JUnit timestamp in UTC+09:00, Spring ------------------------------------------------
def spring_naive_tokyo_junit() -> None:
    name = "spring_naive_tokyo_junit"
    folder = OUT / name
    inc = Incident(name, at(3, 40, 51), service="gateway", host="gw.staging.example.jp")
    inc.health_checks(every=2.0, path="/actuator/health")
    mod = "tests/e2e/test_gateway_ws.py"
    for i in range(6):
        case = inc.test(f"{mod}::TestBoot::test_ok_{i}", 0.25)
        inc.passing(case, "GET", f"/api/profile/{i}")
    for test in ("test_subscribe_quotes", "test_subscribe_orders"):
        case = inc.test(f"{mod}::TestStomp::{test}", 0.8, failure=WS403, label="invalid_jwt")
        t = case.at(0.4)
        tr = inc.trace()
        inc.request(t, "GET", "/stomp/websocket", 403, ua=WS_UA, trace=tr)
        inc.json(ms(t, 6), {"@timestamp": (ms(t, 6)).isoformat(), "level": "WARN",
                             "logger_name": "o.s.s.o.s.r.a.JwtAuthenticationProvider",
                             "thread_name": "http-nio-8080-exec-4",
                             "message": "Failed to authenticate since the JWT was invalid: An error occurred "
                                        "while attempting to decode the Jwt: Signed JWT rejected: Invalid signature"},
                 severity="WARNING", trace=tr)
    for i in range(3):
        case = inc.test(f"{mod}::TestTail::test_ok_{i}", 0.2)
        inc.passing(case, "GET", "/api/quotes")
    inc.write_junit(folder, stamp="naive", zone_hours=9)
    inc.write_logs(folder, "jsonl")
    finish(inc, folder, "Spring Security resource server (logstash JSON with trace). JUnit from pytest 7 with a "
           "naive timestamp in the runner's local zone UTC+09:00 (log clock UTC). invalid_jwt.")


# (d) two causes interleaved among concurrent tests, told apart by path only --------------------
def concurrent_ws_and_api_causes() -> None:
    name = "concurrent_ws_and_api_causes"
    folder = OUT / name
    inc = Incident(name, at(11, 2, 30), service="hub", host="hub.staging.example.dev")
    inc.health_checks(every=1.0)
    mod = "tests/e2e/test_hub_parallel.py"
    base = inc.start + timedelta(seconds=1)
    spec = [  # (offset s, test, kind)
        (0.00, "test_ws_presence[gw0]", "ws"), (0.05, "test_api_rooms[gw1]", "api"),
        (0.11, "test_ws_typing[gw2]", "ws"), (0.13, "test_api_messages[gw3]", "api"),
        (0.90, "test_ws_reconnect[gw0]", "ws"), (0.93, "test_api_members[gw1]", "api"),
        (0.95, "test_api_search[gw2]", "api"), (0.98, "test_ws_history[gw3]", "ws"),
    ]
    for off, test, kind in spec:
        label = "missing_bypass_header" if kind == "ws" else "middleware_rejection"
        failure = WS403 if kind == "ws" else "httpx.HTTPStatusError: Client error '403 Forbidden' for url"
        case = TestCase(f"{mod}::{test}", base + timedelta(seconds=off), 0.7, failure,
                        f"E   {failure}", 12)
        inc.tests.append(case)
        inc.expected[case.nodeid] = label
    inc.cursor = base + timedelta(seconds=2)
    # requests and decisions interleave: 4 ms apart, no trace ids on the app lines
    for case in inc.tests:
        t = case.at(0.2)
        if "test_ws_" in case.nodeid:
            path = "/ws/hub"
            inc.request(t, "GET", path, 403, ua=WS_UA, latency=0.004)
            inc.text(ms(t, 2), f"2026/11/19 11:02:31 ws: upgrade refused for {path}: X-E2E-Bypass header "
                               "absent on upgrade request", stream="stderr")
        else:
            path = "/api/" + case.nodeid.split("test_api_")[1].split("[")[0]
            inc.request(t, "POST", path, 403, latency=0.006)
            inc.text(ms(t, 2), f"2026/11/19 11:02:31 tenantguard: deny POST {path}: tenant \"e2e-7\" is "
                               "suspended (policy tenant-active)", stream="stderr")
    inc.tests.sort(key=lambda c: c.start)
    inc.write_reportlog(folder)
    inc.write_logs(folder, "gzip")
    finish(inc, folder, "Go service, pytest-xdist with 4 workers: 8 tests overlap in time. /ws/hub handshakes are "
           "refused for a missing E2E bypass header, /api/* calls by a tenant guard (suspended tenant); lines "
           "are 2 ms after each request, no trace ids, interleaved. Only the path tells them apart.")


# (e) only the request log exported -----------------------------------------------------------
def request_log_only_export() -> None:
    name = "request_log_only_export"
    folder = OUT / name
    inc = Incident(name, at(12, 15, 0), service="chat", host="chat.staging.example.dev")
    inc.health_checks(every=2.0)
    mod = "tests/e2e/test_chat_staging.py"
    for i in range(3):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3)
        inc.passing(case, "GET", f"/api/threads/{i}")
    for test in ("test_ws_connect", "test_ws_events"):
        case = inc.test(f"{mod}::{test}", 0.6, failure=WS403, label="unknown")
        inc.request(case.at(0.4), "GET", "/ws", 403, ua=WS_UA)
    case = inc.test(f"{mod}::test_create_thread", 0.7,
                    failure="AssertionError: expected 201, got 500 Internal Server Error", label="unknown")
    inc.request(case.at(0.5), "POST", "/api/threads", 500, latency=0.312)
    case = inc.test(f"{mod}::test_upload_attachment", 0.7,
                    failure="AssertionError: expected 201, got 503 Service Unavailable", label="unknown")
    inc.request(case.at(0.5), "POST", "/api/attachments", 503, latency=0.0, app=False)
    inc.write_reportlog(folder)
    inc.write_logs(folder, "jsonl", [e for e in inc._sorted() if "requests" in e["logName"]])
    finish(inc, folder, "Export holds only run.googleapis.com/requests. The 403 handshakes have no app line "
           "to tell the cause: unknown. The 500 (answered by an instance in 0.3 s) and the 503 (no instance "
           "label, zero latency: could be Cloud Run itself) have no error log either: TAXONOMY's app_error "
           "needs the 5xx entry AND the error log. A 5xx alone says the request failed server-side, not why "
           "(a 503 may be the platform, a 500 may be a proxy or a deliberate status), so a careful engineer "
           "reports unknown and asks for the app's stdout/stderr for that window.")


# (f) Cloud Armor in preview mode, app rejects the JWT -----------------------------------------
def armor_preview_app_rejects_jwt() -> None:
    name = "armor_preview_app_rejects_jwt"
    folder = OUT / name
    inc = Incident(name, at(13, 30, 12), service="billing", host="billing.staging.example.dev")
    mod = "tests/e2e/test_billing.py"
    enforced = {"name": "billing-policy", "priority": 2147483647, "configuredAction": "ALLOW", "outcome": "ACCEPT"}
    preview = {"name": "billing-policy", "priority": 1000, "configuredAction": "DENY", "outcome": "DENY"}
    for i in range(3):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3)
        t, tr = case.at(0.5), inc.trace()
        inc.lb(t, "GET", f"/v1/plans/{i}", 200, "response_sent_by_backend", trace=tr, policy=enforced)
        inc.request(ms(t, 2), "GET", f"/v1/plans/{i}", 200, trace=tr)
    for test in ("test_create_invoice", "test_refund"):
        case = inc.test(f"{mod}::{test}", 0.5,
                        failure="AssertionError: assert 401 == 201", label="invalid_jwt")
        t, tr = case.at(0.5), inc.trace()
        inc.lb(t, "POST", "/v1/invoices", 401, "response_sent_by_backend", trace=tr, policy=enforced,
               extra={"previewSecurityPolicy": preview})
        inc.request(ms(t, 2), "POST", "/v1/invoices", 401, trace=tr)
        inc.json(ms(t, 4), {"level": "error", "ts": ms(t, 4).timestamp(), "caller": "auth/middleware.go:88",
                             "msg": "bearer token rejected",
                             "error": "token has invalid claims: token is expired"},
                 severity="WARNING", trace=tr)
    inc.write_reportlog(folder)
    inc.write_logs(folder, "sink")
    finish(inc, folder, "External ALB with Cloud Armor rule 1000 in preview: previewSecurityPolicy outcome DENY "
           "but enforcedSecurityPolicy ACCEPT, statusDetails response_sent_by_backend. The Go app (zap) logs "
           "'bearer token rejected: token is expired' with the trace. invalid_jwt, not cloud_armor_denied.")


# (g) IAP denial in the audit log only --------------------------------------------------------
def iap_audit_only() -> None:
    name = "iap_audit_only"
    folder = OUT / name
    inc = Incident(name, at(14, 5, 40), service="admin", host="admin.staging.example.dev")
    mod = "tests/e2e/test_admin_console.py"
    sa = "e2e-runner@acme-staging.iam.gserviceaccount.com"
    for i in range(3):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3)
        inc.iap_audit(case.at(0.4), f"/admin/users/{i}", granted=True, principal=sa)
    for test in ("test_export_users", "test_audit_trail"):
        case = inc.test(f"{mod}::{test}", 0.4, failure="AssertionError: assert 403 == 200\n  body: "
                        "'Access denied. You do not have access to this resource.'", label="iap_denied")
        inc.iap_audit(case.at(0.4), "/admin/export", granted=False, principal=sa)
        with inc.other_client():
            inc.iap_audit(case.at(0.6), "/admin/export", granted=False, principal="guest@gmail.com", ip=OTHER_IP)
    inc.write_reportlog(folder)
    inc.write_logs(folder, "gcloud")
    finish(inc, folder, "Only IAP data_access audit entries were exported (protoPayload AuthorizeUser, no LB "
           "entry, no request log). The runner's service account is denied on /admin/export; a guest from "
           "another IP is denied too (foreign). iap_denied.")


# (h) runner's identity token expired mid-run --------------------------------------------------
def iam_token_expired_midrun() -> None:
    name = "iam_token_expired_midrun"
    folder = OUT / name
    inc = Incident(name, at(15, 0, 2), service="reports", host="reports.staging.example.dev")
    mod = "tests/e2e/test_reports.py"
    text = ("The request was not authorized to invoke this service. Read more at "
            "https://cloud.google.com/run/docs/securing/authenticating Additional troubleshooting "
            "documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#unauthorized-client")
    for i in range(10):
        if i < 5:
            case = inc.test(f"{mod}::test_report_{i}", 0.4)
            inc.passing(case, "GET", f"/reports/{i}")
        else:
            case = inc.test(f"{mod}::test_report_{i}", 0.1, failure="AssertionError: assert 403 == 200",
                            label="iam_denied")
            inc.request(case.at(0.5), "GET", f"/reports/{i}", 403, text=text, app=False, latency=0.001)
    inc.write_reportlog(folder)
    inc.write_logs(folder, "pretty")
    finish(inc, folder, "Cloud Run IAM invoker check: the first five tests pass, then the runner's identity "
           "token expires and every request gets a request-log 403 'not authorized to invoke this service' "
           "with no instance label and no app line. iam_denied.")


# (i) crash loop: the instance could not start -------------------------------------------------
def crash_loop_503() -> None:
    name = "crash_loop_503"
    folder = OUT / name
    inc = Incident(name, at(15, 20, 0), service="search", host="search.staging.example.dev")
    mod = "tests/e2e/test_search.py"
    inc.text(inc.start - timedelta(seconds=3), "Traceback (most recent call last):\n  File \"/app/main.py\", "
             "line 4, in <module>\n    from search.index import build\nModuleNotFoundError: No module named "
             "'search.index'", stream="stderr", severity="ERROR")
    inc.system(inc.start - timedelta(seconds=2.9), "Container called exit(1).", severity="WARNING")
    for test in ("test_query", "test_suggest", "test_facets"):
        case = inc.test(f"{mod}::{test}", 1.2, failure="AssertionError: assert 503 == 200",
                        label="app_error")
        t = case.at(0.3)
        inc.request(t, "GET", "/search?q=e2e", 503, latency=0.9, app=False,
                    text="The request failed because the instance could not start successfully.")
        inc.text(ms(t, 300), "Traceback (most recent call last):\n  File \"/app/main.py\", line 4, in <module>\n"
                 "    from search.index import build\nModuleNotFoundError: No module named 'search.index'",
                 stream="stderr", severity="ERROR")
        inc.system(ms(t, 320), "Container called exit(1).", severity="WARNING")
        inc.system(ms(t, 330), "Default STARTUP TCP probe failed 1 time consecutively for container "
                               "\"search-1\" on port 8080. The instance was not started.", severity="ERROR")
    inc.write_reportlog(folder)
    inc.write_logs(folder, "gzip")
    finish(inc, folder, "Crash loop: each request gets Cloud Run's 503 'instance could not start successfully'; "
           "the container's stderr shows ModuleNotFoundError at import and the system log 'Container called "
           "exit(1)'. The app failed: app_error.")


# (j) 429 from an Express app with a Retry-After line ------------------------------------------
def express_rate_limit_retry_after() -> None:
    name = "express_rate_limit_retry_after"
    folder = OUT / name
    inc = Incident(name, at(8, 44, 9), service="notify", host="notify.staging.example.dev")
    mod = "tests/e2e/test_notifications.py"
    for i in range(8):
        case = inc.test(f"{mod}::test_send_{i}", 0.15)
        inc.passing(case, "POST", "/api/notifications")
    for i in (8, 9, 10):
        case = inc.test(f"{mod}::test_send_{i}", 0.2, failure="AssertionError: assert 429 == 202",
                        label="rate_limited")
        t = case.at(0.5)
        inc.request(t, "POST", "/api/notifications", 429, latency=0.003)
        inc.json(ms(t, 1), {"level": 40, "time": int(ms(t, 1).timestamp() * 1000), "pid": 7,
                             "hostname": "localhost", "req": {"method": "POST", "url": "/api/notifications"},
                             "res": {"statusCode": 429, "headers": {"retry-after": "42",
                                                                     "ratelimit-policy": "8;w=60"}},
                             "msg": "express-rate-limit: limit of 8 per 60s reached for key 34.123.77.201; "
                                    "sending Retry-After: 42"}, severity="WARNING")
    inc.write_reportlog(folder)
    inc.write_logs(folder, "jsonl")
    finish(inc, folder, "Express with express-rate-limit (pino JSON, no trace): after eight calls the runner's "
           "posts get 429 and a 'limit ... reached ... Retry-After: 42' line. rate_limited.")


# (k) JUnit + reportlog of one session, export given twice ------------------------------------
def duplicated_reports_and_exports() -> None:
    name = "duplicated_reports_and_exports"
    folder = OUT / name
    inc = Incident(name, at(16, 2, 44), service="web", host="web.staging.example.dev")
    inc.health_checks(every=2.0)
    mod = "tests/e2e/test_live_updates.py"
    chrome = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "HeadlessChrome/141.0.0.0 Safari/537.36")
    for i in range(4):
        case = inc.test(f"{mod}::test_page_{i}", 0.6)
        inc.passing(case, "GET", f"/app/page/{i}", ua=chrome)
    for test in ("test_live_feed", "test_live_cursor"):
        case = inc.test(f"{mod}::{test}", 1.1, failure="playwright._impl._errors.Error: WebSocket closed: "
                        "Unexpected response code: 403", label="cors_origin")
        t, tr = case.at(0.5), inc.trace()
        inc.request(t, "GET", "/ws/live", 403, ua=chrome, trace=tr)
        inc.text(ms(t, 3), "WARNING:  origin_check: rejected WebSocket from Origin 'http://127.0.0.1:4173' "
                           "(allowed: https://web.staging.example.dev)", trace=tr, severity="WARNING")
        inc.text(ms(t, 4), "INFO:     ('169.254.1.1', 41234) - \"WebSocket /ws/live\" 403")
        inc.text(ms(t, 5), "INFO:     connection rejected (403 Forbidden)")
    inc.write_junit(folder, offset_s=0.4)
    inc.write_reportlog(folder, offset_s=0.4)
    inc.write_logs(folder, "jsonl")
    rows = inc._sorted()
    cut = len(rows) // 3
    blob = "".join(json.dumps(e) + "\n" for e in rows[cut:])
    second = folder / "logs" / "second-pull"
    second.mkdir(parents=True, exist_ok=True)
    (second / "entries-again.jsonl.gz").write_bytes(gzip.compress(blob.encode(), mtime=0))
    finish(inc, folder, "Playwright run reported twice (JUnit and reportlog of the same session) and the export "
           "pulled twice (the second gzip'd pull overlaps the last two thirds). uvicorn app with an origin check "
           "naming the rejected Origin. cors_origin; each failure must be answered once.", offset_s=-0.4)


# (l) pytest-json-report as the only report, Django Channels ---------------------------------
def channels_json_report_only() -> None:
    name = "channels_json_report_only"
    folder = OUT / name
    inc = Incident(name, at(6, 12, 33), service="inbox", host="inbox.staging.example.dev")
    mod = "tests/e2e/test_inbox_ws.py"
    for i in range(5):
        case = inc.test(f"{mod}::test_ok_{i}", 0.35)
        inc.passing(case, "GET", f"/api/inbox/{i}/")
    for test in ("test_notifications_socket", "test_unread_badge_socket"):
        case = inc.test(f"{mod}::{test}", 0.9, failure=WS403, label="middleware_rejection")
        t = case.at(0.4)
        inc.request(t, "GET", "/ws/notifications/", 403, ua=WS_UA)
        inc.text(ms(t, 2), "2026-11-19 06:12:35,114 WARNING inbox.middleware.SessionGuard session 7f3c "
                           "revoked by admin policy 'single-session'; closing socket before accept")
        inc.text(ms(t, 3), "2026-11-19 06:12:35,115 INFO daphne.ws_protocol WebSocket REJECT "
                           "/ws/notifications/ [169.254.1.1:38810]")
    write_json_report(inc, folder)
    inc.write_logs(folder, "sink")
    finish(inc, folder, "Only a pytest-json-report file. Django Channels under daphne: a session-guard "
           "middleware closes before accept (policy single-session revoked the session), daphne logs "
           "WebSocket REJECT. No trace ids. middleware_rejection.")


# (m) fixture errors at setup: token endpoint 500 ---------------------------------------------
def setup_token_endpoint_500() -> None:
    name = "setup_token_endpoint_500"
    folder = OUT / name
    inc = Incident(name, at(7, 1, 5), service="identity", host="id.staging.example.dev")
    mod = "tests/e2e/test_accounts.py"
    for i in range(3):
        case = inc.test(f"{mod}::test_public_{i}", 0.3)
        inc.passing(case, "GET", f"/public/{i}")
    errs: set[str] = set()
    for test in ("test_profile", "test_settings", "test_delete_account"):
        case = inc.test(f"{mod}::{test}", 0.35,
                        failure="httpx.HTTPStatusError: Server error '500 Internal Server Error' for url "
                                "'https://id.staging.example.dev/oauth2/token'",
                        label="app_error")
        case.text = ("@pytest.fixture\n    def access_token(client):\n>       r.raise_for_status()\n"
                     "E   httpx.HTTPStatusError: Server error '500 Internal Server Error' for url "
                     "'https://id.staging.example.dev/oauth2/token'\n\ntests/e2e/conftest.py:31: HTTPStatusError")
        errs.add(case.nodeid)
        t, tr = case.at(0.2), inc.trace()
        inc.request(t, "POST", "/oauth2/token", 500, trace=tr, latency=0.21)
        inc.json(ms(t, 190), {"@timestamp": ms(t, 190).isoformat(), "level": "ERROR",
                               "logger_name": "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                               "message": "Servlet.service() for servlet [dispatcherServlet] threw exception",
                               "stack_trace": "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed "
                                              "to obtain JDBC Connection\n\tat ...\nCaused by: java.sql."
                                              "SQLTransientConnectionException: HikariPool-1 - Connection is not "
                                              "available, request timed out after 30000ms."},
                 severity="ERROR", trace=tr)
    write_junit_errors(inc, folder, errs)
    inc.write_logs(folder, "gcloud")
    finish(inc, folder, "Three tests error in SETUP: the access_token fixture's POST /oauth2/token got 500; the "
           "Spring token service logs CannotGetJdbcConnectionException with the trace. The failure is the "
           "token endpoint's: app_error.")


# (n) timeout with no request reaching the service --------------------------------------------
def timeout_no_request() -> None:
    name = "timeout_no_request"
    folder = OUT / name
    inc = Incident(name, at(5, 50, 20), service="stream", host="stream.staging.example.dev")
    inc.health_checks(every=1.0)
    mod = "tests/e2e/test_stream.py"
    for i in range(3):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3)
        inc.passing(case, "GET", f"/api/streams/{i}")
    case = inc.test(f"{mod}::test_open_stream", 10.2,
                    failure="TimeoutError: timed out during opening handshake", label="unknown")
    with inc.other_client():  # a browser's failed handshake inside the window: not the runner's
        inc.request(case.at(0.5), "GET", "/ws/stream", 403, ua=BROWSER_UA, ip=OTHER_IP)
        inc.text(ms(case.at(0.5), 2), "WARN ws: origin https://evil.example not allowed")
    inc.write_reportlog(folder)
    inc.write_logs(folder, "jsonl")
    finish(inc, folder, "The runner's handshake timed out and never reached Cloud Run: no runner entry in the "
           "10 s window, only health checks and a browser from another IP refused for its origin (foreign). "
           "unknown.")


# (o) non-English messages and ANSI colour codes ----------------------------------------------
def locale_and_ansi_payloads() -> None:
    name = "locale_and_ansi_payloads"
    folder = OUT / name
    inc = Incident(name, at(17, 9, 1), service="kasse", host="kasse.staging.example.de")
    mod = "tests/e2e/test_kasse.py"
    for i in range(3):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3)
        inc.passing(case, "GET", f"/api/artikel/{i}")
    case = inc.test(f"{mod}::test_warenkorb_socket", 0.6, failure=WS403, label="invalid_jwt")
    t, tr = case.at(0.5), inc.trace()
    inc.request(t, "GET", "/ws/warenkorb", 403, ua=WS_UA, trace=tr)
    inc.text(ms(t, 3), "\x1b[33m[Nest] 1  - \x1b[39m19.11.2026, 17:09:02 \x1b[33m   WARN\x1b[39m "
                       "\x1b[38;5;3m[WsJwtGuard] \x1b[39m\x1b[33mVerbindung abgelehnt: JWT abgelaufen "
                       "(TokenExpiredError: jwt expired)\x1b[39m", trace=tr)
    case = inc.test(f"{mod}::test_bestellung_socket", 0.6, failure=WS403, label="missing_jwt")
    t, tr = case.at(0.5), inc.trace()
    inc.request(t, "GET", "/ws/bestellung", 403, ua=WS_UA, trace=tr)
    inc.text(ms(t, 3), "\x1b[33m[Nest] 1  - \x1b[39m19.11.2026, 17:09:03 \x1b[33m   WARN\x1b[39m "
                       "\x1b[38;5;3m[WsJwtGuard] \x1b[39m\x1b[33mVerbindung abgelehnt: kein Token im "
                       "Handshake (Authorization-Header fehlt)\x1b[39m", trace=tr)
    case = inc.test(f"{mod}::test_rechnung_api", 0.5, failure="AssertionError: assert 401 == 200",
                    label="invalid_jwt")
    t, tr = case.at(0.5), inc.trace()
    inc.request(t, "GET", "/api/rechnungen", 401, trace=tr)
    inc.text(ms(t, 2), "\x1b[31mERROR\x1b[0m authentification refusée : jeton invalide (signature "
                       "incorrecte, kid=k-2025-10)", trace=tr, stream="stderr")
    inc.write_reportlog(folder)
    inc.write_logs(folder, "pretty")
    finish(inc, folder, "NestJS with colour codes left in textPayload, German decisions: 'JWT abgelaufen "
           "(jwt expired)' -> invalid_jwt, 'kein Token im Handshake (Authorization-Header fehlt)' -> "
           "missing_jwt; a French stderr line 'jeton invalide (signature incorrecte)' -> invalid_jwt.")


# (p) (a)+(b): runner 7 s behind, JUnit only, browser's decision lands between the runner's ---
def interleaved_foreign_decisions_clock_behind() -> None:
    name = "interleaved_foreign_decisions_clock_behind"
    folder = OUT / name
    inc = Incident(name, at(9, 31, 40), service="live", host="live.staging.example.dev")
    inst_a, inst_b = inc.instance, inc.hex(96)
    inc.health_checks(every=1.5)
    mod = "tests/e2e/test_live_socket.py"
    origin = "https://preview-pr-311.example.dev"
    for i in range(8):
        case = inc.test(f"{mod}::test_api_{i}", 0.35)
        inc.passing(case, "GET", f"/api/feed/{i}", access="{ip} - - \"{method} {path} HTTP/1.1\" {status}")
    for k, test in enumerate(("test_live_connect", "test_live_presence", "test_live_replay")):
        case = inc.test(f"{mod}::{test}", 0.8, failure=WS403, label="invalid_jwt")
        t = case.at(0.4)
        inc.instance = inst_a if k != 1 else inst_b
        with inc.other_client():  # the browser's handshake arrives 5 ms earlier on the same instance
            inc.request(ms(t, -5), "GET", "/socket", 403, ua=BROWSER_UA, ip=OTHER_IP, referer=origin + "/")
        inc.request(t, "GET", "/socket", 403, ua=WS_UA, latency=0.008)
        with inc.other_client():
            inc.text(ms(t, 1), f"level=warn msg=\"handshake denied\" reason=\"origin {origin} not allowed\" "
                               "path=/socket", stream="stderr")
        inc.text(ms(t, 4), "level=warn msg=\"handshake denied\" reason=\"token signature is invalid: "
                           "crypto/rsa: verification error\" path=/socket", stream="stderr")
        inc.instance = inst_a
    for i in range(8, 14):
        case = inc.test(f"{mod}::test_api_{i}", 0.35)
        inc.passing(case, "GET", f"/api/feed/{i}", access="{ip} - - \"{method} {path} HTTP/1.1\" {status}")
    inc.write_junit(folder, offset_s=-7.0, stamp="aware")
    inc.write_logs(folder, "gcloud")
    finish(inc, folder, "Go service (logfmt on stderr, no trace ids), two instances; runner clock 7 s behind, "
           "JUnit only. On each of three runner handshakes a browser (203.0.113.77, referer the preview origin) "
           "is refused 5 ms earlier on the same instance, and its origin line lands between the runner's "
           "request and the runner's own 'token signature is invalid' line. The origin named in the line is "
           "the browser's referer; the runner sends none. Runner failures: invalid_jwt.", offset_s=7.0)


# (q) the export stops before the run ends -----------------------------------------------------
def export_ends_mid_run() -> None:
    name = "export_ends_mid_run"
    folder = OUT / name
    inc = Incident(name, at(18, 0, 4), service="cart", host="cart.staging.example.dev")
    inc.health_checks(every=1.0)
    mod = "tests/e2e/test_cart.py"
    for i in range(3):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3)
        inc.passing(case, "GET", f"/api/cart/{i}")
    case = inc.test(f"{mod}::test_checkout", 0.5, failure="AssertionError: assert 401 == 200",
                    label="invalid_jwt")
    t, tr = case.at(0.5), inc.trace()
    inc.request(t, "POST", "/api/checkout", 401, trace=tr)
    inc.json(ms(t, 3), {"severity": "WARNING", "message": "JWT rejected: audience mismatch (expected "
                        "cart-api, got orders-api)", "logger": "cart.auth"}, severity="WARNING", trace=tr)
    cutoff = case.start + timedelta(seconds=case.duration + 0.5)
    for i in range(3, 12):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3, gap=0.2)
        inc.passing(case, "GET", f"/api/cart/{i}")
    for test in ("test_coupon", "test_payment_socket"):
        case = inc.test(f"{mod}::{test}", 0.5, failure="AssertionError: assert 401 == 200", label="unknown")
        t, tr = case.at(0.5), inc.trace()
        inc.request(t, "POST", "/api/coupon", 401, trace=tr)
        inc.json(ms(t, 3), {"severity": "WARNING", "message": "JWT rejected: audience mismatch (expected "
                            "cart-api, got orders-api)", "logger": "cart.auth"}, severity="WARNING", trace=tr)
    kept = [e for e in inc._sorted() if e["timestamp"] < cutoff.strftime("%Y-%m-%dT%H:%M:%S.%fZ")]
    inc.write_reportlog(folder)
    inc.write_logs(folder, "jsonl", kept)
    finish(inc, folder, "The export was pulled with an end time shortly after test_checkout: the last two "
           "failures (and the nine passing tests before them) have no entries at all. Those two are unknown "
           "(no entries in their window) however similar they look; test_checkout is invalid_jwt (audience).")


# (r) two CI jobs run the suite into one export at the same moment ----------------------------
def two_ci_jobs_one_export() -> None:
    name = "two_ci_jobs_one_export"
    folder = OUT / name
    inc = Incident(name, at(19, 12, 0), service="presence", host="presence.staging.example.dev")
    other_job = "34.123.77.202"
    mod = "tests/e2e/test_presence.py"
    for i in range(3):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3)
        inc.passing(case, "GET", f"/api/presence/{i}")
        with inc.other_client():
            inc.request(case.at(0.6), "GET", f"/api/presence/{i}", 200, ip=other_job)
    for test in ("test_join_channel", "test_leave_channel", "test_typing_indicator"):
        case = inc.test(f"{mod}::{test}", 0.6, failure=WS403, label="missing_jwt")
        t = case.at(0.4)
        with inc.other_client():  # the other job's same test, 12 ms earlier, refused for another reason
            inc.request(ms(t, -12), "GET", "/ws/presence", 403, ua=WS_UA, ip=other_job)
            inc.text(ms(t, -10), f"[ws] reject upgrade ip={other_job} path=/ws/presence reason=\"jwt expired\"")
        inc.request(t, "GET", "/ws/presence", 403, ua=WS_UA)
        inc.text(ms(t, 2), f"[ws] reject upgrade ip={RUNNER_IP} path=/ws/presence reason=\"no token provided\"")
    inc.write_reportlog(folder)
    inc.write_logs(folder, "jsonl")
    finish(inc, folder, "Two CI jobs (34.123.77.201 = this report's runner, 34.123.77.202) run the same suite "
           "with the same user agent into one project at the same seconds. Express-style lines carry no trace "
           "but name the client ip: this runner's handshakes lack a token (missing_jwt), the other job's token "
           "expired (foreign, must not be cited).")


# (s) Cloud Armor enforced DENY for the runner, a browser refused by the app on the same path ---
def armor_enforced_deny_beside_app_cors() -> None:
    name = "armor_enforced_deny_beside_app_cors"
    folder = OUT / name
    inc = Incident(name, at(20, 1, 30), service="portal", host="portal.staging.example.dev")
    mod = "tests/e2e/test_portal.py"
    deny = {"name": "portal-edge", "priority": 900, "configuredAction": "DENY", "outcome": "DENY",
            "preconfiguredExprIds": ["owasp-crs-v030301-id942100-sqli"]}
    allow = {"name": "portal-edge", "priority": 2147483647, "configuredAction": "ALLOW", "outcome": "ACCEPT"}
    for i in range(3):
        case = inc.test(f"{mod}::test_ok_{i}", 0.3)
        t, tr = case.at(0.5), inc.trace()
        inc.lb(t, "GET", f"/portal/api/items/{i}", 200, "response_sent_by_backend", trace=tr, policy=allow)
        inc.request(ms(t, 2), "GET", f"/portal/api/items/{i}", 200, trace=tr)
    for test in ("test_search_with_quotes", "test_filter_or_clause"):
        case = inc.test(f"{mod}::{test}", 0.4, failure="AssertionError: assert 403 == 200", label="cloud_armor_denied")
        t = case.at(0.5)
        inc.lb(t, "GET", "/portal/api/search?q=%27or%201%3D1", 403, "denied_by_security_policy", policy=deny)
        with inc.other_client():
            tb, tr = ms(t, 30), inc.trace()
            inc.lb(tb, "GET", "/portal/api/search", 403, "response_sent_by_backend", ua=BROWSER_UA,
                   ip=OTHER_IP, trace=tr, policy=allow)
            inc.request(ms(tb, 2), "GET", "/portal/api/search", 403, ua=BROWSER_UA, ip=OTHER_IP, trace=tr)
            inc.text(ms(tb, 3), "CORS: origin 'https://partner.example.net' is not allowed for /portal/api/search",
                     trace=tr)
    inc.write_reportlog(folder)
    inc.write_logs(folder, "gcloud")
    finish(inc, folder, "The runner's search requests are stopped at the load balancer by Cloud Armor rule 900 "
           "(enforced DENY, SQLi signature, denied_by_security_policy; no Cloud Run entry). 30 ms later a "
           "browser from another IP on the same path reaches the app and is refused by its CORS check "
           "(foreign). cloud_armor_denied.")


# (t) JUnit with no timestamp at all, Spring rate limiter -------------------------------------
def junit_untimed_spring_429() -> None:
    name = "junit_untimed_spring_429"
    folder = OUT / name
    inc = Incident(name, at(21, 45, 10), service="quotes", host="quotes.staging.example.dev")
    inc.health_checks(every=2.0, path="/actuator/health")
    mod = "tests/e2e/test_quotes.py"
    for i in range(12):
        if i in (9, 11):
            case = inc.test(f"{mod}::test_quote_{i:02d}", 0.25, failure="AssertionError: assert 429 == 200",
                            label="rate_limited")
            t = case.at(0.5)
            inc.request(t, "GET", f"/api/quotes/{i}", 429, latency=0.002)
            inc.text(ms(t, 1), f"2026-11-19T21:45:{12 + i // 4:02d}.114Z  WARN 1 --- [nio-8080-exec-3] "
                               "c.a.q.web.RateLimitFilter : Bucket4j: bucket 'e2e-runner' exhausted "
                               "(capacity 10/min), responding 429 with Retry-After: 48")
        else:
            case = inc.test(f"{mod}::test_quote_{i:02d}", 0.25)
            inc.passing(case, "GET", f"/api/quotes/{i}")
    inc.write_junit(folder, stamp="none")
    inc.write_logs(folder, "pretty")
    finish(inc, folder, "JUnit without any timestamp (clock none); Spring Boot with Bucket4j returns 429 with a "
           "Retry-After line (plain text, no trace). Twelve tests in a row on distinct paths let an engineer "
           "line them up with the request log. rate_limited.")


BUILDERS = [
    ws_untraced_decisions_two_instances, django_clock_behind_junit_only, spring_naive_tokyo_junit,
    concurrent_ws_and_api_causes, request_log_only_export, armor_preview_app_rejects_jwt, iap_audit_only,
    iam_token_expired_midrun, crash_loop_503, express_rate_limit_retry_after,
    duplicated_reports_and_exports, channels_json_report_only, setup_token_endpoint_500,
    timeout_no_request, locale_and_ansi_payloads,
    interleaved_foreign_decisions_clock_behind, export_ends_mid_run, two_ci_jobs_one_export,
    armor_enforced_deny_beside_app_cors, junit_untimed_spring_429,
]


def main() -> None:
    for build in BUILDERS:
        folder = OUT / build.__name__
        if folder.exists():
            shutil.rmtree(folder)
        build()


if __name__ == "__main__":
    main()
