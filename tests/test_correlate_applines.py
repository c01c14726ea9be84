"""App lines join their own request: by trace, or by time within service and instance."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from forensics.correlate import correlate
from tests._correlate_frames import (
    BROWSER_IP,
    BROWSER_UA,
    INSTANCE,
    RUNNER_IP,
    WS_403,
    app,
    at,
    case,
    linked_rows,
    log_frame,
    make_tests,
    request,
    run_scenario,
)


def test_app_line_without_trace_joins_its_request_by_time_service_instance() -> None:
    """An untraced app line joins the request of its service and instance nearest in time."""
    logs = log_frame(
        [
            request(20.000, 403, "/ws", http_latency_s=0.003),
            app(20.001, "JWT signature verification failed"),
            app(20.001, "rate limiter: bucket full", instance_id="another-instance"),
            app(20.002, "unrelated line", service="billing"),
            app(25.0, "much later: GET /api/other"),
        ]
    )
    tests = make_tests([case("t::b", "failed", 19.8, 20.3, 0, message=WS_403)])
    c = correlate(tests, logs)
    app_links = c.links.filter(pl.col("role") == "app")
    assert app_links.get_column("row").to_list() == [1]
    joined = app_links.row(0, named=True)
    assert joined["via"] == "app_join" and joined["request_row"] == 0
    assert c.requests.row(0, named=True)["app_lines"] == 1


def test_uvicorn_access_line_must_agree_with_the_request() -> None:
    """An access line joins the request with the same path and status, not merely the nearest one."""
    logs = log_frame(
        [
            request(30.000, 200, "/api/items", instance_id=None),
            request(30.004, 403, "/ws", instance_id=None),
            app(
                30.001,
                'INFO:     169.254.1.1:40012 - "WebSocket /ws?token=x" 403',
                instance_id=None,
            ),
        ]
    )
    tests = make_tests([case("t::c", "failed", 29.9, 30.5, 0, message=WS_403)])
    c = correlate(tests, logs)
    line = c.links.filter(pl.col("row") == 2).row(0, named=True)
    assert line["request_row"] == 1


def test_instance_label_is_respected_when_both_sides_have_it() -> None:
    """An app line from a different container instance is not joined even when it is nearest in time."""
    logs = log_frame(
        [request(70.0, 500, "/api/run"), app(70.001, "Traceback: boom", instance_id="i-other")]
    )
    c = correlate(
        make_tests([case("t::inst", "failed", 69.9, 70.4, 0, message="HTTP 500 from /api/run")]),
        logs,
    )
    assert c.links.filter(pl.col("role") == "app").is_empty()
    assert INSTANCE  # the request's own instance differs from the line's


def test_other_entries_of_a_linked_trace_are_linked() -> None:
    """A downstream hop carrying the linked request's trace (service to service) joins the test."""
    trace = "5f0e8c1d2b3a49687766554433221100"
    logs = log_frame(
        [
            request(80.01, 500, "/api/run", trace=trace),
            request(
                80.02,
                500,
                "/verify",
                trace=trace,
                service="auth-svc",
                http_remote_ip="10.8.0.3",
                http_user_agent="python-httpx/0.28",
            ),
            app(80.021, "KeyError: 'kid'", service="auth-svc", trace=trace),
            *[request(70.0 + k, 200, "/api/ok") for k in range(5)],
        ]
    )
    passing = [case(f"t::ok{k}", "passed", 69.9 + k, 70.2 + k, k) for k in range(5)]
    c = correlate(
        make_tests(
            [*passing, case("t::hop", "failed", 80.0, 80.5, 5, message="HTTP 500 on /api/run")]
        ),
        logs,
    )
    assert c.fingerprint["remote_ips"] == [RUNNER_IP]
    assert linked_rows(c, "t::hop") == {0, 1, 2}
    assert c.links.filter(pl.col("row") == 1).row(0, named=True)["via"] == "trace"


def test_app_line_quoting_a_user_agent_joins_that_clients_request() -> None:
    """Two 403s in the same millisecond: a line quoting the browser's agent is not the runner's."""
    tests, logs = run_scenario(n_tests=10, failing=(), noise=False)
    t = 200.0
    logs += [
        request(t, 403, "/ws"),
        request(t + 0.0005, 403, "/ws", http_remote_ip=BROWSER_IP, http_user_agent=BROWSER_UA),
        app(t + 0.001, f"origin not allowed for ua='{BROWSER_UA}'"),
        app(
            t + 0.0012,
            "missing bypass header on automated request (ua='Python/3.11 websockets/15.0.1')",
        ),
    ]
    tests.append(case("t::same_ms", "failed", t - 0.1, t + 0.3, 10, message=WS_403))
    frame = log_frame(logs)
    c = correlate(make_tests(tests), frame)
    apps = c.links.filter((pl.col("test_id") == "t::same_ms") & (pl.col("role") == "app"))
    messages = (
        frame.filter(pl.col("row").is_in(apps.get_column("row").implode()))
        .get_column("message")
        .to_list()
    )
    assert messages == [
        "missing bypass header on automated request (ua='Python/3.11 websockets/15.0.1')"
    ]
    assert apps.item(0, "strength") > 0.5


