"""The classification engine: structure and text weighed into one verdict per failed test."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.classify import classify, load_rules
from forensics.correlate.link import LINK_SCHEMA, WINDOW_SCHEMA, Correlation
from forensics.result import Verdict
from forensics.schema import LOG_SCHEMA, TEST_SCHEMA

T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
TRACE = "0af7651916cd43dd8448eb211c80319c"
WS_FAILURE = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"
RULES = load_rules()


def entry(t: float = 0.0, **fields: Any) -> dict[str, Any]:
    """One log-frame row; ``payload`` may be a dict (stored as JSON text like the loader does)."""
    row: dict[str, Any] = dict.fromkeys(LOG_SCHEMA)
    row.update(severity="INFO", insert_id=f"id-{t}-{len(fields)}", project="proj")
    for key in ("payload", "labels"):
        if isinstance(fields.get(key), (dict, list)):
            fields[key] = json.dumps(fields[key])
    row.update(fields)
    row["timestamp"] = T0 + timedelta(seconds=t)
    if row["log_id"] and not row["log_name"]:
        row["log_name"] = "projects/proj/logs/" + row["log_id"].replace("/", "%2F")
    return row


def run_request(
    status: int = 403, path: str = "/ws", t: float = 0.0, trace: str | None = TRACE, **kw: Any
) -> dict[str, Any]:
    """A Cloud Run request-log entry."""
    return entry(
        t,
        log_id="run.googleapis.com/requests",
        resource_type="cloud_run_revision",
        service="backend",
        http_status=status,
        http_method="GET",
        http_path=path,
        http_url=f"https://backend-xyz.a.run.app{path}",
        http_latency_s=0.004,
        severity="WARNING" if status < 500 else "ERROR",
        trace=trace,
        payload_kind="text" if kw.get("message") else None,
        **kw,
    )


def lb_request(
    status: int = 403, payload: dict[str, Any] | None = None, t: float = 0.0, **kw: Any
) -> dict[str, Any]:
    """An external HTTP(S) load balancer request-log entry."""
    return entry(
        t,
        log_id="requests",
        resource_type="http_load_balancer",
        http_status=status,
        http_method="GET",
        http_path=kw.pop("http_path", "/ws"),
        trace=kw.pop("trace", TRACE),
        payload_kind="json",
        payload={
            "@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
            **(payload or {}),
        },
        **kw,
    )


def app_line(
    message: str, t: float = 0.05, severity: str = "WARNING", trace: str | None = None, **kw: Any
) -> dict[str, Any]:
    """A line the service wrote to stdout (text payload unless ``payload`` is given)."""
    return entry(
        t,
        log_id=kw.pop("log_id", "run.googleapis.com/stdout"),
        resource_type="cloud_run_revision",
        service="backend",
        severity=severity,
        message=message,
        trace=trace,
        payload_kind="json" if kw.get("payload") else "text",
        **kw,
    )


def verdicts(
    rows: list[dict[str, Any]],
    links: list[tuple[str, int, str, float]] | None = None,
    tests: list[tuple[str, str]] | None = None,
    notes: dict[str, str] | None = None,
    rules: Any = RULES,
) -> list[Verdict]:
    """Classify hand-built rows; by default every row is linked to test ``t`` by trace at 1.0."""
    logs = pl.DataFrame(rows, schema=LOG_SCHEMA).with_row_index("row")
    tests = tests or [("t", "failed")]
    if links is None:
        links = [(tests[0][0], i, "trace", 1.0) for i in range(len(rows))]
    test_frame = pl.DataFrame(
        [
            {"test_id": tid, "outcome": outcome, "order": i, "message": WS_FAILURE}
            for i, (tid, outcome) in enumerate(tests)
        ],
        schema=TEST_SCHEMA,
    )
    link_frame = pl.DataFrame(
        [dict(zip(LINK_SCHEMA, link, strict=True)) for link in links], schema=LINK_SCHEMA
    )
    correlation = Correlation(
        0.0, 0.5, "trace ids", pl.DataFrame(schema=WINDOW_SCHEMA), link_frame, notes=notes or {}
    )
    return classify(test_frame, logs, correlation, rules)


def one(rows: list[dict[str, Any]], **kw: Any) -> Verdict:
    (v,) = verdicts(rows, **kw)
    return v


# --- structure --------------------------------------------------------------------------------


def test_one_verdict_per_failed_test_in_test_order() -> None:
    """Passed and skipped tests get no verdict; failed and error ones keep the run's order."""
    vs = verdicts(
        [run_request()],
        links=[],
        tests=[("a", "passed"), ("b", "error"), ("c", "skipped"), ("d", "failed")],
    )
    assert [v.test_id for v in vs] == ["b", "d"]


