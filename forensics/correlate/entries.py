"""What each log row is, for correlation: a client request, an edge decision, an app line.

Tagging is one pass of polars expressions over the log frame (no per-entry Python):

* ``is_request``: an HTTP request entry written by Google for a client call: Cloud Run / App
  Engine / Functions request logs (``layer`` "service") and load balancer request logs (``layer``
  "edge"). These carry the client's remote IP and user agent, so they are what the runner's
  requests look like in the logs. Cloud Run's request-log ``timestamp`` is when the request was
  received (its latency is added after it: an entry with a 60 s latency is received ~60 s after
  its timestamp), so a request spans ``[timestamp, timestamp + latency]``.
* ``layer`` "edge" without ``is_request``: IAP / Cloud Armor audit entries (no ``httpRequest``).
* ``layer`` "app": lines the service wrote itself (stdout, stderr, structured logging, uvicorn
  access lines). A structured app line may carry an ``httpRequest`` of its own; it is still app.
* No request log at all (an export of stdout/stderr only): the app's access lines, or Cloud
  Functions' "finished with status code" lines, stand in for the request entries (``layer``
  "access").
* A Cloud Functions ``execution_id`` label stands in for a missing trace (``exec:<id>``): all
  lines of one invocation share it.
* ``client_kind``: what the user agent looks like: "probe" (health and uptime checks), "scanner"
  (bots, crawlers), "script" (python-requests, httpx, aiohttp, websockets, curl, Go, Node,
  headless browsers), "mobile" (a mobile app's HTTP stack: okhttp, CFNetwork...), "browser" (a
  person's browser), "unknown".
"""

from __future__ import annotations

import polars as pl

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
ACCESS_LINE = (
    r'"(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|WebSocket|WEBSOCKET)\s+([^\s"?]+)[^"]*"\s+(\d{3})'
)
FUNCTION_FINISHED = r"finished with status(?: code)?:?\s*'?(\d{3})"
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


def _s(name: str) -> pl.Expr:
    return pl.col(name).fill_null("")


def _client_kind() -> pl.Expr:
    """What the user agent looks like: probe, scanner, mobile, script, browser or unknown."""
    ua = _s("http_user_agent")
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


def tag_entries(logs: pl.DataFrame) -> pl.DataFrame:
    """Add ``is_request``, ``layer``, ``client_kind``, ``t_ns``, ``end_ns`` to the log frame.

    Args:
        logs: the log frame with its ``row`` column.

    Returns:
        The frame with the tag columns added; ``t_ns``/``end_ns`` are epoch nanoseconds of the
        entry's timestamp and of timestamp + latency.
    """
    log_id = _s("log_id").str.to_lowercase()
    rtype = _s("resource_type").str.to_lowercase()
    payload = _s("payload")
    is_lb = rtype.str.contains(
        r"load_balancer|_lb_rule|loadbalancing|https_lb"
    ) | log_id.str.contains("loadbalancing")
    request_log = log_id.str.contains(r"(^|/)requests$|request_log$|_requests$")
    # A hand-made export without logName: an httpRequest with a client address is a request entry.
    bare_request = (
        (log_id == "")
        & pl.col("http_status").is_not_null()
        & pl.col("http_remote_ip").is_not_null()
    )
    is_request = request_log | bare_request | (is_lb & pl.col("http_status").is_not_null())
    audit = log_id.str.contains("cloudaudit")
    edge_audit = audit & (
        payload.str.contains(r"(?i)iap\.googleapis|identity-aware|securityPolicy|cloud armor")
        | rtype.str.contains("iap")
    )
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
    client_kind = _client_kind()
    t_ns = pl.col("timestamp").dt.epoch("ns")
    latency_ns = (pl.col("http_latency_s").fill_null(0.0).clip(0.0, 86400.0) * 1e9).cast(pl.Int64)
    # Cloud Functions tag every line of one invocation with its execution id: as good as a trace
    exec_id = pl.col("labels").fill_null("").str.extract(r'"execution_id"\s*:\s*"([^"]+)"', 1)
    tagged = logs.with_columns(
        is_request=is_request,
        layer=layer,
        client_kind=client_kind,
        t_ns=t_ns,
        trace=pl.coalesce(pl.col("trace"), pl.lit("exec:") + exec_id),
    )
    # no load balancer log: IAP's own audit entries are the only view of the calls it decided
    if tagged.height and not is_lb_col(tagged).any():
        tagged = _edge_audits_as_requests(tagged)
    if tagged.height and not tagged.get_column("is_request").any():
        tagged = _access_lines_as_requests(tagged)
    return tagged.with_columns(
        end_ns=pl.col("t_ns") + pl.when(pl.col("is_request")).then(latency_ns).otherwise(0)
    )


