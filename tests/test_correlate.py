"""Correlation: each failed test gets its own requests and their app lines, and nothing else."""

from __future__ import annotations

import polars as pl
import pytest

from forensics.correlate import correlate
from forensics.correlate.link import LINK_SCHEMA, REQUEST_SCHEMA, WINDOW_SCHEMA
from tests._correlate_frames import (
    BROWSER_IP,
    BROWSER_UA,
    RUNNER_IP,
    WS_403,
    app,
    at,
    case,
    linked_rows,
    log_frame,
    make_tests,
    request,
    row_of,
    run_scenario,
)


def test_frames_have_the_contract_shapes() -> None:
    """links starts with the LINK_SCHEMA columns; windows and requests follow their schemas."""
    tests, logs = run_scenario()
    c = correlate(make_tests(tests), log_frame(logs))
    assert dict(list(c.links.schema.items())[: len(LINK_SCHEMA)]) == LINK_SCHEMA
    assert dict(c.windows.schema) == WINDOW_SCHEMA
    assert dict(c.requests.schema) == REQUEST_SCHEMA
    assert c.windows.height == 2
    assert c.links.get_column("strength").is_between(0.0, 1.0).all()


@pytest.mark.parametrize("skew", [-5.0, 0.0, 5.0])
def test_offset_recovered_when_runner_clock_is_skewed(skew: float) -> None:
    """A runner clock off by seconds is measured from request order, and the 403s still link."""
    tests, logs = run_scenario(skew_s=skew)
    frame = log_frame(logs)
    c = correlate(make_tests(tests), frame)
    assert abs(c.clock_offset_s - skew) <= c.clock_offset_uncertainty_s
    assert c.clock_offset_uncertainty_s < 1.0
    assert c.clock_method.startswith("request order")
    for i in (7, 19):
        test_id = f"tests/e2e/test_ws.py::test_{i:02d}"
        linked = c.requests.filter((pl.col("test_id") == test_id) & pl.col("matches_failure"))
        assert linked.get_column("status").to_list() == [403]
        assert linked.get_column("from_runner").all()


def test_naive_timestamps_off_by_a_zone_are_aligned() -> None:
    """JUnit-style times with no zone (runner at UTC+02:00, 3.4 s fast) align to zone plus skew."""
    tests, logs = run_scenario(skew_s=-(2 * 3600 + 3.4))
    frame = make_tests(tests).with_columns(clock=pl.lit("naive"))
    c = correlate(frame, log_frame(logs))
    assert abs(c.clock_zone_s + c.clock_offset_s - (-7203.4)) <= c.clock_offset_uncertainty_s < 1.0
    assert c.clock_zone_s == -7200.0 and abs(c.clock_offset_s + 3.4) < 1.0
    assert "UTC+02:00" in c.clock_method
    assert c.requests.filter(pl.col("matches_failure")).height == 2


def test_junit_windows_with_cumulative_uncertainty() -> None:
    """Starts rebuilt from a suite timestamp plus durations carry growing uncertainty and still link."""
    tests, logs = run_scenario(n_tests=25, failing=(20,), skew_s=1.5, gap=(0.0, 0.08))
    # JUnit: only the suite has a timestamp (whole seconds, no zone); each start is the sum of the
    # durations before it, so the error grows with the test's position.
    rows = []
    t = tests[0]["start"].replace(microsecond=0)
    for i, r in enumerate(tests):
        length = r["stop"] - r["start"]
        rows.append(
            {
                **r,
                "start": t,
                "stop": t + length,
                "window_uncertainty_s": 1.0 + 0.08 * i,
                "clock": "naive",
                "source_format": "junit",
            }
        )
        t = t + length
    c = correlate(make_tests(rows), log_frame(logs))
    w = c.windows.row(0, named=True)
    assert (w["hi"] - w["lo"]).total_seconds() >= rows[20]["duration_s"] + 2 * rows[20][
        "window_uncertainty_s"
    ]
    linked = c.requests.filter(pl.col("matches_failure"))
    assert linked.get_column("status").to_list() == [403]


