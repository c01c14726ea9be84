"""Join the service's own log lines to the request entries already tied to a failed test.

1. By trace: an app line carrying the trace of a linked request belongs to it (via "trace").
2. By time (via "app_join"), for app lines without a trace (or with a trace no request entry has):
   a line belongs to the request of the same service, and the same container instance when both
   name one, whose start or end (``timestamp``, ``timestamp + latency``) is nearest to it, within
   ``PRE_S`` before the start and ``POST_S`` after the end. Every request of that service competes,
   whoever sent it: a line nearest to a browser's request is not given to the test's request. An
   access line (uvicorn ``"WebSocket /ws" 403``, ``"GET /api HTTP/1.1" 500``) or a structured line
   with its own ``httpRequest`` must agree with the request's path and status; agreeing makes the
   join surer. A line equally near to another client's request is linked weakly (strength x0.4).
   A line with a trace id is never time-joined to a request entry that carries another trace.

All of it is polars joins (``join_where`` on time ranges), never a Python loop over log rows.
"""

from __future__ import annotations

import re

import polars as pl

from forensics.logs.kinds import ACCESS_LINE

PRE_S = 1.0
POST_S = 1.0
TIE_S = 0.05
TIE_MIN_S = 0.005
CLOSE_S = 0.1
#: App lines joined to a load balancer entry (no request log of the app's own) count this much.
EDGE_ONLY_SCALE = 0.6
INSIDE_MAX_S = 5.0
#: At most this many client strings are looked for in app lines (one regex alternation).
MAX_QUOTED = 300
_REQ = [
    "row",
    "t_ns",
    "end_ns",
    "service",
    "instance_id",
    "http_status",
    "http_path",
    "http_user_agent",
    "http_remote_ip",
    "http_referer",
    "http_url",
]
#: Client strings (agent, address, path) shorter than this say too little to look for in a line.
MIN_CLIENT_TEXT = 4
#: ``via`` of a time-joined line just as near to another client's failing request (naming neither).
APP_JOIN_CONTESTED = "app_join_contested"
_ORIGIN = r"^(?i)(https?://[^/?#\s]+)"


def _app_rows(tagged: pl.DataFrame) -> pl.DataFrame:
    app = tagged.filter(pl.col("layer") == "app")
    access = pl.col("message").fill_null("").str.extract_groups(ACCESS_LINE)
    return app.select(
        a_row="row",
        a_t="t_ns",
        a_trace="trace",
        a_service="service",
        a_instance="instance_id",
        a_text=pl.concat_str(
            [pl.col("message").fill_null(""), pl.col("payload").fill_null("")], separator=" "
        ),
        a_path=pl.coalesce(access.struct.field("1"), pl.col("http_path")).str.strip_chars_end("/"),
        a_status=pl.coalesce(
            access.struct.field("2").cast(pl.Int32, strict=False), pl.col("http_status")
        ),
    )


def _whole(value: str) -> str:
    """A regex for ``value`` as a whole word: an agent "node" is not in "node_modules", a path
    "/api/x" not in "/api/xy" (word boundaries where the value starts or ends with a word)."""
    head = r"\b" if re.match(r"\w", value) else ""
    tail = r"\b" if re.search(r"\w$", value) else ""
    return f"{head}{re.escape(value)}{tail}"


def _page_origin() -> pl.Expr:
    """The origin (scheme://host[:port]) of the page that sent the request (its referer), which
    origin checks quote ("origin https://preview.example.dev not allowed"); null when the page is
    the service itself (every same-site call would share it, it tells no client apart)."""
    page = pl.col("http_referer").str.extract(_ORIGIN).str.to_lowercase()
    own = pl.col("http_url").str.extract(_ORIGIN).str.to_lowercase()
    return pl.when(page.is_not_null() & ~page.eq_missing(own)).then(page)


