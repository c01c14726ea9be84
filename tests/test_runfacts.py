"""The run facts a triage states: typed, read back from JSON unchanged, one clock line everywhere."""

from __future__ import annotations

import json
from functools import cache

import pytest

from forensics import plot, triage
from forensics.report import render_json, render_markdown, text_report
from forensics.result import TriageResult
from forensics.runfacts import ClockFacts, CorrelationFacts, RunFacts, clock_line
from tests.conftest import FIXTURES, ROOT

#: Fixtures with a clock of each kind: zone-aware (seed), naive at UTC-07:00 and UTC+02:00, untimed.
RUNS = ["seed", "naive_clock", "rate_limited_edge", "window_miss", "multi_cause"]

#: The JSON contract's ``run`` object: its keys in order, and ``correlation``'s.
RUN_KEYS = ["tests", "logs", "correlation", "rules", "skipped", "redacted"]
TESTS_KEYS = ["files", "total", "failed", "duplicates_merged"]
LOGS_KEYS = ["files", "entries", "duplicates_removed", "first", "last"]
CORRELATION_KEYS = [
    "clock_offset_s",
    "clock_offset_uncertainty_s",
    "clock_method",
    "clock_zone_s",
    "clocks",
    "fingerprint",
    "fingerprint_method",
    "export_span",
    "linked_rows",
    "notes",
]
CLOCK_KEYS = [
    "skew_s",
    "zone_s",
    "offset_s",
    "uncertainty_s",
    "method",
    "anchors",
    "tests_hit",
    "tests_timed",
]


@cache
def _triage(name: str) -> TriageResult:
    folder = FIXTURES / name
    reports = [p for p in (folder / "junit.xml", folder / "report.jsonl") if p.exists()]
    # relative paths, as a user types them: they are part of the run facts
    return triage([p.relative_to(ROOT) for p in reports], (folder / "logs").relative_to(ROOT))


@pytest.fixture(autouse=True)
def _from_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", RUNS)
def test_run_object_keeps_the_json_contract(name: str) -> None:
    """``run`` has the documented keys in the documented order, at every level."""
    run = _triage(name).to_dict()["run"]
    assert list(run) == RUN_KEYS
    assert list(run["tests"]) == TESTS_KEYS and list(run["logs"]) == LOGS_KEYS
    assert list(run["correlation"]) == CORRELATION_KEYS
    assert list(run["correlation"]["fingerprint"]) == ["remote_ips", "user_agents"]
    for clock in run["correlation"]["clocks"].values():
        assert list(clock) == CLOCK_KEYS
    assert isinstance(run["rules"], int) and run["rules"] > 0


@pytest.mark.parametrize("name", RUNS)
def test_run_facts_read_back_from_json_byte_for_byte(name: str) -> None:
    """``RunFacts.from_dict`` of a written ``run`` (``to_dict`` or triage.json) writes the same text."""
    result = _triage(name)
    for run in (result.to_dict()["run"], json.loads(render_json(result))["run"]):
        assert isinstance(run.pop("skipped"), list)
        assert isinstance(run.pop("redacted"), dict)  # counted from the output, not a run fact
        text = json.dumps(run, ensure_ascii=False)
        assert (
            json.dumps(RunFacts.from_dict(json.loads(text)).to_dict(), ensure_ascii=False) == text
        )


def test_run_facts_are_typed_and_frozen() -> None:
    """Readers get attributes, not dict chains, and cannot change what the triage found."""
    run = _triage("seed").run
    assert run.tests is not None and run.tests.failed == 6 and run.tests.total == 58
    assert run.logs is not None and run.logs.entries > 0 and run.logs.first
    assert run.fingerprint is not None and run.fingerprint.remote_ips == ("34.127.88.14",)
    assert isinstance(run.clock, ClockFacts) and run.clock.aligned
    with pytest.raises(AttributeError):
        run.rules = 0  # type: ignore[misc]


@pytest.mark.parametrize("name", RUNS)
def test_run_facts_state_the_correlation_used(name: str) -> None:
    """The facts a result states are the ones of the correlation it carries."""
    result = _triage(name)
    assert result.correlation is not None
    assert result.run.correlation == result.correlation.facts()
    assert isinstance(result.run.correlation, CorrelationFacts)


@pytest.mark.parametrize("name", RUNS)
def test_every_report_states_the_same_clock_line(name: str) -> None:
    """The terminal text, the postmortem and the timeline's title state the clock the same way."""
    result = _triage(name)
    line = clock_line(result.clock)
    assert line.startswith("clock offset (Google - runner): ")
    assert line in text_report(result, width=1000)
    assert f"- {line[:1].upper()}{line[1:]}." in render_markdown(result)
    title = plot.timeline(result).axes[0].get_title(loc="left")
    assert clock_line(result.clock, short=True) in title


def test_naive_clock_line_names_the_zone_and_the_skew() -> None:
    """A naive runner clock is stated as its zone plus its skew, and the method agrees on both."""
    clock = _triage("naive_clock").clock
    assert clock is not None and clock.zone_s == 7 * 3600
    line = clock_line(clock)
    assert line.startswith(f"clock offset (Google - runner): +7 h {clock.offset_s:+.3f} s ± ")
    assert "read as UTC-07:00" in line and f"skew {clock.offset_s:+.2f} s" in line


def test_a_report_read_back_from_json_states_the_same_clock() -> None:
    """The clock line rebuilt from triage.json is the one the triage printed."""
    result = _triage("naive_clock")
    back = RunFacts.from_dict(json.loads(render_json(result))["run"])
    assert clock_line(back.clock) == clock_line(result.clock)


def test_an_unknown_clock_is_said_so() -> None:
    """A run whose clock is unknown says so rather than implying zero."""
    assert RunFacts().clock is None
    assert clock_line(None) == "clock offset unknown"
