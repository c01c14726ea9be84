"""Build small, deterministic incident folders in the words of real stacks, for triage evaluation.

An ``Incident`` holds one test run on the true (log) clock: tests run one after another, each
test's requests fall inside its own window, and entries are Cloud Logging ``LogEntry`` dicts shaped
as Cloud Run, the HTTPS load balancer and IAP store them. Writers then add the messiness a runner
really produces: a report clock off by seconds, naive or missing JUnit timestamps, and the export
shapes people hand over (gcloud JSON array newest first, JSONL, pasted pretty objects, a Cloud
Storage sink tree, gzip). Nothing here knows about the forensics package.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

RUNNER_IP = "34.123.77.201"
HTTPX_UA = "python-httpx/0.28.1"
WS_UA = "Python/3.12 websockets/15.0.1"
BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
)
SCANNER_UA = "Mozilla/5.0 zgrab/0.x"
HEALTH_UA = "GoogleHC/1.0"
UPTIME_UA = "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)"
LB_TYPE = "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry"


def rfc3339(t: datetime) -> str:
    """UTC time with microseconds and a ``Z``, as Cloud Logging writes ``timestamp``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iap_authorize_payload(
    granted: bool, principal: str | None, ip: str, agent: str, url: str
) -> dict[str, Any]:
    """The protoPayload of IAP's AuthorizeUser data_access audit entry for one call."""
    backend = "projects/418205519672/iap_web/compute/services/5120937741837716245"
    return {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {} if granted else {"code": 7, "message": "PERMISSION_DENIED"},
        "authenticationInfo": {"principalEmail": principal} if principal else {},
        "requestMetadata": {"callerIp": ip, "callerSuppliedUserAgent": agent},
        "serviceName": "iap.googleapis.com",
        "methodName": "AuthorizeUser",
        "resourceName": backend,
        "authorizationInfo": [
            {
                "resource": backend,
                "permission": "iap.webServiceVersions.accessViaIAP",
                "granted": granted,
                "resourceAttributes": {},
            }
        ],
        "request": {
            "@type": "type.googleapis.com/cloud.security.gatekeeper.AuthorizeUserRequest",
            "httpRequest": {"url": url},
        },
    }


@dataclass
class TestCase:
    """One test of the run: where it sits on the true clock and how it ended."""

    nodeid: str
    start: datetime
    duration: float
    failure: str | None = None  # the exception line pytest puts in <failure message=...>
    text: str = ""  # the traceback text
    line: int = 10

    def at(self, frac: float) -> datetime:
        """A moment inside this test's window, ``frac`` of the way through."""
        return self.start + timedelta(seconds=self.duration * frac)


