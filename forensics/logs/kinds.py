"""What each log row is, decided once: its ``layer``, ``role`` and ``client_kind`` (and ``row``).

``entry_kinds``, the last step of ``normalize``, adds the three columns of
``forensics.schema.KIND_SCHEMA`` to every log frame forensics reads (files, LogEntry dicts, live
pages). ``with_kinds`` is what ``triage``, ``correlate`` and ``classify`` call first: it gives the
frame its ``row`` index (the row's position) and, to a frame built by hand, the kind columns too.
Each kind is decided on the distinct values it depends on and joined back, never with a regex per
row:

* ``layer``, from the distinct (``log_id``, ``resource_type``) pairs, whether the entry has an
  HTTP status and a client address, and, for Cloud Audit Logs entries only, whether the payload
  names IAP or Cloud Armor:

  - "service": the serving platform's request log in front of the container (Cloud Run, App
    Engine, Cloud Functions, API Gateway: ``.../requests``, ``request_log``), or an entry with no
    log name that has an HTTP status and a client address (a hand-made export);
  - "edge": a load balancer's request log (where IAP and Cloud Armor decisions show), or an
    IAP / Cloud Armor audit entry;
  - "app": a line the service wrote itself (stdout, stderr, structured logging, access lines),
    even when a structured line carries an ``httpRequest`` of its own;
  - "other": platform system lines and other audit logs.

* ``role``, what rules and correlation links call the row: "request" (layer "service"), "edge"
  (layer "edge"), "audit" (any ``cloudaudit.googleapis.com/...`` entry, IAP's included: never a
  request of its own), "app", "other".

* ``client_kind``, from the distinct user agents: "probe" (health and uptime checks), "scanner"
  (bots, crawlers), "mobile" (a phone app's HTTP stack: okhttp, CFNetwork...), "script"
  (python-requests, httpx, aiohttp, websockets, curl, Go, Node, headless browsers), "browser"
  (a person's browser), "unknown" (no agent, or one that says nothing).

``ACCESS_LINE`` is the one reading of an access line (uvicorn, gunicorn, Express morgan, Go
combined logs): the quoted request line, then the status.
"""

from __future__ import annotations

import polars as pl

from forensics.schema import KIND_SCHEMA

#: Every role a row can have.
ROLES = ("request", "edge", "app", "audit", "other")

PROBE_UA = (
    r"(?i)GoogleHC|kube-probe|GoogleStackdriverMonitoring|Uptime|Google-Cloud-Scheduler|"
    r"ELB-HealthChecker|health.?check|Blackbox Exporter|Pingdom|StatusCake|Site24x7|Consul Health"
)
SCANNER_UA = (
    r"(?i)bot\b|crawler|spider|zgrab|masscan|nmap|nuclei|sqlmap|nikto|censys|expanse|l9explore|"
    r"Palo Alto|InternetMeasurement|Nessus|Qualys|WPScan|httprobe|fuzz"
)
SCRIPT_UA = (
    r"(?i)python|httpx|aiohttp|websockets?/|requests/|urllib|curl|wget|Go-http-client|"
    r"node|axios|undici|got \(|Java/|Apache-HttpClient|HeadlessChrome|Playwright|Puppeteer|"
    r"Selenium|Cypress|k6/|locust|insomnia|PostmanRuntime|Dart/|reqwest|libcurl|grpc"
)
#: HTTP stacks of mobile apps (Android okhttp/Dalvik, iOS CFNetwork/Alamofire, React Native):
#: a person's phone, like a browser, is an unlikely runner next to a scripted client.
MOBILE_UA = r"(?i)okhttp|Dalvik/|CFNetwork/|Alamofire|ReactNative|Expo/|\b(?:Android|iOS|iPhone)\b"
#: An access line: ``"GET /api/x HTTP/1.1" 200``, uvicorn's ``"WebSocket /ws?token=..." 403``.
#: Group 1 is the path (no query), group 2 the status.
ACCESS_LINE = r'"(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|WebSocket|WEBSOCKET)\s+(/[^\s"?]*)[^"]*"\s+(\d{3})\b'
#: Resource types whose own lines are app lines.
APP_RESOURCES = (
    "cloud_run_revision",
    "cloud_run_job",
    "cloud_function",
    "gae_app",
    "k8s_container",
    "gce_instance",
    "container",
    "generic_task",
    "generic_node",
)
#: Cloud Audit Logs: an audit entry is never a request of its own.
AUDIT_LOG = "cloudaudit.googleapis.com/"
#: An audit entry whose payload says this is an IAP or Cloud Armor decision: the edge layer.
EDGE_AUDIT_TEXT = r"(?i)iap\.googleapis|identity-aware|securityPolicy|cloud armor"


def _s(name: str) -> pl.Expr:
    return pl.col(name).fill_null("")