@pytest.mark.parametrize(
    "carrier",
    [
        "X-Cloud-Trace-Context: {t}/1234567;o=1",
        "traceparent: 00-{t}-b7ad6b7169203331-01",
        "see https://console.cloud.google.com/logs?query=trace%3D%22projects/my-proj/traces/{t}%22",
    ],
)
def test_trace_id_in_traceback_links_the_exact_entry(carrier: str) -> None:
    """A trace id in the failure text links that entry at strength 1.0; its neighbours stay context."""
    trace = "0af7651916cd43dd8448eb211c80319c"
    logs = log_frame(
        [
            request(10.10, 403, "/ws"),
            request(10.30, 403, "/ws", trace=trace),
            app(10.301, "ws rejected: JWT expired", trace=trace),
            request(10.50, 200, "/api/me"),
        ]
    )
    msg = f"{WS_403}\nrequest headers: {carrier.format(t=trace)}"
    tests = make_tests([case("t::a", "failed", 10.0, 11.0, 0, message=msg)])
    c = correlate(tests, logs)
    links = c.links.filter(pl.col("test_id") == "t::a")
    exact = links.filter(pl.col("row") == 1).row(0, named=True)
    assert exact["via"] == "trace" and exact["strength"] == 1.0
    assert links.filter(pl.col("row") == 2).row(0, named=True)["strength"] >= 0.95
    assert links.filter(pl.col("row") == 0).get_column("strength").max() <= 0.3
    assert c.clock_method.startswith("trace ids")


def test_browser_failing_at_the_same_moment_is_not_linked() -> None:
    """Another client's 403 (and the app line it caused) in the test's window is not the test's."""
    tests, logs = run_scenario(n_tests=12, failing=(5,))
    t5 = next(r for r in tests if r["test_id"].endswith("test_05"))
    ws = (t5["start"] - at(0)).total_seconds() + 0.05  # the runner's own 403
    logs += [
        request(
            ws - 0.02,
            403,
            "/ws",
            http_remote_ip=BROWSER_IP,
            http_user_agent=BROWSER_UA,
            instance_id="other-inst",
        ),
        app(ws - 0.019, "origin https://evil.example not allowed", instance_id="other-inst"),
        request(ws + 0.001, 403, "/ws", http_remote_ip=BROWSER_IP, http_user_agent=BROWSER_UA),
    ]
    frame = log_frame(logs)
    c = correlate(make_tests(tests), frame)
    browser = set(frame.filter(pl.col("http_remote_ip") == BROWSER_IP).get_column("row").to_list())
    origin_line = row_of(frame, message="origin https://evil.example not allowed")
    mine = linked_rows(c, t5["test_id"])
    assert not mine & browser
    assert origin_line not in mine
    assert c.fingerprint["remote_ips"] == [RUNNER_IP]
    token_line = (
        frame.filter(pl.col("message").str.contains("test 5: token missing"))
        .get_column("row")
        .item()
    )
    assert token_line in linked_rows(c, t5["test_id"], "app")


def test_only_another_client_in_window_gives_a_note() -> None:
    """When the runner's request is missing and only a browser failed then, nothing links and a note says so."""
    tests, logs = run_scenario(n_tests=12, failing=(5,))
    t5 = next(r for r in tests if r["test_id"].endswith("test_05"))
    ws = (t5["start"] - at(0)).total_seconds() + 0.05
    logs = [
        r
        for r in logs
        if not (r.get("http_status") == 403 or "token missing" in (r.get("message") or ""))
    ]
    logs.append(request(ws, 403, "/ws", http_remote_ip=BROWSER_IP, http_user_agent=BROWSER_UA))
    c = correlate(make_tests(tests), log_frame(logs))
    assert c.requests.filter(
        (pl.col("test_id") == t5["test_id"]) & pl.col("matches_failure")
    ).is_empty()
    assert (
        "none with HTTP 403" in c.notes[t5["test_id"]]
        or "no request from the runner" in c.notes[t5["test_id"]]
    )


