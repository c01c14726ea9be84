"""Pick each failed test's own request entries: by id from its text, then by window and fingerprint.

Strengths (0..1) say how sure a link is:

=====================================================  ========
trace id named in the test's text (W3C, Cloud Trace)   1.0
a bare 32-hex string of the text that is a log trace   0.95
request id / correlation id named in the text          0.9
runner request in window, status/path match failure    0.75 (+0.1 when the URL path matched: via "url")
runner request in window, no match (context)           0.3
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
_REQ_COLS = ["row", "t_ns", "layer", "http_status", "http_path", "http_method", "http_protocol", "runner", "client_kind"]


def _hints(ids: dict[str, TextIds]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "test_id": list(ids),
            "statuses": [sorted(x.statuses) for x in ids.values()],
            "paths": [[p for p in x.paths if p != "/"] for x in ids.values()],
            "ws": [x.websocket for x in ids.values()],
        },
        schema={"test_id": pl.String, "statuses": pl.List(pl.Int32), "paths": pl.List(pl.String), "ws": pl.Boolean},
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
        frame = pl.DataFrame(pairs, schema={"test_id": pl.String, "trace": pl.String, "strength": pl.Float64}, orient="row")
        hits = tagged.select("row", "trace").join(frame, on="trace").with_columns(via=pl.lit("trace"))
        out.append(hits.select(schema.keys()))
    text = pl.concat_str([pl.col("message").fill_null(""), pl.col("payload").fill_null("")], separator=" ")
    for test_id, x in ids.items():
        for rid in sorted(x.request_ids)[:5]:
            hit = tagged.filter(text.str.contains(rid, literal=True)).select("row")
            if 0 < hit.height <= MAX_ID_MATCHES:  # a user id in every line identifies nothing
                out.append(hit.with_columns(test_id=pl.lit(test_id), via=pl.lit("request_id"), strength=pl.lit(0.9)).select(schema.keys()))
    return pl.concat(out)


def window_candidates(tagged: pl.DataFrame, windows: pl.DataFrame, ids: dict[str, TextIds], have_fingerprint: bool) -> pl.DataFrame:
    """Request and edge rows inside each failed test's window, scored against the test's failure.

    Args:
        tagged: tagged log rows with a ``runner`` column (null when the row has no client address).
        windows: ``test_id``, ``lo_ns``, ``hi_ns`` of the failed tests (Google epoch ns).
        ids: per failed test, what its text says.
        have_fingerprint: whether a runner fingerprint is known.

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
        pl.col("paths").list.eval(pl.element().str.strip_chars_end("/")).list.contains(
            pl.col("http_path").fill_null("").str.strip_chars_end("/")
        )
    )
    ws_path = pl.col("http_path").fill_null("").str.contains(r"(?i)ws|socket|stream|realtime") | pl.col(
        "http_protocol"
    ).fill_null("").str.contains(r"(?i)websocket")
    failing = pl.col("http_status").fill_null(0) >= 400
    cand = cand.with_columns(path_match=path_match.fill_null(False), has_path=has_path)
    matches = (
        pl.when(has_status)
        .then(status_match.fill_null(False) & (~has_path | pl.col("path_match")))
        .when(has_path)
        .then(pl.col("path_match") & failing)
        .otherwise(failing & (~pl.col("ws") | ws_path))
    )
    wide = (pl.col("hi_ns") - pl.col("lo_ns")) > int(CONTEXT_MAX_WINDOW_S * 1e9)
    strength = (
        pl.when(pl.col("runner").is_null() & (pl.col("layer") == "edge") & pl.col("http_status").is_null())
        .then(pl.lit(0.25))
        .when(pl.col("runner").fill_null(False))
        .then(pl.when(pl.col("matches_failure")).then(0.75 + 0.1 * pl.col("path_match").cast(pl.Float64)).otherwise(0.3))
        .when(pl.lit(not have_fingerprint))
        .then(pl.when(pl.col("matches_failure")).then(0.45).otherwise(0.15))
        .otherwise(None)
    )
    cand = cand.with_columns(matches_failure=matches.fill_null(False)).with_columns(strength=strength)
    cand = cand.filter(pl.col("strength").is_not_null() & (pl.col("matches_failure") | ~wide))
    return cand.with_columns(via=pl.when(pl.col("path_match")).then(pl.lit("url")).otherwise(pl.lit("window")))


