"""Time forensics.load_logs against polars.read_ndjson and pandas.json_normalize on one JSONL file.

Usage::

    /work/venv/bin/python bench/bench_load.py [--entries 300000] [--runs 5] [--keep PATH]

Generates a realistic Cloud Logging export (Cloud Run request logs, structured stdout with
jsonPayload, textPayload, load balancer request logs with Cloud Armor fields, audit protoPayload),
then times each reader ``--runs`` times on the same file and prints the medians and ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed

PROJECT = "shop-prod-4821"
SERVICES = ["checkout", "cart", "auth", "ws-gateway", "catalog"]
PATHS = ["/api/v1/cart", "/api/v1/checkout", "/ws", "/healthz", "/api/v1/items/42", "/login"]
STATUSES = [200] * 30 + [201, 204, 301, 304, 400, 401, 403, 404, 429, 500, 502, 503]
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def _resource(rng: random.Random, service: str) -> dict:
    return {
        "type": "cloud_run_revision",
        "labels": {
            "service_name": service,
            "revision_name": f"{service}-{rng.randint(1, 300):05d}-abc",
            "configuration_name": service,
            "location": "europe-west1",
            "project_id": PROJECT,
        },
    }


def _http(rng: random.Random, status: int) -> dict:
    return {
        "requestMethod": rng.choice(["GET", "POST", "GET", "OPTIONS"]),
        "requestUrl": f"https://{rng.choice(SERVICES)}-x7q.a.run.app{rng.choice(PATHS)}?q={rng.randint(0, 999)}",
        "requestSize": str(rng.randint(200, 4000)),
        "status": status,
        "responseSize": str(rng.randint(0, 90000)),
        "userAgent": UA,
        "remoteIp": f"203.0.113.{rng.randint(1, 254)}",
        "serverIp": "216.239.32.53",
        "latency": f"{rng.random() * 2:.9f}s",
        "protocol": "HTTP/1.1",
    }


def make_entry(i: int, rng: random.Random, t: datetime) -> dict:
    """One LogEntry of a realistic mix, API (entries.list) shape."""
    service = rng.choice(SERVICES)
    trace = f"projects/{PROJECT}/traces/{rng.getrandbits(128):032x}"
    ts = t.isoformat().replace("+00:00", "Z")
    rts = (t + timedelta(milliseconds=rng.randint(5, 900))).isoformat().replace("+00:00", "Z")
    base = {
        "insertId": f"{i:012x}{rng.getrandbits(32):08x}",
        "timestamp": ts,
        "receiveTimestamp": rts,
    }
    kind = rng.random()
    if kind < 0.35:
        status = rng.choice(STATUSES)
        return {
            **base,
            "httpRequest": _http(rng, status),
            "resource": _resource(rng, service),
            "severity": "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO",
            "labels": {"instanceId": f"00{rng.getrandbits(256):064x}"},
            "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests",
            "trace": trace,
            "spanId": f"{rng.getrandbits(64):016x}",
            "traceSampled": True,
        }
    if kind < 0.60:
        return {
            **base,
            "jsonPayload": {
                "message": rng.choice(
                    ["order placed", "token rejected: expired", "db pool exhausted", "cache miss"]
                ),
                "logger": "app.handlers",
                "user_id": rng.randint(1, 10**6),
                "extra": {"attempt": rng.randint(1, 3), "tags": ["a", "b"]},
            },
            "resource": _resource(rng, service),
            "severity": rng.choice(["INFO", "WARNING", "ERROR", "DEBUG"]),
            "labels": {
                "instanceId": f"00{rng.getrandbits(256):064x}",
                "python_logger": "app.handlers",
            },
            "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstdout",
            "trace": trace,
            "spanId": f"{rng.getrandbits(64):016x}",
            "sourceLocation": {
                "file": "/app/handlers.py",
                "line": str(rng.randint(1, 500)),
                "function": "post",
            },
        }
    if kind < 0.80:
        return {
            **base,
            "textPayload": rng.choice(
                [
                    f'INFO:     10.0.0.{rng.randint(1, 254)}:4312 - "GET /api/v1/cart HTTP/1.1" 200 OK',
                    'Traceback (most recent call last):\n  File "/app/main.py", line 12, in <module>\nValueError: boom',
                    'Default STARTUP TCP probe succeeded after 1 attempt for container "app" on port 8080.',
                ]
            ),
            "resource": _resource(rng, service),
            "labels": {"instanceId": f"00{rng.getrandbits(256):064x}"},
            "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr",
        }
    if kind < 0.92:
        status = rng.choice(STATUSES)
        return {
            **base,
            "jsonPayload": {
                "@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
                "statusDetails": "denied_by_security_policy"
                if status == 403
                else "response_sent_by_backend",
                "enforcedSecurityPolicy": {
                    "name": "edge-policy",
                    "outcome": "DENY" if status == 403 else "ACCEPT",
                    "priority": 1000,
                },
                "backendTargetProjectNumber": "projects/123456789",
                "remoteIp": f"198.51.100.{rng.randint(1, 254)}",
            },
            "httpRequest": _http(rng, status),
            "resource": {
                "type": "http_load_balancer",
                "labels": {
                    "zone": "global",
                    "url_map_name": "shop-lb",
                    "backend_service_name": f"{service}-backend",
                    "forwarding_rule_name": "shop-fr",
                    "target_proxy_name": "shop-proxy",
                    "project_id": PROJECT,
                },
            },
            "severity": "WARNING" if status >= 400 else "INFO",
            "logName": f"projects/{PROJECT}/logs/requests",
            "trace": trace,
            "spanId": f"{rng.getrandbits(64):016x}",
        }
    return {
        **base,
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "status": {"code": 7, "message": "PERMISSION_DENIED"},
            "authenticationInfo": {
                "principalEmail": "ci-runner@shop-prod-4821.iam.gserviceaccount.com"
            },
            "requestMetadata": {"callerIp": "203.0.113.9", "callerSuppliedUserAgent": UA},
            "serviceName": "iap.googleapis.com",
            "methodName": "AuthorizeUser",
            "resourceName": f"projects/123456789/iap_web/cloud_run-europe-west1/services/{service}",
        },
        "resource": {
            "type": "gce_backend_service",
            "labels": {"backend_service_id": "", "location": "europe-west1", "project_id": PROJECT},
        },
        "severity": "ERROR",
        "logName": f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Fdata_access",
    }


def generate(path: Path, n: int, seed: int = 7) -> Path:
    """Write ``n`` LogEntries, one per line, to ``path``."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            t = start + timedelta(microseconds=i * 1700 + rng.randint(0, 999))
            out.write(json.dumps(make_entry(i, rng, t), separators=(",", ":")) + "\n")
    return path