def test_export_missing_the_window_gives_a_note() -> None:
    """A test that ran after the export ends is not linked, and the note gives both time spans."""
    tests, logs = run_scenario(n_tests=10, failing=())
    tests.append(case("t::late", "failed", 720.0, 721.0, 10, message=WS_403))
    c = correlate(make_tests(tests), log_frame(logs))
    assert linked_rows(c, "t::late") == set()
    note = c.notes["t::late"]
    assert note.startswith("export covers 2026-11-24 08:10:")
    assert "08:22:0" in note and "offset" in note
    assert "08:10:" in note.split(";")[0]


def test_health_checks_are_never_the_runner() -> None:
    """GoogleHC and kube-probe traffic, however regular, stays out of the fingerprint and links."""
    tests, logs = run_scenario(n_tests=10, failing=(3,))
    logs += [
        request(k * 0.5, 503, "/ws", http_remote_ip="10.0.0.9", http_user_agent="kube-probe/1.29")
        for k in range(200)
    ]
    frame = log_frame(logs)
    c = correlate(make_tests(tests), frame)
    assert c.fingerprint["remote_ips"] == [RUNNER_IP]
    probes = set(frame.filter(pl.col("http_remote_ip") == "10.0.0.9").get_column("row").to_list())
    assert not set(c.links.get_column("row").to_list()) & probes


def test_load_balancer_entry_of_the_runner_links_as_edge() -> None:
    """A load balancer entry (Cloud Armor deny) from the runner in the window is linked with role edge."""
    logs = log_frame(
        [
            request(
                50.02,
                403,
                "/ws",
                log_id="requests",
                resource_type="http_load_balancer",
                service="be-svc",
                instance_id=None,
            ),
            request(55.0, 200, "/api/ok"),
        ]
    )
    tests = make_tests(
        [
            case("t::lb", "failed", 50.0, 50.5, 0, message=WS_403),
            case("t::ok", "passed", 54.9, 55.2, 1),
        ]
    )
    c = correlate(tests, logs)
    edge = c.links.filter(pl.col("role") == "edge")
    assert edge.get_column("row").to_list() == [0]
    assert c.requests.row(0, named=True)["layer"] == "edge"


def test_no_anchor_gives_offset_zero_with_large_uncertainty() -> None:
    """With no request entries at all, the offset is 0, uncertain, and the method says none."""
    logs = log_frame([app(5.0, "started")])
    c = correlate(make_tests([case("t::z", "failed", 10.0, 11.0, 0, message=WS_403)]), logs)
    assert c.clock_offset_s == 0.0
    assert c.clock_offset_uncertainty_s >= 10
    assert c.clock_method.startswith("none:")
    assert "t::z" in c.notes


def test_empty_log_frame_is_explained() -> None:
    """No log entries at all: every failed test gets a note, nothing raises."""
    c = correlate(
        make_tests([case("t::e", "failed", 10.0, 11.0, 0, message=WS_403)]), log_frame([])
    )
    assert c.links.is_empty()
    assert "no log entries" in c.notes["t::e"]


def test_requests_without_app_log_are_noted() -> None:
    """A matching request with no app line (an edge-style denial) is linked and the note says no app log."""
    logs = log_frame([request(60.01, 403, "/ws", message="The request was not authenticated.")])
    c = correlate(make_tests([case("t::iam", "failed", 60.0, 60.4, 0, message=WS_403)]), logs)
    assert c.requests.row(0, named=True)["app_lines"] == 0
    assert "no app log" in c.notes["t::iam"]


def test_a_browser_runner_is_recognized() -> None:
    """A Selenium-style runner with a browser user agent, alone on its address, is the runner."""
    tests, logs = run_scenario(n_tests=15, failing=(6,), noise=False)
    logs = [
        {**r, "http_user_agent": BROWSER_UA} if r.get("http_remote_ip") == RUNNER_IP else r
        for r in logs
    ]
    c = correlate(make_tests(tests), log_frame(logs))
    assert c.fingerprint["remote_ips"] == [RUNNER_IP]
    assert c.requests.filter(pl.col("matches_failure")).get_column("status").to_list() == [403]