def test_without_request_logs_access_lines_stand_in() -> None:
    """An export of stdout/stderr only: uvicorn access lines align the clock and carry the app lines."""
    tests, logs = run_scenario(n_tests=20, failing=(6, 14), skew_s=2.0, noise=False)
    lines = []
    for r in logs:
        if r.get("http_status") is None:
            lines.append(r)
            continue
        t = (r["timestamp"] - at(0)).total_seconds()
        verb = "WebSocket" if r["http_path"] == "/ws" else "GET"
        tail = "" if verb == "WebSocket" else " HTTP/1.1"
        lines.append(
            app(
                t + 0.003,
                f'INFO:     169.254.169.126:40000 - "{verb} {r["http_path"]}{tail}" {r["http_status"]}',
            )
        )
    frame = log_frame(lines)
    c = correlate(make_tests(tests), frame)
    assert abs(c.clock_offset_s - 2.0) <= c.clock_offset_uncertainty_s < 1.0
    for i in (6, 14):
        test_id = tests[i]["test_id"]
        assert (
            c.requests.filter((pl.col("test_id") == test_id) & pl.col("matches_failure")).height
            == 1
        )
        reason = frame.filter(pl.col("message").str.contains(f"test {i}: token missing")).item(
            0, "row"
        )
        assert reason in linked_rows(c, test_id, "app")


def test_nearness_is_relative_to_the_nearest_request() -> None:
    """A line 1 ms after the runner's request is its own, though a browser's request came 40 ms later."""
    tests, logs = run_scenario(n_tests=8, failing=(), noise=False)
    t = 300.0
    logs += [
        request(t, 403, "/sync"),
        app(t + 0.001, "auth failed JWT=REDACTED reason=aud mismatch"),
        request(t + 0.040, 403, "/sync", http_remote_ip=BROWSER_IP, http_user_agent=BROWSER_UA),
        app(t + 0.041, "auth failed JWT=REDACTED reason=expired"),
    ]
    tests.append(case("t::sync", "failed", t - 0.05, t + 0.09, 8, message=WS_403))
    frame = log_frame(logs)
    c = correlate(make_tests(tests), frame)
    apps = c.links.filter((pl.col("test_id") == "t::sync") & (pl.col("role") == "app"))
    joined = frame.filter(pl.col("row").is_in(apps.get_column("row").implode())).get_column(
        "message"
    )
    assert joined.to_list() == ["auth failed JWT=REDACTED reason=aud mismatch"]
    assert apps.item(0, "strength") >= 0.6


def test_a_line_written_while_a_request_was_served_is_that_requests() -> None:
    """Django logs the 500 just before answering: the line inside the slow request's span is its,
    not the next request's that starts 1 ms later."""
    logs = log_frame(
        [
            request(16.483, 500, "/api/exports/csv", http_latency_s=0.19),
            app(16.630, "ERROR log Internal Server Error: /api/exports/csv/"),
            request(16.672, 429, "/api/login", http_latency_s=0.012),
            app(16.677, "WARNING log Too Many Requests: /api/login"),
        ]
    )
    tests = make_tests(
        [
            case(
                "t::csv",
                "failed",
                16.40,
                16.70,
                0,
                message="Server error '500 Internal Server Error'",
            ),
            case(
                "t::login",
                "failed",
                16.66,
                16.80,
                1,
                message="Client error '429 Too Many Requests'",
            ),
        ]
    )
    c = correlate(tests, logs)
    assert linked_rows(c, "t::csv", "app") == {1}
    assert linked_rows(c, "t::login", "app") == {3}


