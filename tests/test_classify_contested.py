"""Two clients fail on one route at once; the app's untraced lines name neither of them."""

from __future__ import annotations

import polars as pl

from forensics.classify import classify, load_rules
from forensics.correlate import correlate
from forensics.labels import UNKNOWN
from tests._correlate_frames import (
    BROWSER_IP,
    BROWSER_UA,
    WS_403,
    app,
    case,
    log_frame,
    make_tests,
    request,
)

RULES = load_rules()


def _verdict(browser_status: int, lines: list[str]):
    """Triage of one runner 403 on /ws with a browser's call 3 ms later and ``lines`` after both."""
    rows = [
        request(40.000, 403, "/ws", http_latency_s=0.012, trace="a" * 32),
        request(
            40.003,
            browser_status,
            "/ws",
            http_latency_s=0.012,
            trace="b" * 32,
            http_user_agent=BROWSER_UA,
            http_remote_ip=BROWSER_IP,
        ),
        *(app(40.010 + 0.004 * i, text) for i, text in enumerate(lines)),
    ]
    logs = log_frame(rows)
    tests = make_tests([case("t::ws", "failed", 39.9, 40.3, 0, message=WS_403)])
    corr = correlate(tests, logs)
    (v,) = classify(tests, logs, corr, RULES)
    return corr, v


def test_contested_lines_that_disagree_make_the_test_unknown() -> None:
    """Lines as near to a browser's failing call as to the runner's, naming different causes: unknown, saying why."""
    corr, v = _verdict(
        403, ["AuthApiError: invalid JWT: token is expired", "Auth session missing!"]
    )
    vias = set(corr.links.filter(pl.col("role") == "app").get_column("via").to_list())
    assert vias == {"app_join_contested"}
    assert v.root_cause == UNKNOWN
    assert v.reason and "conflicting evidence" in v.reason and "invalid_jwt" in v.reason


def test_contested_lines_that_agree_still_name_the_cause() -> None:
    """When both clients' lines say the same cause, which line is whose does not matter."""
    _, v = _verdict(403, ["invalid JWT: token is expired", "jwt expired: token is expired"])
    assert v.root_cause == "invalid_jwt"


def test_a_rival_that_succeeded_does_not_contest_the_line() -> None:
    """A browser's call that was answered 200 gives no competing reason: the line is the runner's."""
    corr, _ = _verdict(200, ["AuthApiError: invalid JWT: token is expired"])
    vias = set(corr.links.filter(pl.col("role") == "app").get_column("via").to_list())
    assert "app_join_contested" not in vias