def _components(claims: dict[int, list[str]]) -> list[set[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for tests in claims.values():
        for t in tests[1:]:
            parent[find(t)] = find(tests[0])
    groups: dict[str, set[str]] = {}
    for tests in claims.values():
        for t in tests:
            groups.setdefault(find(t), set()).add(t)
    return list(groups.values())


def assign_contested(cand: pl.DataFrame, exact: pl.DataFrame, test_rank: dict[str, tuple]) -> pl.DataFrame:
    """Give each failure-matching request claimed by several failed tests to one test when possible.

    Args:
        cand: ``window_candidates`` output.
        exact: ``test_id``, ``row`` tied by an id from the text: those rows belong to that test only.
        test_rank: per test id, a sort key (window start, order) used to pair tests with requests.

    Returns:
        ``cand`` with contested rows resolved, plus a ``shared`` column.
    """
    owned = exact.select("row", owner="test_id").unique("row", keep="first")
    cand = cand.join(owned, on="row", how="left")
    cand = cand.filter(pl.col("owner").is_null() | (pl.col("owner") == pl.col("test_id"))).drop("owner")
    match = cand.filter(pl.col("matches_failure"))
    claimed = match.group_by("row").agg(pl.col("test_id"), pl.col("path_match"), pl.col("t_ns").first())
    claims: dict[int, list[str]] = {}
    for row, tests, pms, _ in claimed.iter_rows():
        if len(tests) > 1:
            if any(pms) and not all(pms):  # the URL path decides
                tests = [t for t, p in zip(tests, pms, strict=True) if p]
            claims[row] = sorted(tests)
    drop: set[tuple[str, int]] = set()
    shared: set[tuple[str, int]] = set()
    times = dict(zip(match.get_column("row").to_list(), match.get_column("t_ns").to_list(), strict=True))
    for comp in _components(claims):
        tests = sorted(comp, key=lambda t: test_rank.get(t, (0, 0)))
        rows = sorted(set(match.filter(pl.col("test_id").is_in(tests)).get_column("row").to_list()), key=times.get)
        allowed = {(t, r) for t, r in match.filter(pl.col("test_id").is_in(tests)).select("test_id", "row").iter_rows()}
        if len(rows) == len(tests) and all((t, r) in allowed for t, r in zip(tests, rows, strict=True)):
            keep = set(zip(tests, rows, strict=True))
            drop |= {(t, r) for t, r in allowed if (t, r) not in keep}
        else:
            shared |= {(t, r) for t, r in allowed if r in claims}
    for row, tests in claims.items():
        # claims narrowed by path: drop the tests whose path did not match
        drop |= {(t, row) for t in match.filter(pl.col("row") == row).get_column("test_id").to_list() if t not in tests}
    schema = {"test_id": pl.String, "row": pl.UInt32}
    drop_f = pl.DataFrame(sorted(drop), schema=schema, orient="row")
    shared_f = pl.DataFrame(sorted(shared), schema=schema, orient="row").with_columns(shared=pl.lit(True))
    k = shared_f.group_by("row").len(name="k")
    cand = cand.join(drop_f, on=["test_id", "row"], how="anti")
    cand = cand.join(shared_f, on=["test_id", "row"], how="left").join(k, on="row", how="left")
    cand = cand.with_columns(shared=pl.col("shared").fill_null(False))
    return cand.with_columns(
        strength=pl.when(pl.col("shared")).then(pl.col("strength") / pl.col("k")).otherwise(pl.col("strength"))
    ).drop("k")
