"""The timeline: one lane per failed test, its window on Google time and the entries tied to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from forensics.explore.frames import (
    annotate,
    evidence_rows,
    failure_windows,
    linked_rows,
)
from forensics.labels import LAYERS, UNKNOWN
from forensics.plot.style import (
    CAUSE_COLOURS,
    DENSE_LANE,
    LAYER_MARKERS,
    LAYER_NAMES,
    LOUD_SEVERITIES,
    MAX_LANES,
    STATUS_COLOURS,
    WARNING_COLOUR,
    WARNING_KEY,
    empty,
    shown,
    to_num,
    utc_axis,
)
from forensics.result import TriageResult
from forensics.runfacts import clock_line


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


def timeline(result: TriageResult, ax: Axes | None = None) -> Figure:
    """One lane per failed test: its window on Google time and the log events tied to it.

    The dark line is the test's own start..stop on Google's clock (``Correlation.test_times``); the pale box
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
    windows = failure_windows(result).head(MAX_LANES)
    lanes = windows.height
    if ax is None:
        fig = Figure(figsize=(11, 1.9 + 0.48 * max(lanes, 2)), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    if lanes == 0:
        return empty(fig, ax, "no failed tests")
    causes = {v.test_id: (v.root_cause, v.detail) for v in result.verdicts}
    spans: list[float] = []
    for lane, win in enumerate(windows.iter_rows(named=True)):
        y = lanes - 1 - lane  # first failure on top
        if win["lo"] is not None:
            lo, hi, start, stop = to_num(
                pl.Series([win["lo"], win["hi"], win["start"], win["stop"]])
            )
            ax.barh(
                y,
                hi - lo,
                left=lo,
                height=0.8,
                color="#F0F0F0",
                edgecolor="#C8C8C8",
                lw=0.6,
                zorder=1,
            )
            ax.plot([start, stop], [y, y], color="#4D4D4D", lw=2.2, solid_capstyle="butt", zorder=2)
            spans += [lo, hi]
        else:
            ax.annotate(
                "no start time in the test report",
                (0.01, y),
                xycoords=("axes fraction", "data"),
                va="center",
                fontsize=8,
                color="#777777",
                style="italic",
            )
        # Evidence is drawn even when it lies outside the window (or the test has no window).
        tied = linked_rows(result, win["test_id"])
        cited_rows = evidence_rows(result, win["test_id"])
        rows = annotate(
            pl.concat([tied.select(cited_rows.columns), cited_rows], how="vertical_relaxed").unique(
                "row", keep="first"
            )
        )
        loud = (pl.col("status_class") == "no status") & (
            pl.col("severity").cast(pl.String).is_in(LOUD_SEVERITIES)
        )
        rows = rows.with_columns(
            # Ring only what this lane's own verdict cites: another test's evidence nearby is context.
            cited=pl.col("insert_id").is_in(cited_rows.get_column("insert_id").to_list()),
            status_class=pl.when(loud).then(pl.lit(WARNING_KEY)).otherwise(pl.col("status_class")),
        )
        # Front-end entries ride above the lane's centre line and app entries below it, so a request
        # and the app line that explains it stay apart even when they are milliseconds apart.
        # A busy lane (thousands of entries) becomes small translucent marks: white edges on
        # overlapping markers would otherwise wash the colours out.
        dense = rows.height > DENSE_LANE
        for (layer, status, is_cited), group in rows.sort("cited").group_by(
            ["layer", "status_class", "cited"], maintain_order=True
        ):
            xs = to_num(group.get_column("timestamp"))
            dy = 0.2 if layer == "edge" else -0.2
            ax.scatter(
                xs,
                [y + dy] * len(xs),
                s=70 if is_cited else (12 if dense else 38),
                marker=LAYER_MARKERS[layer],
                c=STATUS_COLOURS.get(status, WARNING_COLOUR),
                edgecolors="black" if is_cited else ("none" if dense else "white"),
                linewidths=1.4 if is_cited else 0.4,
                alpha=None if is_cited or not dense else 0.45,
                zorder=4 if is_cited else 3,
            )
            spans += xs
        cause, detail = causes[win["test_id"]]
        label = cause + (f" ({detail})" if detail else "")
        colour = CAUSE_COLOURS[LAYERS.get(cause)] if cause != UNKNOWN else "#6A6A6A"
        ax.annotate(
            shown(result, label),
            (1.005, y),
            xycoords=("axes fraction", "data"),
            va="center",
            fontsize=9,
            color=colour,
            fontweight="bold",
        )
    # redacted before they are cut: a cut could leave part of a secret that no pattern recognises
    names = _short_names([shown(result, t) for t in windows.get_column("test_id").to_list()])
    ax.set_yticks(range(lanes), list(reversed(names)), fontsize=9)
    ax.set_ylim(-0.7, lanes - 0.3)
    ax.grid(axis="x", color="#EEEEEE", zorder=0)
    ax.set_axisbelow(True)
    if spans:
        pad = max((max(spans) - min(spans)) * 0.04, 0.5 / 86_400)
        ax.set_xlim(min(spans) - pad, max(spans) + pad)
        utc_axis(ax)
    else:  # nothing has a time: an empty 1970 axis would only mislead
        ax.set_xticks([])
        ax.set_xlabel("no test windows and no tied log entries to place in time")
    more = len(result.verdicts) - lanes
    clock = clock_line(result.clock, short=True)
    title = f"{len(result.verdicts)} failed tests on the log timeline — {clock}"
    ax.set_title(
        shown(result, title + (f" (first {lanes} shown)" if more > 0 else "")),
        fontsize=11,
        loc="left",
    )
    fig.legend(
        handles=_timeline_legend(), loc="outside lower center", ncol=4, fontsize=8, frameon=False
    )
    return fig


def _timeline_legend() -> list[Any]:
    handles: list[Any] = [Patch(color=c, label=s) for s, c in STATUS_COLOURS.items()]
    handles.append(Patch(color=WARNING_COLOUR, label=WARNING_KEY))
    handles += [
        Line2D(
            [],
            [],
            marker=m,
            ls="",
            color="#555555",
            label=f"{LAYER_NAMES[k]} ({'upper' if k == 'edge' else 'lower'} row)",
            markersize=7,
        )
        for k, m in LAYER_MARKERS.items()
    ]
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            mfc="white",
            mec="black",
            mew=1.6,
            markersize=8,
            label="cited as evidence",
        ),
        Line2D([], [], color="#4D4D4D", lw=2.2, label="test start..stop (offset applied)"),
        Patch(facecolor="#F0F0F0", edgecolor="#C8C8C8", label="window ± uncertainty"),
    ]
    return handles