def is_lb_col(tagged: pl.DataFrame) -> pl.Series:
    """Whether each tagged row is a load balancer's request entry."""
    return (tagged.get_column("layer") == "edge").fill_null(False) & tagged.get_column("is_request")


#: Status of an edge audit decision (google.rpc.Code): PERMISSION_DENIED 7 -> 403,
#: UNAUTHENTICATED 16 -> 401; no code (or OK) means the call was let through.
_RPC_HTTP = {7: 403, 16: 401}


def _edge_audits_as_requests(tagged: pl.DataFrame) -> pl.DataFrame:
    """With no load balancer log, IAP's audit entries (AuthorizeUser) stand in for its requests.

    Each such entry is one call IAP decided: it names the caller's address
    (``requestMetadata.callerIp``), agent (``callerSuppliedUserAgent``) and URL
    (``request.httpRequest.url``), and its status says whether IAP let it through. As an "edge"
    request entry it lines up with the run's clock, is told the runner's or another client's,
    and falls in the failing test's window like a load balancer entry would.
    """
    payload = pl.col("payload").fill_null("")
    caller = payload.str.extract(r'"callerIp"\s*:\s*"([^"]+)"', 1)
    agent = payload.str.extract(r'"callerSuppliedUserAgent"\s*:\s*"([^"]+)"', 1)
    path = payload.str.extract(r'"url"\s*:\s*"(?:https?|wss?)://[^/"]+(/[^"?#]*)', 1)
    code = payload.str.extract(r'"status"\s*:\s*\{\s*"code"\s*:\s*(\d+)', 1).cast(
        pl.Int64, strict=False
    )
    refused = payload.str.contains(r'"granted"\s*:\s*false')
    status = (
        pl.when(code.is_in(list(_RPC_HTTP)))
        .then(code.replace_strict(_RPC_HTTP, default=None, return_dtype=pl.Int32))
        .when(refused)
        .then(pl.lit(403, dtype=pl.Int32))
        .when(code.is_null() | (code == 0))
        .then(pl.lit(200, dtype=pl.Int32))
    )
    stands_in = (
        (pl.col("layer") == "edge")
        & ~pl.col("is_request")
        & payload.str.contains(r'"serviceName"\s*:\s*"iap\.googleapis\.com"')
        & caller.is_not_null()
        & status.is_not_null()
    )
    return tagged.with_columns(
        is_request=pl.col("is_request") | stands_in,
        http_remote_ip=pl.when(stands_in).then(caller).otherwise(pl.col("http_remote_ip")),
        http_user_agent=pl.when(stands_in)
        .then(pl.coalesce(pl.col("http_user_agent"), agent))
        .otherwise(pl.col("http_user_agent")),
        http_path=pl.when(stands_in)
        .then(pl.coalesce(pl.col("http_path"), path))
        .otherwise(pl.col("http_path")),
        http_status=pl.when(stands_in)
        .then(pl.coalesce(pl.col("http_status"), status))
        .otherwise(pl.col("http_status")),
    ).with_columns(  # the client kind follows the agent the audit entry names
        client_kind=pl.when(stands_in).then(_client_kind()).otherwise(pl.col("client_kind"))
    )


