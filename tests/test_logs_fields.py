"""Each column of the log frame, read from the LogEntry fields that carry it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from forensics import entries_to_frame


def frame_of(**fields: Any) -> pl.DataFrame:
    """The frame of one entry (timestamp and logName defaulted)."""
    entry = {"timestamp": "2026-03-01T10:00:00Z", "logName": "projects/p/logs/app", **fields}
    frame = entries_to_frame([entry], "test")
    assert frame.height == 1, "the entry was dropped"
    return frame


def one(**fields: Any) -> dict[str, Any]:
    """The single row of the frame of one entry, as Python values."""
    return frame_of(**fields).row(0, named=True)


def ns(column: pl.Series) -> int:
    """The single value of a datetime column as integer nanoseconds (Python datetimes stop at µs)."""
    return column.cast(pl.Int64).item()


@pytest.mark.parametrize(
    ("stamp", "expected_ns"),
    [
        ("2026-03-01T10:00:00Z", 1772359200_000000000),
        ("2026-03-01T10:00:00.5Z", 1772359200_500000000),
        ("2026-03-01T10:00:00.123456789Z", 1772359200_123456789),
        ("2026-03-01T10:00:00.000001Z", 1772359200_000001000),
        ("2026-03-01T12:00:00+02:00", 1772359200_000000000),
        ("2026-03-01T04:30:00.25-05:30", 1772359200_250000000),
        ("2026-03-01t10:00:00z", 1772359200_000000000),
        ("2026-03-01 10:00:00Z", 1772359200_000000000),
    ],
)
def test_timestamps_are_utc_nanoseconds(stamp: str, expected_ns: int) -> None:
    """Z, offsets, 0-9 fractional digits, lower-case t/z and a space separator all read to UTC ns."""
    assert ns(frame_of(timestamp=stamp)["timestamp"]) == expected_ns


def test_receive_timestamp_is_kept() -> None:
    """receiveTimestamp is its own column, nanosecond exact."""
    frame = frame_of(receiveTimestamp="2026-03-01T10:00:01.000000007Z")
    assert ns(frame["receive_timestamp"]) == 1772359201_000000007


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "DEFAULT"), ("ERROR", "ERROR"), ("warning", "WARNING"), ("WARN", "WARNING"),
        (500, "ERROR"), ("200", "INFO"), (800, "EMERGENCY"), ("fatal", "CRITICAL"), ("bogus", "DEFAULT"),
    ],
)  # fmt: skip
def test_severity_names_numbers_and_missing(given: Any, expected: str) -> None:
    """Severity is the ordered enum: names in any case, numeric levels, missing -> DEFAULT."""
    row = one(**({"severity": given} if given is not None else {}))
    assert row["severity"] == expected


def test_severity_is_ordered() -> None:
    """Severities compare by level, so 'at least WARNING' is a plain comparison."""
    frame = entries_to_frame(
        [{"timestamp": "2026-03-01T10:00:00Z", "logName": "projects/p/logs/a", "insertId": s, "severity": s}
         for s in ("ERROR", "DEBUG", "WARNING")],
        "t",
    )  # fmt: skip
    assert frame.filter(pl.col("severity") >= "WARNING")["insert_id"].sort().to_list() == [
        "ERROR",
        "WARNING",
    ]


@pytest.mark.parametrize(
    ("log_name", "log_id", "project"),
    [
        ("projects/shop/logs/run.googleapis.com%2Frequests", "run.googleapis.com/requests", "shop"),
        (
            "projects/shop/logs/cloudaudit.googleapis.com%2Fdata_access",
            "cloudaudit.googleapis.com/data_access",
            "shop",
        ),
        (
            "organizations/123/logs/cloudaudit.googleapis.com%2Factivity",
            "cloudaudit.googleapis.com/activity",
            "from-resource",
        ),
        ("folders/9/logs/my-log", "my-log", "from-resource"),
        ("billingAccounts/AB-12/logs/x%2Fy", "x/y", "from-resource"),
        ("projects/shop/logs/requests", "requests", "shop"),
    ],
)
def test_log_id_and_project_from_log_name(log_name: str, log_id: str, project: str) -> None:
    """logName is URL-decoded into log_id; project comes from it, else from resource labels."""
    row = one(
        logName=log_name, resource={"type": "global", "labels": {"project_id": "from-resource"}}
    )
    assert (row["log_name"], row["log_id"], row["project"]) == (log_name, log_id, project)


@pytest.mark.parametrize(
    ("resource", "service", "revision", "location"),
    [
        ({"type": "cloud_run_revision", "labels": {"service_name": "api", "revision_name": "api-7", "location": "us-east1"}}, "api", "api-7", "us-east1"),
        ({"type": "http_load_balancer", "labels": {"backend_service_name": "be", "url_map_name": "um", "zone": "global"}}, "be", None, "global"),
        ({"type": "http_load_balancer", "labels": {"backend_service_name": "", "url_map_name": "um", "zone": "global"}}, "um", None, "global"),
        ({"type": "cloud_function", "labels": {"function_name": "fn", "region": "europe-west1"}}, "fn", None, "europe-west1"),
        ({"type": "gae_app", "labels": {"module_id": "default", "version_id": "v3", "zone": "us2"}}, "default", "v3", "us2"),
        ({"type": "k8s_container", "labels": {"container_name": "web", "namespace_name": "prod", "location": "eu"}}, "web", None, "eu"),
        ({"type": "cloud_run_job", "labels": {"job_name": "nightly", "location": "eu"}}, "nightly", None, "eu"),
    ],
)  # fmt: skip
def test_service_revision_location_per_resource_type(
    resource: dict, service: str, revision: str | None, location: str
) -> None:
    """service/revision/location come from the labels each resource type uses; "" counts as absent."""
    row = one(resource=resource)
    assert (row["resource_type"], row["service"], row["revision"], row["location"]) == (
        resource["type"], service, revision, location,
    )  # fmt: skip


def test_trace_span_insert_id_and_instance() -> None:
    """trace loses its projects/P/traces/ prefix; instance_id is labels.instanceId."""
    row = one(
        trace="projects/p/traces/0af7651916cd43dd8448eb211c80319c",
        spanId="b7ad6b7169203331",
        insertId="abc",
        labels={"instanceId": "00f4", "other": "x"},
    )
    assert row["trace"] == "0af7651916cd43dd8448eb211c80319c"
    assert (row["span_id"], row["insert_id"], row["instance_id"]) == (
        "b7ad6b7169203331",
        "abc",
        "00f4",
    )
    assert json.loads(row["labels"]) == {"instanceId": "00f4", "other": "x"}


def test_empty_trace_is_null() -> None:
    """An empty trace (apps without tracing write "") is null, not a match-everything key."""
    assert one(trace="", spanId="")["trace"] is None


def test_http_request_fields() -> None:
    """httpRequest: sizes written as strings become ints, latency "Ns" becomes float seconds."""
    row = one(
        httpRequest={
            "requestMethod": "POST", "requestUrl": "https://x.run.app/api/v1/login?next=%2F#frag",
            "status": 403, "latency": "0.102951s", "requestSize": "733", "responseSize": "12",
            "userAgent": "curl/8", "remoteIp": "203.0.113.7", "protocol": "HTTP/1.1",
            "referer": "https://x.example/",
        }
    )  # fmt: skip
    assert row["http_method"] == "POST"
    assert row["http_path"] == "/api/v1/login"
    assert row["http_status"] == 403
    assert row["http_latency_s"] == pytest.approx(0.102951)
    assert (row["http_request_size"], row["http_response_size"]) == (733, 12)
    assert (row["http_user_agent"], row["http_remote_ip"], row["http_protocol"], row["http_referer"]) == (
        "curl/8", "203.0.113.7", "HTTP/1.1", "https://x.example/",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("latency", "seconds"),
    [
        ("0s", 0.0),
        ("60.369159188s", 60.369159188),
        ({"seconds": 2, "nanos": 500000000}, 2.5),
        ({"nanos": 7000}, 7e-6),
    ],
)
def test_latency_string_or_duration_object(latency: Any, seconds: float) -> None:
    """Latency is read from "Ns" strings and from {"seconds", "nanos"} objects."""
    assert one(httpRequest={"latency": latency})["http_latency_s"] == pytest.approx(seconds)


@pytest.mark.parametrize(("status", "expected"), [("404", 404), (503, 503), ("n/a", None)])
def test_status_as_string_or_number(status: Any, expected: int | None) -> None:
    """Status is read whether written as a number or a string; garbage is null, not an error."""
    assert one(httpRequest={"status": status})["http_status"] == expected


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/ws", "/ws"),
        ("https://h", "/"),
        ("http://1.2.3.4:8080/a/b?c=d", "/a/b"),
        ("wss://h/ws?token=x", "/ws"),
    ],
)
def test_http_path_drops_host_and_query(url: str, path: str) -> None:
    """http_path is the URL path alone (queries may hold tokens and split one route into many)."""
    assert one(httpRequest={"requestUrl": url})["http_path"] == path


def test_text_payload() -> None:
    """textPayload is the message; payload is null for text."""
    row = one(textPayload="Default STARTUP TCP probe succeeded")
    assert (row["payload_kind"], row["message"], row["payload"]) == (
        "text",
        "Default STARTUP TCP probe succeeded",
        None,
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"message": "token expired", "msg": "no"}, "token expired"),
        ({"msg": "pino style", "level": 30}, "pino style"),
        ({"error": "connection refused"}, "connection refused"),
        ({"event": "user.login.failed", "user": 3}, "user.login.failed"),
        ({"message": "", "msg": "the empty message is skipped"}, "the empty message is skipped"),
    ],
)
def test_json_payload_message_keys(payload: dict, message: str) -> None:
    """jsonPayload.message, else msg, error, event: the first non-empty one is the message."""
    row = one(jsonPayload=payload)
    assert (row["payload_kind"], row["message"]) == ("json", message)
    assert json.loads(row["payload"]) == payload


def test_json_payload_without_message_key_is_summarized_by_its_text() -> None:
    """A payload with no message key gets its JSON text (cut at 500 chars) as message."""
    row = one(
        jsonPayload={
            "remoteIp": "1.2.3.4",
            "enforcedSecurityPolicy": {"outcome": "DENY"},
            "big": "x" * 900,
        }
    )
    assert row["message"].startswith('{"remoteIp"') and len(row["message"]) == 500


def test_structured_error_object_is_kept_as_json_text() -> None:
    """A jsonPayload.error that is an object becomes the message as its JSON text."""
    row = one(jsonPayload={"error": {"code": 401, "reason": "invalid_token"}})
    assert json.loads(row["message"]) == {"code": 401, "reason": "invalid_token"}


def test_payload_text_is_exact_json_with_escapes() -> None:
    """Payload and labels with newlines, quotes, backslashes, unicode round-trip through json.loads."""
    payload = {
        "message": 'Traceback:\n  File "C:\\app\\x.py"\n\tboom \u2028 \x1b[31m \U0001f600',
        "n": 1.5,
    }
    labels = {"path": "C:\\tmp", "quote": 'say "hi"'}
    row = one(
        jsonPayload=payload,
        labels=labels,
        resource={"type": "t", "labels": {"service_name": 'a\\"b'}},
    )
    assert json.loads(row["payload"]) == payload
    assert row["message"] == payload["message"]
    assert json.loads(row["labels"]) == labels
    assert row["service"] == 'a\\"b'


def test_proto_payload_summary_line() -> None:
    """An audit protoPayload gets a one-line summary: type, service, method, status, resource."""
    row = one(
        protoPayload={
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "iap.googleapis.com",
            "methodName": "AuthorizeUser",
            "status": {"code": 7, "message": "Permission denied for user ci@x"},
            "resourceName": "projects/1/iap_web/compute/services/api",
        }
    )
    assert row["payload_kind"] == "proto"
    assert row["message"] == (
        "AuditLog iap.googleapis.com AuthorizeUser: PERMISSION_DENIED Permission denied for user ci@x"
        " on projects/1/iap_web/compute/services/api"
    )
    assert json.loads(row["payload"])["methodName"] == "AuthorizeUser"


def test_proto_payload_without_status_and_with_odd_types() -> None:
    """A proto summary leaves out what is missing, and survives fields of unexpected types."""
    plain = one(
        protoPayload={
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "methodName": "Get",
        }
    )
    assert plain["message"] == "AuditLog Get"
    odd = one(protoPayload={"@type": "x.Y", "methodName": {"nested": True}, "status": {"code": 16}})
    assert odd["message"].startswith("Y ") and odd["message"].endswith(": UNAUTHENTICATED")


def test_stdout_json_lines_are_wrapped_like_the_logging_agent_does() -> None:
    """A structured stdout line becomes a jsonPayload entry with severity/trace/labels lifted out."""
    line = {
        "message": "ws rejected: missing token",
        "severity": "WARNING",
        "time": "2026-03-01T10:00:00.5Z",
        "logging.googleapis.com/trace": "projects/p/traces/0af7651916cd43dd8448eb211c80319c",
        "logging.googleapis.com/spanId": "b7ad6b7169203331",
        "logging.googleapis.com/labels": {"python_logger": "app.ws"},
        "httpRequest": {"requestMethod": "GET", "requestUrl": "/ws", "status": 403},
        "reason": "missing_jwt",
    }
    frame = entries_to_frame([line], "stdout")
    row = frame.row(0, named=True)
    assert (row["severity"], row["message"], row["payload_kind"]) == (
        "WARNING",
        "ws rejected: missing token",
        "json",
    )
    assert (
        row["trace"] == "0af7651916cd43dd8448eb211c80319c" and row["span_id"] == "b7ad6b7169203331"
    )
    assert json.loads(row["labels"]) == {"python_logger": "app.ws"}
    assert (row["http_status"], row["http_path"]) == (403, "/ws")
    assert json.loads(row["payload"]) == {
        "message": "ws rejected: missing token",
        "reason": "missing_jwt",
    }
    assert row["timestamp"] == datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)
    assert row["log_name"] is None


def test_stdout_timestamp_seconds_and_nanos() -> None:
    """timestampSeconds + timestampNanos (the Go and Node agents' form) give the time."""
    frame = entries_to_frame(
        [
            {
                "severity": "INFO",
                "message": "m",
                "timestampSeconds": 1772359200,
                "timestampNanos": 42,
            }
        ],
        "s",
    )
    assert ns(frame["timestamp"]) == 1772359200_000000042
