"""Synthetic Cloud Logging exports for demos, tests and benchmarks of the live path.

The entries look like a small Cloud Run service behind an external load balancer: request logs
with ``httpRequest`` and a trace, app logs in text and JSON, and a few entries of other resource
types that a triage filter leaves out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_STATUSES = (200, 200, 200, 200, 201, 204, 302, 403, 404, 500, 503)
_SEVERITY = {2: "INFO", 3: "INFO", 4: "WARNING", 5: "ERROR"}


def synthetic_entries(
    count: int,
    *,
    project: str = "demo-project",
    start: datetime = datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
    step_ms: int = 50,
    service: str = "api",
) -> list[dict[str, Any]]:
    """``count`` LogEntry dicts ``step_ms`` apart from ``start``, in the API's JSON shape."""
    entries = []
    for i in range(count):
        ts = (start + timedelta(milliseconds=i * step_ms)).isoformat(timespec="microseconds").replace("+00:00", "Z")
        trace = f"{i // 3:032x}"
        kind = i % 10
        if kind == 9:  # something triage does not read
            entries.append({
                "insertId": f"vm{i:08d}", "timestamp": ts, "receiveTimestamp": ts, "severity": "INFO",
                "logName": f"projects/{project}/logs/syslog",
                "resource": {"type": "gce_instance", "labels": {"project_id": project, "instance_id": "1"}},
                "textPayload": f"cron job {i} ran",
            })
            continue
        status = _STATUSES[i % len(_STATUSES)]
        entry: dict[str, Any] = {
            "insertId": f"e{i:09d}",
            "timestamp": ts,
            "receiveTimestamp": ts,
            "severity": _SEVERITY.get(status // 100, "INFO"),
            "trace": f"projects/{project}/traces/{trace}",
            "spanId": f"{i:016x}",
        }
        if kind in (0, 3, 6):
            entry.update(
                logName=f"projects/{project}/logs/run.googleapis.com%2Frequests",
                resource=_run_resource(project, service),
                httpRequest={"requestMethod": "GET", "requestUrl": f"https://{service}.example.com/items/{i}",
                             "status": status, "latency": f"{(i % 7) * 0.013:.3f}s",
                             "userAgent": "python-requests/2.32", "remoteIp": "203.0.113.7",
                             "protocol": "HTTP/1.1", "responseSize": str(100 + i % 900)},
            )
        elif kind == 8:
            entry.update(
                logName=f"projects/{project}/logs/requests",
                resource={"type": "http_load_balancer",
                          "labels": {"project_id": project, "backend_service_name": f"{service}-backend",
                                     "forwarding_rule_name": "fr", "url_map_name": "um", "zone": "global"}},
                httpRequest={"requestMethod": "GET", "requestUrl": f"https://lb.example.com/items/{i}",
                             "status": status, "latency": "0.020s"},
                jsonPayload={"@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
                             "statusDetails": "response_sent_by_backend"},
            )
        elif kind in (1, 4, 7):
            entry.update(
                logName=f"projects/{project}/logs/run.googleapis.com%2Fstdout",
                resource=_run_resource(project, service),
                jsonPayload={"message": f"handled item {i}", "status": status, "path": f"/items/{i}"},
            )
        else:
            entry.update(
                logName=f"projects/{project}/logs/run.googleapis.com%2Fstderr",
                resource=_run_resource(project, service),
                textPayload=f'INFO:     203.0.113.7:0 - "GET /items/{i} HTTP/1.1" {status}',
            )
        entries.append(entry)
    return entries


def _run_resource(project: str, service: str) -> dict[str, Any]:
    return {"type": "cloud_run_revision",
            "labels": {"project_id": project, "service_name": service, "revision_name": f"{service}-00001-abc",
                       "configuration_name": service, "location": "europe-west1"}}


def write_export(entries: list[dict[str, Any]], path: str | Path) -> Path:
    """Write entries as JSONL (one LogEntry per line)."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry, separators=(",", ":")) + "\n")
    return path