def client_kind_expr(agent: pl.Expr) -> pl.Expr:
    """What a user agent looks like: probe, scanner, mobile, script, browser or unknown."""
    ua = agent.fill_null("")
    return (
        pl.when(ua == "")
        .then(pl.lit("unknown"))
        .when(ua.str.contains(PROBE_UA))
        .then(pl.lit("probe"))
        .when(ua.str.contains(SCANNER_UA))
        .then(pl.lit("scanner"))
        .when(ua.str.contains(MOBILE_UA) & ~ua.str.contains(r"Mozilla/"))
        .then(pl.lit("mobile"))
        .when(ua.str.contains(SCRIPT_UA))
        .then(pl.lit("script"))
        .when(ua.str.contains(r"Mozilla/|Opera/"))
        .then(pl.lit("browser"))
        .otherwise(pl.lit("unknown"))
    )


def client_kinds(agents: pl.Series) -> pl.Series:
    """``client_kind_expr`` of each agent, computed once per distinct agent."""
    frame = pl.DataFrame({"agent": agents})
    return _per_distinct(frame, ["agent"], client_kind=client_kind_expr(pl.col("agent")))[
        "client_kind"
    ]


def _layer_and_role() -> dict[str, pl.Expr]:
    """``layer`` and ``role`` over ``log_id``, ``resource_type`` and the facts ``_entry_facts`` adds."""
    log_id = _s("log_id").str.to_lowercase()
    rtype = _s("resource_type").str.to_lowercase()
    has_status = pl.col("_has_status")
    is_lb = rtype.str.contains(
        r"load_balancer|_lb_rule|loadbalancing|https_lb"
    ) | log_id.str.contains("loadbalancing")
    audit = log_id.str.starts_with(AUDIT_LOG)
    request_log = log_id.str.contains(r"(^|/)requests$|request_log$|_requests$")
    # A hand-made export without logName: an httpRequest with a client address is a request entry.
    bare_request = (log_id == "") & has_status & pl.col("_has_ip")
    is_request = ~audit & (request_log | bare_request | (is_lb & has_status))
    edge_audit = audit & (pl.col("_edge_text") | rtype.str.contains("iap"))
    system = log_id.str.contains(r"varlog/system|/system$|cloudaudit|activity|events$")
    is_app = (
        ~is_request
        & ~system
        & (
            rtype.is_in(APP_RESOURCES)
            | log_id.str.contains(r"stdout|stderr|^[^/]+$")
            | (rtype == "")
        )
    )
    layer = (
        pl.when(is_request & is_lb)
        .then(pl.lit("edge"))
        .when(is_request)
        .then(pl.lit("service"))
        .when(edge_audit)
        .then(pl.lit("edge"))
        .when(is_app)
        .then(pl.lit("app"))
        .otherwise(pl.lit("other"))
    )
    role = (
        pl.when(audit)
        .then(pl.lit("audit"))
        .when(layer == "service")
        .then(pl.lit("request"))
        .when(layer.is_in(["edge", "app"]))
        .then(layer)
        .otherwise(pl.lit("other"))
    )
    return {"layer": layer, "role": role}


def _entry_facts(frame: pl.DataFrame) -> pl.DataFrame:
    """The row facts ``layer`` reads besides log id and resource type, none of them a regex per row.

    ``_edge_text``: the payload names IAP or Cloud Armor, searched on audit entries only.
    """
    audit = frame["log_id"].fill_null("").str.to_lowercase().str.starts_with(AUDIT_LOG)
    edge_text = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    if audit.any():
        rows = audit.arg_true()
        text = frame["payload"].gather(rows).fill_null("").str.contains(EDGE_AUDIT_TEXT)
        edge_text = edge_text.scatter(rows, text)
    return pl.DataFrame(
        {
            "log_id": frame["log_id"],
            "resource_type": frame["resource_type"],
            "_has_status": frame["http_status"].is_not_null(),
            "_has_ip": frame["http_remote_ip"].is_not_null(),
            "_edge_text": edge_text,
        }
    )


def _per_distinct(frame: pl.DataFrame, keys: list[str], **exprs: pl.Expr) -> pl.DataFrame:
    """``exprs`` over ``keys``, computed on the distinct key values and joined back, in row order."""
    table = frame.select(keys).unique().with_columns(**exprs)
    return frame.select(keys).join(
        table, on=keys, how="left", nulls_equal=True, maintain_order="left"
    )


def entry_kinds(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``layer``, ``role`` and ``client_kind`` (re)computed, per distinct value.

    Args:
        frame: log-frame columns; ``log_id``, ``resource_type``, ``http_status``,
            ``http_remote_ip``, ``http_user_agent`` and ``payload`` are read.
    """
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in KIND_SCHEMA.items())
    facts = _entry_facts(frame)
    kinds = _per_distinct(facts, list(facts.columns), **_layer_and_role())
    return frame.with_columns(
        layer=kinds["layer"],
        role=kinds["role"],
        client_kind=client_kinds(frame["http_user_agent"]),
    )


def with_kinds(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its ``row`` index and the ``KIND_SCHEMA`` columns, added when missing.

    A frame ``read_logs`` or ``entries_to_frame`` made has the kind columns already, so only
    ``row`` (its position) is added; a frame built by hand gets all four (the three kinds are
    computed together when any is missing). On a frame that has them all it returns the frame as
    it is, so the stages that call it after ``triage`` cost nothing.
    """
    if any(c not in frame.columns for c in KIND_SCHEMA):
        frame = entry_kinds(frame)
    if "row" not in frame.columns:
        frame = frame.with_row_index("row")
    return frame
