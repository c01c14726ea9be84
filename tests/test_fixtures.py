"""The committed incident folders: complete, consistent with their reports, proving their truth."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fixtures.replica.export import read_export
from forensics.labels import LABELS, UNKNOWN

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INCIDENTS = sorted(p.parent.name for p in FIXTURES.glob("*/expected.json"))
RUNNER_IP = "34.127.88.14"
SEED_FAILURES = [
    "tests/e2e/test_1_websocket_events_staging.py::test_websocket_connection",
    "tests/e2e/test_1_websocket_events_staging.py::test_websocket_event_flow_real",
    "tests/e2e/test_1_websocket_events_staging.py::test_concurrent_websocket_real",
    "tests/e2e/test_3_agent_pipeline_staging.py::test_real_agent_pipeline_execution",
    "tests/e2e/test_3_agent_pipeline_staging.py::test_real_agent_lifecycle_monitoring",
    "tests/e2e/test_3_agent_pipeline_staging.py::test_real_pipeline_error_handling",
]


def expected(name: str) -> dict:
    return json.loads((FIXTURES / name / "expected.json").read_text())


def junit_failures(path: Path) -> tuple[int, list[str]]:
    """Number of testcases and node ids of failed/errored ones, from a pytest JUnit file."""
    cases = ET.parse(path).getroot().iter("testcase")
    total, failed = 0, []
    for case in cases:
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            module = case.get("classname", "").replace(".", "/") + ".py"
            failed.append(f"{module}::{case.get('name')}")
    return total, failed


def reportlog_failures(path: Path) -> list[str]:
    failed: list[str] = []
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("$report_type") == "TestReport" and rec["outcome"] == "failed" and rec["nodeid"] not in failed:
            failed.append(rec["nodeid"])
    return failed


def test_there_are_incidents() -> None:
    """The fixtures folder holds the seed and the other incidents."""
    assert "seed" in INCIDENTS and len(INCIDENTS) >= 15


@pytest.mark.parametrize("name", INCIDENTS)
def test_incident_folder_is_complete(name: str) -> None:
    """Each incident has a README, expected.json with valid labels, a test report and a non-empty export."""
    folder = FIXTURES / name
    data = expected(name)
    assert set(data) == {"failures", "clock_offset_s", "notes", "made_with"}
    assert {"uvicorn", "websockets", "httpx"} <= set(data["made_with"])  # what wrote its chatter and agents
    assert data["failures"] and set(data["failures"].values()) <= set(LABELS)
    assert isinstance(data["clock_offset_s"], int | float) and data["notes"]
    assert (folder / "README.md").read_text().startswith(f"# Incident `{name}`")
    assert (folder / "junit.xml").is_file() or (folder / "report.jsonl").is_file()
    assert read_export(folder / "logs")


@pytest.mark.parametrize("name", INCIDENTS)
def test_expected_failures_are_the_reports_failures(name: str) -> None:
    """expected.json names exactly the tests the reports say failed, in both report formats."""
    folder, want = FIXTURES / name, list(expected(name)["failures"])
    if (folder / "junit.xml").is_file():
        assert sorted(junit_failures(folder / "junit.xml")[1]) == sorted(want)
    if (folder / "report.jsonl").is_file():
        assert reportlog_failures(folder / "report.jsonl") == want


def test_every_label_has_an_incident() -> None:
    """Every TAXONOMY label except unknown is the answer of some incident; invalid_jwt has several variants."""
    seen: dict[str, int] = {}
    for name in INCIDENTS:
        for label in set(expected(name)["failures"].values()):
            seen[label] = seen.get(label, 0) + 1
    assert set(LABELS) <= set(seen)
    assert seen["invalid_jwt"] >= 2 and seen[UNKNOWN] >= 1


def test_multi_cause_has_several_causes() -> None:
    """The multi-cause incident's failures have at least three different labels."""
    assert len(set(expected("multi_cause")["failures"].values())) >= 3


def test_seed_is_the_seed_run() -> None:
    """The seed incident has 58 tests and the seed report's six WebSocket failures."""
    total, failed = junit_failures(FIXTURES / "seed" / "junit.xml")
    assert total == 58 and sorted(failed) == sorted(SEED_FAILURES)
    text = (FIXTURES / "seed" / "junit.xml").read_text()
    assert text.count("server rejected WebSocket connection: HTTP 403") >= 6


def test_seed_logs_prove_the_missing_bypass_header() -> None:
    """Each runner WebSocket 403 in the seed has the gate's line on the same trace; REST calls were never refused."""
    entries = read_export(FIXTURES / "seed" / "logs")
    runner = [e for e in entries if e.get("httpRequest", {}).get("remoteIp") == RUNNER_IP]
    refused = [e for e in runner if e["httpRequest"]["status"] == 403]
    assert len(refused) >= 6 and all(e["httpRequest"]["requestUrl"].endswith("/ws") for e in refused)
    assert all(e["httpRequest"]["status"] < 400 for e in runner if not e["httpRequest"]["requestUrl"].endswith("/ws"))
    gate = {e["trace"]: e["jsonPayload"]["message"] for e in entries
            if "X-E2E-Bypass-Key" in e.get("jsonPayload", {}).get("message", "")}
    for entry in refused:
        assert "WS /ws" in gate[entry["trace"]]


def test_window_miss_export_ends_before_the_run() -> None:
    """The window-miss export has no entry from the run: every one is older than the suite's first test."""
    entries = read_export(FIXTURES / "window_miss" / "logs")
    first_test = min(json.loads(line)["start"] for line in (FIXTURES / "window_miss" / "report.jsonl").read_text().splitlines()
                     if '"start"' in line)
    from datetime import datetime

    assert all(datetime.fromisoformat(e["timestamp"]).timestamp() < first_test for e in entries)
    assert set(expected("window_miss")["failures"].values()) == {UNKNOWN}


def test_fixtures_stay_small() -> None:
    """All incident folders together stay under 2.5 MB, so the repository stays light."""
    size = sum(p.stat().st_size for name in INCIDENTS for p in (FIXTURES / name).rglob("*") if p.is_file())
    assert size < 2.5 * 1024 * 1024


def _verdicts(name: str) -> dict[str, str]:
    from forensics.triage import triage

    folder = FIXTURES / name
    reports = [p for p in (folder / "junit.xml", folder / "report.jsonl") if p.is_file()]
    result = triage(reports, [folder / "logs"])
    return {v.test_id: v.root_cause for v in result.verdicts}


@pytest.mark.parametrize("name", INCIDENTS)
def test_triage_answers_each_incident(name: str) -> None:
    """forensics.triage gives every failed test of the incident its expected root cause."""
    assert _verdicts(name) == expected(name)["failures"]


@pytest.mark.parametrize("name", INCIDENTS)
def test_readme_is_what_the_generator_writes(name: str) -> None:
    """Each committed README is the one the replica writes for its scenario and expected answer."""
    pytest.importorskip("fastapi")
    from fixtures.replica.run import _readme
    from fixtures.replica.scenarios import SCENARIOS

    assert (FIXTURES / name / "README.md").read_text() == _readme(SCENARIOS[name], expected(name))