def test_nothing_linked_is_unknown_with_the_correlation_note() -> None:
    """A test with no linked rows is unknown and says why, in correlate's words when it has them."""
    v = one(
        [run_request()], links=[], notes={"t": "no entries in the window (export ends 10:00:00)"}
    )
    assert v.root_cause == "unknown"
    assert v.confidence == 0.0
    assert v.reason == "no entries in the window (export ends 10:00:00)"


def test_nothing_linked_without_note_still_gives_a_reason() -> None:
    """Without a correlation note the reason still names what is missing."""
    v = one([run_request()], links=[])
    assert v.root_cause == "unknown" and "no log entries linked" in (v.reason or "")


def test_bare_websocket_403_from_the_app_is_unknown() -> None:
    """A uvicorn/Starlette 403 on a WebSocket handshake with no decision log names no app cause."""
    rows = [
        run_request(403),
        app_line('INFO:     169.254.1.1:40000 - "WebSocket /ws" 403', t=0.01, severity="INFO"),
        app_line("INFO:     connection rejected (403 Forbidden)", t=0.02, severity="INFO"),
    ]
    v = one(rows)
    assert v.root_cause == "unknown"
    assert "no app log says why" in (v.reason or "")
    assert "WebSocket" in (v.reason or "")


def test_bare_uvicorn_line_without_request_entry_is_unknown() -> None:
    """Only the app's access line (export without request logs): still no app label."""
    v = one(
        [app_line('INFO:     127.0.0.1:47924 - "WebSocket /ws?token=bad" 403', severity="INFO")]
    )
    assert v.root_cause == "unknown"
    assert "no app log says why" in (v.reason or "")


def test_app_decision_line_tied_to_the_rejected_request_decides() -> None:
    """The 403 entry plus an app line naming the check gives the app label with both as evidence."""
    rows = [run_request(403), app_line("ws rejected: missing token", trace=TRACE)]
    v = one(rows)
    assert (v.root_cause, v.layer) == ("missing_jwt", "app")
    assert v.confidence >= 0.8
    assert {e.log_id for e in v.evidence} == {
        "run.googleapis.com/requests",
        "run.googleapis.com/stdout",
    }
    assert any(e.summary == "403 GET /ws run.googleapis.com/requests" for e in v.evidence)
    assert any(e.summary == "WARNING backend: ws rejected: missing token" for e in v.evidence)


def test_evidence_timestamps_are_rfc3339_utc() -> None:
    """Evidence carries the entry's time as RFC 3339 in UTC, and the insertId to find it again."""
    rows = [
        run_request(403, insert_id="req-1"),
        app_line("ws rejected: missing token", trace=TRACE, insert_id="app-1"),
    ]
    v = one(rows)
    assert [e.insert_id for e in v.evidence] == ["req-1", "app-1"]
    assert v.evidence[0].timestamp == "2026-03-02T10:00:00.000000Z"
    assert v.evidence[0].log_name == "projects/proj/logs/run.googleapis.com%2Frequests"


def test_weak_links_lower_confidence() -> None:
    """The same decision line counts for less when it is tied to the test only by time window."""
    strong = one([run_request(403), app_line("ws rejected: missing token", trace=TRACE)])
    weak = one(
        [run_request(403, trace=None), app_line("ws rejected: missing token", t=30)],
        links=[("t", 0, "window", 0.5), ("t", 1, "window", 0.5)],
    )
    assert weak.confidence < strong.confidence


def test_very_weak_link_alone_does_not_decide() -> None:
    """A decision line tied only by a weak window link and no request entry is not enough."""
    v = one([app_line("ws rejected: missing token")], links=[("t", 0, "window", 0.2)])
    assert v.root_cause == "unknown"
    assert "weak evidence for missing_jwt" in (v.reason or "")


def test_conflicting_app_lines_for_the_same_test_give_unknown() -> None:
    """Two strongly supported different causes for one test: say so instead of guessing."""
    rows = [
        run_request(403),
        app_line("ws rejected: missing token", trace=TRACE),
        app_line("Not allowed by CORS", trace=TRACE, t=0.06),
    ]
    v = one(rows)
    assert v.root_cause == "unknown"
    assert (v.reason or "").startswith("conflicting evidence: ")
    assert "missing_jwt" in (v.reason or "") and "cors_origin" in (v.reason or "")


