"""Correlation: each failed test gets its own requests and their app lines, and nothing else."""

from __future__ import annotations

import polars as pl
import pytest

from forensics.correlate import Correlation, correlate
from forensics.correlate.link import LINK_SCHEMA, REQUEST_SCHEMA, WINDOW_SCHEMA
from tests._correlate_frames import (
    BROWSER_IP,
    BROWSER_UA,
    INSTANCE,
    RUNNER_IP,
    WS_403,
    app,
    at,
    case,
    log_frame,
    make_tests,
    request,
    run_scenario,
)


def _rows(c: Correlation, test_id: str, role: str | None = None) -> set[int]:
    links = c.links.filter(pl.col("test_id") == test_id)
    if role:
        links = links.filter(pl.col("role") == role)
    return set(links.get_column("row").to_list())


def _row_of(logs: pl.DataFrame, **match: object) -> int:
    expr = pl.lit(True)
    for k, v in match.items():
        expr = expr & (pl.col(k) == v)
    return int(logs.filter(expr).get_column("row").item())


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
    origin_line = _row_of(frame, message="origin https://evil.example not allowed")
    mine = _rows(c, t5["test_id"])
    assert not mine & browser
    assert origin_line not in mine
    assert c.fingerprint["remote_ips"] == [RUNNER_IP]
    token_line = (
        frame.filter(pl.col("message").str.contains("test 5: token missing"))
        .get_column("row")
        .item()
    )
    assert token_line in _rows(c, t5["test_id"], "app")


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


def test_export_missing_the_window_gives_a_note() -> None:
    """A test that ran after the export ends is not linked, and the note gives both time spans."""
    tests, logs = run_scenario(n_tests=10, failing=())
    tests.append(case("t::late", "failed", 720.0, 721.0, 10, message=WS_403))
    c = correlate(make_tests(tests), log_frame(logs))
    assert _rows(c, "t::late") == set()
    note = c.notes["t::late"]
    assert note.startswith("export covers 2026-11-24 08:10:")
    assert "08:22:0" in note and "offset" in note
    assert "08:10:" in note.split(";")[0]


def test_two_concurrent_failing_tests_get_their_own_requests() -> None:
    """Overlapping failed tests each get one 403, paired in time order, not both."""
    logs = log_frame(
        [request(40.05, 403, "/ws"), request(40.25, 403, "/ws"), request(41.5, 200, "/api/x")]
    )
    tests = make_tests(
        [
            case("t::first", "failed", 40.0, 41.0, 0, message=WS_403),
            case("t::second", "failed", 40.2, 41.2, 1, message=WS_403),
        ]
    )
    c = correlate(tests, logs)
    req = c.requests.filter(pl.col("matches_failure"))
    assert req.filter(pl.col("test_id") == "t::first").get_column("row").to_list() == [0]
    assert req.filter(pl.col("test_id") == "t::second").get_column("row").to_list() == [1]
    assert not req.get_column("shared").any()


def test_concurrent_tests_are_told_apart_by_url_path() -> None:
    """When the URL paths differ, each overlapping test gets the request on its own path."""
    logs = log_frame([request(40.05, 403, "/ws/events"), request(40.10, 403, "/ws/chat")])
    tests = make_tests(
        [
            case(
                "t::chat",
                "failed",
                40.0,
                41.0,
                0,
                message=f"{WS_403} wss://h.run.app/ws/chat?token=abc",
            ),
            case(
                "t::events", "failed", 40.0, 41.0, 1, message=f"{WS_403} wss://h.run.app/ws/events"
            ),
        ]
    )
    c = correlate(tests, logs)
    req = c.requests.filter(pl.col("matches_failure"))
    assert req.filter(pl.col("test_id") == "t::chat").get_column("row").to_list() == [1]
    assert req.filter(pl.col("test_id") == "t::events").get_column("row").to_list() == [0]
    assert "token=abc" not in str(c.notes)


def test_undecidable_overlap_links_both_weakly() -> None:
    """Two overlapping tests and three identical 403s: every claim is kept, marked shared, weaker."""
    logs = log_frame(
        [request(40.05, 403, "/ws"), request(40.10, 403, "/ws"), request(40.15, 403, "/ws")]
    )
    tests = make_tests(
        [
            case("t::x", "failed", 40.0, 41.0, 0, message=WS_403),
            case("t::y", "failed", 40.0, 41.0, 1, message=WS_403),
        ]
    )
    c = correlate(tests, logs)
    assert c.requests.height == 6
    assert c.requests.get_column("shared").all()
    assert c.requests.get_column("strength").max() < 0.5
    assert "could not tell whose" in c.notes["t::x"]