def _access_lines_as_requests(tagged: pl.DataFrame) -> pl.DataFrame:
    """With no request log in the export, the app's own access lines stand in for it.

    Each access line (uvicorn, gunicorn, Express morgan, ...) is one request with its path and
    status; it gets ``layer`` "access" (role "app" in links) and ``is_request``, so the clock can
    be aligned and the other app lines joined to it. It carries no client address.
    """
    message = pl.col("message").fill_null("")
    access = message.str.extract_groups(ACCESS_LINE)
    # Cloud Functions (1st gen): "Function execution took 5 ms, finished with status code: 403"
    finished = message.str.extract(FUNCTION_FINISHED, 1).cast(pl.Int32, strict=False)
    is_access = (pl.col("layer") == "app") & (
        access.struct.field("1").is_not_null() | finished.is_not_null()
    )
    caller, agent = _access_client(message)
    return tagged.with_columns(
        is_request=is_access,
        layer=pl.when(is_access).then(pl.lit("access")).otherwise(pl.col("layer")),
        http_path=pl.coalesce(pl.col("http_path"), access.struct.field("1")),
        http_status=pl.coalesce(
            pl.col("http_status"), access.struct.field("2").cast(pl.Int32, strict=False), finished
        ),
        http_remote_ip=pl.when(is_access)
        .then(pl.coalesce(pl.col("http_remote_ip"), caller))
        .otherwise(pl.col("http_remote_ip")),
        http_user_agent=pl.when(is_access)
        .then(pl.coalesce(pl.col("http_user_agent"), agent))
        .otherwise(pl.col("http_user_agent")),
    ).with_columns(  # the client kind follows the agent the access line names
        client_kind=pl.when(is_access).then(_client_kind()).otherwise(pl.col("client_kind"))
    )


#: The caller an access line names: uvicorn's ``1.2.3.4:5678 - "GET ..."`` (for a WebSocket
#: ``('1.2.3.4', 5678) - "WebSocket /ws" 403``), the combined log
#: format's ``1.2.3.4 - - [date] "GET ..."`` (then its last quoted field is the user agent).
_ACCESS_CALLER = (
    r"(?:^|\s)[\[(]?'?((?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})'?"
    r"(?:\]?:\d{1,5}|,\s*\d{1,5}\))?\]?\s+-\s+(?:\S+\s+\[|\S*\s*\")"
)
_ACCESS_AGENT = r'"\s+\d{3}\s+\S+\s+"[^"]*"\s+"([^"]+)"\s*$'
#: Addresses of proxies in front of the app (Cloud Run's, a sidecar, a private LB): not a caller.
_PROXY_ADDRESS = (
    r"^(?:169\.254\.|127\.|10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|::ffff:|::1$|fe80:)"
)


def _access_client(message: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The caller's address and agent an access line names (both null when it names no address,
    or only a proxy's: then everyone's calls look alike)."""
    ip = message.str.extract(_ACCESS_CALLER, 1)
    # uvicorn writes an IPv6 caller and its port as one "addr:port": the last group is the port
    ip = (
        pl.when(ip.str.count_matches(":") >= 3).then(ip.str.replace(r":\d{1,5}$", "")).otherwise(ip)
    )
    ip = pl.when(ip.str.contains(_PROXY_ADDRESS) | (ip == "-")).then(None).otherwise(ip)
    # an agent alone is no client: behind a proxy everyone's python-httpx would be one caller
    agent = message.str.extract(_ACCESS_AGENT, 1)
    return ip, pl.when(ip.is_null() | (agent == "-")).then(None).otherwise(agent)


def client_key() -> pl.Expr:
    """Who sent a request: its remote IP, or ``ua:<agent>`` when the entry has no IP."""
    return pl.coalesce(pl.col("http_remote_ip"), pl.lit("ua:") + pl.col("http_user_agent"))
