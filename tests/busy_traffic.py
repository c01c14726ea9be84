"""Busy background traffic: an incident's export replayed inside a staging project's everyday noise.

Real staging projects are never quiet while a suite runs. This module reads an incident's raw
export (what project, service, hosts, instances, log streams and paths it holds, which addresses
appear in it), then writes, seeded and deterministic, the traffic of everyone else at a given rate
(entries per second, before the export's own filter) over the export's whole window:

* people's browsers (many addresses, Chrome/Firefox/Safari/Edge and phones) loading pages, calling
  the same API paths and WebSocket endpoints as the runner, with referers, some refused (401, 403,
  429, 5xx) with app lines naming their own causes, traced or not;
* crawlers (Googlebot, bingbot, AhrefsBot, GPTBot...), some refused by Cloud Run's IAM check;
* vulnerability scanners in bursts (``/.env``, ``/wp-login.php``; zgrab, Nuclei, and spoofed
  browser or python-requests agents), some denied by Cloud Armor at the load balancer;
* uptime checks and Google health checks;
* other scripts polling health and status endpoints (curl, python-requests, Go, node, httpx), some
  refused, and a developer's ad-hoc script making a burst of the app's own calls;
* other services of the project (their own request logs and lines) and service-to-service calls
  into this one; a second project's entries (an aggregated sink);
* Cloud Armor and IAP denials for other clients; background app lines with no request.

Nothing is ever sent from an address the export already holds (the runner's, whatever it is).
Only the kinds of entries the export holds are written (an export filtered to the app's lines
gets app lines only; one without a load balancer gets no load balancer entries), and nothing below
the export's lowest severity. Nothing here knows about the forensics package.

    background = busy_entries(incident / "logs", rate=30, seed="incident-name")
    paths = write_busy_export(incident / "logs", tmp, rate=30, seed="incident-name")
    triage(reports, paths)
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.incident_builder import iap_authorize_payload

#: Entries per second of background traffic the evaluation replays every incident at.
RATES = (2, 5, 30, 150, 300)
#: The background starts this long before the export's first entry and ends as long after its
#: last: a user's export window is wider than the run's own entries ...
PAD_S = 20.0
#: ... except on a side where the export was cut: its entries end (or start) more than this
#: before the run did (after it began), so its window ended (began) there for everyone.
CUT_S = 2.0
SEVERITY = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}
LB_TYPE = "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry"
IAM_UNAUTHENTICATED = (
    "The request was not authenticated. Either allow unauthenticated invocations or set the proper "
    "Authorization header. Read more at https://cloud.google.com/run/docs/securing/authenticating "
    "Additional troubleshooting documentation can be found at: "
    "https://cloud.google.com/run/docs/troubleshooting#unauthorized-client"
)
IAM_UNAUTHORIZED = (
    "The request was not authorized to invoke this service. Read more at "
    "https://cloud.google.com/run/docs/securing/authenticating Additional troubleshooting "
    "documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#401"
)
_PROXY = re.compile(r"\b(169\.254\.\d+\.\d+|::ffff:169\.254\.\d+\.\d+|127\.0\.0\.1)\b")
_ACCESS = re.compile(r'"(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|WebSocket)\s+/\S*[^"]*"\s+\d{3}')

BROWSER_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:144.0) Gecko/20100101 Firefox/144.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:143.0) Gecko/20100101 Firefox/143.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.6 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Mobile Safari/537.36",
)
BOT_UAS = (
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "66.249"),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "157.55"),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "5.39"),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
        "+https://openai.com/gptbot)",
        "20.171",
    ),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "213.180"),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "173.252"),
)
SCANNER_UAS = (
    "Mozilla/5.0 zgrab/0.x",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    "Expanse, a Palo Alto Networks company, searches across the global IPv4 space multiple times "
    "per day to identify customers' presences on the Internet.",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    # scanners often spoof a browser or name a plain HTTP library
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/81.0.4044.129 Safari/537.36",
    "python-requests/2.25.1",
    "Go-http-client/1.1",
    "curl/7.68.0",
    "",
)
SCANNER_PATHS = (
    "/.env",
    "/.git/config",
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/xmlrpc.php",
    "/phpmyadmin/index.php",
    "/actuator/env",
    "/.aws/credentials",
    "/server-status",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci/;stok=/locale",
    "/api/.env",
    "/admin/config.json",
    "/.DS_Store",
    "/owa/auth/logon.aspx",
)
SCRIPTS = (  # (agent, path): other people's scripts polling this service
    ("curl/8.5.0", "/health"),
    ("python-requests/2.32.3", "/api/v1/status"),
    ("Go-http-client/2.0", "/internal/metrics"),
    ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "/api/version"),
    ("axios/1.7.7", "/api/v1/status"),
    ("python-httpx/0.27.2", "/healthz"),
    ("Python/3.12 aiohttp/3.10.5", "/api/v1/status"),
)
ADHOC_UAS = (
    "python-requests/2.31.0",
    "python-httpx/0.28.1",
    "PostmanRuntime/7.42.0",
    "curl/8.7.1",
    "Python/3.12 websockets/15.0.1",
    "node",
)
OTHER_SERVICES = ("billing-api", "notifier", "frontend-ssr", "auth-gateway", "search-indexer")
SERVICE_CALLER_UAS = (
    "Go-http-client/1.1",
    "python-requests/2.32.3",
    "Google-Cloud-Tasks",
    "grpc-go/1.66.0",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
)
PAGES = ("/", "/login", "/chat", "/dashboard", "/settings", "/inbox")
API_PATHS = (
    "/api/me",
    "/api/v1/status",
    "/api/conversations",
    "/api/notifications",
    "/api/v1/messages",
    "/api/settings",
    "/favicon.ico",
    "/static/app.js",
)
#: What the app writes when it refuses or fails another client's call: every label's words, so a
#: line joined to the wrong request would name the wrong cause.
CAUSES: dict[int, tuple[str, ...]] = {
    401: (
        "JWT expired at {iso}",
        "jwt expired",
        "Signature has expired",
        "invalid token: signature verification failed",
        "Invalid audience",
        "Authentication credentials were not provided.",
        "No authorization token was found",
        "Missing Authorization header",
        "Token validation failed: kid {hex} not found in JWKS",
    ),
    403: (
        "Origin https://preview-{n}.example.dev not allowed",
        "CORS request rejected for origin 'http://localhost:3000'",
        "WebSocket connection rejected: origin https://evil.example not allowed",
        "AccessDeniedException: Access is denied",
        "PermissionDenied: You do not have permission to perform this action.",
        "AuthMiddleware blocked request: account {n} is suspended",
        "CSRF Failed: Origin checking failed - https://{ip} does not match any trusted origins.",
    ),
    429: (
        "Rate limit exceeded for {ip}",
        "Too many requests from {ip}: 61 in 60s",
        "ThrottlingException: request quota exhausted for key k-{hex}",
    ),
    500: (
        "Unhandled exception in ASGI application\nTraceback (most recent call last):\n"
        '  File "/app/api/views.py", line 88, in get_profile\n    return user["id"]\n'
        "KeyError: 'id'",
        "TypeError: Cannot read properties of undefined (reading 'id')\n    at getUser "
        "(/app/src/routes/user.js:42:18)",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        'java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null',
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the "
        "connection unexpectedly",
    ),
    404: ("Not Found: {path}", 'No route matches [GET] "{path}"', "404 page not found"),
    405: ("Method Not Allowed: {path}",),
    400: ("Bad Request: {path}", "Invalid HTTP request received."),
    503: (
        "upstream connect error or disconnect/reset before headers",
        "Service Unavailable: database pool exhausted (10/10 in use)",
    ),
}
BACKGROUND_LINES = (
    ("INFO", "JWKS refreshed: 3 keys"),
    ("INFO", "Connected to database pool (min=2 max=10)"),
    ("INFO", "scheduler: job cleanup_sessions finished in {ms} ms"),
    ("DEBUG", "cache hit ratio 0.{n}"),
    ("WARNING", "Slow query took {ms} ms: SELECT * FROM messages WHERE conversation_id = $1"),
    ("WARNING", "token cache: {n} expired entries evicted"),
    ("ERROR", "Failed to publish event to topic chat-events: DEADLINE_EXCEEDED"),
    ("ERROR", "Background task failed: ConnectionResetError: [Errno 104] Connection reset by peer"),
    ("INFO", "Started server process [{n}]"),
    ("WARNING", "Retrying request to https://auth.example.dev/.well-known/jwks.json (attempt 2)"),
)


def _when(entry: dict[str, Any]) -> datetime | None:
    stamp = entry.get("timestamp") or entry.get("receiveTimestamp")
    if not isinstance(stamp, str):
        return None
    try:
        t = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def raw_entries(logs: Path) -> list[dict[str, Any]]:
    """Every LogEntry written in an export file or folder (arrays, JSON lines, pasted objects, an
    ``entries.list`` response, gzip of any), read with json alone."""
    found: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("entries"), list) and "timestamp" not in node:
                walk(node["entries"])
            else:
                found.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    files = sorted(p for p in logs.rglob("*") if p.is_file()) if logs.is_dir() else [logs]
    for path in files:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
        pos = 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            value, pos = decoder.raw_decode(text, pos)
            walk(value)
    return found


def entry_kind(entry: dict[str, Any]) -> str:
    """What an entry is, as an export filter would see it: ``run_request``, ``lb``, ``iap_audit``,
    ``system``, ``app`` or ``other``."""
    log = str(entry.get("logName", "")).replace("%2F", "/")
    rtype = str((entry.get("resource") or {}).get("type", ""))
    if rtype == "http_load_balancer" or "loadbalancing" in log:
        return "lb"
    if "cloudaudit" in log:
        return "iap_audit" if "iap" in json.dumps(entry.get("protoPayload", {})) else "other"
    if log.endswith("/requests") and rtype in ("cloud_run_revision", ""):
        return "run_request"
    if not log and entry.get("httpRequest"):
        return "run_request"
    if log.endswith("varlog/system"):
        return "system"
    if rtype in ("cloud_run_revision", "") or not log:
        return "app"
    return "other"


def _ips(entry: dict[str, Any]) -> Iterable[str]:
    for holder in (
        entry.get("httpRequest") or {},
        entry.get("jsonPayload") or {},
        ((entry.get("protoPayload") or {}).get("requestMetadata") or {}),
    ):
        for key in ("remoteIp", "callerIp"):
            if isinstance(holder.get(key), str):
                yield holder[key]


def _host_path(url: str) -> tuple[str, str]:
    m = re.match(r"(?:[a-z]+://)?([^/?#]*)([^?#]*)", url)
    return (m.group(1), m.group(2) or "/") if m else ("", "/")


@dataclass
class Export:
    """What one incident's export holds, read from its raw entries."""

    lo: datetime
    hi: datetime
    project: str
    kinds: frozenset[str]
    run_resource: dict[str, Any]
    run_host: str
    lb_resource: dict[str, Any] | None
    lb_host: str
    app_logs: tuple[str, ...]
    instances: tuple[str, ...]
    paths: tuple[str, ...]
    ws_paths: tuple[str, ...]
    taken_ips: frozenset[str]
    min_severity: int
    access_lines: bool
    #: the address the app's access lines give every caller when it sits behind Cloud Run's
    #: proxy (``169.254.x.x``), None when they show the client's own
    proxy_ip: str | None = None
    policies: tuple[str, ...] = ()
    entries: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @classmethod
    def read(cls, logs: Path) -> Export:
        """Read the export at ``logs`` (file or folder)."""
        entries = raw_entries(logs)
        times = [t for t in map(_when, entries) if t is not None]
        if not times:
            raise ValueError(f"{logs}: no timestamped entry")
        kinds = {entry_kind(e) for e in entries}
        run = next((e for e in entries if entry_kind(e) == "run_request"), None)
        app = [e for e in entries if entry_kind(e) == "app"]
        run_like = next(
            (e for e in entries if (e.get("resource") or {}).get("type") == "cloud_run_revision"),
            None,
        )
        resource = dict((run_like or {}).get("resource") or {})
        labels = dict(resource.get("labels") or {})
        project = labels.get("project_id") or _project_of(entries) or "acme-staging"
        service = labels.get("service_name") or "api"
        labels.setdefault("service_name", service)
        labels.setdefault("configuration_name", service)
        labels.setdefault("revision_name", f"{service}-00017-kex")
        labels.setdefault("location", "us-central1")
        labels.setdefault("project_id", project)
        run_resource = {"type": "cloud_run_revision", "labels": labels}
        run_host = _host_path(str((run or {}).get("httpRequest", {}).get("requestUrl", "")))[0]
        lb = next((e for e in entries if entry_kind(e) == "lb"), None)
        lb_host = _host_path(str((lb or {}).get("httpRequest", {}).get("requestUrl", "")))[0]
        paths, ws = [], []
        for e in entries:
            url = (e.get("httpRequest") or {}).get("requestUrl")
            if isinstance(url, str):
                path = _host_path(url)[1]
                if path not in paths:
                    paths.append(path)
                if re.search(r"(?i)ws|socket|stream|realtime", path) and path not in ws:
                    ws.append(path)
        sevs = [SEVERITY.get(str(e.get("severity", "DEFAULT")).upper(), 0) for e in entries]
        policies = tuple(
            sorted(
                {
                    str(p.get("name"))
                    for e in entries
                    if isinstance(
                        p := (e.get("jsonPayload") or {}).get("enforcedSecurityPolicy"), dict
                    )
                    and p.get("name")
                }
            )
        )
        return cls(
            lo=min(times),
            hi=max(times),
            project=project,
            kinds=frozenset(kinds),
            run_resource=run_resource,
            run_host=run_host or f"{service}-x7kq2mbn3a-uc.a.run.app",
            lb_resource=(lb or {}).get("resource"),
            lb_host=lb_host or run_host,
            app_logs=tuple(sorted({str(e.get("logName")) for e in app if e.get("logName")}))
            or (f"projects/{project}/logs/run.googleapis.com%2Fstdout",),
            instances=tuple(
                sorted(
                    {
                        str((e.get("labels") or {}).get("instanceId"))
                        for e in entries
                        if (e.get("labels") or {}).get("instanceId")
                    }
                )
            ),
            paths=tuple(paths),
            ws_paths=tuple(ws),
            taken_ips=frozenset(ip for e in entries for ip in _ips(e)),
            min_severity=min(sevs),
            access_lines=any(
                _ACCESS.search(str(e.get("textPayload", "")) + json.dumps(e.get("jsonPayload", {})))
                for e in app
            ),
            policies=policies,
            entries=entries,
            proxy_ip=next(
                (m.group(1) for e in app if (m := _PROXY.search(str(e.get("textPayload", ""))))),
                None,
            ),
        )


