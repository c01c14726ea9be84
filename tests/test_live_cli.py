"""The `pull` command and `triage --project` against the local server, in-process and as subprocesses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.emulator import EntryStore, FaultPlan, LoggingEmulator, load_export
from forensics.emulator.synth import synthetic_entries
from tests import _live_server

emulator = _live_server.emulator  # the fixture: the module's `server`, reset for each test

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "demo-project"
RUN = {"type": "cloud_run_revision", "labels": {"project_id": PROJECT, "service_name": "api",
                                                "revision_name": "api-00001-abc", "location": "europe-west1"}}
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="2" skipped="0" tests="3" time="6.0"
 timestamp="2026-01-15T10:02:00.000000+00:00" hostname="runner">
<testcase classname="tests.e2e.test_ws" name="test_connect" time="2.0"><failure
 message="websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403">E   \
websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403</failure></testcase>
<testcase classname="tests.e2e.test_api" name="test_items" time="3.0"><failure
 message="AssertionError: expected 200, got 500">E   AssertionError: expected 200, got 500 for GET \
https://api-xyz.a.run.app/items/7</failure></testcase>
<testcase classname="tests.e2e.test_api" name="test_health" time="1.0"/>
</testsuite></testsuites>
"""


def _incident_entries() -> list[dict]:
    """Other clients' traffic around the run, a VM's syslog, last week's error, and the run's two failures."""
    noise = synthetic_entries(60, project=PROJECT, step_ms=5000)
    for entry in noise:
        if "httpRequest" in entry:
            entry["httpRequest"].update(remoteIp="192.0.2.50", userAgent="Mozilla/5.0 (monitoring)")
    requests = f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests"
    return [*noise, {
        "insertId": "ws403", "timestamp": "2026-01-15T10:02:00.700Z", "severity": "WARNING", "logName": requests,
        "resource": RUN, "trace": f"projects/{PROJECT}/traces/aaaabbbbccccddddeeeeffff00001111",
        "httpRequest": {"requestMethod": "GET", "requestUrl": "https://api-xyz.a.run.app/ws", "status": 403,
                        "latency": "0s", "userAgent": "Python/3.11 websockets/15.0.1", "remoteIp": "198.51.100.9"},
        "textPayload": "The request was not authenticated. Either allow unauthenticated invocations or set "
                       "the proper Authorization header.",
    }, {
        "insertId": "items500", "timestamp": "2026-01-15T10:02:03.100Z", "severity": "ERROR", "logName": requests,
        "resource": RUN, "trace": f"projects/{PROJECT}/traces/aaaabbbbccccddddeeeeffff00002222",
        "httpRequest": {"requestMethod": "GET", "requestUrl": "https://api-xyz.a.run.app/items/7", "status": 500,
                        "latency": "0.120s", "userAgent": "python-requests/2.32.3", "remoteIp": "198.51.100.9"},
    }, {
        "insertId": "items500log", "timestamp": "2026-01-15T10:02:03.090Z", "severity": "ERROR",
        "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr", "resource": RUN,
        "trace": f"projects/{PROJECT}/traces/aaaabbbbccccddddeeeeffff00002222",
        "textPayload": "Traceback (most recent call last):\n  File \"/app/main.py\", line 40, in items\n"
                       "    raise KeyError(item_id)\nKeyError: '7'",
    }, {
        "insertId": "lastweek", "timestamp": "2026-01-08T10:02:03Z", "severity": "ERROR",
        "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr", "resource": RUN,
        "textPayload": "KeyError: '7'",
    }]


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the run's JUnit report and its project's export."""
    folder = tmp_path_factory.mktemp("incident")
    (folder / "junit.xml").write_text(JUNIT)
    with (folder / "logs.jsonl").open("w") as fh:
        fh.writelines(json.dumps(e) + "\n" for e in _incident_entries())
    return folder


@pytest.fixture(scope="module")
def server(incident: Path):
    with LoggingEmulator(load_export(incident / "logs.jsonl")) as srv:
        yield srv


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "LOGGING_EMULATOR_HOST"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "forensics", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_pull_subprocess_writes_a_jsonl_export_of_the_window(emulator: LoggingEmulator, tmp_path: Path) -> None:
    """`forensics pull` writes the window's entries, one LogEntry per line, and reports what it did."""
    out = tmp_path / "pulled.jsonl"
    done = _cli("pull", "--project", PROJECT, "--endpoint", emulator.url, "--since", "2026-01-15T10:02:00Z",
                "--until", "2026-01-15T10:02:10Z", "--out", str(out))  # a typed window gets no slack
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    ids = [json.loads(line)["insertId"] for line in lines]
    assert {"ws403", "items500", "items500log"} <= set(ids) and "lastweek" not in ids
    assert all("10:02:0" in json.loads(line)["timestamp"] or "10:02:10" in json.loads(line)["timestamp"]
               for line in lines)
    assert f"pulled {len(lines)} entries of {PROJECT}" in done.stderr
    from forensics.logs import read_logs

    assert read_logs(out).frame.height == len(lines)  # the export is one the other commands read


