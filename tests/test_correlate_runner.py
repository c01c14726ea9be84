"""Who the runner is among everyone else: the client that lines up with the run as a whole."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from forensics import load_logs, load_tests
from forensics.classify import classify, load_rules
from forensics.correlate import correlate
from forensics.correlate.entries import tag_entries
from tests._correlate_frames import (
    RUNNER_IP,
    WS_403,
    app,
    case,
    linked_rows,
    log_frame,
    make_tests,
    request,
    run_scenario,
)
from tests.busy_traffic import Export, busy_entries, write_busy_export

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed"
SCRIPT_UA = "python-requests/2.31.0"


def test_a_burst_of_someones_script_is_not_the_runner() -> None:
    """A script failing 403 a dozen times while the suite runs lines up with some windows only:
    the runner stays the client present through the run, and the burst is never linked."""
    tests, logs = run_scenario(n_tests=20, failing=(5, 12), skew_s=1.5)
    burst = [
        request(40.0 + 0.3 * k, 403, "/ws", http_remote_ip="45.12.7.9", http_user_agent=SCRIPT_UA)
        for k in range(12)
    ]
    frame = log_frame(logs + burst)
    c = correlate(make_tests(tests), frame)
    assert c.fingerprint["remote_ips"] == [RUNNER_IP]
    assert abs(c.clock_offset_s - 1.5) <= c.clock_offset_uncertainty_s + 0.05
    foreign = set(frame.filter(pl.col("http_remote_ip") == "45.12.7.9").get_column("row"))
    for test in c.requests.get_column("test_id").unique():
        assert not linked_rows(c, test) & foreign


def test_a_scanner_with_a_library_agent_is_never_the_runner() -> None:
    """A client asking for /.env and /wp-login.php is a scanner whatever agent it sends, even
    when it is the only client whose failures fall in the test's window."""
    logs = log_frame(
        [
            request(10.05, 403, path, http_remote_ip="193.3.3.3", http_user_agent=SCRIPT_UA)
            for path in ("/.env", "/wp-login.php", "/.git/config", "/ws")
        ]
    )
    c = correlate(make_tests([case("t::ws", "failed", 10.0, 10.4, 0, message=WS_403)]), logs)
    assert c.fingerprint["remote_ips"] == []
    assert not c.requests.get_column("matches_failure").any()


def test_two_clients_fitting_alike_give_no_runner_and_say_so() -> None:
    """Two scripts each with one 403 that fits the one failed test (a second apart, within the
    clock's skew): neither is the runner, the clock is not taken from them, and the test's note
    names both."""
    logs = log_frame(
        [
            request(30.1, 403, "/ws", http_remote_ip="34.1.1.1", http_user_agent=SCRIPT_UA),
            request(31.4, 403, "/ws", http_remote_ip="35.2.2.2", http_user_agent="curl/8.5.0"),
        ]
    )
    tests = make_tests([case("t::ws", "failed", 30.0, 30.4, 0, message=WS_403)])
    c = correlate(tests, logs)
    assert c.fingerprint["remote_ips"] == []
    assert c.fingerprint_method.startswith("none: could not tell the runner among 2 clients")
    assert c.clock_method.startswith("none")
    assert c.links.is_empty()
    assert "34.1.1.1" in c.fingerprint_method and "35.2.2.2" in c.fingerprint_method
    (v,) = classify(tests, logs, c, load_rules())
    assert v.root_cause == "unknown" and v.reason


def test_the_runner_in_the_seed_inside_busy_traffic(tmp_path: Path) -> None:
    """The seed run inside 150 entries/s of other clients' traffic: the fingerprint is the
    runner's one address, the clock stays within its stated uncertainty of the quiet one, and
    every failed test keeps its label."""
    quiet = correlate(
        load_tests(SEED / "report.jsonl"), load_logs(SEED / "logs").with_row_index("row")
    )
    paths = write_busy_export(SEED / "logs", tmp_path, 150, seed="seed")
    busy_logs = load_logs(*paths).with_row_index("row")
    tests = load_tests(SEED / "report.jsonl")
    c = correlate(tests, busy_logs)
    assert c.fingerprint["remote_ips"] == quiet.fingerprint["remote_ips"] == ["34.127.88.14"]
    assert abs(c.clock_offset_s - quiet.clock_offset_s) <= c.clock_offset_uncertainty_s + 0.05
    verdicts = classify(tests, busy_logs, c, load_rules())
    assert {v.root_cause for v in verdicts} == {"missing_bypass_header"}


def test_an_address_with_the_runners_agent_that_only_bursts_is_not_the_runner() -> None:
    """Someone else's script with the runner's very agent, active for two seconds of a long run,
    explains nothing the runner's address does not: it does not join the fingerprint."""
    tests, logs = run_scenario(n_tests=20, failing=(5, 12))
    ua = logs[0]["http_user_agent"]
    burst = [
        request(30.0 + 0.2 * k, 401, "/api/me", http_remote_ip="88.9.9.9", http_user_agent=ua)
        for k in range(8)
    ]
    c = correlate(make_tests(tests), log_frame(logs + burst))
    assert c.fingerprint["remote_ips"] == [RUNNER_IP]


def test_an_access_line_names_its_caller() -> None:
    """Without a request log, uvicorn's and the combined format's access lines give their caller's
    address (and agent); a proxy's address names nobody."""
    lines = [
        'INFO:     34.123.77.201:51234 - "GET /api/me HTTP/1.1" 401',
        "INFO:     ('34.123.77.202', 0) - \"WebSocket /ws\" 403",
        'INFO:     169.254.169.126:44436 - "GET /api/me HTTP/1.1" 200',
        '34.123.77.203 - - [26/Nov/2026:22:14:08 +0000] "POST /render HTTP/1.1" 429 12 "-" '
        '"python-httpx/0.28.1"',
    ]
    frame = log_frame([app(10.0 + i, line) for i, line in enumerate(lines)])
    tagged = tag_entries(frame)
    assert tagged.get_column("is_request").all()
    assert tagged.get_column("http_remote_ip").to_list() == [
        "34.123.77.201",
        "34.123.77.202",
        None,
        "34.123.77.203",
    ]
    assert tagged.get_column("http_user_agent").to_list()[3] == "python-httpx/0.28.1"


def test_anonymous_access_lines_of_a_crowd_set_no_clock() -> None:
    """An export of app lines only whose access lines name no caller and come as densely around
    the run as during it: everyone's traffic, so no clock and no link is taken from them."""
    lines = [
        app(1.0 + 0.25 * k, f'INFO:     169.254.1.1:{k} - "GET /api/x{k % 7} HTTP/1.1" 403')
        for k in range(240)
    ]
    tests = make_tests(
        [case(f"t::{i}", "failed", 25.0 + i, 25.5 + i, i, message="HTTP 403") for i in range(3)]
    )
    c = correlate(tests, log_frame(lines))
    assert c.clock_method.startswith("none")
    assert not c.requests.get_column("matches_failure").any()


def test_busy_background_is_what_the_export_would_hold() -> None:
    """The background of an export holding request logs and app lines holds both, and none of
    the export's own addresses."""
    x = Export.read(SEED / "logs")
    entries = busy_entries(SEED / "logs", 5, seed="seed")
    assert {e["logName"].rsplit("%2F", 1)[-1] for e in entries} >= {"requests", "stdout"}
    assert not {(e.get("httpRequest") or {}).get("remoteIp") for e in entries} & x.taken_ips
