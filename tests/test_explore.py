"""forensics.explore: failure windows, filters, neighbourhoods and unexplained entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from forensics import explore
from forensics.labels import UNKNOWN
from forensics.result import Evidence, TriageResult, Verdict
from forensics.runfacts import RunFacts
from forensics.schema import LOG_SCHEMA, TEST_SCHEMA
from tests._correlate_frames import given_clock

T0 = datetime(2025, 9, 7, 9, 0, 0, tzinfo=UTC)
OFFSET_S = 1.8  # Google time minus runner time in the hand-built run
SECRET_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtcnVubmVyIn0.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ"

FAILED = [
    (
        "tests/e2e/test_1_websocket_events_staging.py::test_websocket_connection",
        4.0,
        "invalid_jwt",
        "bad_signature",
    ),
    (
        "tests/e2e/test_1_websocket_events_staging.py::test_websocket_event_flow_real",
        9.0,
        "invalid_jwt",
        "bad_signature",
    ),
    (
        "tests/e2e/test_1_websocket_events_staging.py::test_concurrent_websocket_real",
        14.0,
        "invalid_jwt",
        "bad_signature",
    ),
    (
        "tests/e2e/test_3_agent_pipeline_staging.py::test_real_agent_pipeline_execution",
        22.0,
        "missing_bypass_header",
        None,
    ),
    (
        "tests/e2e/test_3_agent_pipeline_staging.py::test_real_agent_lifecycle_monitoring",
        28.0,
        "iam_denied",
        None,
    ),
    (
        "tests/e2e/test_3_agent_pipeline_staging.py::test_real_pipeline_error_handling",
        35.0,
        UNKNOWN,
        None,
    ),
]


def _log(i: int, at: float, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(LOG_SCHEMA)
    row.update(
        timestamp=T0 + timedelta(seconds=at),
        severity="INFO",
        insert_id=f"ins{i:04d}",
        project="demo-staging",
    )
    row.update(fields)
    row["log_name"] = f"projects/demo-staging/logs/{row['log_id']}"
    return row


def make_result(*, with_secret: bool = False, redact: bool = True) -> TriageResult:
    """A seed-like run: 6 failed WebSocket tests among passing ones, runner clock 1.8 s behind."""
    tests, logs, verdicts = [], [], []
    i = 0
    for n in range(12):  # passing tests' traffic, every 3 s
        at = 1.0 + 3 * n + OFFSET_S
        tests.append(
            {
                "test_id": f"tests/e2e/test_2_api.py::test_ok_{n}",
                "outcome": "passed",
                "start": T0 + timedelta(seconds=at - OFFSET_S),
                "stop": T0 + timedelta(seconds=at - OFFSET_S + 0.4),
            }
        )
        logs.append(
            _log(
                i := i + 1,
                at + 0.1,
                log_id="run.googleapis.com/requests",
                service="backend-staging",
                resource_type="cloud_run_revision",
                http_status=200,
                http_method="GET",
                http_path="/api/health",
                message="GET 200 /api/health",
            )
        )
    for tid, start, cause, detail in FAILED:
        at = start + OFFSET_S
        tests.append(
            {
                "test_id": tid,
                "outcome": "failed",
                "start": T0 + timedelta(seconds=start),
                "stop": T0 + timedelta(seconds=start + 1.2),
                "window_uncertainty_s": 0.5,
            }
        )
        trace = f"{i:032x}"
        req = _log(
            i := i + 1,
            at + 0.3,
            log_id="run.googleapis.com/requests",
            service="backend-staging",
            resource_type="cloud_run_revision",
            http_status=403,
            http_method="GET",
            http_path="/ws",
            trace=trace,
            message="GET 403 /ws",
        )
        app = _log(
            i := i + 1,
            at + 0.28,
            log_id="run.googleapis.com/stderr",
            service="backend-staging",
            resource_type="cloud_run_revision",
            trace=trace,
            severity="WARNING",
            message=f"WebSocket auth failed for conn {i:08x}-aaaa-bbbb-cccc-123456789abc: Signature verification failed",
        )
        noise = _log(
            i := i + 1,
            at + 0.5,
            log_id="run.googleapis.com/stdout",
            service="backend-staging",
            resource_type="cloud_run_revision",
            message=f"closing session {1000 + i} after 0.{i}s",
        )
        if cause == "iam_denied":
            req["message"] = (
                "The request was not authenticated. Either allow unauthenticated invocations or set the proper Authorization header."
            )
            app = None
        logs += [r for r in (req, app, noise) if r is not None]
        cited = [r for r in (req, app) if r is not None] if cause != UNKNOWN else []
        explanation = f"{cause}: the app rejected the handshake"
        if with_secret:
            explanation += f" with Authorization: Bearer {SECRET_JWT}"
        verdicts.append(
            Verdict(
                test_id=tid,
                root_cause=cause,
                confidence=0.9 if cause != UNKNOWN else 0.0,
                layer={"iam_denied": "edge", UNKNOWN: None}.get(cause, "app"),
                evidence=tuple(
                    Evidence(
                        r["insert_id"],
                        r["timestamp"].isoformat(),
                        r["log_id"],
                        f"{r['http_status'] or ''} {r['message'][:40]}",
                    )
                    for r in cited
                ),
                explanation=explanation,
                detail=detail,
                reason="no app log in the window" if cause == UNKNOWN else None,
            )
        )
    logs.append(
        _log(
            i := i + 1,
            36.0 + OFFSET_S,
            log_id="run.googleapis.com/stderr",
            service="auth-staging",
            resource_type="cloud_run_revision",
            severity="ERROR",
            message=f"token refresh failed for user e2e@example.com: upstream 502 ({SECRET_JWT if with_secret else 'x'})",
        )
    )
    log_frame = pl.DataFrame(logs, schema=LOG_SCHEMA).sort("timestamp").with_row_index("row")
    test_frame = (
        pl.DataFrame(tests, schema=TEST_SCHEMA)
        .with_columns(
            clock=pl.lit("utc"),
            duration_s=(pl.col("stop") - pl.col("start")).dt.total_microseconds() / 1e6,
            window_uncertainty_s=pl.col("window_uncertainty_s").fill_null(0.5),
        )
        .sort("start")
        .with_columns(order=pl.int_range(pl.len(), dtype=pl.Int64))
    )
    run = RunFacts.from_dict(
        {
            "correlation": {
                "clock_offset_s": OFFSET_S,
                "clock_offset_uncertainty_s": 0.2,
                "clock_method": "trace ids",
            }
        }
    )
    return TriageResult(
        verdicts=verdicts,
        run=run,
        logs=log_frame,
        tests=test_frame,
        redact=redact,
        correlation=given_clock(test_frame, OFFSET_S, 0.2, "trace ids"),
    )


def retimed(result: TriageResult, tests: pl.DataFrame) -> None:
    """Give ``result`` another test frame, placed on Google's clock as ``make_result`` places its own."""
    result.tests = tests
    result.correlation = given_clock(tests, OFFSET_S, 0.2, "trace ids")