def _median_time(fn, runs: int) -> tuple[float, float, object]:
    """Median wall and CPU (all threads) seconds of ``runs`` calls, and the last result."""
    wall, cpu, result = [], [], None
    for _ in range(runs):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the generated file here and keep it")
    parser.add_argument("--only", choices=["forensics", "polars", "pandas"], help="time one reader")
    args = parser.parse_args(argv)

    import pandas as pd
    import polars as pl

    import forensics

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.jsonl"
        if not path.exists():
            generate(path, args.entries)
        size_mb = path.stat().st_size / 1e6

        def pandas_normalize():
            with path.open(encoding="utf-8") as f:
                records = [json.loads(line) for line in f if line.strip()]
            return pd.json_normalize(records)

        readers = {
            "forensics.load_logs": lambda: forensics.load_logs(path),
            "polars.read_ndjson": lambda: pl.read_ndjson(path),  # defaults: schema from 100 rows
            "pandas.json_normalize": pandas_normalize,
        }
        if args.only:
            readers = {k: v for k, v in readers.items() if k.startswith(args.only)}
        medians, cpus = {}, {}
        print(f"{args.entries} entries, {size_mb:.0f} MB, median of {args.runs} runs")
        print(f"  {'reader':<24} {'wall s':>8} {'cpu s':>8}")
        for name, fn in readers.items():
            medians[name], cpus[name], frame = _median_time(fn, args.runs)
            print(
                f"  {name:<24} {medians[name]:8.3f} {cpus[name]:8.3f}   rows={len(frame)}",
                flush=True,
            )
        ours = "forensics.load_logs"
        if ours in medians:
            for name in ("polars.read_ndjson", "pandas.json_normalize"):
                if name in medians:
                    wall, cpu = medians[ours] / medians[name], cpus[ours] / cpus[name]
                    print(f"  forensics / {name:<22} {wall:5.2f}x wall  {cpu:5.2f}x cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
