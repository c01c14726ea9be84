"""Every report puts failed tests on the export's clock, whatever clock the runner wrote.

One run per clock kind: zone-aware (the seed: reportlog + JUnit with a zone), naive local time
(JUnit timestamps without a zone, the runner at UTC-07:00 or UTC+02:00), and a zone slip (times
labelled UTC that are local time). In each, a failed test's time in the markdown timeline, in the
timeline plot's data and in the appendix's query for unexplained failures sits within seconds of
the log entries it ran into, and every report states the offset its method describes.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache

import pytest

from forensics import explore, triage
from forensics.labels import UNKNOWN
from forensics.report import render_json, render_markdown, text_report
from forensics.report.appendix import unexplained_query
from forensics.report.facts import parse_time
from forensics.result import TriageResult
from tests._correlate_frames import log_frame, make_tests, run_scenario
from tests.conftest import FIXTURES

#: How far a failed test's time may sit from the entries it ran into: its own times are rebuilt
#: from durations when the report has no per-test stamps (JUnit), good to a second or two.
NEAR = timedelta(seconds=5)
KINDS = ["zone-aware", "naive UTC-07:00", "naive UTC+02:00", "zone slip"]
_TIMELINE_ROW = re.compile(r"^\| (\S+ \S+Z) \| test failed \(`\w+`\) \| (.+) \|$", re.M)


@cache
def _triage(kind: str) -> TriageResult:
    if kind == "zone-aware":
        seed = FIXTURES / "seed"
        return triage([seed / "junit.xml", seed / "report.jsonl"], seed / "logs")
    if kind == "zone slip":
        tests, logs = run_scenario(skew_s=-(3600 + 1.2))  # local time at UTC+01:00 labelled UTC
        return triage(make_tests(tests), log_frame(logs))
    folder = FIXTURES / ("naive_clock" if "-07" in kind else "rate_limited_edge")
    return triage(folder / "junit.xml", folder / "logs")


def _with_evidence(result: TriageResult) -> dict[str, list[datetime]]:
    out = {
        v.test_id: [t for e in v.evidence if (t := parse_time(e.timestamp)) is not None]
        for v in result.verdicts
    }
    return {k: ts for k, ts in out.items() if ts}


def test_each_clock_kind_has_failed_tests_with_evidence() -> None:
    """The runs below exercise what they claim: each clock kind, with evidence to compare against."""
    assert _triage("zone-aware").correlation.test_times.get_column("clock").unique().to_list() == [
        "utc"
    ]
    for kind in ("naive UTC-07:00", "naive UTC+02:00"):
        assert set(_triage(kind).correlation.test_times.get_column("clock")) == {"naive"}
    assert set(_triage("zone slip").correlation.test_times.get_column("clock")) == {"zone slip"}
    assert all(len(_with_evidence(_triage(k))) >= 2 for k in KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_markdown_timeline_puts_failed_tests_beside_their_evidence(kind: str) -> None:
    """In the postmortem's timeline, each failed test sits within seconds of the entries it cites."""
    result = _triage(kind)
    section = render_markdown(result).split("## Timeline (UTC)")[1].split("## Root causes")[0]
    shown = {tid: parse_time(at) for at, tid in _TIMELINE_ROW.findall(section)}
    evidence = _with_evidence(result)
    assert evidence.keys() <= shown.keys()
    for tid, stamps in evidence.items():
        at = shown[tid]
        assert at is not None
        assert min(abs(at - t) for t in stamps) <= NEAR, (tid, at, stamps)


@pytest.mark.parametrize("kind", KINDS)
def test_timeline_plot_lanes_hold_their_evidence(kind: str) -> None:
    """The timeline plot's lane for a failed test (its start..stop) lies where its evidence is."""
    result = _triage(kind)
    windows = {row["test_id"]: row for row in explore.failure_windows(result).iter_rows(named=True)}
    for tid, stamps in _with_evidence(result).items():
        lane = windows[tid]
        assert (
            lane["start"] is not None and lane["lo"] <= lane["start"] <= lane["stop"] <= lane["hi"]
        )
        assert any(lane["start"] - NEAR <= t <= lane["stop"] + NEAR for t in stamps), (tid, lane)


@pytest.mark.parametrize("kind", KINDS)
def test_unexplained_failures_query_covers_what_they_ran_into(kind: str) -> None:
    """Were the failures left unexplained, the appendix's time-range query would still find their entries."""
    result = _triage(kind)
    evidence = _with_evidence(result)
    blind = replace(
        result,
        verdicts=[
            replace(v, root_cause=UNKNOWN, confidence=0.0, evidence=(), reason="no rule matched")
            for v in result.verdicts
        ],
    )
    query = unexplained_query(blind)
    assert query is not None and query.start and query.end
    lo, hi = parse_time(query.start), parse_time(query.end)
    assert lo is not None and hi is not None
    stamps = [t for ts in evidence.values() for t in ts]
    assert lo <= min(stamps) and max(stamps) <= hi
    assert hi - lo <= (max(stamps) - min(stamps)) + 4 * NEAR  # a query for the run, not the day


_SKEW = re.compile(r"skew ([+-]\d+\.\d\d) s")


@pytest.mark.parametrize("kind", ["naive UTC-07:00", "naive UTC+02:00"])
def test_every_report_states_the_skew_its_offset_has(kind: str) -> None:
    """A naive clock's method names the same skew as the offset the report states (one estimate)."""
    result = _triage(kind)
    data = json.loads(render_json(result))["run"]["correlation"]
    offset = data["clock_offset_s"]
    assert [float(s) for s in _SKEW.findall(data["clock_method"])] == [round(offset, 2)]
    assert data["clocks"]["naive"]["skew_s"] == round(offset, 3)
    for report in (text_report(result, width=400), render_markdown(result)):
        assert f"{offset:+.3f} s" in report
        assert [float(s) for s in _SKEW.findall(report)] == [round(offset, 2)]