def test_tests_without_times_use_run_order() -> None:
    """Tests with no times search between their timed neighbours and say so in the note."""
    tests, logs = run_scenario(n_tests=12, failing=(4,))
    tests[4] = {**tests[4], "start": None, "stop": None, "clock": "none"}
    c = correlate(make_tests(tests), log_frame(logs))
    test_id = tests[4]["test_id"]
    assert c.requests.filter((pl.col("test_id") == test_id) & pl.col("matches_failure")).get_column(
        "status"
    ).to_list() == [403]
    assert "no start time" in c.notes[test_id]


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


def test_consecutive_failures_with_drifting_junit_times_get_one_each() -> None:
    """Back-to-back failed tests with blurred JUnit starts each get their own 403, in run order."""
    failing = (10, 11, 12, 13)
    tests, logs = run_scenario(n_tests=20, failing=failing, gap=(0.05, 0.4), seed=4)
    rows, t = [], tests[0]["start"].replace(microsecond=0)
    for r in tests:  # gaps lost: starts drift earlier and earlier
        length = r["stop"] - r["start"]
        rows.append(
            {**r, "start": t, "stop": t + length, "window_uncertainty_s": 1.5, "clock": "naive"}
        )
        t = t + length
    frame = log_frame(logs)
    c = correlate(make_tests(rows), frame)
    got = c.requests.filter(pl.col("matches_failure")).sort("row")
    assert got.height == len(failing)
    assert not got.get_column("shared").any()
    assert got.get_column("test_id").to_list() == [
        f"tests/e2e/test_ws.py::test_{i:02d}" for i in failing
    ]


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
    assert _rows(c, "t::hop") == {0, 1, 2}
    assert c.links.filter(pl.col("row") == 1).row(0, named=True)["via"] == "trace"


def test_neighbouring_tests_requests_are_not_context() -> None:
    """With measured times, a passing neighbour's requests (even its expected 403) stay out."""
    tests, logs, t = [], [], 10.0
    for i in range(10):  # requests just inside both ends of every test pin the clock
        failed = i == 5
        tests.append(
            case(
                f"t::{i}",
                "failed" if failed else "passed",
                t,
                t + 0.5,
                i,
                message=WS_403 if failed else None,
            )
        )
        logs += [
            request(t + 0.01, 403 if failed else 200, "/ws" if failed else "/api/a"),
            request(t + 0.49, 200, "/api/b"),
        ]
        t += 0.65
    end4 = 10.0 + 4 * 0.65 + 0.5
    logs += [request(end4 - 0.04, 200, "/api/neighbour"), request(end4 - 0.02, 403, "/ws")]
    frame = log_frame(logs)
    c = correlate(make_tests(tests), frame)
    assert c.clock_offset_uncertainty_s < 0.15
    neighbour = {frame.height - 2, frame.height - 1}
    assert not _rows(c, "t::5") & neighbour
    assert c.requests.filter(pl.col("matches_failure")).get_column("row").to_list() == [10]


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


def test_untimed_failures_pair_with_their_requests_in_run_order() -> None:
    """With no times at all, k failed tests and k failing runner requests pair up in order."""
    rows = [
        case(
            f"t::{i}",
            "failed" if i in (1, 3) else "passed",
            None,
            None,
            i,
            message=WS_403 if i in (1, 3) else None,
        )
        for i in range(5)
    ]
    logs = log_frame(
        [
            request(1.0 + i, 403 if i in (1, 3) else 200, "/ws" if i in (1, 3) else "/api")
            for i in range(5)
        ]
    )
    c = correlate(make_tests(rows), logs)
    req = c.requests.filter(pl.col("matches_failure"))
    assert req.filter(pl.col("test_id") == "t::1").get_column("row").to_list() == [1]
    assert req.filter(pl.col("test_id") == "t::3").get_column("row").to_list() == [3]
    assert (
        req.get_column("strength").max() < 0.75
    )  # order alone is weaker than the test's own times
    assert "no start time" in c.notes["t::1"]


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
    assert 2 in _rows(c, "t::closed", "app")


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