# --- windows, rows, filters ----------------------------------------------------------------------


def test_failure_windows_move_tests_onto_google_time() -> None:
    """Without stored correlation windows, a test's window is its start/stop on Google's clock (runner
    time plus the clock offset), widened by the test's and the offset's uncertainty."""
    result = make_result()
    windows = explore.failure_windows(result)
    assert windows.get_column("test_id").to_list() == [v.test_id for v in result.verdicts]
    first = windows.row(0, named=True)
    assert first["start"] == T0 + timedelta(seconds=4.0 + OFFSET_S)
    assert first["lo"] == first["start"] - timedelta(seconds=0.5 + 0.2)
    assert first["hi"] == first["stop"] + timedelta(seconds=0.5 + 0.2)


def test_failure_windows_prefer_the_correlation_windows() -> None:
    """When the result carries the correlation, its own windows are used as the bounds."""
    from forensics.correlate.link import WINDOW_SCHEMA, Correlation

    result = make_result()
    tid = result.verdicts[0].test_id
    lo, hi = T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)
    windows = pl.DataFrame({"test_id": [tid], "lo": [lo], "hi": [hi]}, schema=WINDOW_SCHEMA)
    result.correlation = Correlation(1.0, 0.1, "trace ids", windows, pl.DataFrame())  # type: ignore[attr-defined]
    row = explore.failure_windows(result).row(0, named=True)
    assert (row["lo"], row["hi"]) == (lo, hi)
    assert explore.clock_offset(result) == (1.0, 0.1, "trace ids")


