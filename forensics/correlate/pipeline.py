"""``correlate`` step by step: tag rows, estimate clocks, fingerprint the runner, link, explain."""

from __future__ import annotations

import polars as pl

from forensics.correlate.applines import join_app_lines
from forensics.correlate.assign import assign_contested, keep_nearest
from forensics.correlate.clock.estimate import estimate_clock, refine
from forensics.correlate.clock.offset import ClockEstimate, no_estimate
from forensics.correlate.clock.windows import (
    UNTIMED_FACTOR,
    USELESS_UNCERTAINTY_S,
    clock_kind,
    google_times,
    google_windows,
    precise_tests,
    untimed_windows,
)
from forensics.correlate.entries import client_key, tag_entries
from forensics.correlate.fingerprint import NEVER_RUNNER, Fingerprint
from forensics.correlate.link import (
    LINK_DETAIL_SCHEMA,
    LINK_SCHEMA,
    REQUEST_SCHEMA,
    WINDOW_SCHEMA,
    Correlation,
)
from forensics.correlate.notes import explain
from forensics.correlate.requests import (
    id_links,
    same_trace_requests,
    separate_rival_clients,
    window_candidates,
)
from forensics.correlate.runner import identify_runner
from forensics.correlate.textids import TextIds, extract_ids
from forensics.schema import failed as is_failed


def _dedupe(links: pl.DataFrame) -> pl.DataFrame:
    """One link per (test, row): the strongest, keeping a known request_row."""
    return (
        links.sort("strength", descending=True, maintain_order=True)
        .group_by(["test_id", "row"], maintain_order=True)
        .agg(
            pl.col("via").first(),
            pl.col("strength").first(),
            pl.col("role").first(),
            pl.col("request_row").drop_nulls().first(),
        )
    )


def correlate(tests: pl.DataFrame, logs: pl.DataFrame) -> Correlation:
    """Tie every failed test (outcome failed/error) to the log rows of its own requests.

    Args:
        tests: the test frame (``TEST_SCHEMA``), passing tests included: they help align clocks.
        logs: the log frame (``LOG_SCHEMA``) with a ``row`` UInt32 index column.

    Returns:
        A ``Correlation``; never raises on thin data: what is missing is said in ``notes``.
    """
    if "row" not in logs.columns:
        logs = logs.with_row_index("row")
    tagged = tag_entries(logs).with_columns(
        pl.col("trace").str.to_lowercase(), pl.col("row").cast(pl.UInt32)
    )
    tests = tests.with_columns(kind=clock_kind(tests))
    failed = tests.filter(is_failed()).sort("order")
    ids = {t: extract_ids(m) for t, m in failed.select("test_id", "message").iter_rows()}
    ts = tagged.get_column("t_ns")
    span = (int(ts.min()), int(ts.max())) if ts.drop_nulls().len() else (0, 0)  # type: ignore[arg-type]

    clocks, fp, runner_reqs = _clocks_and_runner(tests, tagged, ids)
    tagged = tagged.with_columns(
        runner=pl.when(client_key().is_null()).then(None).otherwise(fp.is_runner())
    )
    timed_w = google_windows(tests, clocks)
    run_span = (
        (int(runner_reqs.get_column("t_ns").min()), int(runner_reqs.get_column("end_ns").max()))  # type: ignore[arg-type]
        if runner_reqs.height
        else span
    )
    fail_w = timed_w.filter(pl.col("test_id").is_in(failed.get_column("test_id").implode()))
    untimed = untimed_windows(failed, timed_w, run_span)
    windows = pl.concat([fail_w, untimed]).unique("test_id", keep="first", maintain_order=True)

    idl = id_links(tagged, ids).join(tagged.select("row", "layer", "role", "is_request"), on="row")
    exact_req = idl.filter(pl.col("is_request") | (pl.col("layer") == "edge"))
    cand = _window_requests(tagged, failed, windows, timed_w, untimed, ids, clocks, fp, exact_req)
    cand, rival_notes = separate_rival_clients(cand, tagged)
    links = _all_links(tagged, idl, exact_req, cand)
    req_frame = _requests_frame(tagged, links, exact_req, cand)

    main_kind = _main_kind(failed, clocks)
    est = clocks.get(main_kind) or no_estimate("utc", "no test has a start time")
    zone, skew = est.zone_and_skew(main_kind)
    return Correlation(
        clock_offset_s=skew,
        clock_zone_s=zone,
        clock_offset_uncertainty_s=float(est.uncertainty_s),
        clock_method=est.method,
        windows=windows.select(
            "test_id",
            lo=pl.from_epoch("lo_ns", "ns").dt.replace_time_zone("UTC"),
            hi=pl.from_epoch("hi_ns", "ns").dt.replace_time_zone("UTC"),
        ).cast(WINDOW_SCHEMA),  # type: ignore[arg-type]
        links=links,
        fingerprint={k: v for k, v in fp.to_dict().items() if k != "method"},
        notes=explain(failed, windows, tagged, links, req_frame, ids, clocks, span, rival_notes),
        requests=req_frame,
        clocks={k: v.to_dict(k) for k, v in clocks.items()},
        export_span=_iso_span(span) if ts.drop_nulls().len() else None,
        fingerprint_method=fp.method,
        test_times=google_times(tests, clocks),
    )