@dataclass
class Incident:
    """One run's tests and log entries, on the log clock."""

    name: str
    start: datetime
    project: str = "acme-staging"
    service: str = "api"
    seed: int = 0
    host: str = "chat.staging.example.dev"
    run_host: str = ""
    instance: str = ""
    tests: list[TestCase] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)
    #: insert ids of entries written for other clients (browsers, scanners, probes): never a runner's evidence
    foreign: list[str] = field(default_factory=list)
    _others: bool = False

    def __post_init__(self) -> None:
        self.rng = random.Random(f"{self.name}:{self.seed}")
        self.cursor = self.start
        self.run_host = self.run_host or f"{self.service}-{self.hex(10)}-uc.a.run.app"
        self.instance = self.instance or self.hex(96)

    # ids -------------------------------------------------------------------------------------
    def hex(self, n: int) -> str:
        """``n`` deterministic hex digits."""
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def trace(self) -> str:
        """A fresh trace resource name of this project."""
        return f"projects/{self.project}/traces/{self.hex(32)}"

    def _insert_id(self, t: datetime, short: bool) -> str:
        if short:  # load balancer and audit entries carry short base-36 ids
            return "".join(
                self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(13)
            )
        return f"{int(t.timestamp()):08x}{t.microsecond:06x}"[:14] + self.hex(10)

    @contextmanager
    def other_client(self) -> Iterator[None]:
        """Entries written inside this block belong to someone other than the runner."""
        self._others = True
        try:
            yield
        finally:
            self._others = False

    # tests -----------------------------------------------------------------------------------
    def test(
        self,
        nodeid: str,
        duration: float = 0.2,
        *,
        failure: str | None = None,
        text: str = "",
        label: str | None = None,
        gap: float = 0.01,
    ) -> TestCase:
        """Append a test that runs right after the previous one; ``label`` records its truth."""
        case = TestCase(
            nodeid,
            self.cursor + timedelta(seconds=gap),
            duration,
            failure,
            text or (f"E   {failure}" if failure else ""),
            10 + 7 * len(self.tests),
        )
        self.cursor = case.start + timedelta(seconds=duration)
        self.tests.append(case)
        if failure is not None:
            self.expected[nodeid] = label or "unknown"
        return case

    # entries ---------------------------------------------------------------------------------
    def _base(
        self,
        t: datetime,
        log_id: str,
        *,
        resource: dict[str, Any],
        short_id: bool = False,
        severity: str | None = None,
        trace: str | None = None,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "insertId": self._insert_id(t, short_id),
            "logName": f"projects/{self.project}/logs/{log_id.replace('/', '%2F')}",
            "resource": resource,
            "timestamp": rfc3339(t),
            "receiveTimestamp": rfc3339(t + timedelta(milliseconds=self.rng.randint(40, 900))),
        }
        if severity:
            entry["severity"] = severity
        if self._others:
            self.foreign.append(entry["insertId"])
        if trace:
            entry["trace"] = trace
            entry["spanId"] = self.hex(16)
            entry["traceSampled"] = True
        self.entries.append(entry)
        return entry

    @contextmanager
    def _other_if(self, ip: str) -> Iterator[None]:
        if ip != RUNNER_IP and not self._others:
            with self.other_client():
                yield
        else:
            yield

    def _run_resource(self) -> dict[str, Any]:
        return {
            "type": "cloud_run_revision",
            "labels": {
                "configuration_name": self.service,
                "location": "us-central1",
                "project_id": self.project,
                "revision_name": f"{self.service}-00017-kex",
                "service_name": self.service,
            },
        }

    def request(
        self,
        t: datetime,
        method: str,
        path: str,
        status: int,
        *,
        ua: str = HTTPX_UA,
        ip: str = RUNNER_IP,
        trace: str | None = None,
        latency: float = 0.012,
        text: str | None = None,
        severity: str | None = None,
        app: bool = True,
        referer: str | None = None,
    ) -> dict[str, Any]:
        """A Cloud Run request-log entry (``run.googleapis.com/requests``); returns it."""
        sev = severity or ("ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO")
        with self._other_if(ip):
            entry = self._base(
                t,
                "run.googleapis.com/requests",
                resource=self._run_resource(),
                severity=sev,
                trace=trace or self.trace(),
            )
        http: dict[str, Any] = {
            "requestMethod": method,
            "requestUrl": f"https://{self.run_host}{path}",
            "requestSize": str(self.rng.randint(300, 900)),
            "status": status,
            "responseSize": str(self.rng.randint(60, 900)),
            "userAgent": ua,
            "remoteIp": ip,
            "serverIp": "216.239.32.53",
            "latency": f"{latency:.6f}s",
            "protocol": "HTTP/1.1",
        }
        if referer:
            http["referer"] = referer
        entry["httpRequest"] = http
        if app:
            entry["labels"] = {"instanceId": self.instance}
        if text:
            entry["textPayload"] = text
        return entry

    def text(
        self,
        t: datetime,
        text: str,
        *,
        stream: str = "stdout",
        trace: str | None = None,
        severity: str | None = None,
    ) -> dict[str, Any]:
        """An app stdout/stderr line as Cloud Run stores it (``textPayload``, no severity by default)."""
        entry = self._base(
            t,
            f"run.googleapis.com/{stream}",
            resource=self._run_resource(),
            severity=severity,
            trace=trace,
        )
        entry["labels"] = {"instanceId": self.instance}
        entry["textPayload"] = text
        return entry

    def json(
        self,
        t: datetime,
        payload: dict[str, Any],
        *,
        stream: str = "stdout",
        trace: str | None = None,
        severity: str | None = None,
    ) -> dict[str, Any]:
        """An app structured line Cloud Run parsed into ``jsonPayload``."""
        entry = self._base(
            t,
            f"run.googleapis.com/{stream}",
            resource=self._run_resource(),
            severity=severity,
            trace=trace,
        )
        entry["labels"] = {"instanceId": self.instance}
        entry["jsonPayload"] = payload
        return entry

    def system(self, t: datetime, text: str, severity: str = "ERROR") -> dict[str, Any]:
        """A Cloud Run platform line (``run.googleapis.com/varlog/system``)."""
        entry = self._base(
            t, "run.googleapis.com/varlog/system", resource=self._run_resource(), severity=severity
        )
        entry["labels"] = {"instanceId": self.instance}
        entry["textPayload"] = text
        return entry

    def lb(
        self,
        t: datetime,
        method: str,
        path: str,
        status: int,
        details: str,
        *,
        ua: str = HTTPX_UA,
        ip: str = RUNNER_IP,
        trace: str | None = None,
        policy: dict[str, Any] | None = None,
        latency: float = 0.004,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An external Application Load Balancer ``requests`` entry."""
        sev = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        resource = {
            "type": "http_load_balancer",
            "labels": {
                "backend_service_name": f"{self.service}-backend",
                "forwarding_rule_name": f"{self.service}-https-fr",
                "project_id": self.project,
                "target_proxy_name": f"{self.service}-https-proxy",
                "url_map_name": f"{self.service}-urlmap",
                "zone": "global",
            },
        }
        with self._other_if(ip):
            entry = self._base(
                t,
                "requests",
                resource=resource,
                short_id=True,
                severity=sev,
                trace=trace or self.trace(),
            )
        payload: dict[str, Any] = {
            "@type": LB_TYPE,
            "statusDetails": details,
            "remoteIp": ip,
            "backendTargetProjectNumber": "projects/418205519672",
        }
        if policy:
            payload["enforcedSecurityPolicy"] = policy
        payload.update(extra or {})
        entry["jsonPayload"] = payload
        entry["httpRequest"] = {
            "requestMethod": method,
            "requestUrl": f"https://{self.host}{path}",
            "requestSize": str(self.rng.randint(200, 800)),
            "status": status,
            "responseSize": str(self.rng.randint(100, 2000)),
            "userAgent": ua,
            "remoteIp": ip,
            "latency": f"{latency:.6f}s",
            "serverIp": "10.128.0.17",
        }
        return entry

    def iap_audit(
        self, t: datetime, path: str, *, granted: bool, principal: str | None, ip: str = RUNNER_IP
    ) -> dict[str, Any]:
        """An IAP ``data_access`` audit entry for one authorization decision."""
        resource = {
            "type": "gce_backend_service",
            "labels": {
                "backend_service_id": "5120937741837716245",
                "location": "global",
                "project_id": self.project,
            },
        }
        entry = self._base(
            t,
            "cloudaudit.googleapis.com/data_access",
            resource=resource,
            short_id=True,
            severity="INFO",
        )
        entry["protoPayload"] = iap_authorize_payload(
            granted, principal, ip, HTTPX_UA, f"https://{self.host}{path}"
        )
        entry["protoPayload"]["metadata"] = {
            "device_state": "Unknown",
            "request_id": str(self.rng.randint(10**17, 10**18)),
            "oauth_client_id": "",
        }
        return entry

    # background traffic ----------------------------------------------------------------------
    def health_checks(
        self, every: float = 1.0, path: str = "/healthz", ua: str = HEALTH_UA
    ) -> None:
        """Probes from Google's health checkers across the whole run, all answered 200."""
        t = self.start - timedelta(seconds=2)
        while t < self.cursor + timedelta(seconds=2):
            self.request(
                t,
                "GET",
                path,
                200,
                ua=ua,
                ip=f"35.191.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}",
                latency=0.002,
            )
            t += timedelta(seconds=every)

    def passing(
        self,
        case: TestCase,
        method: str,
        path: str,
        status: int = 200,
        *,
        ua: str = HTTPX_UA,
        frac: float = 0.5,
        access: str | None = None,
    ) -> dict[str, Any]:
        """A request of a passing step; ``access`` formats an app access line for it ({method} {path} {status})."""
        t = case.at(frac)
        trace = self.trace()
        req = self.request(t, method, path, status, ua=ua, trace=trace)
        if access:
            self.text(
                t + timedelta(milliseconds=6),
                access.format(method=method, path=path, status=status, ip=RUNNER_IP, ua=ua),
            )
        return req

    # writers ---------------------------------------------------------------------------------
    def _sorted(self, newest_first: bool = False) -> list[dict[str, Any]]:
        return sorted(self.entries, key=lambda e: e["timestamp"], reverse=newest_first)

    def write_logs(
        self, folder: Path, shape: str, entries: list[dict[str, Any]] | None = None
    ) -> None:
        """Write the export as ``gcloud`` (array, newest first), ``jsonl``, ``pretty`` (pasted
        objects), ``gzip`` (JSONL.gz) or ``sink`` (Cloud Storage sink tree, one JSONL per log and hour)."""
        logs = folder / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        rows = entries if entries is not None else self._sorted()
        if shape == "gcloud":
            data = sorted(rows, key=lambda e: e["timestamp"], reverse=True)
            (logs / "gcloud-logging-read.json").write_text(json.dumps(data, indent=2) + "\n")
        elif shape == "jsonl":
            (logs / "entries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in rows))
        elif shape == "pretty":
            (logs / "logs-explorer-copy.txt").write_text(
                "\n".join(json.dumps(e, indent=2) for e in rows) + "\n"
            )
        elif shape == "gzip":
            blob = "".join(json.dumps(e) + "\n" for e in rows).encode()
            (logs / "entries.jsonl.gz").write_bytes(gzip.compress(blob, mtime=0))
        elif shape == "sink":
            files: dict[Path, list[str]] = {}
            for e in rows:
                log_id = e["logName"].split("/logs/", 1)[1].replace("%2F", "/")
                t = datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
                name = f"{t:%H}:00:00_{t:%H}:59:59_S0.json"
                files.setdefault(logs / log_id / f"{t:%Y/%m/%d}" / name, []).append(json.dumps(e))
            for path, lines in files.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("\n".join(lines) + "\n")
        else:
            raise ValueError(f"unknown export shape {shape!r}")

    def write_junit(
        self, folder: Path, *, offset_s: float = 0.0, stamp: str = "aware", zone_hours: float = 0.0
    ) -> None:
        """A pytest JUnit file; the runner's clock reads true time + ``offset_s``.

        ``stamp``: ``aware`` (ISO with the zone offset, as pytest 8 writes), ``naive`` (local time
        of a zone ``zone_hours`` from UTC without an offset, as older pytest writes), ``none``.
        """
        first = self.tests[0].start + timedelta(seconds=offset_s)
        local = first.astimezone(timezone(timedelta(hours=zone_hours)))
        attrs = ""
        if stamp == "aware":
            attrs = f' timestamp="{local.isoformat()}"'
        elif stamp == "naive":
            attrs = f' timestamp="{local.replace(tzinfo=None).isoformat()}"'
        total = (self.tests[-1].start - self.tests[0].start).total_seconds() + self.tests[
            -1
        ].duration
        failures = sum(1 for c in self.tests if c.failure)
        cases = []
        for c in self.tests:
            module, _, name = c.nodeid.partition("::")
            parts = name.split("::")
            classname = module.removesuffix(".py").replace("/", ".") + "".join(
                f".{p}" for p in parts[:-1]
            )
            head = f'<testcase classname={quoteattr(classname)} name={quoteattr(parts[-1])} time="{c.duration:.3f}"'
            if c.failure:
                cases.append(
                    f"{head}><failure message={quoteattr(c.failure)}>{escape(c.text)}</failure></testcase>"
                )
            else:
                cases.append(head + " />")
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
            f'<testsuite name="pytest" errors="0" failures="{failures}" skipped="0" tests="{len(self.tests)}" '
            f'time="{total:.3f}"{attrs} hostname="runnervm-{self.hex(5)}">'
            + "".join(cases)
            + "</testsuite></testsuites>\n"
        )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "junit.xml").write_text(xml)

    def write_reportlog(self, folder: Path, *, offset_s: float = 0.0) -> None:
        """A pytest-reportlog file whose ``start``/``stop`` come from a clock off by ``offset_s``."""
        lines = [{"pytest_version": "8.4.2", "$report_type": "SessionStart"}]
        for c in self.tests:
            start = c.start.timestamp() + offset_s
            path, _, name = c.nodeid.partition("::")
            for when, dur, outcome in (
                ("setup", 0.0004, "passed"),
                ("call", c.duration, "failed" if c.failure else "passed"),
                ("teardown", 0.0003, "passed"),
            ):
                longrepr = None
                if when == "call" and c.failure:
                    longrepr = {
                        "reprcrash": {
                            "path": f"/home/runner/work/app/app/{path}",
                            "lineno": c.line,
                            "message": c.failure,
                        },
                        "reprtraceback": {
                            "reprentries": [
                                {
                                    "type": "ReprEntry",
                                    "data": {
                                        "lines": c.text.splitlines(),
                                        "reprfuncargs": None,
                                        "reprlocals": None,
                                        "reprfileloc": {
                                            "path": path,
                                            "lineno": c.line,
                                            "message": c.failure.split(":")[0],
                                        },
                                        "style": "long",
                                    },
                                }
                            ],
                            "extraline": None,
                            "style": "long",
                        },
                        "sections": [],
                        "chain": [],
                    }
                lines.append(
                    {
                        "nodeid": c.nodeid,
                        "location": [path, c.line, name],
                        "keywords": {name: 1},
                        "outcome": outcome,
                        "longrepr": longrepr,
                        "when": when,
                        "user_properties": [],
                        "sections": [],
                        "duration": dur,
                        "start": start,
                        "stop": start + dur,
                        "$report_type": "TestReport",
                    }
                )
                start += dur
        lines.append({"exitstatus": 1, "$report_type": "SessionFinish"})
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))

    def write_expected(self, folder: Path, *, offset_s: float, notes: str) -> None:
        """``expected.json``: each failed test's label, the runner clock offset (log minus runner),
        what happened, and the entries of other clients that must never be a runner's evidence."""
        folder.mkdir(parents=True, exist_ok=True)
        data = {
            "failures": self.expected,
            "clock_offset_s": offset_s,
            "notes": notes,
            "foreign_insert_ids": sorted(self.foreign),
        }
        (folder / "expected.json").write_text(json.dumps(data, indent=2) + "\n")