def test_failure_windows_null_without_start_time() -> None:
    """A test without a start time (JUnit without timestamps) gets no window rather than a wrong one."""
    result = make_result()
    retimed(
        result,
        result.tests.with_columns(
            start=pl.lit(None, dtype=TEST_SCHEMA["start"]),
            stop=pl.lit(None, dtype=TEST_SCHEMA["stop"]),
        ),
    )
    windows = explore.failure_windows(result)
    assert windows.get_column("lo").null_count() == windows.height
    assert explore.linked_rows(result, result.verdicts[0].test_id).is_empty()


def test_annotate_tells_front_end_entries_from_app_lines() -> None:
    """Request logs are the edge layer, stdout/stderr lines the app layer; statuses become classes."""
    frame = explore.annotate(make_result().logs)
    by_log = dict(frame.select("log_id", "layer").unique().iter_rows())
    assert by_log == {
        "run.googleapis.com/requests": "edge",
        "run.googleapis.com/stderr": "app",
        "run.googleapis.com/stdout": "app",
    }
    assert set(frame.get_column("status_class")) == {"2xx", "4xx", "no status"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": 403}, 6),
        ({"status": "4xx"}, 6),
        ({"status": [200, "4xx"]}, 18),
        ({"layer": "app"}, 12),
        ({"service": "auth-staging"}, 1),
        ({"text": "signature VERIFICATION"}, 5),
        ({"start": "2025-09-07T09:00:30Z", "layer": "edge"}, 4),
        ({"end": T0 + timedelta(seconds=3)}, 1),
    ],
)
def test_filter_logs(filters: dict[str, Any], expected: int) -> None:
    """Each filter keeps exactly the rows it names, and filters combine with AND."""
    assert explore.filter_logs(make_result().logs, **filters).height == expected


def test_neighbourhood_marks_evidence_and_pads_the_window() -> None:
    """The neighbourhood of a failure holds its window plus padding, with cited rows flagged."""
    result = make_result()
    verdict = result.verdicts[0]
    near = explore.neighbourhood(result, verdict.test_id, seconds=2.0)
    assert set(near.filter(pl.col("evidence")).get_column("insert_id")) == {
        e.insert_id for e in verdict.evidence
    }
    assert near.get_column("timestamp").is_sorted()
    wider = explore.neighbourhood(result, verdict.test_id, seconds=10.0)
    assert wider.height > near.height
    with pytest.raises(KeyError):
        explore.neighbourhood(result, "tests/nope.py::test_passed")


def test_request_behind_follows_the_trace() -> None:
    """From an app line, the request behind it is every entry sharing its trace."""
    result = make_result()
    app_line = explore.evidence_rows(result, result.verdicts[0].test_id).filter(
        pl.col("log_id").str.ends_with("stderr")
    )
    request = explore.request_behind(result, app_line.item(0, "insert_id"))
    assert request.get_column("log_id").to_list() == [
        "run.googleapis.com/stderr",
        "run.googleapis.com/requests",
    ]
    assert request.get_column("http_status").to_list() == [None, 403]


