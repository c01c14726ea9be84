"""Pictures of a run history: tests x runs coloured by cause, causes per run, pass rate over runs.

Each takes a ``forensics.history.Comparison`` (``history.compare(DIR, last=None)``) and returns its
own ``Figure``. Deploys (the revisions serving the runner changed) are marked on every plot; the
text drawn was redacted when the runs were recorded.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from forensics.history.model import Comparison, Deploy
from forensics.labels import LABELS
from forensics.plot.style import empty

#: One colour per TAXONOMY label, told apart in print (Okabe-Ito first, then tab10's).
LABEL_COLOURS = {
    "missing_jwt": "#0072B2",
    "invalid_jwt": "#56B4E9",
    "cors_origin": "#CC79A7",
    "middleware_rejection": "#9467BD",
    "missing_bypass_header": "#D55E00",
    "iam_denied": "#E69F00",
    "iap_denied": "#BCBD22",
    "cloud_armor_denied": "#8C564B",
    "rate_limited": "#17BECF",
    "app_error": "#B2182B",
    "unknown": "#4D4D4D",
}
PASSED, SKIPPED, ABSENT = "#D9EFD3", "#E6E6E6", "#FFFFFF"
DEPLOY_COLOUR = "#222222"
MAX_TESTS = 60
_REVISION = re.compile(r"-(\d{3,6}-[a-z0-9]{2,5})$")


def short_revision(name: str) -> str:
    """``chat-backend-staging-00311-kap`` -> ``00311-kap`` (the part that changes per deploy)."""
    m = _REVISION.search(name)
    return m.group(1) if m else name[-16:]


def short_test(test_id: str, limit: int = 64) -> str:
    """``tests/e2e/test_1_x.py::test_y`` -> ``test_1_x::test_y``, cut to ``limit``."""
    path, _, rest = test_id.partition("::")
    name = path.rsplit("/", 1)[-1].removesuffix(".py") + (f"::{rest}" if rest else "")
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _deploy_label(d: Deploy) -> str:
    return ", ".join(short_revision(r) for r in d.introduced) or "withdrawn"


def _mark_deploys(ax: Axes, comparison: Comparison) -> float:
    """A dashed line before each run served by new revisions, named above the axes.

    Returns the title padding (points) that keeps the names clear of the title.
    """
    crowded = len(comparison.deploys) > 8
    for d in comparison.deploys:
        x = d.after_index - 0.5
        ax.axvline(x, color=DEPLOY_COLOUR, linestyle="--", linewidth=1.1, zorder=5)
        ax.text(
            x, 1.01, _deploy_label(d), transform=ax.get_xaxis_transform(),
            rotation=90 if crowded else 0, ha="center", va="bottom", fontsize=7, color=DEPLOY_COLOUR,
        )  # fmt: skip
    if not comparison.deploys:
        return 6.0
    return 48.0 if crowded else 18.0


def _run_axis(ax: Axes, n: int) -> None:
    ax.set_xlim(0.5, n + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=min(n, 20)))
    ax.set_xlabel("run (oldest first)")


def _width(runs: int) -> float:
    return max(8.0, min(5.5 + 0.3 * runs, 18.0))


def _legend_below(fig: Figure, handles: list[Artist], comparison: Comparison) -> None:
    """The legend under the plot: ``handles``, then the deploy line when runs had deploys."""
    if comparison.deploys:
        handles = [*handles, Line2D([], [], color=DEPLOY_COLOUR, linestyle="--", linewidth=1.1,
                                    label="deploy (new revisions served the runner)")]  # fmt: skip
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4),
                   fontsize=8, frameon=False)  # fmt: skip


def run_grid(comparison: Comparison, *, max_tests: int = MAX_TESTS) -> Figure:
    """Tests x runs, each cell the test's cause in that run (passes light, absent blank).

    The tests shown are the ones not passing first (new, cause changed, persistent, flaky,
    fixed), then passing ones up to ``max_tests``.
    """
    runs, tests = comparison.runs, list(comparison.tests[:max_tests])
    # the test names take about 4 inches: the cells get the rest
    fig = Figure(figsize=(max(10.0, min(6.0 + 0.5 * len(runs), 20.0)), 2.2 + 0.22 * max(len(tests), 4)),
                 layout="constrained")  # fmt: skip
    ax = fig.add_subplot()
    if not runs or not tests:
        return empty(fig, ax, "no runs recorded")
    codes = {"absent": 0, "passed": 1, "skipped": 2}
    colours = [ABSENT, PASSED, SKIPPED] + [LABEL_COLOURS[label] for label in LABELS]
    grid = np.zeros((len(tests), len(runs)), dtype=int)
    seen: set[str] = set()
    histories = comparison.histories([t.test_id for t in tests])
    for i, t in enumerate(tests):
        for j, h in enumerate(histories[t.test_id]):
            if h["outcome"] in ("failed", "error"):
                label = h["root_cause"] or "unknown"
                grid[i, j] = 3 + LABELS.index(label)
                seen.add(label)
            else:
                grid[i, j] = codes[h["outcome"]]
    edges = 0.5 if grid.size <= 20_000 else 0.0  # cell borders while cells are big enough
    ax.pcolormesh(
        np.arange(len(runs) + 1) + 0.5, np.arange(len(tests) + 1) - 0.5, grid,
        cmap=ListedColormap(colours), vmin=-0.5, vmax=len(colours) - 0.5,
        edgecolors="white", linewidth=edges,
    )  # fmt: skip
    ax.set_ylim(len(tests) - 0.5, -0.5)
    ax.set_yticks(range(len(tests)), [short_test(t.test_id) for t in tests], fontsize=7)
    _run_axis(ax, len(runs))
    pad = _mark_deploys(ax, comparison)
    hidden = len(comparison.tests) - len(tests)
    ax.set_title(
        f"Tests x runs by cause ({len(comparison.tests)} tests"
        + (f", {hidden} passing ones not shown" if hidden else "")
        + ")",
        fontsize=11, loc="left", pad=pad,
    )  # fmt: skip
    handles: list[Artist] = [
        Patch(facecolor=LABEL_COLOURS[k], label=k) for k in LABELS if k in seen
    ]
    handles += [Patch(facecolor=PASSED, edgecolor="#999999", label="passed"),
                Patch(facecolor=SKIPPED, edgecolor="#999999", label="skipped"),
                Patch(facecolor=ABSENT, edgecolor="#999999", label="absent")]  # fmt: skip
    _legend_below(fig, handles, comparison)
    return fig


def causes_per_run(comparison: Comparison) -> Figure:
    """Failed tests per run, stacked by root cause."""
    runs = comparison.runs
    fig = Figure(figsize=(_width(len(runs)), 4.4), layout="constrained")
    ax = fig.add_subplot()
    if not runs:
        return empty(fig, ax, "no runs recorded")
    x = np.array([r.index for r in runs])
    bottom = np.zeros(len(runs))
    present = [k for k in LABELS if any(k in r.by_root_cause for r in runs)]
    for label in present:
        counts = np.array([r.by_root_cause.get(label, 0) for r in runs], dtype=float)
        ax.bar(x, counts, bottom=bottom, color=LABEL_COLOURS[label], label=label, width=0.7)
        bottom += counts
    _run_axis(ax, len(runs))
    pad = _mark_deploys(ax, comparison)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(float(bottom.max()), 1.0) * 1.1)
    ax.set_ylabel("failed tests")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Causes per run", fontsize=11, loc="left", pad=pad)
    _legend_below(fig, [Patch(facecolor=LABEL_COLOURS[k], label=k) for k in present], comparison)
    if not present:
        ax.text(
            0.5,
            0.5,
            "no failures in these runs",
            ha="center",
            transform=ax.transAxes,
            color="#555555",
        )
    return fig


def pass_rate(comparison: Comparison) -> Figure:
    """Pass rate per run (passed among passed and failed), deploys marked."""
    runs = comparison.runs
    fig = Figure(figsize=(_width(len(runs)), 4.0), layout="constrained")
    ax = fig.add_subplot()
    if not runs:
        return empty(fig, ax, "no runs recorded")
    points = [(r.index, r.pass_rate) for r in runs if r.pass_rate is not None]
    ax.plot(
        [p[0] for p in points], [p[1] for p in points], marker="o", color="#0072B2", linewidth=1.6
    )
    for r in runs:
        if r.pass_rate is not None and len(runs) <= 30:
            ax.annotate(f"{r.passed}/{r.passed + r.failed}", (r.index, r.pass_rate), textcoords="offset points",
                        xytext=(0, -13), ha="center", fontsize=7, color="#333333")  # fmt: skip
    _run_axis(ax, len(runs))
    pad = _mark_deploys(ax, comparison)
    low = min((p[1] for p in points), default=0.0)
    ax.set_ylim(max(0.0, low - 0.1), 1.02)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("pass rate")
    ax.grid(axis="y", color="#EEEEEE")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Pass rate over runs", fontsize=11, loc="left", pad=pad)
    _legend_below(fig, [], comparison)
    return fig