def _clocks_and_runner(
    tests: pl.DataFrame, tagged: pl.DataFrame, ids: dict[str, TextIds]
) -> tuple[dict[str, ClockEstimate], Fingerprint, pl.DataFrame]:
    """Clock per kind, the runner's fingerprint, then the clocks refined on the runner's requests."""
    requests = tagged.filter(pl.col("is_request") & ~pl.col("client_kind").is_in(NEVER_RUNNER))
    clocks: dict[str, ClockEstimate] = {}
    for kind in ("utc", "naive"):
        timed = tests.filter(pl.col("kind") == kind)
        if not timed.is_empty():
            clocks[kind] = (
                estimate_clock(kind, timed, ids, requests)
                if tagged.height
                else no_estimate(kind, "no log entries")
            )
    fp, clocks = identify_runner(tests, requests, ids, clocks)
    runner_reqs = requests.filter(fp.is_runner())
    clocks = {
        k: refine(k, tests.filter(pl.col("kind") == k), est, runner_reqs)
        for k, est in clocks.items()
    }
    return clocks, fp, runner_reqs


def _window_requests(
    tagged: pl.DataFrame,
    failed: pl.DataFrame,
    windows: pl.DataFrame,
    timed_w: pl.DataFrame,
    untimed: pl.DataFrame,
    ids: dict[str, TextIds],
    clocks: dict[str, ClockEstimate],
    fp: Fingerprint,
    exact_req: pl.DataFrame,
) -> pl.DataFrame:
    """Request candidates in each failed test's window, shared out among overlapping tests."""
    cand = window_candidates(tagged, windows, ids, bool(fp.keys))
    cand = keep_nearest(
        cand, timed_w.select("test_id", "core_lo", "core_hi"), precise_tests(failed, clocks)
    )
    untimed_ids = frozenset(untimed.get_column("test_id").to_list())
    exact_tests = exact_req.get_column("test_id").unique().to_list()
    cand = cand.with_columns(
        strength=pl.when(pl.col("test_id").is_in(exact_tests))
        # an exact id match makes the other requests of the window context at most
        .then(pl.col("strength").clip(upper_bound=0.3))
        # a window found from run order alone is a weaker tie than the test's own times
        .when(pl.col("test_id").is_in(list(untimed_ids)))
        .then(pl.col("strength") * UNTIMED_FACTOR)
        .otherwise(pl.col("strength"))
    )
    rank = {t: (lo, o) for t, o, lo in windows.select("test_id", "order", "core_lo").iter_rows()}
    cores = {
        t: (lo, hi) for t, lo, hi in windows.select("test_id", "core_lo", "core_hi").iter_rows()
    }
    spread = failed.get_column("window_uncertainty_s").fill_null(0.0).max() or 0.0
    worst_clock = max(
        (e.uncertainty_s for e in clocks.values() if e.uncertainty_s <= USELESS_UNCERTAINTY_S),
        default=0.0,
    )
    miss_s = 1.0 + float(spread) + worst_clock  # type: ignore[arg-type]
    cand = assign_contested(
        cand, exact_req.select("test_id", "row"), cores, rank, miss_s, untimed_ids
    )
    # a request that is another failed test's failure is not context for this one
    claimed = cand.filter(pl.col("matches_failure")).select("row", owner="test_id")
    others = cand.filter(~pl.col("matches_failure")).join(claimed, on="row", how="inner")
    return cand.join(
        others.filter(pl.col("owner") != pl.col("test_id")).select("test_id", "row").unique(),
        on=["test_id", "row"],
        how="anti",
    )


