"""Pick each failed test's own request entries: by id from its text, then by window and fingerprint.

Strengths (0..1) say how sure a link is:

=====================================================  ========
trace id named in the test's text (W3C, Cloud Trace)   1.0
a bare 32-hex string of the text that is a log trace   0.95
request id / correlation id named in the text          0.9
runner request in window, status/path match failure    0.75 (0.85 when the URL path matched too: via "url";
                                                       0.6 when the text names other paths only)
runner request in window, no match (context)           0.3 (0.15 when it failed with another status)
request in window, no runner fingerprint known         0.45 if it matches the failure, else 0.15
edge entry without client address (IAP audit)         0.25
=====================================================  ========

Requests from another client (not the runner's fingerprint) are never linked by window. A request
claimed by several overlapping failed tests goes to one of them when path or order decides
(k tests and k matching requests pair up in time order); otherwise it is linked to all, with its
strength divided among them, and marked ``shared``.
"""

from __future__ import annotations

import polars as pl

from forensics.correlate.textids import TextIds

#: Windows wider than this (tests without times) only link requests that match the failure.
CONTEXT_MAX_WINDOW_S = 60.0
MAX_ID_MATCHES = 50
#: A request this long is a candidate for a client that timed out.
SLOW_S = 2.0
_REQ_COLS = [
    "row",
    "t_ns",
    "end_ns",
    "layer",
    "role",
    "http_status",
    "http_path",
    "http_method",
    "http_protocol",
    "runner",
    "client_kind",
]


def _hints(ids: dict[str, TextIds]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "test_id": list(ids),
            "statuses": [sorted(x.statuses) for x in ids.values()],
            "paths": [[p for p in x.paths if p != "/"] for x in ids.values()],
            "ws": [x.websocket for x in ids.values()],
            "ws_closed": [bool(x.ws_close) for x in ids.values()],
            "timeout": [x.timeout for x in ids.values()],
            "cors": [x.cors for x in ids.values()],
        },
        schema={
            "test_id": pl.String,
            "statuses": pl.List(pl.Int32),
            "paths": pl.List(pl.String),
            "ws": pl.Boolean,
            "ws_closed": pl.Boolean,
            "timeout": pl.Boolean,
            "cors": pl.Boolean,
        },
    )


def id_links(tagged: pl.DataFrame, ids: dict[str, TextIds]) -> pl.DataFrame:
    """Rows carrying a trace id or request id that a failed test's text names.

    Returns:
        ``test_id``, ``row``, ``via``, ``strength`` (one row per hit, duplicates possible).
    """
    pairs = [(t, tr, 1.0) for t, x in ids.items() for tr in x.traces]
    pairs += [(t, h, 0.95) for t, x in ids.items() for h in x.loose_hex]
    schema = {"test_id": pl.String, "row": pl.UInt32, "via": pl.String, "strength": pl.Float64}
    out = [pl.DataFrame(schema=schema)]
    if pairs:
        frame = pl.DataFrame(
            pairs,
            schema={"test_id": pl.String, "trace": pl.String, "strength": pl.Float64},
            orient="row",
        )
        hits = (
            tagged.select("row", "trace").join(frame, on="trace").with_columns(via=pl.lit("trace"))
        )
        out.append(hits.select(schema.keys()))
    wanted = {t: sorted(x.request_ids)[:5] for t, x in ids.items() if x.request_ids}
    if not wanted:
        return pl.concat(out)
    text = tagged.select(
        "row",
        text=pl.concat_str(
            [pl.col("message").fill_null(""), pl.col("payload").fill_null("")], separator=" "
        ),
    )
    for test_id, rids in wanted.items():
        for rid in rids:
            hit = text.filter(pl.col("text").str.contains(rid, literal=True)).select("row")
            if 0 < hit.height <= MAX_ID_MATCHES:  # a user id in every line identifies nothing
                out.append(
                    hit.with_columns(
                        test_id=pl.lit(test_id), via=pl.lit("request_id"), strength=pl.lit(0.9)
                    ).select(schema.keys())
                )
    return pl.concat(out)