def _spans(reqs: pl.DataFrame) -> pl.DataFrame:
    lat = pl.col("end_ns") - pl.col("t_ns")
    return reqs.select(
        r_row="row",
        r_t="t_ns",
        r_end="end_ns",
        r_service="service",
        r_instance="instance_id",
        r_status="http_status",
        r_path=pl.col("http_path").str.strip_chars_end("/"),
        r_ua=pl.col("http_user_agent"),
        r_ip=pl.col("http_remote_ip"),
        r_origin=_page_origin(),
        r_trace=pl.col("trace"),
        # Lines may precede the entry's timestamp when an export stamps requests at their end.
        lo=pl.col("t_ns") - lat - int(PRE_S * 1e9),
        hi=pl.col("end_ns") + int(POST_S * 1e9),
    )


def _pairs(app: pl.DataFrame, spans: pl.DataFrame, same_service: bool = True) -> pl.DataFrame:
    """(app line, request) candidates with their distance and penalty."""
    # Only range predicates in join_where (an equality there turns it into a cross join).
    pairs = app.join_where(spans, pl.col("a_t") >= pl.col("lo"), pl.col("a_t") <= pl.col("hi"))
    if same_service:
        pairs = pairs.filter(pl.col("a_service").eq_missing(pl.col("r_service")))
    same_inst = pl.col("a_instance").is_not_null() & pl.col("r_instance").is_not_null()
    inst_ok = ~same_inst | (pl.col("a_instance") == pl.col("r_instance"))
    path_ok = (
        pl.col("a_path").is_null()
        | pl.col("r_path").is_null()
        | (pl.col("a_path") == pl.col("r_path"))
    )
    status_ok = (
        pl.col("a_status").is_null()
        | pl.col("r_status").is_null()
        | (pl.col("a_status") == pl.col("r_status"))
    )
    access_match = (
        pl.col("a_path").is_not_null()
        & (pl.col("a_path") == pl.col("r_path"))
        & (pl.col("a_status") == pl.col("r_status"))
    )
    edge_dist = (
        pl.min_horizontal(
            (pl.col("a_t") - pl.col("r_t")).abs(), (pl.col("a_t") - pl.col("r_end")).abs()
        )
        / 1e9
    )
    # A line written while a request was being served (after its start, before its end) is
    # likely that request's: its distance counts a quarter. Not for long connections (a
    # WebSocket open for minutes spans everything), which only count their start and end.
    inside = (
        (pl.col("a_t") >= pl.col("r_t"))
        & (pl.col("a_t") <= pl.col("r_end"))
        & ((pl.col("r_end") - pl.col("r_t")) <= int(INSIDE_MAX_S * 1e9))
    )
    dist = pl.when(inside).then(edge_dist / 4).otherwise(edge_dist)

    # A line that quotes a request's user agent, client address or path (many auth logs do)
    # names its request; when it quotes one candidate's, the candidates it does not quote are
    # unlikely. The strings a line quotes are found once per line (one alternation of all the
    # candidates' strings), not once per (line, request) pair.
    # only the requests some line pairs with: a busy service has thousands of clients
    clients = {
        v
        for col in ("r_ua", "r_ip", "r_origin")
        for v in pairs.get_column(col).drop_nulls().unique().to_list()
    }
    values = sorted(
        {
            v
            for col in ("r_ua", "r_ip", "r_origin", "r_path")
            for v in pairs.get_column(col).drop_nulls().unique().to_list()
            if len(v) >= MIN_CLIENT_TEXT
        },
        key=lambda v: (-len(v), v),
    )
    if len(values) > MAX_QUOTED:
        # a busy API with thousands of paths: look for agents and addresses only
        values = [v for v in values if v in clients][:MAX_QUOTED]
    named = (
        pl.col("a_text")
        .str.to_lowercase()
        .str.extract_all("|".join(_whole(v.lower()) for v in values))
        if values
        else pl.lit([], dtype=pl.List(pl.String))
    )
    pairs = pairs.join(app.select("a_row", a_named=named), on="a_row", how="left")

    def quoted(col: str) -> pl.Expr:
        return pl.col("a_named").list.contains(pl.col(col).str.to_lowercase()).fill_null(False)

    # A line that carries a trace id is about that trace's request: never about a request
    # that has another trace, however near in time and path (another client's call).
    trace_ok = (
        pl.col("a_trace").is_null()
        | pl.col("r_trace").is_null()
        | (pl.col("a_trace") == pl.col("r_trace"))
    )
    pairs = pairs.filter(inst_ok & path_ok & status_ok & trace_ok).with_columns(dist=dist)
    return (
        pairs.with_columns(
            same_instance=same_inst,
            access_match=access_match.fill_null(False),
            # Django, Express, Spring name the path they failed on ("Internal Server Error:
            # /api/exports/csv/"): as good as a quoted client
            names_client=quoted("r_ua") | quoted("r_ip") | quoted("r_origin") | quoted("r_path"),
            # who sent it (address, agent, the page's origin) tells clients apart where the
            # path cannot: two CI jobs, or a browser and the runner, on the same endpoint
            names_sender=quoted("r_ua") | quoted("r_ip") | quoted("r_origin"),
        )
        .with_columns(
            names_other=(pl.col("names_client").any().over("a_row") & ~pl.col("names_client"))
            | (pl.col("names_sender").any().over("a_row") & ~pl.col("names_sender"))
        )
        .with_columns(
            access_match=pl.col("access_match") | pl.col("names_client"),
            penalty=pl.col("dist")
            - 0.5 * (pl.col("access_match") | pl.col("names_client")).cast(pl.Float64)
            + 1.0 * pl.col("names_other").cast(pl.Float64)
            + 0.2 * (~pl.col("same_instance")).cast(pl.Float64),
        )
        .drop("a_text", "a_named", "names_sender")
    )


