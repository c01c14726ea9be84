"""Counts: failed tests by root cause, and requests by status class over time."""

from __future__ import annotations

import re

import polars as pl
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from forensics.explore.frames import annotate, failure_windows, linked_rows
from forensics.labels import LABELS, LAYERS, UNKNOWN
from forensics.plot.style import CAUSE_COLOURS, STATUS_COLOURS, empty, shown, to_num, utc_axis
from forensics.result import TriageResult


def causes(result: TriageResult) -> Figure:
    """Failed tests by root cause: one horizontal bar per TAXONOMY label that occurs, largest on top."""
    counts = result.summary["by_root_cause"]
    fig = Figure(figsize=(8, 1.5 + 0.42 * max(len(counts), 2)), layout="constrained")
    ax = fig.add_subplot()
    if not counts:
        return empty(fig, ax, "no failed tests")
    # Largest first, ties in TAXONOMY order; reversed because barh draws bottom-up.
    order = sorted(counts, key=lambda k: (-counts[k], LABELS.index(k)))[::-1]
    colours = [CAUSE_COLOURS[LAYERS.get(k)] if k != UNKNOWN else "#6A6A6A" for k in order]
    bars = ax.barh(order, [counts[k] for k in order], color=colours, height=0.6)
    ax.bar_label(bars, padding=3, fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(counts.values()) * 1.15 + 0.5)
    # Keep bars the same thickness whatever their number: one cause should not fill the figure.
    spare = max(0, 3 - len(order)) / 2
    ax.set_ylim(-0.6 - spare, len(order) - 0.4 + spare)
    ax.set_xlabel("failed tests")
    ax.tick_params(axis="y", labelsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Root cause of {sum(counts.values())} failed tests", fontsize=11, loc="left")
    seen = {LAYERS.get(k) if k != UNKNOWN else "unknown" for k in order}
    legend = {
        "app": "stopped in the app",
        "edge": "stopped at the edge",
        None: "app or edge",
        "unknown": "undecided",
    }
    fig.legend(
        handles=[
            Patch(color=CAUSE_COLOURS.get(k, "#6A6A6A"), label=legend[k])
            for k in legend
            if k in seen
        ],
        loc="outside lower right",
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    return fig


_BUCKETS = [
    "100ms",
    "200ms",
    "500ms",
    "1s",
    "2s",
    "5s",
    "10s",
    "30s",
    "1m",
    "2m",
    "5m",
    "15m",
    "30m",
    "1h",
    "3h",
    "6h",
    "1d",
]
_UNIT_S = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _bucket_seconds(bucket: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)", bucket)
    if not match:
        raise ValueError(f"bucket {bucket!r} is not like '1s', '500ms', '5m', '1h'")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def _services_involved(result: TriageResult, requests: pl.DataFrame) -> list[str]:
    """Services the failures touched (cited or tied entries), busiest first; all if none."""
    cited = {e.insert_id for v in result.verdicts for e in v.evidence}
    tied = pl.concat(
        [linked_rows(result, v.test_id).select("service", "insert_id") for v in result.verdicts]
        or [requests.select("service", "insert_id").clear()]
    )
    involved = set(tied.get_column("service").drop_nulls().to_list())
    involved |= set(
        result.logs.filter(pl.col("insert_id").is_in(list(cited)))
        .get_column("service")
        .drop_nulls()
        .to_list()
    )
    busy = requests.group_by("service").len().sort(["len", "service"], descending=[True, False])
    names = [s for s in busy.get_column("service").to_list() if s is not None]
    return [s for s in names if s in involved] or names


def requests_by_status(
    result: TriageResult, services: list[str] | None = None, bucket: str = "1s"
) -> Figure:
    """Requests per time bucket, stacked by HTTP status class, one panel per service involved.

    Failed-test windows are shaded so the bursts line up with the failures.

    Args:
        result: a triage result.
        services: the services to show; default: the ones the failures' entries come from.
        bucket: bucket width ("1s", "500ms", "5m"); widened when it would make more than 240
            bars, narrowed (down to 100ms) when fewer than 20, and the title says so.
    """
    requests = annotate(result.logs).filter(pl.col("http_status").is_not_null())
    chosen = services if services is not None else _services_involved(result, requests)
    kept, rest = chosen[:5], chosen[5:]
    requests = requests.filter(pl.col("service").is_in(chosen)).with_columns(
        panel=pl.when(pl.col("service").is_in(rest))
        .then(pl.lit("other services"))
        .otherwise(pl.col("service"))
    )
    panels = kept + (["other services"] if rest else [])
    fig = Figure(figsize=(11, 1.4 + 1.9 * max(len(panels), 1)), layout="constrained")
    if requests.is_empty():
        return empty(fig, fig.add_subplot(), "no HTTP requests in the logs for these services")
    stamps = pl.col("timestamp")
    span_s = requests.select((stamps.max() - stamps.min()).dt.total_microseconds()).item() / 1e6
    asked, width_s = bucket, _bucket_seconds(bucket)
    while span_s / width_s > 240 and any(_bucket_seconds(b) > width_s for b in _BUCKETS):
        bucket = next(b for b in _BUCKETS if _bucket_seconds(b) > width_s)
        width_s = _bucket_seconds(bucket)
    # A short run in coarse buckets is a handful of bars that hide the burst: narrow to >= 20 bars.
    while span_s / width_s < 20 and any(_bucket_seconds(b) < width_s for b in _BUCKETS):
        finer = [b for b in _BUCKETS if _bucket_seconds(b) < width_s][-1]
        if span_s / _bucket_seconds(finer) > 240:
            break
        bucket, width_s = finer, _bucket_seconds(finer)
    counts = (
        requests.with_columns(t=pl.col("timestamp").dt.truncate(bucket))
        .group_by("panel", "t", "status_class")
        .len()
    )
    windows = failure_windows(result).drop_nulls("lo")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        mine = counts.filter(pl.col("panel") == panel)
        times = mine.get_column("t").unique().sort()
        xs, bottom = to_num(times), [0] * times.len()
        for status, colour in STATUS_COLOURS.items():
            col = times.to_frame().join(
                mine.filter(pl.col("status_class") == status), on="t", how="left"
            )
            heights = col.get_column("len").fill_null(0).to_list()
            if any(heights):
                ax.bar(
                    xs,
                    heights,
                    width=width_s / 86_400 * 0.85,
                    bottom=bottom,
                    align="edge",
                    color=colour,
                    label=status,
                    zorder=2,
                )
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        for lo, hi in zip(
            to_num(windows.get_column("lo")), to_num(windows.get_column("hi")), strict=True
        ):
            ax.axvspan(lo, hi, color="#E8E8E8", zorder=0, lw=0)
        ax.set_title(
            shown(result, panel if panel == "other services" else f"service {panel}"),
            fontsize=10,
            loc="left",
        )
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"requests / {bucket}", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    utc_axis(axes[-1])
    change = "widened" if _bucket_seconds(bucket) > _bucket_seconds(asked) else "narrowed"
    note = f" (bucket {change} from {asked} to {bucket})" if bucket != asked else ""
    fig.suptitle(shown(result, f"Requests by HTTP status{note}"), x=0.01, ha="left", fontsize=11)
    present = set(counts.get_column("status_class").to_list())
    handles = [Patch(color=c, label=s) for s, c in STATUS_COLOURS.items() if s in present]
    handles.append(Patch(color="#E8E8E8", label="failed-test windows"))
    fig.legend(
        handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False
    )
    return fig
