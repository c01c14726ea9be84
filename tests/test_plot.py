"""forensics.plot: what each figure shows, how it is saved, and that secrets stay out of it."""

from __future__ import annotations

import threading
from pathlib import Path

import matplotlib
import polars as pl
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from forensics import plot
from forensics.labels import LABELS
from forensics.runfacts import RunFacts
from forensics.schema import TEST_SCHEMA
from tests.test_explore import FAILED, SECRET_JWT, make_result, retimed


def _ytick_texts(ax: matplotlib.axes.Axes) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def test_timeline_has_one_lane_per_failed_test_first_on_top() -> None:
    """Every failed test gets a lane labelled with its test name, in run order from the top."""
    fig = plot.timeline(make_result())
    ax = fig.axes[0]
    names = [tid.split("::")[-1] for tid, *_ in FAILED]
    assert _ytick_texts(ax) == list(reversed(names))


def test_timeline_title_states_the_clock_offset() -> None:
    """The clock offset, its uncertainty and how it was found are in the title."""
    title = plot.timeline(make_result()).axes[0].get_title(loc="left")
    assert "+1.80 s ± 0.20 s" in title and "trace ids" in title and "6 failed tests" in title


def test_timeline_says_when_the_offset_is_unknown() -> None:
    """A result without a clock estimate says so instead of implying zero."""
    result = make_result()
    result.run = RunFacts()
    result.correlation = None
    assert "clock offset unknown" in plot.timeline(result).axes[0].get_title(loc="left")


def test_timeline_names_each_lanes_root_cause() -> None:
    """Each lane's root cause (with its detail) is written beside it."""
    texts = {t.get_text() for t in plot.timeline(make_result()).axes[0].texts}
    assert {
        "invalid_jwt (bad_signature)",
        "missing_bypass_header",
        "iam_denied",
        "unknown",
    } <= texts


def test_timeline_marks_evidence_and_shapes_by_layer() -> None:
    """Cited entries are drawn with a black ring; request-log and app-log entries use different markers."""
    fig = plot.timeline(make_result())
    collections = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    ringed = sum(
        len(c.get_offsets())
        for c in collections
        if tuple(c.get_edgecolor()[0][:3]) == (0.0, 0.0, 0.0)
    )
    assert ringed == sum(len(v.evidence) for v in make_result().verdicts)
    shapes = {tuple(map(tuple, c.get_paths()[0].vertices.round(3))) for c in collections}
    assert len(shapes) == 2


def test_timeline_axis_is_utc_time() -> None:
    """The x axis is labelled UTC and spans the failures' windows."""
    ax = plot.timeline(make_result()).axes[0]
    assert ax.get_xlabel() == "time (UTC)"
    lo, hi = ax.get_xlim()
    assert (hi - lo) * 86_400 == pytest.approx(40, abs=6)  # failures from 09:00:05 to 09:00:39


def test_timeline_draws_into_a_given_axes() -> None:
    """Passing an Axes draws there and returns its figure."""
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.timeline(make_result(), ax=ax) is fig
    assert len(ax.get_yticklabels()) == len(FAILED)


def test_causes_bars_are_taxonomy_labels_largest_on_top() -> None:
    """One bar per cause present, labelled with the exact TAXONOMY string, largest count on top."""
    ax = plot.causes(make_result()).axes[0]
    labels = _ytick_texts(ax)
    assert labels[::-1] == [
        "invalid_jwt",
        "missing_bypass_header",
        "iam_denied",
        "unknown",
    ]  # ties in TAXONOMY order
    assert set(labels) <= set(LABELS)
    widths = [p.get_width() for p in ax.patches]
    assert widths[::-1] == [3, 1, 1, 1]


def test_requests_by_status_stacks_classes_per_service() -> None:
    """Requests of the involved service are counted per second, 2xx and 4xx stacked."""
    fig = plot.requests_by_status(make_result())
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["service backend-staging"]
    ax = fig.axes[0]
    total = sum(bar.get_height() for container in ax.containers for bar in container)
    assert total == 18  # 12 health checks + 6 WebSocket handshakes
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["2xx", "4xx", "failed-test windows"]


def test_requests_by_status_widens_a_too_fine_bucket() -> None:
    """A bucket that would need hundreds of bars is widened, and the title says so."""
    fig = plot.requests_by_status(make_result(), bucket="100ms")
    assert "bucket widened from 100ms to 200ms" in fig._suptitle.get_text()  # type: ignore[union-attr]
    assert fig.axes[0].get_ylabel() == "requests / 200ms"


def test_requests_by_status_narrows_a_too_coarse_bucket() -> None:
    """A short run in coarse buckets would be a few bars hiding the burst: the bucket is narrowed."""
    fig = plot.requests_by_status(make_result(), bucket="30s")
    assert "bucket narrowed from 30s to 1s" in fig._suptitle.get_text()  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="bucket"):
        plot.requests_by_status(make_result(), bucket="soon")


def test_requests_by_status_chosen_services() -> None:
    """Naming services shows those; a service without requests yields a readable empty figure."""
    fig = plot.requests_by_status(make_result(), services=["auth-staging"])
    assert "no HTTP requests" in fig.axes[0].texts[0].get_text()


