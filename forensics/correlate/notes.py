"""One line per failed test saying what the logs lack: these become ``unknown`` reasons.

Notes never quote a query string, header or token: paths only, user agents cut short.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from forensics.correlate.clock.offset import ClockEstimate
from forensics.correlate.textids import TextIds


def _hms(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%H:%M:%S.%f")[:-5]


def _span_text(lo: int, hi: int) -> str:
    day = datetime.fromtimestamp(lo / 1e9, tz=UTC).strftime("%Y-%m-%d")
    return f"{day} {_hms(lo)}–{_hms(hi)} UTC"  # noqa: RUF001 (an en dash reads as a time range)


def _clock_text(est: ClockEstimate | None) -> str:
    if est is None:
        return "no runner times"
    return f"offset {est.offset_s:+.1f} s ± {est.uncertainty_s:.1f} s"


def _request_text(row: dict) -> str:
    status = row.get("http_status")
    method = row.get("http_method") or ""
    path = (row.get("http_path") or "").split("?", 1)[0]
    parts = [str(status) if status is not None else "", method, path]
    text = " ".join(p for p in parts if p)
    ip = row.get("http_remote_ip")
    ua = (row.get("http_user_agent") or "")[:40]
    who = " ".join(p for p in (f"from {ip}" if ip else "", f"({ua})" if ua else "") if p)
    return f"{text} {who}".strip()


def explain(
    failed: pl.DataFrame,
    windows: pl.DataFrame,
    tagged: pl.DataFrame,
    links: pl.DataFrame,
    requests: pl.DataFrame,
    ids: dict[str, TextIds],
    clocks: dict[str, ClockEstimate],
    span: tuple[int, int],
    rivals: dict[str, str] | None = None,
) -> dict[str, str]:
    """Per failed test id, why little or nothing could be linked (absent when links look complete).

    Args:
        failed: failed tests with a ``kind`` column (clock kind, "none" without times).
        windows: ``test_id``, ``lo_ns``, ``hi_ns`` per failed test.
        tagged: tagged log rows with the ``runner`` column.
        links: the links frame.
        requests: the requests frame (``REQUEST_SCHEMA``).
        ids: what each test's text names.
        clocks: clock estimate per kind.
        span: first and last entry time of the log frame (epoch ns).
        rivals: per test, a failing call several clients made at once (main reason when present).
    """
    notes: dict[str, str] = {}
    times = np.sort(tagged.get_column("t_ns").to_numpy())
    req_rows = tagged.filter(pl.col("is_request")).select(
        "row",
        "t_ns",
        "runner",
        "http_status",
        "http_method",
        "http_path",
        "http_remote_ip",
        "http_user_agent",
        "client_kind",
    )
    win = {
        t: (lo, hi, clo, chi)
        for t, lo, hi, clo, chi in windows.select(
            "test_id", "lo_ns", "hi_ns", "core_lo", "core_hi"
        ).iter_rows()
    }
    for test_id, kind in failed.select("test_id", "kind").iter_rows():
        parts: list[str] = []
        context: list[str] = []  # said after the main reason
        lo, hi, core_lo, core_hi = win.get(test_id, (*span, *span))
        est = clocks.get(kind)
        if kind == "none":
            context.append(
                f"test has no start time; searched between its neighbours in run order ({_span_text(lo, hi)})"
            )
        elif est is not None and est.method.startswith("none"):
            context.append(
                f"runner clock not aligned ({est.method[6:]}); assumed {_clock_text(est)}"
            )
        if len(times) == 0:
            notes[test_id] = "; ".join(["no log entries were loaded", *context])
            continue
        mine = links.filter(pl.col("test_id") == test_id)
        reqs = requests.filter(pl.col("test_id") == test_id)
        in_window = int(np.searchsorted(times, hi, "right") - np.searchsorted(times, lo, "left"))
        if reqs.is_empty() and mine.is_empty():
            window_reqs = req_rows.filter(pl.col("t_ns").is_between(lo, hi))
            unaligned = est is None or est.method.startswith("none")
            core_out = core_hi < span[0] or core_lo > span[1]
            if hi < span[0] or lo > span[1] or (core_out and (unaligned or window_reqs.is_empty())):
                text = f"export covers {_span_text(*span)}; this test ran {_span_text(core_lo, core_hi)} ({_clock_text(est)})"
                if window_reqs.height:
                    text += f"; {window_reqs.height} request(s) from other clients within the clock's uncertainty"
                parts.append(text)
            else:
                if window_reqs.is_empty():
                    parts.append(
                        f"no request entries in the window {_span_text(lo, hi)} ({in_window} other entries)"
                    )
                else:
                    others = window_reqs.filter(~pl.col("runner").fill_null(False))
                    # a person's or a scanner's request says more than a health check's
                    others = others.sort(pl.col("client_kind").is_in(["probe"]))
                    example = _request_text(others.row(0, named=True)) if others.height else ""
                    parts.append(
                        f"no request from the runner in the window {_span_text(lo, hi)}; {others.height} from other clients (e.g. {example})"
                    )
        else:
            if rivals and test_id in rivals:
                parts.append(rivals[test_id])
            said = ids.get(test_id, TextIds())
            if said.accepted_unexpectedly:
                # a security test that failed because the server said yes: no rejection explains it
                got = "/".join(str(s) for s in sorted(said.answered))
                wanted = "/".join(str(s) for s in sorted(said.wanted))
                parts.append(
                    f"the test failed because the server answered {got} where it wanted {wanted} "
                    "(the request was accepted; rejections in the logs are not this failure)"
                )
            statuses = sorted(said.statuses)
            if (
                statuses
                and not reqs.get_column("matches_failure").any()
                and not (rivals and test_id in rivals)
            ):
                named = "/".join(str(s) for s in statuses)
                parts.append(f"requests from the runner in the window, none with HTTP {named}")
            service = reqs.filter((pl.col("layer") == "service") & pl.col("matches_failure"))
            if service.height and service.get_column("app_lines").sum() == 0:
                rows = req_rows.filter(pl.col("row").is_in(service.get_column("row").implode()))
                parts.append(
                    f"requests found ({_request_text(rows.row(0, named=True)).split(' from ')[0]}) but no app log for them"
                )
            matched = reqs.filter(pl.col("matches_failure"))
            if matched.height and (matched.get_column("layer") == "edge").all():
                rows = req_rows.filter(pl.col("row").is_in(matched.get_column("row").implode()))
                what = (
                    _request_text(rows.row(0, named=True)).split(" from ")[0] if rows.height else ""
                )
                tail = "" if matched.get_column("app_lines").sum() else "; no app log for it"
                parts.append(f"only the load balancer / IAP saw the failing request ({what}){tail}")
            if reqs.get_column("shared").any():
                parts.append(
                    "request(s) shared with overlapping failed tests: could not tell whose"
                )
        if parts or context:
            notes[test_id] = "; ".join([*parts, *context])
    return notes