def window_candidates(
    tagged: pl.DataFrame, windows: pl.DataFrame, ids: dict[str, TextIds], have_fingerprint: bool
) -> pl.DataFrame:
    """Request and edge rows inside each failed test's window, scored against the test's failure.

    Args:
        tagged: tagged log rows with a ``runner`` column (null when the row has no client address).
        windows: ``test_id``, ``lo_ns``, ``hi_ns`` of the failed tests (Google epoch ns).
        ids: per failed test, what its text says.
        have_fingerprint: whether a runner fingerprint is known. Entries with a client address
            that is not the runner's are never linked; entries without one are linked weakly,
            more weakly when the runner is known (its own entries carry an address).

    Returns:
        One row per (test, request): the request columns, ``path_match``, ``matches_failure``,
        ``strength``, ``via``; other clients' requests are already dropped.
    """
    reqs = tagged.filter(pl.col("is_request") | (pl.col("layer") == "edge")).select(_REQ_COLS)
    cand = windows.select("test_id", "lo_ns", "hi_ns").join_where(
        reqs, pl.col("t_ns") >= pl.col("lo_ns"), pl.col("t_ns") <= pl.col("hi_ns")
    )
    cand = cand.join(_hints(ids), on="test_id", how="left")
    has_status = pl.col("statuses").list.len() > 0
    has_path = pl.col("paths").list.len() > 0
    status_match = pl.col("statuses").list.contains(pl.col("http_status"))
    path_match = pl.when(has_path).then(
        pl.col("paths")
        .list.eval(pl.element().str.strip_chars_end("/"))
        .list.contains(pl.col("http_path").fill_null("").str.strip_chars_end("/"))
    )
    ws_path = pl.col("http_path").fill_null("").str.contains(
        r"(?i)ws|socket|stream|realtime"
    ) | pl.col("http_protocol").fill_null("").str.contains(r"(?i)websocket")
    failing = pl.col("http_status").fill_null(0) >= 400
    slow = (pl.col("end_ns") - pl.col("t_ns")) >= int(SLOW_S * 1e9)
    cand = cand.with_columns(path_match=path_match.fill_null(False), has_path=has_path)
    # closed after an accepted handshake: the failing request is the upgrade itself (101)
    upgraded = (pl.col("http_status") == 101) & (ws_path | pl.col("path_match"))
    matches = (
        pl.when(pl.col("ws_closed") & upgraded)
        .then(pl.lit(True))
        # the status decides; a path the text names elsewhere (an auth URL, a docs link) must
        # not veto the request, it only makes the link surer when it agrees
        .when(has_status)
        .then(status_match.fill_null(False))
        .when(has_path)
        .then(pl.col("path_match") & failing)
        # a CORS failure (a missing Access-Control-Allow-* header, a refused preflight): the
        # preflight is the failing request even when it answered 2xx (CORS refusals often do)
        .when(pl.col("cors"))
        .then(failing | (pl.col("http_method").fill_null("").str.to_uppercase() == "OPTIONS"))
        # a client timeout: the request the server took long over, or one cut off (0, 499)
        .when(pl.col("timeout"))
        .then(failing | slow | pl.col("http_status").is_in([0, 499]))
        .otherwise(failing & (~pl.col("ws") | ws_path))
    )
    wide = (pl.col("hi_ns") - pl.col("lo_ns")) > int(CONTEXT_MAX_WINDOW_S * 1e9)
    strength = (
        pl.when(
            pl.col("runner").is_null()
            & (pl.col("layer") == "edge")
            & pl.col("http_status").is_null()
        )
        .then(pl.lit(0.25))
        .when(pl.col("runner").fill_null(False))
        .then(
            pl.when(pl.col("matches_failure") & pl.col("path_match"))
            .then(0.85)
            .when(pl.col("matches_failure") & pl.col("has_path"))
            .then(0.6)
            .when(pl.col("matches_failure"))
            .then(0.75)
            # a failing request unlike the failure the test names is likely someone else's
            .when(failing & has_status)
            .then(0.15)
            .otherwise(0.3)
        )
        # entries without any client address: nothing says whose they are
        .when(pl.col("runner").is_null())
        .then(
            pl.when(pl.col("matches_failure"))
            .then(0.45 if not have_fingerprint else 0.2)
            .otherwise(0.15 if not have_fingerprint else 0.05)
        )
        .otherwise(None)
    )
    # an entry with no client address (an access line standing in for a missing request log) is
    # nobody's in particular: it matches only on the path the text names, and only when no other
    # such entry in the window matches too (then whose failure it is cannot be told)
    unkeyed = pl.col("runner").is_null() & pl.col("http_status").is_not_null()
    matches = matches.fill_null(False) & ~(unkeyed & pl.col("has_path") & ~pl.col("path_match"))
    # a refused WebSocket handshake is a GET: a POST or PUT in the window is another call
    other_method = ~pl.col("http_method").fill_null("GET").str.to_uppercase().is_in(
        ["GET", "CONNECT"]
    )
    matches = matches & ~(pl.col("ws") & ~pl.col("ws_closed") & ~pl.col("cors") & other_method)
    cand = cand.with_columns(matches_failure=matches)
    rivals = (pl.col("matches_failure") & unkeyed).sum().over("test_id")
    cand = cand.with_columns(
        matches_failure=pl.col("matches_failure") & ~(unkeyed & (rivals > 1))
    ).with_columns(strength=strength)
    cand = cand.filter(pl.col("strength").is_not_null() & (pl.col("matches_failure") | ~wide))
    return cand.with_columns(
        via=pl.when(pl.col("path_match")).then(pl.lit("url")).otherwise(pl.lit("window"))
    )


