"""What every figure shares: colours, markers, the UTC time axis, redacted text, atomic saving."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import matplotlib as mpl
import matplotlib.dates as mdates
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from forensics.atomic import atomic_file
from forensics.result import TriageResult

#: Status class -> colour (Okabe-Ito based, readable by colour-blind readers and in greyscale).
STATUS_COLOURS = {
    "2xx": "#009E73",
    "3xx": "#56B4E9",
    "4xx": "#E69F00",
    "5xx": "#B2182B",
    "no status": "#8C8C8C",
}
#: Lines without a status that are WARNING or worse: the app's own account of a refusal usually is.
WARNING_COLOUR = "#7B3294"
WARNING_KEY = "no status, WARNING+"
LAYER_MARKERS = {"edge": "s", "app": "o"}
LAYER_NAMES = {"edge": "front-end request log", "app": "app log"}
CAUSE_COLOURS = {"app": "#0072B2", "edge": "#E69F00", None: "#6A6A6A"}
MAX_LANES = 40
DENSE_LANE = 300  # entries in one lane above which markers are drawn small and translucent
LOUD_SEVERITIES = ("WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
_EPOCH = mdates.date2num(datetime(1970, 1, 1, tzinfo=UTC))


def to_num(ts: pl.Series) -> list[float]:
    """Matplotlib date numbers for a UTC datetime column (epoch-exact, no timezone guessing)."""
    return (ts.dt.epoch("us").cast(pl.Float64) / 86_400e6 + _EPOCH).to_list()


def utc_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(tz=UTC, minticks=5, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC, show_offset=True))
    ax.set_xlabel("time (UTC)")


def shown(result: TriageResult, text: str | None) -> str:
    return result.scrub(text) or ""


def empty(fig: Figure, ax: Axes, message: str) -> Figure:
    ax.text(
        0.5,
        0.5,
        message,
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=11,
        color="#555555",
    )
    ax.set_axis_off()
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
        raise ValueError(
            f"{path}: plots are written as .png or .svg, not {path.suffix or 'no suffix'!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        atomic_file(path, "wb") as f,
        mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "forensics"}),
    ):
        fig.savefig(f, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
    return path
