"""Real Cloud Logging exports (../shared/real-logs) read into the frame with the values they hold."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from forensics import KIND_SCHEMA, LOG_SCHEMA, LogFormatError, load_logs, read_logs

REAL_LOGS = Path(__file__).parents[1].parent / "shared" / "real-logs"

#: Captures that are not LogEntry exports: each must be refused with a one-line reason.
NOT_EXPORTS = {
    "local-captures/uvicorn-0.35.0_ws-websockets-sansio.log": "plain-text console output",
    "local-captures/uvicorn-0.35.0_ws-websockets.log": "plain-text console output",
    "local-captures/uvicorn-0.35.0_ws-wsproto.log": "plain-text console output",
    "local-captures/websockets-15.0.1_client_exceptions.txt": "plain-text console output",
    "mybazaar20/gcloud_functions_logs_read_excerpt.txt": "gcloud table",
    "local-captures/structuredloghandler-3.17.0_stdout.jsonl": "3 no timestamp",
}
ROWS = {
    "amilia/cloudrun_requests_502_scheduler.json": 1,
    "cerberus/cloudrun_stdout_stderr.jsonl": 31,
    "cerberus/cloudrun_stdout_stderr_console_copy.txt": 31,
    "elastic-integrations/test-load-balancer.log": 1,  # three variants sharing insertId + timestamp
    "mybazaar20/cloudrun_requests_403_iam_unauthenticated_options.json": 1,
    "otel-contrib/armor_enforced_edge_security_policy_deny.json": 1,
    "otel-contrib/armor_enforced_security_policy_deny.json": 1,
    "otel-contrib/armor_two_security_policies_accept_503.json": 1,
    "otel-contrib/cloudrun_requests_503_h2c_real_log.json": 1,
    "otel-contrib/global_external_alb_200.json": 1,
    "otel-contrib/log_entry_all_fields.json": 1,
    "otel-contrib/regional_external_alb_200.json": 1,
    "plaso/gcp_logging_excerpt.jsonl": 3,
    "simonw-til/gcloud_format_json_cloudrun_requests_array.json": 1,
}


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL_LOGS.is_dir():
        pytest.skip("../shared/real-logs is not beside the checkout")
    return REAL_LOGS


def test_every_file_is_either_read_or_refused_clearly(real: Path) -> None:
    """Each file in the folder is accounted for: read with its row count, or refused in one line."""
    files = sorted(
        str(p.relative_to(real)) for p in real.rglob("*") if p.is_file() and p.name != "README.md"
    )
    assert files == sorted([*ROWS, *NOT_EXPORTS])
    for name in files:
        if name in ROWS:
            frame = load_logs(real / name)
            assert frame.height == ROWS[name], name
            assert frame.schema == pl.Schema({**LOG_SCHEMA, **KIND_SCHEMA})
            assert frame["timestamp"].null_count() == 0
            continue
        with pytest.raises(LogFormatError) as err:
            read_logs(real / name)
        assert NOT_EXPORTS[name] in str(err.value) and "\n" not in str(err.value), name


def test_whole_folder_reads_with_non_exports_skipped(real: Path) -> None:
    """The folder as one input: every export in, each non-export a skipped file, copies deduplicated."""
    loaded = read_logs(real)
    assert loaded.frame.height == sum(ROWS.values()) - 31  # the console copy repeats the JSONL
    assert loaded.duplicates == 31 + 2
    assert {Path(s.source).name for s in loaded.skipped} == {Path(n).name for n in NOT_EXPORTS} | {
        "README.md"
    }


def test_armor_deny(real: Path) -> None:
    """Cloud Armor deny: LB request log, 403, payload says the policy outcome was DENY."""
    row = load_logs(real / "otel-contrib/armor_enforced_security_policy_deny.json").row(
        0, named=True
    )
    assert (row["resource_type"], row["http_status"], row["severity"]) == (
        "http_load_balancer",
        403,
        "WARNING",
    )
    assert (row["log_id"], row["project"], row["service"]) == (
        "requests",
        "elastic-observability",
        "bakcend-test-2",
    )
    payload = json.loads(row["payload"])
    assert payload["enforcedSecurityPolicy"]["outcome"] == "DENY"
    assert row["message"] == "denied_by_security_policy"
    assert (
        row["trace"] == "632be878ad209fdbc3d4759d43af07c5" and row["span_id"] == "bdb01ee839b3957a"
    )
    assert row["http_latency_s"] == pytest.approx(0.102951)
    assert (row["http_request_size"], row["http_response_size"], row["http_path"]) == (
        462,
        275,
        "/",
    )


def test_edge_policy_deny_and_backend_503(real: Path) -> None:
    """Edge-policy deny is 403 with its own policy block; failed_to_pick_backend is a 503."""
    edge = load_logs(real / "otel-contrib/armor_enforced_edge_security_policy_deny.json").row(
        0, named=True
    )
    assert edge["http_status"] == 403
    assert json.loads(edge["payload"])["enforcedEdgeSecurityPolicy"]["outcome"] == "DENY"
    backend = load_logs(real / "otel-contrib/armor_two_security_policies_accept_503.json").row(
        0, named=True
    )
    assert (backend["http_status"], backend["message"]) == (503, "failed_to_pick_backend")


def test_mybazaar_iam_denial(real: Path) -> None:
    """The Cloud Run IAM invoker denial: requests log, 403 OPTIONS, the 'not authenticated' text."""
    row = load_logs(real / "mybazaar20/cloudrun_requests_403_iam_unauthenticated_options.json").row(
        0, named=True
    )
    assert row["log_id"] == "run.googleapis.com/requests"
    assert row["message"].startswith("The request was not authenticated")
    assert (row["http_method"], row["http_status"], row["http_latency_s"]) == ("OPTIONS", 403, 0.0)
    assert (row["service"], row["revision"], row["location"]) == (
        "logineventmanagerhttp", "logineventmanagerhttp-00006-pux", "us-central1",
    )  # fmt: skip
    assert row["http_request_size"] == 733 and row["http_path"] == "/loginEventManagerHttp"
    assert row["trace"] == "6d1e82a184914a699a4638b5fed5ab90"
    assert json.loads(row["labels"])["goog-managed-by"] == "cloudfunctions"


def test_cerberus_console_copy_equals_its_jsonl(real: Path) -> None:
    """The Logs Explorer copy (pretty objects pasted together) gives the same 31 rows as the JSONL."""
    copy = load_logs(real / "cerberus/cloudrun_stdout_stderr_console_copy.txt")
    jsonl = load_logs(real / "cerberus/cloudrun_stdout_stderr.jsonl")
    assert copy.height == jsonl.height == 31
    assert copy.drop("source_file", "source_line").equals(jsonl.drop("source_file", "source_line"))
    assert copy["severity"].unique().to_list() == ["DEFAULT"]  # no severity key in these entries
    assert set(copy["log_id"]) == {"run.googleapis.com/stdout", "run.googleapis.com/stderr"}
    assert copy["instance_id"].null_count() == 0
    assert copy["message"][0] == "[2025-08-19 20:57:37 +0000] [1] [INFO] Starting gunicorn 23.0.0"
    assert copy.sort("source_line")["source_line"][:2].to_list() == [1, 22]


def test_cloud_run_503_h2c(real: Path) -> None:
    """A Cloud Run request log with protocol H2C and an ERROR severity."""
    row = load_logs(real / "otel-contrib/cloudrun_requests_503_h2c_real_log.json").row(
        0, named=True
    )
    assert (row["http_status"], row["http_protocol"], row["severity"]) == (503, "H2C", "ERROR")
    assert (row["service"], row["revision"]) == ("otelcol", "example-00007-sun")


def test_scheduler_502_long_latency(real: Path) -> None:
    """A Cloud Scheduler POST that waited a minute: 502, latency 60.369159188 s."""
    row = load_logs(real / "amilia/cloudrun_requests_502_scheduler.json").row(0, named=True)
    assert (row["http_method"], row["http_status"]) == ("POST", 502)
    assert row["http_latency_s"] == pytest.approx(60.369159188)
    assert row["http_user_agent"] == "Google-Cloud-Scheduler"


def test_regional_lb_log_id_and_location(real: Path) -> None:
    """The regional external ALB: its URL-encoded log id decoded, region as location."""
    row = load_logs(real / "otel-contrib/regional_external_alb_200.json").row(0, named=True)
    assert row["log_id"] == "loadbalancing.googleapis.com/external_regional_requests"
    assert (row["resource_type"], row["location"], row["http_status"]) == (
        "http_external_regional_lb_rule", "europe-southwest1", 200,
    )  # fmt: skip


def test_all_fields_entry(real: Path) -> None:
    """The synthetic everything-entry: query dropped from the path, sizes from strings, labels kept."""
    row = load_logs(real / "otel-contrib/log_entry_all_fields.json").row(0, named=True)
    assert row["http_path"] == "/api/v1/users"
    assert (row["http_request_size"], row["http_response_size"]) == (1452, 8921)
    assert row["http_latency_s"] == pytest.approx(0.45)
    assert json.loads(row["labels"]) == {"project": "open telemetry"}
    assert (row["severity"], row["trace"]) == ("DEFAULT", "6a4ff0a7376921a0eb18291d8618302c")


def test_plaso_payload_kinds(real: Path) -> None:
    """Audit, JSON and text payloads in one JSONL, each with its message."""
    frame = load_logs(real / "plaso/gcp_logging_excerpt.jsonl").sort("source_line")
    assert frame["payload_kind"].to_list() == ["proto", "json", "text"]
    assert frame["message"][0] == (
        "AuditLog compute.googleapis.com beta.compute.networks.insert"
        " on projects/fake-project/global/networks/test"
    )
    assert json.loads(frame["payload"][1])["content"] == "This is a json payload"
    assert frame["message"][2] == "This is a text payload"


def test_gcloud_array(real: Path) -> None:
    """`gcloud ... --format json` output: an array, entry at line 2, instance and trace read."""
    row = load_logs(real / "simonw-til/gcloud_format_json_cloudrun_requests_array.json").row(
        0, named=True
    )
    assert (row["source_line"], row["service"], row["http_status"]) == (2, "datasette-io", 200)
    assert row["instance_id"].startswith("00bf4bf02d1d7fe4402c3aff8a34688d")
    assert row["http_path"] == "/content/repos"


def test_elastic_jsonl_with_malformed_type_and_duplicate_ids(real: Path) -> None:
    """Three LB entries sharing insertId and timestamp are one entry to Cloud Logging: two dropped."""
    loaded = read_logs(real / "elastic-integrations/test-load-balancer.log")
    assert (loaded.frame.height, loaded.duplicates) == (1, 2)
    row = loaded.frame.row(0, named=True)
    assert (row["http_status"], row["message"]) == (304, "response_from_cache")
    assert row["service"] == "URL_MAP_NAME"  # backend_service_name is "" in this entry


def test_structured_stdout_capture_is_recognized_but_has_no_time(real: Path) -> None:
    """StructuredLogHandler stdout lines are wrapped as entries, but with no time they are refused."""
    path = real / "local-captures/structuredloghandler-3.17.0_stdout.jsonl"
    with pytest.raises(LogFormatError) as err:
        read_logs(path)
    assert (
        str(err.value)
        == f"{path}: no usable LogEntry in the file: 3 no timestamp (first at line 1)"
    )