#: A path segment that names a resource: a number, a hex or uuid id, a prefixed id (``t-25cb1adc``).
_ID_SEGMENT = re.compile(
    r"(?<=/)(?:\d+|[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{6,}|[a-z]{1,4}[-_][0-9a-f]{4,})(?=/|$)", re.I
)


def _same_shape(segment: str, traffic: Traffic) -> str:
    """Another id shaped like ``segment`` (digits for digits, hex for hex, prefix kept)."""
    out = []
    for ch in segment:
        if ch.isdigit():
            out.append(str(traffic._int(0, 9)))
        elif ch in "abcdef":
            out.append(traffic._pick("0123456789abcdef"))
        else:
            out.append(ch)
    return "".join(out)


def _project_of(entries: list[dict[str, Any]]) -> str | None:
    for e in entries:
        m = re.match(r"projects/([^/]+)/", str(e.get("logName", "")))
        if m:
            return m.group(1)
    return None


@dataclass(frozen=True)
class Client:
    """One sender of background traffic."""

    ip: str
    ua: str
    kind: str


class Traffic:
    """Everyone else's traffic around one export, at ``rate`` entries per second."""

    def __init__(
        self,
        export: Export,
        rate: float,
        seed: str,
        run: tuple[float, float] | None = None,
        pad_s: float = PAD_S,
    ) -> None:
        self.x = export
        self.rate = rate
        self.rng = random.Random(f"busy:{seed}:{rate}")
        lo, hi = export.lo.timestamp(), export.hi.timestamp()
        cut_before = run is not None and lo > run[0] + CUT_S
        cut_after = run is not None and hi < run[1] - CUT_S
        self.lo = lo - (0.0 if cut_before else pad_s)
        self.hi = hi + (0.0 if cut_after else pad_s)
        self.span = self.hi - self.lo
        self._seconds: dict[int, str] = {}
        self.out: list[dict[str, Any]] = []
        self._used_ips: set[str] = set()
        self._serial = 0
        n_people = max(3, int(rate * 0.6))
        self.browsers = [self._client("browser") for _ in range(n_people)]
        self.scripts = [
            Client(self._ip("gcp"), ua, "script")
            for ua, _ in SCRIPTS
            for _ in range(1 + int(rate > 100))
        ]
        self.services = [
            {**export.run_resource, "labels": {**export.run_resource["labels"], **self._labels(s)}}
            for s in OTHER_SERVICES
        ]
        other_project = f"{export.project}-sandbox"
        self.other_project = {
            "type": "cloud_run_revision",
            "labels": {
                **export.run_resource["labels"],
                "project_id": other_project,
                "service_name": "api",
                "configuration_name": "api",
                "revision_name": "api-00231-zop",
            },
        }
        self.instances = list(export.instances) + [self._hex(96) for _ in range(2)]

    # randomness (``random()`` alone: choice and randint cost several calls each) ---------------
    def _pick(self, seq: Any) -> Any:
        return seq[int(self.rng.random() * len(seq))]

    def _int(self, a: int, b: int) -> int:
        return a + int(self.rng.random() * (b - a + 1))

    # ids ---------------------------------------------------------------------------------------
    def _hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def _labels(self, service: str) -> dict[str, str]:
        return {
            "service_name": service,
            "configuration_name": service,
            "revision_name": f"{service}-{self._int(1, 300):05d}-{self._hex(3)}",
        }

    def _ip(self, where: str) -> str:
        while True:
            r = self.rng.randint
            if where == "home":
                first = self._pick(
                    (
                        24,
                        47,
                        67,
                        71,
                        73,
                        76,
                        81,
                        82,
                        86,
                        88,
                        90,
                        92,
                        98,
                        109,
                        176,
                        178,
                        188,
                        212,
                        217,
                    )
                )
                ip = f"{first}.{r(0, 255)}.{r(0, 255)}.{r(1, 254)}"
                if self.rng.random() < 0.2:
                    ip = (
                        f"2a02:{r(0, 0xFFFF):x}:{r(0, 0xFFFF):x}:{r(0, 0xFFFF):x}::{r(1, 0xFFFF):x}"
                    )
            elif where == "gcp":
                ip = f"{self._pick((34, 35))}.{r(0, 255)}.{r(0, 255)}.{r(1, 254)}"
                if self.rng.random() < 0.3:
                    ip = f"2600:1900:{r(0, 0xFFFF):x}:{r(0, 0xFFFF):x}::{r(1, 0xFFFF):x}"
            elif where == "scan":
                first = self._pick((45, 64, 80, 89, 91, 104, 162, 167, 185, 193, 194, 198, 205))
                ip = f"{first}.{r(0, 255)}.{r(0, 255)}.{r(1, 254)}"
            elif where == "hc":
                ip = f"{self._pick(('35.191', '130.211'))}.{r(0, 255)}.{r(1, 254)}"
            else:  # a prefix "a.b"
                ip = f"{where}.{r(0, 255)}.{r(1, 254)}"
            if ip not in self.x.taken_ips:
                return ip

    def _client(self, kind: str) -> Client:
        return Client(self._ip("home"), self._pick(BROWSER_UAS), kind)

    def _trace(self, project: str | None = None) -> str:
        return f"projects/{project or self.x.project}/traces/{self._hex(32)}"

    def _stamp(self, t: float) -> str:
        """``t`` (epoch seconds) as Cloud Logging writes a timestamp, microseconds and ``Z``."""
        us = round(t * 1_000_000)
        sec, frac = divmod(us, 1_000_000)
        head = self._seconds.get(sec)
        if head is None:
            head = self._seconds[sec] = datetime.fromtimestamp(sec, UTC).strftime(
                "%Y-%m-%dT%H:%M:%S"
            )
        return f"{head}.{frac:06d}Z"

    def _insert_id(self, t: float) -> str:
        self._serial += 1
        return f"{int(t):08x}{int(t % 1 * 1e6):05x}{self._serial:06x}{self._hex(5)}"

    # entries -----------------------------------------------------------------------------------
    def _base(
        self, t: float, log_name: str, resource: dict[str, Any], severity: str, trace: str | None
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "insertId": self._insert_id(t),
            "logName": log_name,
            "resource": resource,
            "timestamp": self._stamp(t),
            "receiveTimestamp": self._stamp(t + self._int(30, 900) / 1000),
            "severity": severity,
        }
        if trace:
            entry["trace"] = trace
            entry["spanId"] = self._hex(16)
            entry["traceSampled"] = True
        self.out.append(entry)
        return entry

    def _http(
        self, method: str, url: str, status: int, c: Client, latency: float, referer: str | None
    ) -> dict[str, Any]:
        http: dict[str, Any] = {
            "requestMethod": method,
            "requestUrl": url,
            "requestSize": str(self._int(200, 1400)),
            "status": status,
            "responseSize": str(self._int(60, 40000)),
            "remoteIp": c.ip,
            "serverIp": "216.239.32.53",
            "latency": f"{latency:.9f}s",
            "protocol": self._pick(("HTTP/1.1", "HTTP/1.1", "HTTP/2")),
        }
        if c.ua:
            http["userAgent"] = c.ua
        if referer:
            http["referer"] = referer
        return http

    def request(
        self,
        t: float,
        c: Client,
        method: str,
        path: str,
        status: int,
        *,
        resource: dict[str, Any] | None = None,
        host: str | None = None,
        latency: float | None = None,
        referer: str | None = None,
        text: str | None = None,
        app: bool = True,
        via_lb: bool = False,
        instance: str | None = None,
    ) -> str:
        """A Cloud Run request entry (and the load balancer's view of it); returns its trace."""
        resource = resource or self.x.run_resource
        project = resource["labels"].get("project_id", self.x.project)
        trace = self._trace(project)
        sev = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        lat = latency if latency is not None else self.rng.uniform(0.002, 0.4)
        if via_lb and self.x.lb_resource and resource is self.x.run_resource:
            lb = self._base(
                t - (2) / 1000,
                f"projects/{project}/logs/requests",
                self.x.lb_resource,
                sev,
                trace,
            )
            lb["httpRequest"] = self._http(
                method, f"https://{self.x.lb_host}{path}", status, c, lat + 0.003, referer
            )
            lb["jsonPayload"] = {
                "@type": LB_TYPE,
                "statusDetails": "response_sent_by_backend",
                "remoteIp": c.ip,
            }
        service = resource["labels"].get("service_name", "api")
        url_host = host or (
            self.x.run_host
            if resource is self.x.run_resource
            else f"{service}-{self._hex(10)}-uc.a.run.app"
        )
        entry = self._base(
            t, f"projects/{project}/logs/run.googleapis.com%2Frequests", resource, sev, trace
        )
        entry["httpRequest"] = self._http(
            method, f"https://{url_host}{path}", status, c, lat, referer
        )
        if app:
            entry["labels"] = {"instanceId": instance or self._pick(self.instances)}
        if text:
            entry["textPayload"] = text
        return trace

    def line(
        self,
        t: float,
        message: str,
        severity: str,
        *,
        trace: str | None = None,
        resource: dict[str, Any] | None = None,
        structured: bool | None = None,
        instance: str | None = None,
    ) -> None:
        """An app line (text or structured) of this service, or of ``resource``'s."""
        resource = resource or self.x.run_resource
        project = resource["labels"].get("project_id", self.x.project)
        if resource is self.x.run_resource:
            log_name = self._pick(self.x.app_logs)
        else:
            log_name = (
                f"projects/{project}/logs/run.googleapis.com%2F{self._pick(('stdout', 'stderr'))}"
            )
        entry = self._base(t, log_name, resource, severity, trace)
        entry["labels"] = {"instanceId": instance or self._pick(self.instances)}
        if structured if structured is not None else self.rng.random() < 0.5:
            entry["jsonPayload"] = {
                "message": message,
                "severity": severity,
                "logger": self._pick(("app", "api.auth", "uvicorn.error", "http")),
            }
        else:
            entry["textPayload"] = message

    def _cause(self, status: int, c: Client, path: str) -> str:
        words = CAUSES.get(status) or CAUSES[500 if status >= 500 else 403]
        return self._pick(words).format(
            iso=self._stamp(self.lo),
            n=self._int(100, 9999),
            hex=self._hex(8),
            ip=c.ip,
            path=path,
        )

    def served(
        self,
        t: float,
        c: Client,
        method: str,
        path: str,
        status: int,
        *,
        referer: str | None = None,
        latency: float | None = None,
        resource: dict[str, Any] | None = None,
        via_lb: bool = False,
    ) -> None:
        """A call the app answered: its request entry, access line and, when refused or failed, the
        app's line saying why (traced most of the time, untraced otherwise), all on the container
        instance that served it."""
        instance = self._pick(self.instances)
        trace = self.request(
            t,
            c,
            method,
            path,
            status,
            referer=referer,
            latency=latency,
            resource=resource,
            via_lb=via_lb,
            instance=instance,
        )
        ms = (self.rng.uniform(0.3, 12)) / 1000
        if self.x.access_lines:  # an app that writes access lines writes one for every call
            verb = "WebSocket" if path in self.x.ws_paths and method == "GET" else method
            caller = self.x.proxy_ip or c.ip  # the app behind Cloud Run's proxy sees its address
            access = (
                f'INFO:     {caller}:{self._int(1024, 65000)} - "{verb} {path} HTTP/1.1" {status}'
            )
            self.line(
                t + ms,
                access,
                "INFO",
                trace=trace if self.rng.random() < 0.5 else None,
                resource=resource,
                structured=False,
                instance=instance,
            )
        if status >= 400:
            sev = "ERROR" if status >= 500 else "WARNING"
            self.line(
                t + ms / 2,
                self._cause(status, c, path),
                sev,
                trace=trace if self.rng.random() < 0.7 else None,
                resource=resource,
                instance=instance,
            )

    # populations -------------------------------------------------------------------------------
    def _app_path(self) -> str:
        """A route of the app (the export's own, or a common one); the export's resource ids
        (``/orders/9/cancel``, ``/threads/t-25cb1adc``) mostly swapped for other users' ones."""
        paths = [p for p in self.x.paths if p not in self.x.ws_paths]
        if paths and self.rng.random() < 0.5:
            return self._other_resource(self._pick(paths))
        return self._pick(API_PATHS)

    def _other_resource(self, path: str) -> str:
        if self.rng.random() < 0.2:
            return path
        return _ID_SEGMENT.sub(lambda m: _same_shape(m.group(0), self), path)

    def _status(self, ok: float = 0.85) -> int:
        if self.rng.random() < ok:
            return self._pick((200, 200, 200, 200, 204, 304, 201))
        return self._pick((401, 401, 403, 403, 404, 429, 500, 502, 503))

    def browser(self, t: float) -> None:
        """A person on the site: a page, its API calls with a referer, maybe a WebSocket."""
        c = self._pick(self.browsers)
        host = self.x.lb_host or self.x.run_host
        page = self._pick(PAGES)
        via_lb = bool(self.x.lb_resource) and self.rng.random() < 0.7
        self.served(t, c, "GET", page, self._pick((200, 200, 304)), via_lb=via_lb)
        for _ in range(self._int(1, 4)):
            t += (self.rng.uniform(20, 900)) / 1000
            self.served(
                t,
                c,
                self._pick(("GET", "GET", "POST")),
                self._app_path(),
                self._status(),
                referer=f"https://{host}{page}",
                via_lb=via_lb,
            )
        if self.rng.random() < 0.5:
            t += (self.rng.uniform(50, 1500)) / 1000
            ws = self._pick(self.x.ws_paths or ("/ws",))
            status = self._pick((101, 101, 101, 401, 403, 403, 429, 500))
            latency = self.rng.uniform(1, 90) if status == 101 else self.rng.uniform(0.002, 0.05)
            self.served(t, c, "GET", ws, status, latency=latency, via_lb=via_lb)

    def bot(self, t: float) -> None:
        """A crawler fetching a few URLs; some are refused by Cloud Run's IAM check."""
        ua, prefix = self._pick(BOT_UAS)
        c = Client(self._ip(prefix), ua, "scanner")
        for path in self.rng.sample(
            ("/robots.txt", "/", "/sitemap.xml", "/login", "/chat"), self._int(1, 3)
        ):
            if self.rng.random() < 0.25:
                self.request(
                    t, c, "GET", path, 403, text=IAM_UNAUTHENTICATED, app=False, latency=0.0
                )
            else:
                self.served(t, c, "GET", path, self._pick((200, 200, 404, 301)))
            t += (self.rng.uniform(100, 3000)) / 1000

    def scanner(self, t: float) -> None:
        """A vulnerability scanner's burst; at the load balancer Cloud Armor denies some of it."""
        c = Client(self._ip("scan"), self._pick(SCANNER_UAS), "scanner")
        for path in self.rng.sample(SCANNER_PATHS, self._int(3, 10)):
            t += (self.rng.uniform(10, 400)) / 1000
            if self.x.lb_resource and self.rng.random() < 0.4:
                self.armor(t, c, path)
            elif self.rng.random() < 0.2:
                self.request(
                    t, c, "GET", path, 403, text=IAM_UNAUTHENTICATED, app=False, latency=0.0
                )
            else:
                self.served(
                    t,
                    c,
                    self._pick(("GET", "GET", "POST")),
                    path,
                    self._pick((404, 404, 404, 400, 405)),
                )

    def armor(self, t: float, c: Client, path: str) -> None:
        """A Cloud Armor denial at the load balancer (no Cloud Run entry: the call never got there)."""
        assert self.x.lb_resource is not None
        status = self._pick((403, 403, 403, 429))
        policy = self._pick(self.x.policies or ("edge-waf-policy",))
        entry = self._base(
            t,
            f"projects/{self.x.project}/logs/requests",
            self.x.lb_resource,
            "WARNING",
            self._trace(),
        )
        entry["httpRequest"] = self._http(
            "GET", f"https://{self.x.lb_host}{path}", status, c, 0.0004, None
        )
        entry["jsonPayload"] = {
            "@type": LB_TYPE,
            "statusDetails": "denied_by_security_policy",
            "remoteIp": c.ip,
            "enforcedSecurityPolicy": {
                "name": policy,
                "priority": self._pick((1000, 2000, 9000)),
                "configuredAction": "RATE_BASED_BAN" if status == 429 else "DENY",
                "outcome": "DENY",
                "preconfiguredExprIds": ["owasp-crs-v030301-id930120-lfi"] if status == 403 else [],
            },
        }

    def iap(self, t: float) -> None:
        """IAP refusing someone else: the load balancer's 401/302 and IAP's own audit decision."""
        c = self._pick(self.browsers + self.scripts)
        path = self._app_path()
        granted = self.rng.random() < 0.5
        if self.x.lb_resource:
            status = 200 if granted else self._pick((401, 403, 302))
            entry = self._base(
                t,
                f"projects/{self.x.project}/logs/requests",
                self.x.lb_resource,
                "WARNING" if status >= 400 else "INFO",
                self._trace(),
            )
            entry["httpRequest"] = self._http(
                "GET", f"https://{self.x.lb_host}{path}", status, c, 0.003, None
            )
            entry["jsonPayload"] = {
                "@type": LB_TYPE,
                "statusDetails": "handled_by_identity_aware_proxy",
                "remoteIp": c.ip,
            }
        resource = {
            "type": "gce_backend_service",
            "labels": {
                "backend_service_id": "5120937741837716245",
                "location": "global",
                "project_id": self.x.project,
            },
        }
        audit = self._base(
            t + (1) / 1000,
            f"projects/{self.x.project}/logs/cloudaudit.googleapis.com%2Fdata_access",
            resource,
            "INFO" if granted else "WARNING",
            None,
        )
        principal = (
            f"user{self._int(1, 999)}@example.com" if granted or self.rng.random() < 0.5 else None
        )
        audit["protoPayload"] = iap_authorize_payload(
            granted, principal, c.ip, c.ua, f"https://{self.x.lb_host}{path}"
        )

    def monitor(self, t: float) -> None:
        """An uptime check or a Google health check; rarely a failure."""
        if self.rng.random() < 0.5:
            c = Client(
                self._ip("35.238"),
                "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)",
                "probe",
            )
            path = self._pick(("/", "/health"))
        else:
            c = Client(self._ip("hc"), "GoogleHC/1.0", "probe")
            path = "/healthz"
        self.served(
            t,
            c,
            "GET",
            path,
            200 if self.rng.random() < 0.97 else 503,
            latency=self.rng.uniform(0.001, 0.02),
        )

    def script(self, t: float) -> None:
        """Someone's script polling a health or status endpoint; some calls are refused."""
        i = self.rng.randrange(len(self.scripts))
        c = self.scripts[i]
        path = SCRIPTS[i % len(SCRIPTS)][1]
        status = self._pick((200,) * 8 + (401, 403, 404, 500))
        self.served(t, c, "GET", path, status, latency=self.rng.uniform(0.002, 0.08))

    def adhoc(self, t: float) -> None:
        """A developer's script: a burst of the app's own calls over a few seconds, some refused."""
        c = Client(self._ip(self._pick(("home", "gcp"))), self._pick(ADHOC_UAS), "script")
        sockets = "websockets" in c.ua  # a WebSocket library only ever opens sockets
        for _ in range(self._int(3, 10)):
            t += (self.rng.uniform(40, 2000)) / 1000
            if sockets or (self.x.ws_paths and self.rng.random() < 0.3):
                path = self._pick(self.x.ws_paths or ("/ws",))
                self.served(t, c, "GET", path, self._pick((101, 403, 401)))
            else:
                path, status = self._app_path(), self._status(0.6)
                self.served(t, c, self._pick(("GET", "POST")), path, status)

    def other_service(self, t: float) -> None:
        """Another service of the project at work, or calling this one service to service."""
        caller = Client(self._ip("gcp"), self._pick(SERVICE_CALLER_UAS), "script")
        if self.rng.random() < 0.3:  # into this service
            status = self._pick((200,) * 6 + (401, 403, 500))
            self.served(t, caller, "POST", self._app_path(), status)
            return
        resource = self._pick(self.services)
        path = self._pick(("/v1/charge", "/internal/notify", "/render", "/token/verify", "/index"))
        if self.rng.random() < 0.15:
            self.request(
                t,
                caller,
                "POST",
                path,
                403,
                resource=resource,
                text=IAM_UNAUTHORIZED,
                app=False,
                latency=0.0,
            )
        else:
            self.served(t, caller, "POST", path, self._status(0.9), resource=resource)

    def background_line(self, t: float) -> None:
        """A line the app writes with no request: jobs, caches, pools, retries."""
        sev, words = self._pick(BACKGROUND_LINES)
        message = words.format(ms=self._int(200, 4000), n=self._int(2, 99))
        self.line(t, message, sev)

    def second_project(self, t: float) -> None:
        """Another project's traffic in the same export (an aggregated sink)."""
        c = self._pick(self.browsers + self.scripts)
        self.served(t, c, "GET", self._app_path(), self._status(0.8), resource=self.other_project)

    # the whole window --------------------------------------------------------------------------
    def entries(self) -> list[dict[str, Any]]:
        """About ``rate`` x window entries (before the export's filter), oldest first, filtered
        to the kinds and severities the export holds."""
        populations: list[tuple[float, Callable[[float], None]]] = [
            (0.34, self.browser),
            (0.05, self.bot),
            (0.08, self.scanner),
            (0.10, self.monitor),
            (0.09, self.script),
            (0.04, self.adhoc),
            (0.14, self.other_service),
            (0.06, self.background_line),
            (0.06, self.second_project),
        ]
        if "iap_audit" in self.x.kinds or self.x.lb_resource:
            populations.append((0.04, self.iap))
        weights = [w for w, _ in populations]
        budget = int(self.rate * self.span)
        while len(self.out) < budget:
            t = self.lo + self.rng.uniform(0, self.span)
            self.rng.choices(populations, weights)[0][1](t)
        first, last = self._stamp(self.lo), self._stamp(self.hi)
        keep = [
            e
            for e in self.out
            if entry_kind(e) in self.x.kinds
            and SEVERITY[e["severity"]] >= self.x.min_severity
            and first <= e["timestamp"] <= last
        ]
        return sorted(keep, key=lambda e: e["timestamp"])