def test_pull_around_tests_uses_the_report_window(
    emulator: LoggingEmulator, incident: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--around-tests pulls the run's span plus slack, found through LOGGING_EMULATOR_HOST."""
    monkeypatch.setenv("LOGGING_EMULATOR_HOST", emulator.host)
    out = tmp_path / "run.jsonl"
    assert main(["pull", "--project", PROJECT, "--around-tests", str(incident / "junit.xml"),
                 "--slack", "30", "--out", str(out)]) == 0
    sent = emulator.requests_seen[0]["filter"]
    lo, hi = (datetime.fromisoformat(t) for t in re.findall(r'timestamp [<>]= "([^"]+)"', sent))
    # the report spans 10:02:00-10:02:06; 30 s of slack plus the report's own timing uncertainty (< 1 s)
    assert abs((lo - datetime(2026, 1, 15, 10, 1, 30, tzinfo=UTC)).total_seconds()) < 1
    assert abs((hi - datetime(2026, 1, 15, 10, 2, 36, tzinfo=UTC)).total_seconds()) < 1
    ids = {json.loads(line)["insertId"] for line in out.read_text().splitlines()}
    assert {"ws403", "items500", "items500log"} <= ids


def test_second_pull_is_served_from_the_cache_and_refresh_pulls_again(
    emulator: LoggingEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repeated pull reads the cache (no request); --refresh goes back to the API."""
    args = ["pull", "--project", PROJECT, "--endpoint", emulator.url, "--since", "2026-01-15T10:00:00Z",
            "--until", "2026-01-15T10:01:00Z", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "o")]
    assert main(args) == 0 and main(args) == 0
    assert len(emulator.requests_seen) == 1
    assert "from the cache" in capsys.readouterr().err
    assert main([*args, "--refresh"]) == 0
    assert len(emulator.requests_seen) == 2


@pytest.mark.parametrize(("extra", "fault", "message"), [
    (["--project", "nope"], None, "project nope was not found"),
    (["--project", PROJECT], {"kind": "403"}, "roles/logging.viewer"),
    (["--project", PROJECT, "--filter", "severity >= LOUD"], None, "rejected the filter"),
])
def test_pull_failures_print_one_line_and_exit_2(
    emulator: LoggingEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    extra: list[str], fault: dict | None, message: str,
) -> None:
    """Pull errors are one `forensics: error:` line saying what to do, exit code 2, no traceback."""
    if fault:
        emulator.faults.replace(FaultPlan.parse([fault]))
    code = main(["pull", "--endpoint", emulator.url, "--since", "2026-01-15T10:00:00Z",
                 "--until", "2026-01-15T10:01:00Z", "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("forensics: error: ") and message in err[0]
    assert not (tmp_path / "o").exists()


def test_pull_needs_a_window(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Without --since or --around-tests, pull says which option is missing."""
    assert main(["pull", "--project", PROJECT, "--endpoint", "127.0.0.1:9", "--out", str(tmp_path / "o")]) == 2
    assert "needs --since" in capsys.readouterr().err


def test_live_triage_gives_the_same_answers_as_offline_triage(emulator: LoggingEmulator, incident: Path) -> None:
    """`triage --project --endpoint` as a subprocess explains each failure as triage of the export does."""
    offline = _cli("triage", "--tests", str(incident / "junit.xml"), "--logs", str(incident / "logs.jsonl"),
                   "--format", "json")
    live = _cli("triage", "--tests", str(incident / "junit.xml"), "--project", PROJECT,
                "--endpoint", emulator.url, "--format", "json")
    assert offline.returncode == 0, offline.stderr
    assert live.returncode == 0, live.stderr
    offline_failures = json.loads(offline.stdout)["failures"]
    live_failures = json.loads(live.stdout)["failures"]
    assert [f["test_id"] for f in offline_failures] == ["tests/e2e/test_ws.py::test_connect",
                                                         "tests/e2e/test_api.py::test_items"]
    assert live_failures == offline_failures  # labels, confidence, evidence and explanations alike
    assert json.loads(live.stdout)["run"]["logs"]["files"] == [f"cloud-logging:{PROJECT}"]
    assert len(emulator.requests_seen) == 1 and "timestamp >=" in emulator.requests_seen[0]["filter"]


def test_triage_without_logs_or_project_says_what_to_pass(
    incident: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """triage needs either an export or a project to pull from."""
    for name in ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud project either
    assert main(["triage", "--tests", str(incident / "junit.xml")]) == 2
    assert "--logs PATH" in capsys.readouterr().err


def test_live_triage_through_the_environment_variable(incident: Path, tmp_path: Path) -> None:
    """LOGGING_EMULATOR_HOST alone points triage --project at a local server started as a module."""
    proc = subprocess.Popen([sys.executable, "-m", "forensics.emulator", "--logs", str(incident / "logs.jsonl"),
                             "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        host = proc.stdout.readline().strip().split("=", 1)[1]
        done = _cli("triage", "--tests", str(incident / "junit.xml"), "--project", PROJECT, "--format", "json",
                    env={"LOGGING_EMULATOR_HOST": host, "FORENSICS_CACHE_DIR": str(tmp_path)})
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["failures"]) == 2
    assert list(tmp_path.glob("*.parquet"))


def test_store_serves_what_triage_pulls() -> None:
    """The entries the server holds for the project are the export's entries (nothing lost on load)."""
    store = EntryStore.from_entries(_incident_entries())
    assert len(store.entries) == 64 and store.project_ids == {PROJECT}


def test_pull_around_a_report_without_zones_covers_the_utc_reading(
    emulator: LoggingEmulator, incident: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report with zone-less times pulls each zone's window (the UTC one included) and says so."""
    naive = tmp_path / "naive.xml"
    naive.write_text(JUNIT.replace("2026-01-15T10:02:00.000000+00:00", "2026-01-15T10:02:00.000000"))
    out = tmp_path / "run.jsonl"
    assert main(["pull", "--project", PROJECT, "--endpoint", emulator.url, "--around-tests", str(naive),
                 "--out", str(out)]) == 0
    assert "have no time zone" in capsys.readouterr().err
    assert emulator.requests_seen[0]["filter"].count("timestamp >=") > 1
    ids = {json.loads(line)["insertId"] for line in out.read_text().splitlines()}
    assert {"ws403", "items500", "items500log"} <= ids and "lastweek" not in ids


def test_pull_to_a_missing_folder_fails_before_any_request(
    emulator: LoggingEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An --out in a folder that does not exist is refused before read quota is spent."""
    out = tmp_path / "no" / "such" / "run.jsonl"
    assert main(["pull", "--project", PROJECT, "--endpoint", emulator.url, "--since", "2026-01-15T10:00:00Z",
                 "--until", "2026-01-15T10:01:00Z", "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err and len(emulator.requests_seen) == 0


def test_pull_to_a_folder_path_leaves_no_temporary_file(
    emulator: LoggingEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the export cannot be moved into place, the error is one line and no temporary file stays."""
    (tmp_path / "taken").mkdir()
    assert main(["pull", "--project", PROJECT, "--endpoint", emulator.url, "--since", "2026-01-15T10:00:00Z",
                 "--until", "2026-01-15T10:01:00Z", "--out", str(tmp_path / "taken")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_report_window_gets_fifteen_minutes_of_slack_by_default(
    emulator: LoggingEmulator, incident: Path, tmp_path: Path
) -> None:
    """Without --slack, a report's window is widened by 15 minutes each side (runner clocks drift)."""
    assert main(["pull", "--project", PROJECT, "--endpoint", emulator.url, "--around-tests",
                 str(incident / "junit.xml"), "--out", str(tmp_path / "o.jsonl")]) == 0
    sent = emulator.requests_seen[0]["filter"]
    lo, hi = (datetime.fromisoformat(t) for t in re.findall(r'timestamp [<>]= "([^"]+)"', sent))
    assert abs((lo - datetime(2026, 1, 15, 9, 47, tzinfo=UTC)).total_seconds()) < 1
    assert abs((hi - datetime(2026, 1, 15, 10, 17, 6, tzinfo=UTC)).total_seconds()) < 1


def test_pull_logs_gives_a_notebook_the_run_window_and_triage_agrees(
    emulator: LoggingEmulator, incident: Path
) -> None:
    """pull_logs(project, tests=...) returns LoadedLogs that triage reads like the export."""
    import forensics
    from forensics.live import pull_logs

    logs = pull_logs(PROJECT, tests=[incident / "junit.xml"], endpoint=emulator.url, progress=False)
    assert logs.files == [f"cloud-logging:{PROJECT}"]
    assert {"ws403", "items500", "items500log"} <= set(logs.frame.get_column("insert_id").to_list())
    live = forensics.triage(incident / "junit.xml", logs).to_dict()["failures"]
    offline = forensics.triage(incident / "junit.xml", incident / "logs.jsonl").to_dict()["failures"]
    assert live == offline


@pytest.mark.parametrize(("option", "message"), [
    (["--slack", "-100"], "--slack -100 is not a number of seconds"),
    (["--slack", "inf"], "--slack inf is not a number of seconds"),
    (["--max-entries", "0"], "--max-entries 0 is not a count of at least 1"),
])
def test_pull_refuses_negative_slack_and_counts_in_one_line(
    emulator: LoggingEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str], message: str
) -> None:
    """A --slack outside 0..10 years or a --max-entries below 1 is one usage error, not a traceback or a bad pull."""
    code = main(["pull", "--project", PROJECT, "--endpoint", emulator.url, "--since", "2026-01-15T10:00:00Z",
                 "--until", "2026-01-15T10:05:00Z", "--out", str(tmp_path / "x.jsonl"), *option])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.jsonl").exists()


def test_pull_of_a_window_at_the_edge_of_the_calendar_is_a_usage_error(
    emulator: LoggingEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A window whose slack would reach before year 1 is one usage error, not an internal OverflowError."""
    code = main(["pull", "--project", PROJECT, "--endpoint", emulator.url, "--since", "0001-01-01T00:00:00Z",
                 "--until", "0001-01-01T00:10:00Z", "--slack", "900", "--out", str(tmp_path / "x.jsonl")])
    assert code == 2
    assert "runs past the dates a filter can name" in capsys.readouterr().err