def test_a_weak_rival_only_lowers_confidence() -> None:
    """A runner-up much weaker than the best lowers the confidence but keeps the label."""
    alone = one([run_request(403), app_line("jwt expired", trace=TRACE)])
    rivalled = one(
        [
            run_request(403),
            app_line("jwt expired", trace=TRACE),
            app_line("ws rejected: missing token", t=0.06),
        ],
        links=[("t", 0, "trace", 1.0), ("t", 1, "trace", 1.0), ("t", 2, "window", 0.3)],
    )
    assert rivalled.root_cause == alone.root_cause == "invalid_jwt"
    assert rivalled.confidence < alone.confidence


def test_specific_reading_beats_generic_on_the_same_line() -> None:
    """'auth middleware rejected: token expired' is invalid_jwt, not middleware_rejection."""
    v = one(
        [
            run_request(403),
            app_line(
                "AuthMiddleware rejected request: token expired", severity="ERROR", trace=TRACE
            ),
        ]
    )
    assert (v.root_cause, v.detail) == ("invalid_jwt", "expired")
    assert v.confidence >= 0.8


def test_explanation_names_entries_and_confidence_basis() -> None:
    """The explanation says what happened, cites the entries and the confidence basis."""
    v = one([run_request(403), app_line("Signature verification failed", trace=TRACE)])
    assert v.root_cause == "invalid_jwt" and v.detail == "bad_signature"
    assert "rejected the token" in v.explanation
    assert "403 GET /ws" in v.explanation
    assert "Confidence" in v.explanation and "invalid-jwt-bad-signature" in v.explanation
    assert v.rule == "invalid-jwt-bad-signature"


def test_secrets_in_app_lines_never_reach_the_verdict() -> None:
    """A JWT or bypass key quoted by a log line is redacted in evidence and explanation."""
    jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEyMyIsImV4cCI6MX0.c2lnbmF0dXJlLXZhbHVlLXh5eg"
    rows = [
        run_request(403),
        app_line(f"ws rejected: Signature has expired token={jwt}", trace=TRACE),
    ]
    v = one(rows)
    assert v.root_cause == "invalid_jwt"
    blob = json.dumps(v.to_dict())
    assert jwt not in blob and jwt[:40] not in blob


def test_app_log_of_another_request_does_not_explain_this_one() -> None:
    """An app line with a different trace is not evidence about this test's request."""
    other = "ffffffffffffffffffffffffffffffff"
    rows = [run_request(403), app_line("ws rejected: missing token", trace=other)]
    v = one(rows, links=[("t", 0, "trace", 1.0), ("t", 1, "window", 0.3)])
    assert v.root_cause == "unknown"


@pytest.mark.parametrize("via_strength", [1.0, 0.6])
def test_links_from_correlate_detail_columns_are_used(via_strength: float) -> None:
    """request_row from correlate ties an app line without trace to its request entry."""
    rows = [run_request(403, trace=None), app_line("Not authenticated", t=5.0)]
    logs = pl.DataFrame(rows, schema=LOG_SCHEMA).with_row_index("row")
    links = pl.DataFrame(
        [
            {
                "test_id": "t",
                "row": 0,
                "via": "url",
                "strength": via_strength,
                "role": "request",
                "request_row": 0,
            },
            {
                "test_id": "t",
                "row": 1,
                "via": "app_join",
                "strength": 0.6,
                "role": "app",
                "request_row": 0,
            },
        ],
        schema={**LINK_SCHEMA, "role": pl.String, "request_row": pl.UInt32},
    )
    tests = pl.DataFrame(
        [{"test_id": "t", "outcome": "failed", "message": WS_FAILURE}], schema=TEST_SCHEMA
    )
    corr = Correlation(0.0, 0.5, "x", pl.DataFrame(schema=WINDOW_SCHEMA), links)
    (v,) = classify(tests, logs, corr, RULES)
    assert v.root_cause == "missing_jwt"
    assert len(v.evidence) == 2