def _time_join(
    free: pl.DataFrame,
    mine_reqs: pl.DataFrame,
    competitors: pl.DataFrame,
    same_service: bool,
    scale: float,
) -> pl.DataFrame:
    """App lines nearest in time to one of ``mine_reqs`` (linked requests), against every
    request of ``competitors``; a rival just as near from someone else makes the join weak."""
    schema = {
        "test_id": pl.String,
        "row": pl.UInt32,
        "via": pl.String,
        "strength": pl.Float64,
        "request_row": pl.UInt32,
    }
    if mine_reqs.is_empty() or free.is_empty():
        return pl.DataFrame(schema=schema)
    mine = _pairs(free, _spans(mine_reqs.unique("row", maintain_order=True)), same_service)
    if mine.is_empty():
        return pl.DataFrame(schema=schema)
    near = free.filter(pl.col("a_row").is_in(mine.get_column("a_row").unique().implode()))
    everyone = _pairs(near, _spans(competitors), same_service).sort(["a_row", "penalty", "r_row"])
    # "Just as near" is relative: a line 1 ms after one request and 40 ms after another is the
    # first's; 30 ms and 40 ms is a tie.
    tie = pl.col("dist").first().clip(TIE_MIN_S, TIE_S)
    best = everyone.group_by("a_row", maintain_order=True).agg(
        best=pl.col("penalty").first(),
        tie=tie,
        rivals=pl.col("r_row").filter(pl.col("penalty") <= pl.col("penalty").first() + tie),
        failing_rivals=pl.col("r_row").filter(
            (pl.col("penalty") <= pl.col("penalty").first() + tie)
            & (pl.col("r_status").fill_null(0) >= 400)
        ),
    )
    # The line goes to the test's request when that request is (one of) the nearest.
    mine_pairs = everyone.join(
        mine_reqs.select("test_id", "row", "strength"), left_on="r_row", right_on="row"
    )
    return (
        mine_pairs.join(best, on="a_row")
        .filter(pl.col("penalty") <= pl.col("best") + pl.col("tie"))
        .sort(["penalty", "r_row"])
        .unique(["test_id", "a_row"], keep="first", maintain_order=True)
        .join(mine_reqs.group_by("test_id").agg(mine_rows=pl.col("row")), on="test_id")
        .with_columns(
            contested=pl.col("rivals").list.set_difference(pl.col("mine_rows")).list.len() > 0,
            # as near to another client's *failing* request: the line may be that failure's
            # reason, not this test's; the engine must not let it decide against another such line
            contested_failing=pl.col("failing_rivals")
            .list.set_difference(pl.col("mine_rows"))
            .list.len()
            > 0,
            # an access line or a quoted client names its request; a line on the same
            # container within 100 ms of it, with no one else's request as near, nearly does
            quality=pl.when(pl.col("access_match"))
            .then(0.9)
            .when(pl.col("same_instance") & (pl.col("dist") <= CLOSE_S))
            .then(0.9)
            .when(pl.col("same_instance"))
            .then(0.8)
            .otherwise(0.65),
        )
        .select(
            test_id="test_id",
            row="a_row",
            via=pl.when(pl.col("contested_failing"))
            .then(pl.lit(APP_JOIN_CONTESTED))
            .otherwise(pl.lit("app_join")),
            strength=pl.col("strength")
            * pl.col("quality")
            * scale
            * pl.when(pl.col("contested")).then(0.4).otherwise(1.0),
            request_row="r_row",
        )
        .cast(schema)  # type: ignore[arg-type]
    )


