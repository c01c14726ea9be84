"""What each log row is, for correlation: a client request, an edge decision, an app line.

The row's ``layer`` and ``client_kind`` are the log frame's own (``forensics.logs.kinds``, decided
once per distinct log id, resource type and user agent); tagging adds what correlation reads on
top of them, in polars expressions (no per-entry Python):

* ``is_request``: an HTTP request entry written by Google for a client call: the serving
  platform's request logs (``layer`` "service", role "request") and load balancer request logs
  (``layer`` "edge", role "edge"). These carry the client's remote IP and user agent, so they are
  what the runner's requests look like in the logs. Cloud Run's request-log ``timestamp`` is when
  the request was received (its latency is added after it: an entry with a 60 s latency is
  received ~60 s after its timestamp), so a request spans ``[timestamp, timestamp + latency]``.
* ``layer`` "edge" without ``is_request``: IAP / Cloud Armor audit entries (role "audit").
* No load balancer log: IAP's audit entries stand in for the calls IAP decided (``is_request``).
* No request log at all (an export of stdout/stderr only): the app's access lines, or Cloud
  Functions' "finished with status code" lines, stand in for the request entries (``layer``
  "access", role "app").
* A Cloud Functions ``execution_id`` label stands in for a missing trace (``exec:<id>``): all
  lines of one invocation share it.
"""

from __future__ import annotations

import polars as pl

from forensics.logs.kinds import ACCESS_LINE, client_kind_expr, client_kinds, with_kinds

FUNCTION_FINISHED = r"finished with status(?: code)?:?\s*'?(\d{3})"


def tag_entries(logs: pl.DataFrame) -> pl.DataFrame:
    """Add ``is_request``, ``t_ns``, ``end_ns`` to the log frame (and its kinds when it lacks them).

    Args:
        logs: the log frame.

    Returns:
        The frame with the tag columns added; ``t_ns``/``end_ns`` are epoch nanoseconds of the
        entry's timestamp and of timestamp + latency.
    """
    t_ns = pl.col("timestamp").dt.epoch("ns")
    latency_ns = (pl.col("http_latency_s").fill_null(0.0).clip(0.0, 86400.0) * 1e9).cast(pl.Int64)
    # Cloud Functions tag every line of one invocation with its execution id: as good as a trace
    exec_id = pl.col("labels").fill_null("").str.extract(r'"execution_id"\s*:\s*"([^"]+)"', 1)
    tagged = with_kinds(logs).with_columns(
        is_request=pl.col("role").is_in(["request", "edge"]),
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
    request entry it lines up with the run's clock, is told the runner's or another client's
    (its client kind is the agent's), and falls in the failing test's window like a load
    balancer entry would. Only the edge audit entries are read: their payloads, no others.
    """
    audits = tagged.filter((pl.col("layer") == "edge") & ~pl.col("is_request"))
    if audits.is_empty():
        return tagged
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
        payload.str.contains(r'"serviceName"\s*:\s*"iap\.googleapis\.com"')
        & caller.is_not_null()
        & status.is_not_null()
    )
    calls = audits.filter(stands_in).select(
        "row",
        is_request=pl.lit(True),
        http_remote_ip=caller,
        http_user_agent=pl.coalesce(pl.col("http_user_agent"), agent),
        http_path=pl.coalesce(pl.col("http_path"), path),
        http_status=pl.coalesce(pl.col("http_status"), status),
    )
    calls = calls.with_columns(client_kind=client_kinds(calls.get_column("http_user_agent")))
    return tagged.update(calls, on="row")


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
        client_kind=pl.when(is_access)
        .then(client_kind_expr(pl.col("http_user_agent")))
        .otherwise(pl.col("client_kind"))
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