def test_unexplained_leaves_out_cited_rows_and_ok_requests() -> None:
    """Unexplained rows are those near failures that no decided verdict cites, without 2xx requests;
    every row of an unknown failure is kept."""
    result = make_result()
    frame = explore.unexplained(result)
    cited = {e.insert_id for v in result.verdicts if v.root_cause != UNKNOWN for e in v.evidence}
    assert not cited & set(frame.get_column("insert_id"))
    assert frame.filter(pl.col("http_status") < 400).is_empty()
    unknown = frame.filter(pl.col("root_cause") == UNKNOWN)
    assert {"GET 403 /ws"} <= set(unknown.get_column("message"))
    assert frame.get_column("template").null_count() == 0


def test_unexplained_redacts_messages() -> None:
    """A secret in an unexplained log line is redacted before a notebook can show it."""
    frame = explore.unexplained(make_result(with_secret=True))
    assert frame.height
    assert not frame.filter(pl.col("message").str.contains(SECRET_JWT, literal=True)).height


def test_unexplained_empty_has_schema() -> None:
    """No failures gives an empty frame with the documented columns, not an error."""
    result = make_result()
    result.verdicts = []
    frame = explore.unexplained(result)
    assert frame.is_empty() and {"test_id", "message", "template"} <= set(frame.columns)


def test_readable_redacts_and_orders_columns() -> None:
    """Rows prepared for display keep the reading columns first and never show a secret."""
    result = make_result(with_secret=True)
    frame = explore.readable(result, explore.filter_logs(result.logs, service="auth-staging"))
    assert frame.columns[:2] == ["timestamp", "service"] and "layer" in frame.columns
    assert SECRET_JWT not in frame.item(0, "message")
    assert "REDACTED" in frame.item(0, "message")


def test_unexplained_skips_app_access_lines_of_successful_requests() -> None:
    """An app's access-log line for a 2xx request is not a failure's explanation; its 403 line is."""
    result = make_result()
    extra = [
        _log(
            900,
            4.2 + OFFSET_S,
            log_id="run.googleapis.com/stdout",
            service="backend-staging",
            resource_type="cloud_run_revision",
            message='INFO:     169.254.1.1:38258 - "GET /health HTTP/1.1" 200 OK',
        ),
        _log(
            901,
            4.3 + OFFSET_S,
            log_id="run.googleapis.com/stdout",
            service="backend-staging",
            resource_type="cloud_run_revision",
            message='INFO:     169.254.1.1:38259 - "WebSocket /ws" 403',
        ),
    ]
    logs = pl.concat([result.logs.drop("row"), pl.DataFrame(extra, schema=LOG_SCHEMA)])
    result.logs = logs.sort("timestamp").with_row_index("row")
    ids = set(explore.unexplained(result).get_column("insert_id"))
    assert "ins0901" in ids and "ins0900" not in ids
    assert "ins0900" in set(explore.unexplained(result, include_ok=True).get_column("insert_id"))


def test_linked_rows_follow_the_correlation_links() -> None:
    """When the result carries the correlation, a test's rows are exactly its links, with how they were linked."""
    from forensics.correlate.link import LINK_SCHEMA, WINDOW_SCHEMA, Correlation

    result = make_result()
    tid = result.verdicts[0].test_id
    links = pl.DataFrame(
        {"test_id": [tid, tid], "row": [3, 20], "via": ["trace", "window"], "strength": [1.0, 0.3]},
        schema=LINK_SCHEMA,
    )
    result.correlation = Correlation(
        1.8, 0.2, "trace ids", pl.DataFrame(schema=WINDOW_SCHEMA), links
    )  # type: ignore[attr-defined]
    rows = explore.linked_rows(result, tid)
    assert sorted(rows.get_column("row").to_list()) == [3, 20]
    assert set(rows.get_column("via")) == {"trace", "window"}
    assert explore.linked_rows(result, result.verdicts[1].test_id).is_empty()
