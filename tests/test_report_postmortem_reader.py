"""The postmortem as its reader meets it: the first screen, plain per-test sentences, a passed run."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from forensics.report import render_markdown, write_reports
from forensics.result import TriageResult
from tests.test_report import T_CONNECT, make_result

PLOTS = {
    "timeline": Path("timeline.png"),
    "causes": Path("causes.png"),
    "requests_by_status": Path("requests_by_status.png"),
}
FIRST_SCREEN = 25  # lines a reader sees before scrolling


def test_first_screen_has_the_verdict_and_the_timeline_with_a_caption() -> None:
    """Summary, then the timeline picture with a caption saying what to see, before any detail."""
    head = render_markdown(make_result(), plots=PLOTS).splitlines()[:FIRST_SCREEN]
    text = "\n".join(head)
    assert "## Summary" in text and "**Verdict:**" in text
    assert "![timeline](timeline.png)" in head
    caption = head[head.index("![timeline](timeline.png)") + 1]
    assert caption.startswith("_") and "failed test" in caption
    assert "## Root causes" not in text


def test_every_plot_has_a_caption() -> None:
    """Each embedded plot is followed by a one-line caption."""
    lines = render_markdown(make_result(), plots=PLOTS).splitlines()
    for name, path in PLOTS.items():
        at = lines.index(f"![{name}]({path.as_posix()})")
        assert lines[at + 1].startswith("_") and len(lines[at + 1]) > 20, name


def test_each_test_leads_with_a_plain_sentence_and_folds_the_scoring() -> None:
    """A failed test's bullet is its first sentence and the deciding log line; rules, confidence
    and the entry list sit in a collapsible <details>."""
    r = make_result()
    md = render_markdown(r)
    bullet = next(line for line in md.splitlines() if line.startswith(f"- `{T_CONNECT}`"))
    assert bullet.startswith(f"- `{T_CONNECT}`: app refused the handshake: bypass key missing;")
    assert "Deciding log line: `2025-09-07 09:00:02.200Z" in bullet
    assert "confidence" not in bullet and "rule" not in bullet
    after = md.split(bullet, 1)[1]
    details = after.split("</details>", 1)[0]
    assert "<details><summary>How it was scored (confidence 0.90, rule `bypass-missing`)" in details


def _passed_run() -> TriageResult:
    r = make_result()
    r.verdicts = []
    return r


def test_a_run_without_failures_says_it_passed_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No "every failed test was explained", no "the tests carry no times", no pictures."""
    md = render_markdown(_passed_run())
    assert md.startswith("# Postmortem: the run passed\n")
    assert "all 4 test(s) passed" in md
    for noise in (
        "Every failed test was explained",
        "carry no times",
        "![",
        "## Timeline",
        "## Impact",
    ):
        assert noise not in md, noise
    drawn: list[str] = []
    fake = types.ModuleType("forensics.plot")
    fake.timeline = lambda result: drawn.append("timeline")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "forensics.plot", fake)
    written = write_reports(_passed_run(), tmp_path)
    assert set(written) == {"text", "json", "markdown"} and drawn == []
    assert not list(tmp_path.glob("*.png"))