def test_cloud_functions_execution_lines_join_by_execution_id() -> None:
    """Functions (1st gen) logs only: the 'finished with status code' line is the request, and the
    invocation's other lines join it by execution id."""
    fn = {
        "resource_type": "cloud_function",
        "log_id": "cloudfunctions.googleapis.com/cloud-functions",
        "instance_id": None,
    }
    logs = log_frame(
        [
            app(40.00, "Function execution started", labels='{"execution_id": "abc123"}', **fn),
            app(40.01, "Function execution started", labels='{"execution_id": "zzz999"}', **fn),
            app(40.02, "token audience mismatch", labels='{"execution_id": "abc123"}', **fn),
            app(
                40.03,
                "Function execution took 30 ms, finished with status code: 401",
                labels='{"execution_id": "abc123"}',
                **fn,
            ),
            app(
                40.04,
                "Function execution took 30 ms, finished with status code: 200",
                labels='{"execution_id": "zzz999"}',
                **fn,
            ),
        ]
    )
    c = correlate(
        make_tests([case("t::fn", "failed", 39.9, 40.2, 0, message="HTTP 401 Unauthorized")]), logs
    )
    assert c.requests.filter(pl.col("matches_failure")).get_column("row").to_list() == [3]
    own = c.links.filter(pl.col("request_row") == 3).get_column("row").to_list()
    assert sorted(own) == [0, 2, 3]
    other = c.links.filter(pl.col("row") == 1).row(0, named=True)  # the other invocation's line
    assert other["request_row"] == 4 and other["strength"] <= 0.15


def test_behind_a_load_balancer_only_app_lines_join_the_lb_entry() -> None:
    """No Cloud Run request log (GKE behind an ALB): the app's untraced line joins the LB entry the
    backend answered, weaker; a Cloud Armor denial gets no app line."""
    lb = {
        "log_id": "requests",
        "resource_type": "http_load_balancer",
        "service": "k8s-be-30080",
        "instance_id": None,
    }
    pod = {
        "resource_type": "k8s_container",
        "service": "api",
        "instance_id": None,
        "log_id": "stdout",
    }
    logs = log_frame(
        [
            request(
                60.00,
                500,
                "/api/run",
                payload='{"statusDetails": "response_sent_by_backend"}',
                **lb,
            ),
            app(60.01, "Traceback: KeyError 'tenant'", **pod),
            request(
                70.00,
                403,
                "/api/run",
                payload='{"statusDetails": "denied_by_security_policy"}',
                **lb,
            ),
            app(70.01, "GET /metrics 200", **pod),
        ]
    )
    tests = make_tests(
        [
            case("t::500", "failed", 59.9, 60.3, 0, message="HTTP 500"),
            case("t::armor", "failed", 69.9, 70.3, 1, message="HTTP 403"),
        ]
    )
    c = correlate(tests, logs)
    line = c.links.filter(pl.col("row") == 1).row(0, named=True)
    assert line["test_id"] == "t::500" and line["request_row"] == 0 and line["strength"] < 0.6
    assert linked_rows(c, "t::armor", "app") == set()
    assert c.notes["t::armor"].startswith(
        "only the load balancer / IAP saw the failing request (403 GET /api/run)"
    )


def test_app_line_with_another_trace_is_not_joined_by_time() -> None:
    """A line carrying trace B is never time-joined to the runner's request carrying trace A."""
    trace_a, trace_b = "a" * 32, "b" * 32
    logs = log_frame(
        [
            request(30.000, 401, "/v1/balance", trace=trace_a),
            app(30.001, "jwt: token is expired path=/v1/balance", trace=trace_b),
        ]
    )
    msg = "httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://x/v1/balance'"
    c = correlate(make_tests([case("t::bal", "failed", 29.9, 30.3, 0, message=msg)]), logs)
    assert linked_rows(c, "t::bal", "app") == set()


def test_mobile_app_calling_at_the_same_moment_is_not_the_runner() -> None:
    """A phone's okhttp 401 on the same path 4 ms after the runner's is not linked, nor its trace's line."""
    logs = log_frame(
        [
            request(30.000, 401, "/v1/balance", trace="a" * 32),
            request(
                30.004,
                401,
                "/v1/balance",
                trace="c" * 32,
                http_remote_ip="102.89.40.5",
                http_user_agent="okhttp/4.12.0",
            ),
            app(30.005, "jwt: token is expired", trace="c" * 32),
        ]
    )
    msg = "httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://x/v1/balance'"
    c = correlate(make_tests([case("t::bal", "failed", 29.9, 30.3, 0, message=msg)]), logs)
    assert c.fingerprint["user_agents"] and "okhttp/4.12.0" not in c.fingerprint["user_agents"]
    assert linked_rows(c, "t::bal") == {0}


def test_same_failing_call_from_two_scripted_clients_is_not_given_to_either() -> None:
    """Two scripts (other address, other agent) making the failing call at once: neither is matched, the note says so."""
    logs = log_frame(
        [
            request(30.000, 401, "/v1/balance", trace="a" * 32),
            request(
                30.004,
                401,
                "/v1/balance",
                trace="c" * 32,
                http_remote_ip="198.51.100.9",
                http_user_agent="python-requests/2.31.0",
            ),
            app(30.005, "jwt: token is expired", trace="c" * 32),
        ]
    )
    msg = "httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://x/v1/balance'"
    c = correlate(make_tests([case("t::bal", "failed", 29.9, 30.3, 0, message=msg)]), logs)
    assert not c.requests.get_column("matches_failure").any()
    assert c.links.get_column("strength").max() <= 0.15
    assert "made at the same moment by 2 clients" in c.notes["t::bal"]