def _shared_case(second_message: str) -> list[Verdict]:
    """Two failed tests without start times share two rejected handshakes (strength divided by 2)."""
    other = "1" * 32
    rows = [
        run_request(403, t=0.0),
        app_line("ws rejected: missing token", trace=TRACE, t=0.01),
        run_request(403, t=1.0, trace=other),
        app_line(second_message, trace=other, t=1.01),
    ]
    logs = pl.DataFrame(rows, schema=LOG_SCHEMA).with_row_index("row")
    link_rows, req_rows = [], []
    for tid in ("a", "b"):
        for req, app in ((0, 1), (2, 3)):
            link_rows.append(
                {
                    "test_id": tid,
                    "row": req,
                    "via": "window",
                    "strength": 0.375,
                    "role": "request",
                    "request_row": req,
                }
            )
            link_rows.append(
                {
                    "test_id": tid,
                    "row": app,
                    "via": "trace",
                    "strength": 0.375,
                    "role": "app",
                    "request_row": req,
                }
            )
            req_rows.append(
                {
                    "test_id": tid,
                    "row": req,
                    "layer": "service",
                    "status": 403,
                    "shared": True,
                    "strength": 0.375,
                }
            )
    links = pl.DataFrame(
        link_rows, schema={**LINK_SCHEMA, "role": pl.String, "request_row": pl.UInt32}
    )
    requests = pl.DataFrame(
        req_rows,
        schema={
            "test_id": pl.String,
            "row": pl.UInt32,
            "layer": pl.String,
            "status": pl.Int32,
            "shared": pl.Boolean,
            "strength": pl.Float64,
        },
    )
    tests = pl.DataFrame(
        [{"test_id": t, "outcome": "failed", "message": WS_FAILURE} for t in ("a", "b")],
        schema=TEST_SCHEMA,
    )
    corr = Correlation(0.0, 30.0, "x", pl.DataFrame(schema=WINDOW_SCHEMA), links, requests=requests)
    return classify(tests, logs, corr, RULES)


def test_shared_candidates_that_agree_decide() -> None:
    """Tests that cannot be told apart still get the cause every shared candidate shows."""
    for v in _shared_case("[WS] No JWT in subprotocols or Authorization header"):
        assert v.root_cause == "missing_jwt"
        assert 0.6 <= v.confidence < 0.9


def test_shared_candidates_that_disagree_do_not_decide() -> None:
    """When shared candidates were refused for different reasons, no test gets a label."""
    for v in _shared_case("jwt expired"):
        assert v.root_cause == "unknown"


def test_two_wordings_of_one_line_count_once() -> None:
    """A line matched by two rules of one label is one proof: support is the stronger rule's."""
    v = one(
        [
            run_request(403),
            app_line("Could not validate credentials: Signature has expired", trace=TRACE),
        ]
    )
    assert (v.root_cause, v.detail) == ("invalid_jwt", "expired")
    assert v.confidence == 0.9


def test_text_and_absence_of_app_log_are_independent_proofs() -> None:
    """The IAM text and 'no app log for this request' add up (noisy-or 0.8 and 0.4)."""
    v = one(
        [
            run_request(
                403,
                message="The request was not authenticated. Either allow unauthenticated invocations",
            )
        ]
    )
    assert v.root_cause == "iam_denied"
    assert v.confidence == 0.88


def test_bypass_key_quoted_by_the_app_is_redacted() -> None:
    """The bypass key value a gate logs never reaches evidence or explanation."""
    key = "s3cr3t-bypass-value-0123456789"
    v = one(
        [
            run_request(403),
            app_line(f"E2E bypass key mismatch: got X-E2E-Bypass-Key={key}", trace=TRACE),
        ]
    )
    assert v.root_cause == "missing_bypass_header"
    assert key not in json.dumps(v.to_dict())


def test_unassigned_app_line_is_read_against_the_failing_request() -> None:
    """A decision line tied to no request counts even when the test also made successful calls."""
    rows = [
        run_request(200, path="/api/v1/status", trace="2" * 32),
        run_request(403, t=1.0, trace=None),
        app_line("AuthzMiddleware denied request: policy ws.connect", t=5.0),
    ]
    v = one(rows, links=[("t", 0, "trace", 1.0), ("t", 1, "url", 0.85), ("t", 2, "trace", 0.9)])
    assert v.root_cause == "middleware_rejection"


def test_time_joined_line_naming_another_path_is_not_this_requests() -> None:
    """'Too Many Requests: /api/login/' joined by time to a 500 on /api/export is about another call."""
    rows = [
        run_request(500, path="/api/export/", trace=None),
        app_line("Too Many Requests: /api/login/", t=0.2),
    ]
    logs_links = [
        {
            "test_id": "t",
            "row": 0,
            "via": "url",
            "strength": 0.85,
            "role": "request",
            "request_row": 0,
        },
        {
            "test_id": "t",
            "row": 1,
            "via": "app_join",
            "strength": 0.6,
            "role": "app",
            "request_row": 0,
        },
    ]
    logs = pl.DataFrame(rows, schema=LOG_SCHEMA).with_row_index("row")
    links = pl.DataFrame(
        logs_links, schema={**LINK_SCHEMA, "role": pl.String, "request_row": pl.UInt32}
    )
    tests = pl.DataFrame(
        [{"test_id": "t", "outcome": "failed", "message": "500 Internal Server Error"}],
        schema=TEST_SCHEMA,
    )
    (v,) = classify(
        tests, logs, Correlation(0.0, 0.5, "x", pl.DataFrame(schema=WINDOW_SCHEMA), links), RULES
    )
    assert v.root_cause == "app_error"