#: A trace carried by more request entries than this is not one call (a constant or reused id).
MAX_TRACE_FANOUT = 20


def same_trace_requests(tagged: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Request and edge entries sharing the trace of a linked request: the same call as the load
    balancer saw it, or a downstream hop (service to service) the call made.

    Args:
        tagged: tagged log rows.
        links: linked request rows: ``test_id``, ``row``, ``strength``.

    Returns:
        ``test_id``, ``row``, ``via`` ("trace"), ``strength`` (0.9 x the linked request's),
        ``layer``, ``role``.
    """
    hops = tagged.filter(
        (pl.col("is_request") | (pl.col("layer") == "edge")) & pl.col("trace").is_not_null()
    )
    hops = hops.select("row", "trace", "layer", "role").join(
        hops.group_by("trace").len().filter(pl.col("len") <= MAX_TRACE_FANOUT).select("trace"),
        on="trace",
    )
    traced = links.join(tagged.select("row", "trace"), on="row").filter(
        pl.col("trace").is_not_null()
    )
    out = traced.select("test_id", "trace", "strength").join(hops, on="trace")
    return out.select(
        "test_id",
        "row",
        via=pl.lit("trace"),
        strength=pl.col("strength") * 0.9,
        layer="layer",
        role="role",
    )


#: What a request made at the same moment by another of the runner's candidate clients counts.
RIVAL_STRENGTH = 0.15


def separate_rival_clients(
    cand: pl.DataFrame, tagged: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Demote a failing call that several clients made at once; say so per test.

    A test makes its call once. When the same failing call (path and status) inside one test's
    window comes from two or more clients that share neither address nor user agent (a small run
    where a concurrent script ties with the runner), which one is the test's cannot be told: none
    of them matches the failure, every one counts as context, and the note names the clients.

    Returns:
        ``cand`` with those rows demoted, and test id -> note.
    """
    hits = cand.filter(pl.col("matches_failure") & pl.col("runner").fill_null(False)).join(
        tagged.select("row", ip="http_remote_ip", ua="http_user_agent"), on="row"
    )
    if hits.is_empty():
        return cand, {}
    groups = hits.group_by("test_id", "http_path", "http_status").agg(
        rows=pl.col("row"),
        n_ip=pl.col("ip").drop_nulls().n_unique(),
        n_ua=pl.col("ua").drop_nulls().n_unique(),
        # a request with no agent (an access line) cannot be shown to share the runner's
        no_ua=pl.col("ua").is_null().any(),
        clients=pl.concat_str(
            [pl.col("ua").fill_null("?"), pl.col("ip").fill_null("?")], separator=" from "
        )
        .unique()
        .sort(),
        ips=pl.col("ip").drop_nulls().unique().sort(),
        method=pl.col("http_method").first(),
    )
    rivals = groups.filter((pl.col("n_ip") >= 2) & ((pl.col("n_ua") >= 2) | pl.col("no_ua")))
    # The same call from several addresses with one agent may be a NAT pool retrying (kept), or
    # two runs of the suite in one export: the links stay, and the note says so in case the two
    # requests' logs disagree.
    echoes = groups.filter((pl.col("n_ip") >= 2) & (pl.col("n_ua") < 2) & ~pl.col("no_ua"))
    notes = {}
    for test_id, path, status, ips, method in echoes.select(
        "test_id", "http_path", "http_status", "ips", "method"
    ).iter_rows():
        notes[test_id] = (
            f"the failing call ({status} {method or ''} {path or ''}) was made at the same moment "
            f"from {len(ips)} addresses with the runner's agent ({', '.join(ips[:3])}): another run "
            "of the suite in this export? could not tell which is this report's"
        ).replace("  ", " ")
    if rivals.is_empty():
        return cand, notes
    pairs = (
        rivals.select("test_id", row=pl.col("rows")).explode("row").with_columns(rival=pl.lit(True))
    )
    cand = (
        cand.join(pairs, on=["test_id", "row"], how="left")
        .with_columns(
            matches_failure=pl.col("matches_failure") & pl.col("rival").is_null(),
            strength=pl.when(pl.col("rival").is_not_null())
            .then(pl.col("strength").clip(upper_bound=RIVAL_STRENGTH))
            .otherwise(pl.col("strength")),
        )
        .drop("rival")
    )
    for test_id, path, status, clients, method in rivals.select(
        "test_id", "http_path", "http_status", "clients", "method"
    ).iter_rows():
        notes[test_id] = (
            f"the failing call ({status} {method or ''} {path or ''}) was made at the same moment by "
            f"{len(clients)} clients ({', '.join(clients[:3])}): could not tell which is the runner's"
        ).replace("  ", " ")
    return cand, notes
