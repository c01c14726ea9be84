"""The local server's gRPC ListLogEntries, with google-cloud-logging's generated gRPC client."""

from __future__ import annotations

import pytest

grpc = pytest.importorskip("grpc")

from google.api_core import exceptions as api  # noqa: E402
from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client  # noqa: E402
from google.cloud.logging_v2.services.logging_service_v2.transports import (  # noqa: E402
    LoggingServiceV2GrpcTransport,
)

from forensics.emulator import EntryStore, FaultPlan, LoggingEmulator  # noqa: E402
from forensics.emulator.grpc_api import GrpcLoggingServer  # noqa: E402
from forensics.emulator.synth import synthetic_entries  # noqa: E402

PROJECT = "demo-project"
AUDIT = {
    "insertId": "audit1", "timestamp": "2026-01-15T10:00:00.000001Z", "logName":
    f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Fdata_access",
    "resource": {"type": "audited_resource", "labels": {"service": "iap.googleapis.com"}},
    "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                     "serviceName": "iap.googleapis.com", "methodName": "AuthorizeUser",
                     "status": {"code": 7, "message": "PERMISSION_DENIED"}},
}
ODD = {"insertId": "odd1", "timestamp": "2026-01-15T10:00:00.000002Z", "logName": f"projects/{PROJECT}/logs/x",
       "protoPayload": {"@type": "type.googleapis.com/example.Unknown", "answer": 42}}
ENTRIES = [AUDIT, ODD, *synthetic_entries(2500, project=PROJECT)]


@pytest.fixture(scope="module")
def servers():
    with LoggingEmulator(EntryStore.from_entries(ENTRIES)) as http, GrpcLoggingServer(http) as rpc:
        yield http, rpc


@pytest.fixture
def gapic(servers):
    http, rpc = servers
    http.faults.replace(FaultPlan())
    http.requests_seen.clear()
    channel = grpc.insecure_channel(rpc.host)
    yield LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=channel))
    channel.close()


def _list(gapic: LoggingServiceV2Client, **request):
    request.setdefault("resource_names", [f"projects/{PROJECT}"])
    return list(gapic.list_log_entries(request=request))


def test_grpc_pages_through_every_entry(gapic: LoggingServiceV2Client, servers) -> None:
    """The generated client's pager gets every entry once, in time order, across pages."""
    entries = _list(gapic, page_size=1000)
    assert [e.insert_id for e in entries] == [e["insertId"] for e in EntryStore.from_entries(ENTRIES).entries]
    seen = [r for r in servers[0].requests_seen if r["transport"] == "grpc"]
    assert len(seen) == 3 and seen[1]["pageToken"]


def test_grpc_evaluates_the_filter_and_keeps_payloads(gapic: LoggingServiceV2Client) -> None:
    """Filters work as over HTTP; audit payloads arrive typed, unknown proto payloads as JSON."""
    entries = _list(gapic, filter='resource.type = "audited_resource" OR insertId = "odd1"')
    assert [e.insert_id for e in entries] == ["audit1", "odd1"]
    assert entries[0].proto_payload.type_url.endswith("google.cloud.audit.AuditLog")
    assert entries[1].json_payload["answer"] == 42


@pytest.mark.parametrize(("kind", "error"), [
    ("403", api.PermissionDenied), ("404", api.NotFound), ("400", api.InvalidArgument),
    ("401", api.Unauthenticated), ("429", api.ResourceExhausted),
])
def test_grpc_faults_become_api_core_exceptions(gapic: LoggingServiceV2Client, servers, kind: str,
                                                error: type) -> None:
    """Injected faults reach the gRPC client as the matching google.api_core exception."""
    servers[0].faults.replace(FaultPlan.parse([{"kind": kind, "retry_after": 1}]))
    with pytest.raises(error):
        _list(gapic)


def test_module_serves_grpc_beside_http(tmp_path) -> None:
    """python -m forensics.emulator --grpc-port 0 prints the gRPC address and answers there."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    export = tmp_path / "logs.jsonl"
    export.write_text("\n".join(json.dumps(e) for e in ENTRIES[:30]))
    proc = subprocess.Popen([sys.executable, "-m", "forensics.emulator", "--logs", str(export), "--port", "0",
                             "--grpc-port", "0"], cwd=Path(__file__).resolve().parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[2].startswith("gRPC ListLogEntries on 127.0.0.1:")
        host = lines[2].split(" on ", 1)[1].split()[0]
        with grpc.insecure_channel(host) as channel:
            client = LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=channel))
            assert len(_list(client, page_size=7)) == 30
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
