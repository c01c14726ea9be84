"""The typed shapes every stage shares: the log frame and the test frame.

The log frame has one row per Cloud Logging entry, whatever file or API it came from.
The test frame has one row per test case, whatever report format it came from.
Both are documented column by column in README.md ("The log frame", "The test frame").
"""

from __future__ import annotations

import polars as pl

#: Cloud Logging severities in their defined order; ``DEFAULT`` is what an omitted severity means.
SEVERITIES = ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"]
Severity = pl.Enum(SEVERITIES)

UTC_NS = pl.Datetime("ns", "UTC")

#: Column name -> dtype of the log frame, in column order.
LOG_SCHEMA: dict[str, pl.DataType] = {
    "timestamp": UTC_NS,  # when the event happened (LogEntry.timestamp), UTC, ns
    "receive_timestamp": UTC_NS,  # when Cloud Logging received it
    "severity": Severity,
    "log_name": pl.String(),  # full logName, as stored
    "log_id": pl.String(),  # decoded log id: "run.googleapis.com/requests"
    "project": pl.String(),  # project id from logName or resource labels
    "resource_type": pl.String(),  # cloud_run_revision, http_load_balancer, ...
    "service": pl.String(),  # service_name / backend_service_name / module_id / function_name
    "revision": pl.String(),  # revision_name / version_id
    "location": pl.String(),  # location / region / zone
    "instance_id": pl.String(),  # labels.instanceId (Cloud Run container instance)
    "insert_id": pl.String(),
    "trace": pl.String(),  # bare 32-hex trace id, no "projects/P/traces/"
    "span_id": pl.String(),
    "http_method": pl.String(),
    "http_url": pl.String(),
    "http_path": pl.String(),  # path of http_url, without query
    "http_status": pl.Int32(),
    "http_latency_s": pl.Float64(),
    "http_user_agent": pl.String(),
    "http_remote_ip": pl.String(),
    "http_protocol": pl.String(),
    "http_request_size": pl.Int64(),
    "http_response_size": pl.Int64(),
    "http_referer": pl.String(),
    "payload_kind": pl.String(),  # "text", "json", "proto" or null
    "message": pl.String(),  # textPayload, jsonPayload.message, or a one-line protoPayload summary
    "payload": pl.String(),  # the whole jsonPayload / protoPayload as JSON text (null for text)
    "labels": pl.String(),  # the entry's labels as JSON text
    "source_file": pl.String(),  # where the row came from: file path, or "cloud-logging:PROJECT"
    "source_line": pl.Int64(),  # 1-based line (JSONL) or the entry's first line (pretty JSON)
}

#: What each row is (``forensics.logs.kinds``): every frame forensics reads has these columns
#: after the ``LOG_SCHEMA`` ones. ``triage`` and ``correlate`` also give the frame a ``row`` index
#: (UInt32, the row's position: what correlation links point at); ``kinds.with_kinds`` adds all of
#: them to a frame built by hand.
KIND_SCHEMA: dict[str, pl.DataType] = {
    "layer": pl.String(),  # who wrote it: "service", "edge", "app", "other"
    "role": pl.String(),  # what rules call it: "request", "edge", "audit", "app", "other"
    "client_kind": pl.String(),  # "probe", "scanner", "mobile", "script", "browser", "unknown"
}

#: Test outcomes forensics keeps; ``failed`` and ``error`` are both failures.
OUTCOMES = ["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
Outcome = pl.Enum(OUTCOMES)
FAILED_OUTCOMES = ("failed", "error")


def failed() -> pl.Expr:
    """Boolean expression over the test frame: the test failed (outcome ``failed`` or ``error``)."""
    return pl.col("outcome").cast(pl.String).is_in(FAILED_OUTCOMES)


#: Column name -> dtype of the test frame.
TEST_SCHEMA: dict[str, pl.DataType] = {
    "test_id": pl.String(),  # pytest node id: tests/e2e/x.py::TestX::test_y
    "outcome": Outcome,
    "start": UTC_NS,  # best estimate of when the test started, UTC (null if unknown)
    "stop": UTC_NS,
    "duration_s": pl.Float64(),
    "window_uncertainty_s": pl.Float64(),  # +- seconds on start/stop (0 for reportlog)
    "clock": pl.String(),  # "utc" (zone known), "naive" (zone unknown, aligned later), "none"
    "order": pl.Int64(),  # position of the test in the run (0-based)
    "message": pl.String(),  # failure message + traceback + captured output
    "source_file": pl.String(),
    "source_format": pl.String(),  # "junit", "reportlog", "json-report"
}


def empty_log_frame() -> pl.DataFrame:
    """An empty log frame with the full schema."""
    return pl.DataFrame(schema=LOG_SCHEMA)


def empty_test_frame() -> pl.DataFrame:
    """An empty test frame with the full schema."""
    return pl.DataFrame(schema=TEST_SCHEMA)