def test_empty_result_gives_readable_figures() -> None:
    """A run with no failures still draws each figure, saying there is nothing to show."""
    result = make_result()
    result.verdicts = []
    for fig in (plot.timeline(result), plot.causes(result)):
        assert fig.axes[0].texts[0].get_text() == "no failed tests"


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_save_writes_by_suffix(tmp_path: Path, suffix: str) -> None:
    """save writes PNG or SVG according to the suffix, creating the folder, leaving no temp file."""
    path = plot.save(plot.causes(make_result()), tmp_path / "out" / f"causes{suffix}")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data[:500]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_save_refuses_other_suffixes(tmp_path: Path) -> None:
    """An unsupported suffix is an error naming the file, and nothing is written."""
    with pytest.raises(ValueError, match=r"causes\.pdf"):
        plot.save(plot.causes(make_result()), tmp_path / "causes.pdf")
    assert not list(tmp_path.iterdir())


def test_svg_never_holds_a_secret(tmp_path: Path) -> None:
    """A token in a test id or a verdict's detail is redacted in every figure's SVG text."""
    result = make_result(with_secret=True)
    tid = f"tests/e2e/test_x.py::test_token[Bearer {SECRET_JWT}]"
    result.verdicts[0] = type(result.verdicts[0])(
        **{**result.verdicts[0].__dict__, "test_id": tid, "detail": f"jwt={SECRET_JWT}"}
    )
    retimed(
        result,
        result.tests.with_columns(
            test_id=result.tests.get_column("test_id").replace(FAILED[0][0], tid)
        ),
    )
    for name, fig in (
        ("t", plot.timeline(result)),
        ("c", plot.causes(result)),
        ("r", plot.requests_by_status(result)),
    ):
        svg = plot.save(fig, tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        assert SECRET_JWT not in svg and SECRET_JWT[:20] not in svg, name
    timeline_svg = (tmp_path / "t.svg").read_text(encoding="utf-8")
    assert "invalid_jwt" in timeline_svg  # text is stored as text, so the check above can see it
    assert "REDACTED" in timeline_svg


def test_figures_do_not_touch_pyplot_state() -> None:
    """Figures are built without pyplot: no figure is registered in pyplot's global manager."""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot.timeline(make_result())
    plot.requests_by_status(make_result())
    assert plt.get_fignums() == before


def test_figures_can_be_built_in_threads(tmp_path: Path) -> None:
    """Figures build and save from worker threads (no GUI backend or global state involved)."""
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            plot.save(plot.timeline(make_result()), tmp_path / f"t{i}.png")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(list(tmp_path.glob("t*.png"))) == 3


def test_timeline_without_start_times_still_shows_evidence() -> None:
    """Tests without start times get no window but their cited entries are still drawn, and the lane says why."""
    result = make_result()
    retimed(
        result,
        result.tests.with_columns(
            start=pl.lit(None, dtype=TEST_SCHEMA["start"]),
            stop=pl.lit(None, dtype=TEST_SCHEMA["stop"]),
        ),
    )
    ax = plot.timeline(result).axes[0]
    assert "no start time in the test report" in {t.get_text() for t in ax.texts}
    drawn = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    assert drawn == sum(len(v.evidence) for v in result.verdicts)
    assert ax.get_xlabel() == "time (UTC)"


def test_timeline_with_nothing_in_time_has_no_fake_axis() -> None:
    """With no windows and no evidence, the x axis is left blank rather than showing 1970."""
    result = make_result()
    retimed(
        result,
        result.tests.with_columns(
            start=pl.lit(None, dtype=TEST_SCHEMA["start"]),
            stop=pl.lit(None, dtype=TEST_SCHEMA["stop"]),
        ),
    )
    result.verdicts = [type(v)(**{**v.__dict__, "evidence": ()}) for v in result.verdicts]
    ax = plot.timeline(result).axes[0]
    assert list(ax.get_xticks()) == []
    assert "no test windows" in ax.get_xlabel()


def test_timeline_caps_the_number_of_lanes() -> None:
    """A run with very many failures shows the first 40 lanes and says how many there are."""
    result = make_result()
    result.verdicts = result.verdicts * 8  # 48 failures
    ax = plot.timeline(result).axes[0]
    assert len(ax.get_yticklabels()) == 40
    assert "48 failed tests" in ax.get_title(loc="left") and "first 40 shown" in ax.get_title(
        loc="left"
    )


def test_timeline_rings_only_each_lanes_own_evidence() -> None:
    """An entry cited by one test's verdict is not ringed on another test's lane, even when it lies in its window."""
    result = make_result()
    first, second = result.verdicts[0], result.verdicts[1]
    # Widen the second test's window over the first one's evidence.
    retimed(
        result,
        result.tests.with_columns(
            window_uncertainty_s=pl.when(pl.col("test_id") == second.test_id)
            .then(6.0)
            .otherwise(pl.col("window_uncertainty_s"))
        ),
    )
    ax = plot.timeline(result).axes[0]
    lane_of_second = len(FAILED) - 2
    ringed_on_second = [
        c
        for c in ax.collections
        if isinstance(c, PathCollection)
        and tuple(c.get_edgecolor()[0][:3]) == (0.0, 0.0, 0.0)
        and abs(c.get_offsets()[0][1] - lane_of_second) < 0.5
    ]
    assert sum(len(c.get_offsets()) for c in ringed_on_second) == len(second.evidence)
    assert first.evidence and second.evidence