def _as_links(frame: pl.DataFrame, request_row: pl.Expr) -> pl.DataFrame:
    return frame.select(
        "test_id",
        "row",
        "via",
        "strength",
        "role",
        request_row=request_row,
    )


def _all_links(
    tagged: pl.DataFrame, idl: pl.DataFrame, exact_req: pl.DataFrame, cand: pl.DataFrame
) -> pl.DataFrame:
    """Requests (by id, window, same trace), their app lines, and other rows named by id."""
    req_links = _dedupe(
        pl.concat([_as_links(exact_req, pl.col("row")), _as_links(cand, pl.col("row"))])
    )
    hops = same_trace_requests(tagged, req_links.select("test_id", "row", "strength"))
    req_links = _dedupe(
        pl.concat([req_links, _as_links(hops, pl.col("row"))], how="vertical_relaxed")
    )
    is_req_row = tagged.filter(pl.col("is_request")).select("row")
    app = join_app_lines(
        tagged, req_links.join(is_req_row, on="row").select("test_id", "row", "strength")
    )
    other_idl = _as_links(
        idl.filter(~pl.col("is_request") & (pl.col("layer") != "edge")), pl.lit(None, pl.UInt32)
    )
    links = _dedupe(
        pl.concat(
            [req_links, app.with_columns(role=pl.lit("app")).select(req_links.columns), other_idl],
            how="vertical_relaxed",
        )
    )
    schema = {**LINK_SCHEMA, **LINK_DETAIL_SCHEMA}
    return (
        links.select(schema.keys())
        .cast(schema)  # type: ignore[arg-type]
        .sort(["test_id", "strength", "row"], descending=[False, True, False])
    )


def _requests_frame(
    tagged: pl.DataFrame, links: pl.DataFrame, exact_req: pl.DataFrame, cand: pl.DataFrame
) -> pl.DataFrame:
    """One row per (failed test, linked request entry) with what a rule needs (``REQUEST_SCHEMA``)."""
    app_counts = (
        links.filter(pl.col("role") == "app")
        .group_by(["test_id", "request_row"])
        .len(name="app_lines")
    )
    facts = pl.concat(
        [
            cand.select("test_id", "row", "matches_failure", "shared"),
            exact_req.select("test_id", "row", matches_failure=pl.lit(True), shared=pl.lit(False)),
        ]
    ).unique(["test_id", "row"], keep="last", maintain_order=True)
    is_request = tagged.filter(pl.col("is_request") | (pl.col("layer") == "edge")).select("row")
    return (
        links.join(is_request, on="row")
        .join(facts, on=["test_id", "row"], how="left")
        .join(tagged.select("row", "layer", status="http_status", from_runner="runner"), on="row")
        .join(
            app_counts, left_on=["test_id", "row"], right_on=["test_id", "request_row"], how="left"
        )
        .with_columns(
            pl.col("app_lines").fill_null(0),
            pl.col("matches_failure").fill_null(False),
            pl.col("shared").fill_null(False),
        )
        .select(REQUEST_SCHEMA.keys())
        .cast(REQUEST_SCHEMA)  # type: ignore[arg-type]
    )


def _main_kind(failed: pl.DataFrame, clocks: dict[str, ClockEstimate]) -> str:
    counts = (
        failed.filter(pl.col("kind").is_in(list(clocks))).get_column("kind").value_counts(sort=True)
    )
    return counts.item(0, "kind") if counts.height else next(iter(clocks), "utc")


def _iso_span(span: tuple[int, int]) -> tuple[str, str]:
    s = pl.Series([span[0], span[1]]).cast(pl.Datetime("ns", "UTC"))
    return s[0].isoformat(), s[1].isoformat()