def busy_entries(
    logs: Path, rate: float, seed: str, run: tuple[float, float] | None = None
) -> list[dict[str, Any]]:
    """The background traffic of ``rate`` entries per second around the export at ``logs``;
    ``run`` (epoch seconds, when the reports tell) keeps it inside an export cut short of it."""
    return Traffic(Export.read(logs), rate, seed, run).entries()


def run_span(reports: list[Path]) -> tuple[float, float] | None:
    """When the run began and ended (epoch seconds), from reports that say it with a zone: a
    JUnit ``timestamp`` with its offset plus ``time``, reportlog starts and stops, json-report's
    ``created`` and ``duration``. None when none does."""
    spans: list[tuple[float, float]] = []
    for path in reports:
        text = path.read_text()
        if path.suffix == ".xml":
            for m in re.finditer(r"<testsuite\b[^>]*>", text):
                stamp = re.search(r'timestamp="([^"]+)"', m.group(0))
                took = re.search(r'time="([0-9.]+)"', m.group(0))
                if stamp and re.search(r"(Z|[+-]\d\d:?\d\d)$", stamp.group(1)):
                    start = datetime.fromisoformat(stamp.group(1).replace("Z", "+00:00"))
                    t0 = start.timestamp()
                    spans.append((t0, t0 + float(took.group(1) if took else 0.0)))
        elif path.suffix == ".jsonl":
            times = [
                (rec["start"], rec["stop"])
                for rec in map(json.loads, filter(str.strip, text.splitlines()))
                if rec.get("$report_type") == "TestReport" and "start" in rec
            ]
            if times:
                spans.append((min(a for a, _ in times), max(b for _, b in times)))
        elif path.suffix == ".json":
            rec = json.loads(text)
            if isinstance(rec.get("created"), int | float):
                spans.append((rec["created"] - float(rec.get("duration") or 0.0), rec["created"]))
    if not spans:
        return None
    return min(a for a, _ in spans), max(b for _, b in spans)