def join_app_lines(tagged: pl.DataFrame, linked: pl.DataFrame) -> pl.DataFrame:
    """App lines of the linked requests.

    Args:
        tagged: tagged log rows (``entries.tag_entries``).
        linked: ``test_id``, ``row`` (a request entry), ``strength`` of each linked request.

    Returns:
        ``test_id``, ``row`` (app line), ``via``, ``strength``, ``request_row``.
    """
    out_schema = {
        "test_id": pl.String,
        "row": pl.UInt32,
        "via": pl.String,
        "strength": pl.Float64,
        "request_row": pl.UInt32,
    }
    if linked.is_empty():
        return pl.DataFrame(schema=out_schema)
    app = _app_rows(tagged)
    reqs = tagged.filter(pl.col("is_request"))
    lreq = linked.join(reqs.select([*_REQ, "trace", "layer"]), on="row")
    # 1. by trace; prefer the service's own request entry over the load balancer's for the same trace
    by_trace = (
        app.filter(pl.col("a_trace").is_not_null())
        .join(lreq.filter(pl.col("trace").is_not_null()), left_on="a_trace", right_on="trace")
        .sort(["strength", "layer", "row"], descending=[True, True, False], maintain_order=True)
        .unique(["test_id", "a_row"], keep="first", maintain_order=True)
        .select(
            test_id="test_id",
            row="a_row",
            via=pl.lit("trace"),
            strength="strength",
            request_row="row",
        )
    )
    # 2. by time, for lines whose trace names no request entry
    req_traces = reqs.get_column("trace").drop_nulls().unique().implode()
    free = app.filter(pl.col("a_trace").is_null() | ~pl.col("a_trace").is_in(req_traces))
    own_layers = ["service", "access"]
    by_time = _time_join(
        free,
        lreq.filter(pl.col("layer").is_in(own_layers)),
        reqs.filter(pl.col("layer").is_in(own_layers)),
        same_service=True,
        scale=1.0,
    )
    # 3. tests seen only by a load balancer (GKE, VMs behind an ALB: no Cloud Run request log):
    # its entries name a backend service, not the app's, so lines of any service compete, weaker
    seen_by_app = lreq.filter(pl.col("layer").is_in(own_layers)).get_column("test_id").unique()
    # only where the backend answered (statusDetails response_sent_by_backend, backend_*): a
    # Cloud Armor or IAP denial never reached the app, and no app line is its
    text = pl.concat_str([pl.col("message").fill_null(""), pl.col("payload").fill_null("")])
    backend_answered = tagged.filter(text.str.contains(r"response_sent_by_backend|backend_"))
    edge_only = lreq.filter(
        (pl.col("layer") == "edge") & ~pl.col("test_id").is_in(seen_by_app.implode())
    ).join(backend_answered.select("row"), on="row")
    by_edge = _time_join(
        free,
        edge_only,
        reqs.filter(pl.col("layer") == "edge"),
        same_service=False,
        scale=EDGE_ONLY_SCALE,
    )
    out = pl.concat([by_trace.cast(out_schema), by_time.cast(out_schema), by_edge.cast(out_schema)])  # type: ignore[arg-type]
    return out.sort(
        ["strength", "request_row"], descending=[True, False], maintain_order=True
    ).unique(["test_id", "row"], keep="first", maintain_order=True)
