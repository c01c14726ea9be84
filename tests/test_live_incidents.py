"""Live triage of every committed incident equals offline triage of its export.

Each incident folder (``fixtures/<name>/``: a test report and ``logs/``) is served by the local
Cloud Logging API server; the run's window is pulled through the real client and triaged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import forensics
from forensics.emulator import LoggingEmulator, load_export
from forensics.live import pull_logs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INCIDENTS = sorted(d.name for d in FIXTURES.iterdir() if (d / "logs").is_dir() and (d / "expected.json").is_file())


def _report(folder: Path) -> Path:
    return folder / "junit.xml" if (folder / "junit.xml").is_file() else folder / "report.jsonl"


def test_there_are_incidents_to_compare() -> None:
    """The comparison below runs over the committed incidents, not over nothing."""
    assert len(INCIDENTS) >= 10


@pytest.mark.parametrize("name", INCIDENTS)
def test_live_triage_matches_offline_triage(name: str) -> None:
    """Pulling the run's window from the server and triaging it gives the export's verdicts, word for word."""
    folder = FIXTURES / name
    report = _report(folder)
    store = load_export(folder / "logs")
    [project] = sorted({p for p in store.projects})
    with LoggingEmulator(store) as server:
        logs = pull_logs(project, tests=[report], endpoint=server.url, progress=False)
        sent = server.requests_seen[0]["filter"]
    assert "timestamp >=" in sent and len(sent) < 20_000
    live = forensics.triage(report, logs).to_dict()["failures"]
    offline = forensics.triage(report, folder / "logs").to_dict()["failures"]
    assert live == offline