def test_export_ending_just_before_the_run_is_not_aligned_on_other_traffic() -> None:
    """A browser active until the export ends must not pull the run's clock onto its requests."""
    tests, _ = run_scenario(n_tests=10, failing=(2, 3))
    start = (tests[0]["start"] - at(0)).total_seconds()
    logs = [
        request(
            start - 6 + k * 0.3, 200, "/", http_remote_ip=BROWSER_IP, http_user_agent=BROWSER_UA
        )
        for k in range(15)
    ]
    c = correlate(make_tests(tests), log_frame(logs))
    assert c.links.is_empty()
    assert c.clock_method.startswith("none:")
    assert c.fingerprint["remote_ips"] == []
    assert all(note.startswith("export covers") for note in c.notes.values())


def test_websocket_closed_after_accept_matches_the_upgrade() -> None:
    """A WebSocket accepted (101) then closed with a policy code: the 101 upgrade is the failing request."""
    logs = log_frame(
        [
            request(90.01, 200, "/api/me"),
            request(90.05, 101, "/ws", http_latency_s=0.2),
            app(90.2, "closing ws: token audience mismatch"),
        ]
    )
    msg = "websockets.exceptions.ConnectionClosedError: received 1008 (policy violation) invalid token; then sent 1008"
    c = correlate(make_tests([case("t::closed", "failed", 90.0, 90.4, 0, message=msg)]), logs)
    matched = c.requests.filter(pl.col("matches_failure"))
    assert matched.get_column("row").to_list() == [1]
    assert 2 in linked_rows(c, "t::closed", "app")


def test_times_labelled_utc_but_off_by_a_zone_are_found() -> None:
    """Report times said to be UTC that are really local time (UTC+01:00) still align, and the method says so."""
    tests, logs = run_scenario(skew_s=-(3600 + 1.2))
    c = correlate(make_tests(tests), log_frame(logs))
    assert abs(c.clock_offset_s - (-3601.2)) <= c.clock_offset_uncertainty_s < 1.0
    assert "off by a zone" in c.clock_method
    assert c.requests.filter(pl.col("matches_failure")).height == 2


def test_runner_on_two_addresses_is_one_runner() -> None:
    """A runner that sometimes leaves by IPv6 is recognized on both addresses, and both failures link."""
    tests, logs = run_scenario(n_tests=20, failing=(4, 15))
    v6 = "2600:1900:4000:1::1"
    runner_rows = [i for i, r in enumerate(logs) if r.get("http_remote_ip") == RUNNER_IP]
    failing_403 = [i for i in runner_rows if logs[i]["http_status"] == 403]
    for i in {*runner_rows[::8], failing_403[1]}:  # a few calls, one failing, leave by IPv6
        logs[i] = {**logs[i], "http_remote_ip": v6}
    c = correlate(make_tests(tests), log_frame(logs))
    assert set(c.fingerprint["remote_ips"]) == {RUNNER_IP, v6}
    assert c.requests.filter(pl.col("matches_failure")).height == 2


def test_an_unrelated_url_in_the_text_does_not_veto_the_failing_request() -> None:
    """A 403 on /ws links even when the traceback also names an auth URL; weaker than a path match."""
    logs = log_frame([request(95.02, 200, "/api/me"), request(95.05, 403, "/ws")])
    msg = f"{WS_403}\\nusing token from https://auth.example.com/oauth/token"
    c = correlate(make_tests([case("t::auth", "failed", 95.0, 95.4, 0, message=msg)]), logs)
    matched = c.requests.filter(pl.col("matches_failure"))
    assert matched.get_column("row").to_list() == [1]
    assert 0.5 < matched.item(0, "strength") < 0.75


def test_request_id_in_the_text_links_the_lines_that_carry_it() -> None:
    """An X-Request-Id from the failure text ties the app line that logs it, at 0.9."""
    rid = "0f8b2c7e-4d1a-4b8e-9a77-3c2d1e0f9a88"
    logs = log_frame(
        [
            request(100.02, 500, "/api/run"),
            app(100.03, f"request_id={rid} unhandled KeyError 'tenant'"),
            app(100.04, "request_id=11111111-2222-3333-4444-555555555555 ok"),
        ]
    )
    msg = f"httpx.HTTPStatusError: Server error '500 Internal Server Error'\nX-Request-Id: {rid}"
    c = correlate(make_tests([case("t::rid", "failed", 100.0, 100.3, 0, message=msg)]), logs)
    line = c.links.filter(pl.col("row") == 1).row(0, named=True)
    assert line["via"] == "request_id" and line["strength"] == 0.9


