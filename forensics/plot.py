"""Pictures of a triage: the failures on the log timeline, causes, and requests by status.

Every function builds and returns its own ``matplotlib.figure.Figure`` (no pyplot, no global state),
so it is safe under any backend, in threads, and in a notebook. Every text drawn passes through
``result.scrub`` so secrets never reach a PNG or an SVG.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from forensics.explore.frames import annotate, clock_offset, failure_windows, linked_rows
from forensics.labels import LABELS, LAYERS, UNKNOWN
from forensics.result import TriageResult

__all__ = ["causes", "requests_by_status", "save", "timeline"]

#: Status class -> colour (Okabe-Ito based, readable by colour-blind readers and in greyscale).
STATUS_COLOURS = {"2xx": "#009E73", "3xx": "#56B4E9", "4xx": "#E69F00", "5xx": "#B2182B", "no status": "#8C8C8C"}
#: Lines without a status that are WARNING or worse: the app's own account of a refusal usually is.
WARNING_COLOUR = "#7B3294"
WARNING_KEY = "no status, WARNING+"
LAYER_MARKERS = {"edge": "s", "app": "o"}
LAYER_NAMES = {"edge": "front-end request log", "app": "app log"}
CAUSE_COLOURS = {"app": "#0072B2", "edge": "#E69F00", None: "#6A6A6A"}
_MAX_LANES = 40
_LOUD = ("WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
_EPOCH = mdates.date2num(datetime(1970, 1, 1, tzinfo=UTC))


def _num(ts: pl.Series) -> list[float]:
    """Matplotlib date numbers for a UTC datetime column (epoch-exact, no timezone guessing)."""
    return (ts.dt.epoch("us").cast(pl.Float64) / 86_400e6 + _EPOCH).to_list()


def _utc_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(tz=UTC, minticks=5, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC, show_offset=True))
    ax.set_xlabel("time (UTC)")


def _text(result: TriageResult, text: str | None) -> str:
    return result.scrub(text) or ""


def _short_names(test_ids: list[str], width: int = 46) -> list[str]:
    """The test function name, with its file/class when two tests share a name; cut to ``width``."""
    last = [t.split("::")[-1] for t in test_ids]
    names = []
    for tid, name in zip(test_ids, last, strict=True):
        if last.count(name) > 1:
            parts = tid.split("::")
            name = "::".join([Path(parts[0]).stem, *parts[1:]])
        names.append(name if len(name) <= width else "…" + name[-(width - 1) :])
    return names


def _offset_text(result: TriageResult) -> str:
    offset, err, method = clock_offset(result)
    if offset is None:
        return "clock offset unknown"
    text = f"runner clock offset {offset:+.2f} s"
    if err:
        text += f" ± {err:.2f} s"
    # The method can be a sentence ("request order (18 of 18 timed tests ...); naive clock ..."):
    # its first clause is what a title has room for.
    short = re.split(r" \(|;|,", method or "", maxsplit=1)[0].strip()[:40]
    return text + (f" ({short})" if short else "")


def _empty(fig: Figure, ax: Axes, message: str) -> Figure:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=11, color="#555555")
    ax.set_axis_off()
    return fig


def timeline(result: TriageResult, ax: Axes | None = None) -> Figure:
    """One lane per failed test: its window on Google time and the log events tied to it.

    The dark line is the test's own start..stop moved by the runner's clock offset; the pale box
    around it is the window widened by its uncertainty. Markers are the log entries tied to the
    test: colour by HTTP status class (purple: a line without status at WARNING or worse);
    squares (upper row) for front-end request logs, circles (lower row) for the app's own logs;
    entries a verdict cites as evidence are ringed in black.
    The title states the clock offset.

    Args:
        result: a triage result.
        ax: draw into this Axes instead of a new figure.

    Returns:
        The figure drawn on.
    """
    windows = failure_windows(result).head(_MAX_LANES)
    lanes = windows.height
    if ax is None:
        fig = Figure(figsize=(11, 1.9 + 0.48 * max(lanes, 2)), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    if lanes == 0:
        return _empty(fig, ax, "no failed tests")
    cited = {e.insert_id for v in result.verdicts for e in v.evidence}
    causes = {v.test_id: (v.root_cause, v.detail) for v in result.verdicts}
    spans: list[float] = []
    for lane, win in enumerate(windows.iter_rows(named=True)):
        y = lanes - 1 - lane  # first failure on top
        if win["lo"] is not None:
            lo, hi, start, stop = _num(pl.Series([win["lo"], win["hi"], win["start"], win["stop"]]))
            ax.barh(y, hi - lo, left=lo, height=0.8, color="#F0F0F0", edgecolor="#C8C8C8", lw=0.6, zorder=1)
            ax.plot([start, stop], [y, y], color="#4D4D4D", lw=2.2, solid_capstyle="butt", zorder=2)
            spans += [lo, hi]
        rows = annotate(linked_rows(result, win["test_id"]))
        loud = (pl.col("status_class") == "no status") & (pl.col("severity").cast(pl.String).is_in(_LOUD))
        rows = rows.with_columns(
            cited=pl.col("insert_id").is_in(list(cited)),
            status_class=pl.when(loud).then(pl.lit(WARNING_KEY)).otherwise(pl.col("status_class")),
        )
        # Front-end entries ride above the lane's centre line and app entries below it, so a request
        # and the app line that explains it stay apart even when they are milliseconds apart.
        for (layer, status, is_cited), group in rows.sort("cited").group_by(
            ["layer", "status_class", "cited"], maintain_order=True
        ):
            xs = _num(group.get_column("timestamp"))
            dy = 0.2 if layer == "edge" else -0.2
            ax.scatter(
                xs, [y + dy] * len(xs), s=70 if is_cited else 38, marker=LAYER_MARKERS[layer],
                c=STATUS_COLOURS.get(status, WARNING_COLOUR), edgecolors="black" if is_cited else "white",
                linewidths=1.4 if is_cited else 0.4, zorder=4 if is_cited else 3,
            )
            spans += xs
        cause, detail = causes[win["test_id"]]
        label = cause + (f" ({detail})" if detail else "")
        colour = CAUSE_COLOURS[LAYERS.get(cause)] if cause != UNKNOWN else "#6A6A6A"
        ax.annotate(_text(result, label), (1.005, y), xycoords=("axes fraction", "data"), va="center",
                    fontsize=9, color=colour, fontweight="bold")
    names = _short_names(windows.get_column("test_id").to_list())
    ax.set_yticks(range(lanes), [_text(result, n) for n in reversed(names)], fontsize=9)
    ax.set_ylim(-0.7, lanes - 0.3)
    if spans:
        pad = max((max(spans) - min(spans)) * 0.04, 0.5 / 86_400)
        ax.set_xlim(min(spans) - pad, max(spans) + pad)
    ax.grid(axis="x", color="#EEEEEE", zorder=0)
    ax.set_axisbelow(True)
    _utc_axis(ax)
    more = len(result.verdicts) - lanes
    title = f"{len(result.verdicts)} failed tests on the log timeline — {_offset_text(result)}"
    ax.set_title(_text(result, title + (f" (first {lanes} shown)" if more > 0 else "")), fontsize=11, loc="left")
    fig.legend(handles=_timeline_legend(), loc="outside lower center", ncol=5, fontsize=8, frameon=False)
    return fig


def _timeline_legend() -> list[Any]:
    handles: list[Any] = [Patch(color=c, label=s) for s, c in STATUS_COLOURS.items()]
    handles.append(Patch(color=WARNING_COLOUR, label=WARNING_KEY))
    handles += [
        Line2D([], [], marker=m, ls="", color="#555555", label=f"{LAYER_NAMES[k]} ({'upper' if k == 'edge' else 'lower'} row)", markersize=7)
        for k, m in LAYER_MARKERS.items()
    ]
    handles += [
        Line2D([], [], marker="o", ls="", mfc="white", mec="black", mew=1.6, markersize=8, label="cited as evidence"),
        Line2D([], [], color="#4D4D4D", lw=2.2, label="test start..stop (offset applied)"),
        Patch(facecolor="#F0F0F0", edgecolor="#C8C8C8", label="window ± uncertainty"),
    ]
    return handles


def causes(result: TriageResult) -> Figure:
    """Failed tests by root cause: one horizontal bar per TAXONOMY label that occurs, largest on top."""
    counts = result.summary["by_root_cause"]
    fig = Figure(figsize=(8, 1.5 + 0.42 * max(len(counts), 2)), layout="constrained")
    ax = fig.add_subplot()
    if not counts:
        return _empty(fig, ax, "no failed tests")
    order = sorted(counts, key=lambda k: (-counts[k], LABELS.index(k)))[::-1]  # barh draws bottom-up
    colours = [CAUSE_COLOURS[LAYERS.get(k)] if k != UNKNOWN else "#6A6A6A" for k in order]
    bars = ax.barh(order, [counts[k] for k in order], color=colours, height=0.6)
    ax.bar_label(bars, padding=3, fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(counts.values()) * 1.15 + 0.5)
    ax.set_xlabel("failed tests")
    ax.tick_params(axis="y", labelsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Root cause of {sum(counts.values())} failed tests", fontsize=11, loc="left")
    seen = {LAYERS.get(k) if k != UNKNOWN else "unknown" for k in order}
    legend = {"app": "stopped in the app", "edge": "stopped at the edge", None: "app or edge", "unknown": "undecided"}
    ax.legend(
        handles=[Patch(color=CAUSE_COLOURS.get(k, "#6A6A6A"), label=legend[k]) for k in legend if k in seen],
        loc="lower right", fontsize=8, frameon=False,
    )
    return fig


_BUCKETS = ["100ms", "200ms", "500ms", "1s", "2s", "5s", "10s", "30s", "1m", "2m", "5m", "15m", "30m", "1h", "3h", "6h", "1d"]
_UNIT_S = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _bucket_seconds(bucket: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)", bucket)
    if not match:
        raise ValueError(f"bucket {bucket!r} is not like '1s', '500ms', '5m', '1h'")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def _services_involved(result: TriageResult, requests: pl.DataFrame) -> list[str]:
    """Services the failures touched (cited or tied entries), busiest first; all if none."""
    cited = {e.insert_id for v in result.verdicts for e in v.evidence}
    tied = pl.concat([linked_rows(result, v.test_id).select("service", "insert_id") for v in result.verdicts]
                     or [requests.select("service", "insert_id").clear()])
    involved = set(tied.get_column("service").drop_nulls().to_list())
    involved |= set(result.logs.filter(pl.col("insert_id").is_in(list(cited))).get_column("service").drop_nulls().to_list())
    busy = requests.group_by("service").len().sort(["len", "service"], descending=[True, False])
    names = [s for s in busy.get_column("service").to_list() if s is not None]
    return [s for s in names if s in involved] or names


def requests_by_status(result: TriageResult, services: list[str] | None = None, bucket: str = "1s") -> Figure:
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
    shown, rest = chosen[:5], chosen[5:]
    requests = requests.filter(pl.col("service").is_in(chosen)).with_columns(
        panel=pl.when(pl.col("service").is_in(rest)).then(pl.lit("other services")).otherwise(pl.col("service"))
    )
    panels = shown + (["other services"] if rest else [])
    fig = Figure(figsize=(11, 1.4 + 1.9 * max(len(panels), 1)), layout="constrained")
    if requests.is_empty():
        return _empty(fig, fig.add_subplot(), "no HTTP requests in the logs for these services")
    span_s = (requests.get_column("timestamp").max() - requests.get_column("timestamp").min()).total_seconds()  # type: ignore[operator]
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
        .group_by("panel", "t", "status_class").len()
    )
    windows = failure_windows(result).drop_nulls("lo")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        mine = counts.filter(pl.col("panel") == panel)
        times = mine.get_column("t").unique().sort()
        xs, bottom = _num(times), [0] * times.len()
        for status, colour in STATUS_COLOURS.items():
            col = times.to_frame().join(mine.filter(pl.col("status_class") == status), on="t", how="left")
            heights = col.get_column("len").fill_null(0).to_list()
            if any(heights):
                ax.bar(xs, heights, width=width_s / 86_400 * 0.85, bottom=bottom, align="edge",
                       color=colour, label=status, zorder=2)
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        for lo, hi in zip(_num(windows.get_column("lo")), _num(windows.get_column("hi")), strict=True):
            ax.axvspan(lo, hi, color="#E8E8E8", zorder=0, lw=0)
        ax.set_title(_text(result, panel if panel == "other services" else f"service {panel}"), fontsize=10, loc="left")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"requests / {bucket}", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    _utc_axis(axes[-1])
    change = "widened" if _bucket_seconds(bucket) > _bucket_seconds(asked) else "narrowed"
    note = f" (bucket {change} from {asked} to {bucket})" if bucket != asked else ""
    fig.suptitle(_text(result, f"Requests by HTTP status{note}"), x=0.01, ha="left", fontsize=11)
    present = set(counts.get_column("status_class").to_list())
    handles = [Patch(color=c, label=s) for s, c in STATUS_COLOURS.items() if s in present]
    handles.append(Patch(color="#E8E8E8", label="failed-test windows"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    return fig


def save(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``fig`` as PNG or SVG (by the suffix of ``path``) so a crash never leaves half a file.

    SVG text stays text (searchable, and checkable for secrets), not glyph outlines.

    Raises:
        ValueError: the suffix is neither ``.png`` nor ``.svg``.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(f"{path}: plots are written as .png or .svg, not {path.suffix or 'no suffix'!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f, mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "forensics"}):
            fig.savefig(f, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path