def write_busy_export(
    logs: Path, out: Path, rate: float, seed: str, run: tuple[float, float] | None = None
) -> list[Path]:
    """Write the background next to the export; returns the paths to hand to triage as logs (the
    export untouched, then ``out/busy-<rate>.jsonl`` when the export's filter lets any through)."""
    entries = busy_entries(logs, rate, seed, run)
    if not entries:
        return [logs]
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"busy-{rate:g}.jsonl"
    with path.open("w") as fh:
        for entry in entries:
            fh.write(json.dumps(entry, separators=(",", ":")) + "\n")
    return [logs, path]


#: How users cut an export: as it is (``busy``), filtered to what the app wrote
#: (``logName:("stdout" OR "stderr")``: no request log at all), to ``severity>=WARNING``, or to the
#: newest ``LIMIT`` entries (``gcloud logging read --limit``).
VARIANTS = ("busy", "app_lines", "warnings", "limit")
LIMIT = 1000


def write_variant_export(
    logs: Path,
    out: Path,
    rate: float,
    seed: str,
    variant: str = "busy",
    run: tuple[float, float] | None = None,
) -> list[Path]:
    """The export plus its background at ``rate``, cut as ``variant`` says (see ``VARIANTS``);
    returns the paths to hand to triage as logs. Cut exports are written as ``gcloud logging read
    --format=json`` prints them: one array, newest first. Nothing when the cut leaves no entry."""
    if variant == "busy":
        return write_busy_export(logs, out, rate, seed, run)
    entries = raw_entries(logs) + busy_entries(logs, rate, seed, run)
    entries.sort(key=lambda e: str(e.get("timestamp", "")), reverse=True)
    if variant == "app_lines":
        entries = [e for e in entries if entry_kind(e) == "app"]
    elif variant == "warnings":
        entries = [e for e in entries if SEVERITY.get(str(e.get("severity")), 0) >= 400]
    elif variant == "limit":
        entries = entries[:LIMIT]
    else:
        raise ValueError(f"unknown export variant {variant!r}")
    if not entries:
        return []  # the cut leaves nothing: gcloud prints [] and there is nothing to triage
    out.mkdir(parents=True, exist_ok=True)
    path = out / "gcloud-logging-read.json"
    path.write_text(json.dumps(entries, indent=2) + "\n")
    return [path]