def test_same_failing_call_from_two_addresses_with_one_agent_is_kept_and_said() -> None:
    """Two CI jobs (same agent, two addresses) making the failing call at once: both stay linked, the note says so."""
    tests, logs = run_scenario(n_tests=10, failing=(), noise=False)
    t = 200.0
    logs += [request(t, 403, "/ws/presence")]
    # the other job runs the same suite from another address, 30 ms behind, call for call
    logs += [
        {
            **r,
            "timestamp": r["timestamp"] + timedelta(seconds=0.03),
            "http_remote_ip": "34.118.10.99",
        }
        for r in logs
    ]
    tests.append(case("t::join", "failed", t - 0.1, t + 0.3, 10, message=WS_403))
    c = correlate(make_tests(tests), log_frame(logs))
    mine = c.requests.filter(pl.col("test_id") == "t::join")
    assert mine.get_column("matches_failure").sum() == 2
    note = c.notes["t::join"]
    assert "from 2 addresses with the runner's agent" in note and "34.118.10.99" in note


def _app_messages(tests: list, logs: list, test_id: str) -> list[str]:
    frame = log_frame(logs)
    c = correlate(make_tests(tests), frame)
    apps = c.links.filter((pl.col("test_id") == test_id) & (pl.col("role") == "app"))
    rows = apps.get_column("row").implode()
    return frame.filter(pl.col("row").is_in(rows)).sort("timestamp").get_column("message").to_list()


def test_line_quoting_a_browsers_page_origin_is_that_browsers() -> None:
    """An origin line naming the browser's page (its referer's origin) goes to the browser's request, not the runner's."""
    tests, logs = run_scenario(n_tests=10, failing=(), noise=False)
    t = 200.0
    logs += [
        request(
            t - 0.005,
            403,
            "/socket",
            http_remote_ip=BROWSER_IP,
            http_user_agent=BROWSER_UA,
            http_referer="https://preview-pr-311.example.dev/board?x=1",
            http_latency_s=0.012,
        ),
        request(t, 403, "/socket", http_latency_s=0.008),
        app(
            t + 0.001,
            'msg="handshake denied" reason="origin https://preview-pr-311.example.dev not allowed" path=/socket',
        ),
        app(t + 0.004, 'msg="handshake denied" reason="token signature is invalid" path=/socket'),
    ]
    tests.append(case("t::live", "failed", t - 0.1, t + 0.3, 10, message=WS_403))
    messages = _app_messages(tests, logs, "t::live")
    assert all("origin" not in m for m in messages)
    assert any("signature" in m for m in messages)


def test_line_quoting_a_client_address_is_not_given_to_another_address() -> None:
    """A line naming another address is not the runner's, even when it lands nearest the runner's request."""
    tests, logs = run_scenario(n_tests=10, failing=(), noise=False)
    t = 200.0
    other = "34.118.10.99"
    logs += [
        # the other client's line is written late, right after the runner's request came in
        request(t - 0.012, 403, "/ws/presence", http_remote_ip=other, http_user_agent=BROWSER_UA),
        request(t, 403, "/ws/presence"),
        app(t + 0.001, f'reject upgrade ip={other} path=/ws/presence reason="jwt expired"'),
        app(
            t + 0.002, f'reject upgrade ip={RUNNER_IP} path=/ws/presence reason="no token provided"'
        ),
    ]
    tests.append(case("t::join", "failed", t - 0.1, t + 0.3, 10, message=WS_403))
    assert _app_messages(tests, logs, "t::join") == [
        f'reject upgrade ip={RUNNER_IP} path=/ws/presence reason="no token provided"'
    ]


def test_same_site_referer_tells_no_client_apart() -> None:
    """A referer on the service's own host is not a sender's name: a line quoting that URL is not pushed away from the runner."""
    tests, logs = run_scenario(n_tests=10, failing=(), noise=False)
    t = 200.0
    own = "https://chat-backend-abc.a.run.app"
    logs += [
        request(t, 403, "/ws", http_referer=f"{own}/", http_latency_s=0.008),
        app(t + 0.002, f"refused handshake for {own}/ws: no token"),
    ]
    tests.append(case("t::own", "failed", t - 0.1, t + 0.3, 10, message=WS_403))
    assert _app_messages(tests, logs, "t::own") == [f"refused handshake for {own}/ws: no token"]