@pytest.mark.parametrize(
    ("line", "path", "other"),
    [
        ("Too Many Requests: /api/login/", "/api/export/", True),
        ("Forbidden (CSRF cookie not set.): /api/session", "/api/session", False),
        ("AuthPolicyMiddleware: DENY GET /api/v1/stream policy=lockdown", "/api/v1/stream", False),
        ("at origin (/app/src/server.js:27:16)", "/api/embed", False),
        ("auth failed path=/sync reason=aud", "/ws", True),
        ("[auth] token rejected for GET /api/wishlist: JsonWebTokenError", "/api/wishlist", False),
    ],
)
def test_named_paths_of_a_line(line: str, path: str, other: bool) -> None:
    """A line names another request's path only in request-path positions, not file paths."""
    from forensics.classify.paths import names_other_path

    assert names_other_path(line, path) is other


def test_access_line_stands_in_for_a_missing_request_log() -> None:
    """Without request logs, the app's '"WebSocket /ws" 403' access line lends its strength to the decision line."""
    rows = [
        app_line('INFO:     169.254.1.1:40000 - "WebSocket /ws" 403', severity="INFO"),
        app_line("[WS] No JWT in subprotocols or Authorization header for /ws; closing", t=0.01),
    ]
    links = [("t", 0, "window", 0.45), ("t", 1, "app_join", 0.45)]
    logs = pl.DataFrame(rows, schema=LOG_SCHEMA).with_row_index("row")
    link_frame = pl.DataFrame(
        [
            {"test_id": t, "row": r, "via": via, "strength": s, "role": "app", "request_row": 0}
            for t, r, via, s in links
        ],
        schema={**LINK_SCHEMA, "role": pl.String, "request_row": pl.UInt32},
    )
    tests = pl.DataFrame(
        [{"test_id": "t", "outcome": "failed", "message": WS_FAILURE}], schema=TEST_SCHEMA
    )
    (v,) = classify(
        tests,
        logs,
        Correlation(0.0, 0.5, "x", pl.DataFrame(schema=WINDOW_SCHEMA), link_frame),
        RULES,
    )
    assert v.root_cause == "missing_jwt"


_WORDS = [
    "token",
    "missing",
    "expired",
    "origin",
    "CORS",
    "bypass",
    "403",
    "denied",
    "jwt",
    "/ws",
    "GET",
    "rate",
    "limit",
    "Traceback",
    "=",
    ":",
    "\n",
    "REDACTED",
    "policy",
    "1008",
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "run.googleapis.com/requests",
                    "requests",
                    "run.googleapis.com/stdout",
                    "cloudaudit.googleapis.com/data_access",
                    None,
                ]
            ),
            st.one_of(st.none(), st.sampled_from([101, 200, 302, 401, 403, 429, 500, 502])),
            st.lists(st.sampled_from(_WORDS), max_size=8).map(" ".join),
            st.one_of(st.none(), st.sampled_from([TRACE, "f" * 32])),
            st.floats(min_value=0.0, max_value=1.0),
        ),
        max_size=12,
    )
)
def test_any_linked_rows_give_a_well_formed_verdict(rows_spec: list[tuple[Any, ...]]) -> None:
    """Whatever rows are linked, the verdict is well formed: a label with evidence, or unknown with a reason."""
    rows = [
        entry(
            i * 0.1,
            log_id=log_id,
            http_status=status,
            message=msg or None,
            trace=trace,
            payload={"reason": msg} if i % 3 == 0 else None,
        )
        for i, (log_id, status, msg, trace, _) in enumerate(rows_spec)
    ]
    links = [("t", i, "window", strength) for i, (*_, strength) in enumerate(rows_spec)]
    (v,) = verdicts(rows, links=links)
    assert 0.0 <= v.confidence <= 1.0
    if v.root_cause == "unknown":
        assert v.reason and v.confidence == 0.0
    else:
        assert v.evidence and v.rule and v.explanation