def test_export_covering_half_the_run() -> None:
    """An export that stops mid-run: the clock still aligns on what is covered, later failures get the export note."""
    tests, logs = run_scenario(n_tests=40, failing=(5, 12, 30, 35), skew_s=-3.0, seed=11)
    cut = (tests[25]["start"] - at(0)).total_seconds() - 3.0
    logs = [r for r in logs if (r["timestamp"] - at(0)).total_seconds() < cut]
    c = correlate(make_tests(tests), log_frame(logs))
    assert abs(c.clock_offset_s + 3.0) <= c.clock_offset_uncertainty_s < 1.0
    linked = c.requests.filter(pl.col("matches_failure")).get_column("test_id").to_list()
    assert linked == [tests[5]["test_id"], tests[12]["test_id"]]
    for i in (30, 35):
        assert c.notes[tests[i]["test_id"]].startswith("export covers")


def test_client_timeout_matches_the_slow_request() -> None:
    """A ReadTimeout names no status: the request the server spent seconds on is the failing one."""
    logs = log_frame(
        [
            request(110.01, 200, "/api/me"),
            request(110.05, 200, "/api/agents/run", http_latency_s=9.8),
        ]
    )
    msg = "httpx.ReadTimeout: timed out"
    c = correlate(make_tests([case("t::slow", "failed", 110.0, 120.0, 0, message=msg)]), logs)
    assert c.requests.filter(pl.col("matches_failure")).get_column("row").to_list() == [1]


def test_summary_is_plain_json() -> None:
    """to_dict (what triage puts in the run facts) serializes to JSON as is."""
    import json

    tests, logs = run_scenario(skew_s=-(2 * 3600 + 1.0))
    c = correlate(make_tests(tests).with_columns(clock=pl.lit("naive")), log_frame(logs))
    summary = json.loads(json.dumps(c.to_dict()))
    assert summary["clock_zone_s"] == -7200.0
    assert summary["clocks"]["naive"]["tests_hit"] == 30
    assert summary["fingerprint"]["remote_ips"] == [RUNNER_IP]


def test_request_accepted_where_a_rejection_was_wanted_is_the_failing_one() -> None:
    """`assert 200 == 401`: the 200 the server answered is the failure, not the test's expected 401 step."""
    logs = log_frame(
        [
            request(90.05, 401, "/api/secrets"),
            app(90.052, "auth: Missing Authorization Header"),
            request(90.25, 200, "/api/secrets"),
        ]
    )
    msg = "AssertionError: tampered token was accepted\nassert 200 == 401"
    c = correlate(make_tests([case("t::alg_none", "failed", 90.0, 90.4, 0, message=msg)]), logs)
    matched = c.requests.filter(pl.col("matches_failure"))
    assert matched.get_column("row").to_list() == [2]
    wanted = c.requests.filter(pl.col("row") == 0)
    assert wanted.is_empty() or wanted.get_column("strength").max() < 0.5
    assert "answered 200 where it wanted 401" in c.notes["t::alg_none"]


def test_cors_header_assertion_matches_the_preflight_that_answered_204() -> None:
    """A failure on a missing Access-Control-Allow-Origin header matches the 204 OPTIONS preflight."""
    logs = log_frame(
        [
            request(90.05, 204, "/api/session", http_method="OPTIONS"),
            app(90.051, "CORS policy execution failed."),
        ]
    )
    msg = "AssertionError: assert 'access-control-allow-origin' in Headers({'content-length': '0'})"
    c = correlate(make_tests([case("t::preflight", "failed", 90.0, 90.4, 0, message=msg)]), logs)
    matched = c.requests.filter(pl.col("matches_failure"))
    assert matched.get_column("row").to_list() == [0]
    assert 1 in linked_rows(c, "t::preflight", "app")
