"""The pytest plugin in real pytest sessions (``pytester``) that really fail.

The sessions run the replica's suite against the replica backend on a real uvicorn, whose logs
reach the local Cloud Logging API as they would reach Cloud Logging (``fixtures.replica.stack``):
the plugin pulls them with the real ``google-cloud-logging`` client. Sessions run in this process
(``runpytest``) unless a separate interpreter is the point (the installed entry point).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import google.cloud.logging  # noqa: F401  (imported before pytester's module snapshot: kept across inner runs)
import pytest

import forensics
import forensics.live
import forensics.plot
import forensics.plugin
import pytest_forensics
from fixtures.replica.config import PROJECT, ServerConfig
from fixtures.replica.harness import SUITE
from fixtures.replica.stack import LiveReplica, empty_api
from forensics.emulator import FaultPlan, LoggingEmulator
from tests import _workflow_commands as wf
from tests.conftest import FIXTURES, ROOT

pytest_plugins = ["pytester"]

SUITE_FILE = "test_1_websocket_events_staging.py"  # 5 tests; its 3 WebSocket tests fail without the bypass key
WS_FAILED = [
    "test_websocket_connection",
    "test_websocket_event_flow_real",
    "test_concurrent_websocket_real",
]
#: the seed's client: REST calls carry the E2E bypass key, WebSocket handshakes do not
SEED_CLIENT = {"ws_bypass": False, "trace": "rest"}
#: the invalid_jwt_signature client: tokens signed with the secret staging rotated away from
BAD_SIGNATURE_CLIENT = {
    "jwt_secret": "staging-jwt-signing-secret-v1-91ab0d",
    "ws_token_via": "header",
}
APP_LINE = "E2E bypass header X-E2E-Bypass-Key missing on automated request WS /ws"
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
#: inner sessions load the plugin by name (installed or not); this process imported it already
PLUGIN = (
    "-p",
    "pytest_forensics",
    "-p",
    "no:randomly",
    "-p",
    "no:cacheprovider",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)


class ShipLogs:
    """Plays Cloud Logging's ingestion: what the backend logged reaches the API ``delay_s`` after
    the session's last test (``None``: never, in this session)."""

    def __init__(
        self,
        live: LiveReplica,
        delay_s: float | None = 0.0,
        *,
        leak: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.live, self.delay_s, self.leak = live, delay_s, leak
        self.timer: threading.Timer | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        time.sleep(0.3)  # the backend's last lines are still in its pipes
        entries = self.live.collect()
        if self.leak:
            self.leak(entries)
        if self.delay_s == 0:
            self.live.ship(entries)
        elif self.delay_s is not None:
            self.timer = threading.Timer(self.delay_s, self.live.ship, [entries])
            self.timer.start()


def leak_rejected_tokens(entries: list[dict[str, Any]]) -> None:
    """An app whose rejection line names the header it rejected: the backend's debug line holds the
    raw ``Authorization`` header of each rejected request; copy it into that request's decision line."""
    headers = {
        e.get("trace"): m.group(1)
        for e in entries
        if (
            m := re.search(
                r"Authorization=(Bearer \S+)", e.get("jsonPayload", {}).get("message", "")
            )
        )
    }
    for e in entries:
        message = e.get("jsonPayload", {}).get("message", "")
        if message.startswith("JWT validation failed") and e.get("trace") in headers:
            e["jsonPayload"]["message"] = f"{message} (Authorization: {headers[e['trace']]})"


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory):
    """The replica backend, with a careless debug line that prints each Authorization header."""
    with (
        empty_api() as first,
        LiveReplica(
            ServerConfig(log_auth_header=True), first, tmp_path_factory.mktemp("replica")
        ) as live,
    ):
        yield live


@pytest.fixture
def api(replica: LiveReplica, monkeypatch: pytest.MonkeyPatch):
    """A fresh local Cloud Logging API for this test, which the backend's logs now go to."""
    replica.ship()  # what earlier tests left in the pipes goes to their API
    with empty_api() as server:
        replica.emulator = server
        monkeypatch.setenv("LOGGING_EMULATOR_HOST", server.host)
        yield server


@pytest.fixture
def suite(pytester: pytest.Pytester, replica: LiveReplica, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The replica's conftest and one test file, set up to fail as the seed run did."""
    e2e = pytester.path / "tests" / "e2e"
    e2e.mkdir(parents=True)
    for name in ("conftest.py", SUITE_FILE):
        shutil.copy(SUITE / "tests" / "e2e" / name, e2e / name)
    monkeypatch.setenv("REPLICA_CLIENT_CONFIG", replica.client_config(**SEED_CLIENT).to_env())
    return e2e


def _run(pytester: pytest.Pytester, *args: str, ship: ShipLogs | None = None) -> pytest.RunResult:
    plugins: list[Any] = [ship] if ship else []
    try:
        return pytester.runpytest(*PLUGIN, *args, plugins=plugins)
    finally:
        if ship and ship.timer:
            ship.timer.cancel()  # a shipment this session did not wait for is not needed any more


def _section(result: pytest.RunResult) -> list[str]:
    """The lines of the forensics section of the terminal summary."""
    lines = result.outlines
    starts = [i for i, line in enumerate(lines) if re.fullmatch(r"=+ forensics =+", line)]
    if not starts:
        return []
    body = lines[starts[0] + 1 :]
    end = next((i for i, line in enumerate(body) if line.startswith("=")), len(body))
    return body[:end]


def _verdicts(section: list[str]) -> dict[str, tuple[str, str]]:
    """test name -> (cause and confidence, the deciding line under it)."""
    out = {}
    for i, line in enumerate(section):
        m = re.match(r"\S+\.py::(\w+) - (.+)$", line)
        if m:
            out[m.group(1)] = (m.group(2), section[i + 1].strip())
    return out


def _phases(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(node id, phase) -> (start, stop) of a reportlog file."""
    out = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec["$report_type"] == "TestReport":
            out[rec["nodeid"], rec["when"]] = (rec["start"], rec["stop"])
    return out


def _secrets(api: LoggingEmulator) -> set[str]:
    """The raw JWTs the backend logged (its careless Authorization debug line)."""
    return {m for text in api.store.texts for m in JWT.findall(text)}


# --- the plugin at work --------------------------------------------------------------------


@pytest.mark.realrun
def test_failures_explained_from_the_live_api(
    pytester: pytest.Pytester, suite: Path, api: LoggingEmulator, replica: LiveReplica
) -> None:
    """Each failed test's proven cause and deciding log line in the summary; the test times are
    pytest-reportlog's own, exactly; pytest's outcome and exit status are those of the run."""
    out = pytester.path / "out"
    result = _run(
        pytester,
        "--forensics",
        f"--forensics-project={PROJECT}",
        f"--forensics-out={out}",
        f"--report-log={pytester.path / 'reportlog.jsonl'}",
        "--forensics-service=chat-backend-staging",
        ship=ShipLogs(replica),
    )
    result.assert_outcomes(passed=2, failed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert all(
        '"chat-backend-staging"' in r["filter"] for r in api.requests_seen
    )  # pushed to the server
    section = _section(result)
    assert section[0].startswith("forensics: 3 failed test(s), from ")
    assert any(
        re.match(rf"pulled \d+ entries of {PROJECT} from {re.escape(api.url)} ", s) for s in section
    )
    verdicts = _verdicts(section)
    assert sorted(verdicts) == sorted(WS_FAILED)
    for cause, line in verdicts.values():
        assert re.fullmatch(r"missing_bypass_header 0\.\d\d", cause)
        assert APP_LINE in line
    assert "causes: missing_bypass_header 3" in section
    assert not any(
        line.startswith("FAILED") for line in section
    )  # pytest's own FAILED lines stay 3
    assert _phases(out / "report.jsonl") == _phases(pytester.path / "reportlog.jsonl")
    assert len(_phases(out / "report.jsonl")) == 15  # 5 tests x setup, call, teardown
    tests = forensics.read_tests(out / "report.jsonl").frame
    assert tests["window_uncertainty_s"].to_list() == [0.0] * 5 and set(tests["clock"]) == {"utc"}
    triaged = json.loads((out / "triage.json").read_text())
    assert {
        f["test_id"].rsplit("::", 1)[1]: f["root_cause"] for f in triaged["failures"]
    } == dict.fromkeys(WS_FAILED, "missing_bypass_header")


@pytest.mark.realrun
def test_secrets_the_backend_logged_are_never_shown(
    pytester: pytest.Pytester,
    suite: Path,
    api: LoggingEmulator,
    replica: LiveReplica,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The client signs with a rotated-out secret and the backend's rejection lines (the deciding
    lines) carry the rejected Authorization header. The summary, the annotations, the job summary
    and every report file show the verdict and redaction markers, never a token."""
    monkeypatch.setenv(
        "REPLICA_CLIENT_CONFIG", replica.client_config(**BAD_SIGNATURE_CLIENT).to_env()
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "step_summary.md"))
    out = pytester.path / "out"
    result = _run(
        pytester,
        "--forensics",
        f"--forensics-project={PROJECT}",
        f"--forensics-out={out}",
        ship=ShipLogs(replica, leak=leak_rejected_tokens),
    )
    result.assert_outcomes(passed=1, failed=4)
    verdicts = _verdicts(_section(result))
    assert len(verdicts) == 4 and all(
        c.startswith("invalid_jwt (bad_signature) ") for c, _ in verdicts.values()
    )
    secrets = _secrets(api)
    assert secrets, "the backend logged no token: this check would prove nothing"
    assert all(
        "(Authorization: Bearer [REDACTED " in line for _, line in verdicts.values()
    )  # deciding lines
    files = [p for p in out.iterdir() if p.suffix in (".md", ".txt", ".json", ".jsonl")]
    shown = result.stdout.str() + "".join(
        p.read_text() for p in [*files, pytester.path / "step_summary.md"]
    )
    assert not any(s in shown or s.split(".")[1] in shown for s in secrets)


@pytest.mark.realrun
def test_xdist_workers_times_and_github_outputs(
    pytester: pytest.Pytester,
    suite: Path,
    api: LoggingEmulator,
    replica: LiveReplica,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With two xdist workers the workers' phase times reach the controller (as reportlog's do), the
    verdicts are the same, and on GitHub Actions each failure is annotated at its line in the test
    file and the job summary tables the causes."""
    pytest.importorskip("xdist")
    step = pytester.path / "step_summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(pytester.path))
    out = pytester.path / "out"
    result = _run(
        pytester,
        "-n",
        "2",
        "--forensics",
        f"--forensics-project={PROJECT}",
        f"--forensics-out={out}",
        f"--report-log={pytester.path / 'reportlog.jsonl'}",
        ship=ShipLogs(replica),
    )
    result.assert_outcomes(passed=2, failed=3)
    records = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    assert {r.get("worker_id") for r in records if r["$report_type"] == "TestReport"} == {
        "gw0",
        "gw1",
    }
    assert _phases(out / "report.jsonl") == _phases(pytester.path / "reportlog.jsonl")
    verdicts = _verdicts(_section(result))
    assert sorted(verdicts) == sorted(WS_FAILED)
    assert all(cause.startswith("missing_bypass_header ") for cause, _ in verdicts.values())

    commands = [wf.parse(line) for line in result.outlines if line.startswith("::")]
    assert len(commands) == 3
    source = (suite / SUITE_FILE).read_text().splitlines()
    for cmd in commands:
        assert cmd.name == "error" and cmd.properties["title"] == "forensics: missing_bypass_header"
        assert cmd.properties["file"] == f"tests/e2e/{SUITE_FILE}"
        line = int(cmd.properties["line"])
        name = cmd.data.split("::", 2)[1].split(":")[0]
        assert name in WS_FAILED and APP_LINE in cmd.data
        test_def = next(i for i, text in enumerate(source, 1) if text.startswith(f"def {name}("))
        assert test_def < line and all(
            not text.startswith("def ") for text in source[test_def:line]
        )
        assert (
            f"tests/e2e/{SUITE_FILE}:{line}: " in result.stdout.str()
        )  # the line pytest's traceback shows
    summary = step.read_text()
    assert summary.startswith("## forensics: 3 failed test(s)")
    assert sum(1 for row in summary.splitlines() if row.startswith("| `tests/e2e/")) == 3
    assert summary == (out / "summary.md").read_text()


@pytest.mark.realrun
def test_waits_for_late_entries_within_the_bound(
    pytester: pytest.Pytester, suite: Path, api: LoggingEmulator, replica: LiveReplica
) -> None:
    """Entries that reach the API seconds after the run are waited for, and the wait is shown."""
    result = _run(
        pytester,
        "--forensics",
        f"--forensics-project={PROJECT}",
        "--forensics-wait=60",
        ship=ShipLogs(replica, delay_s=2.0),
    )
    section = _section(result)
    waited = [s for s in section if s.startswith("waited ")]
    assert len(waited) == 1 and re.fullmatch(
        r"waited \d+\.\d s for late entries \(\d+ pulls\)", waited[0]
    )
    assert float(waited[0].split()[1]) < 60
    assert all(
        cause.startswith("missing_bypass_header ") for cause, _ in _verdicts(section).values()
    )


@pytest.mark.realrun
def test_no_wait_takes_the_logs_as_they_are(
    pytester: pytest.Pytester, suite: Path, api: LoggingEmulator, replica: LiveReplica
) -> None:
    """With --forensics-wait 0 the one pull is all: entries that come later are not seen, and the
    summary says so instead of waiting."""
    result = _run(
        pytester,
        "--forensics",
        f"--forensics-project={PROJECT}",
        "--forensics-wait=0",
        ship=ShipLogs(replica, delay_s=None),
    )
    section = _section(result)
    assert (
        "the logs did not reach the last failed test within --forensics-wait 0 s; entries still "
        "arriving were not seen" in section
    )
    assert not any(s.startswith("waited ") for s in section)
    assert {cause for cause, _ in _verdicts(section).values()} == {"unknown 0.00"}
    result.assert_outcomes(passed=2, failed=3)


# --- off, and everything that can go wrong -------------------------------------------------


@pytest.mark.realrun
def test_plugin_off_changes_nothing(
    pytester: pytest.Pytester, suite: Path, api: LoggingEmulator, replica: LiveReplica
) -> None:
    """Without --forensics (even with the other options) the run is the run without the plugin:
    same outcomes and exit status, no section, no file, not one request to Cloud Logging."""
    with_options = _run(
        pytester,
        f"--forensics-project={PROJECT}",
        f"--forensics-out={pytester.path / 'out'}",
        ship=ShipLogs(replica),
    )
    without = pytester.runpytest(
        "-p", "no:pytest_forensics", "-p", "no:randomly", "-p", "no:cacheprovider"
    )
    for result in (with_options, without):
        result.assert_outcomes(passed=2, failed=3)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        assert _section(result) == []
        # pytest's header names the installed plugin distribution ("plugins: forensics-0.1.0")
        said = [line for line in result.outlines if not line.startswith("plugins:")]
        assert not any("forensics" in line for line in said)
    assert not (pytester.path / "out").exists()
    assert list(api.requests_seen) == []


def _failing_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fails="""
        def test_passes():
            pass

        def test_fails():
            assert 1 + 1 == 3
    """
    )


def _warning(result: pytest.RunResult) -> str:
    """The section's only line (a warning), after checking pytest ended as it would have."""
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.outlines[-1].startswith("=") and "1 failed, 1 passed" in result.outlines[-1]
    section = _section(result)
    assert len(section) == 1, section
    assert section[0].startswith("forensics: warning: ")
    assert section[0].endswith("; the failures were not triaged; pytest's outcome is unchanged")
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    return section[0]


def test_no_credentials_is_one_warning(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pulling from Google without credentials: one line saying what to run, the session as it was."""
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(pytester.path / "gcloud"))
    _failing_test(pytester)
    line = _warning(_run(pytester, "--forensics", "--forensics-project=acme-chat-staging"))
    assert "no Google credentials" in line and "gcloud auth application-default login" in line


def test_nothing_to_read_logs_from_is_one_warning(pytester: pytest.Pytester) -> None:
    """--forensics with no project, no GOOGLE_CLOUD_PROJECT and no export."""
    _failing_test(pytester)
    assert "no --forensics-project, GOOGLE_CLOUD_PROJECT or --forensics-logs" in _warning(
        _run(pytester, "--forensics")
    )


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (
            {"kind": "429", "times": 100, "retry_after": 0.01},
            "Cloud Logging read quota stayed exhausted after 7 tries",
        ),
        ({"kind": "503", "times": 100, "retry_after": 0.01}, "failed 4 times in a row (503"),
    ],
)
def test_server_refusing_is_one_warning(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fault: dict[str, Any], said: str
) -> None:
    """The API answering 429 (quota) or 503 to every request: retried as the pull retries, then one line."""
    _failing_test(pytester)
    with empty_api(project="acme-chat-staging") as server:
        server.faults.replace(FaultPlan.parse([fault]))
        monkeypatch.setenv("LOGGING_EMULATOR_HOST", server.host)
        line = _warning(_run(pytester, "--forensics", "--forensics-project=acme-chat-staging"))
        assert said in line
        assert len(server.requests_seen) > 1 and all(
            r["status"] != 200 for r in server.requests_seen
        )


def test_crash_inside_the_triage_is_one_warning(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug inside forensics (here: the triage raising) ends the session normally, with one line."""

    def broken_triage(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero in the engine")

    monkeypatch.setattr(forensics, "triage", broken_triage)
    _failing_test(pytester)
    line = _warning(_run(pytester, "--forensics", f"--forensics-logs={FIXTURES / 'seed' / 'logs'}"))
    assert "internal error (ZeroDivisionError: division by zero in the engine)" in line


def test_settings_from_pyproject(pytester: pytest.Pytester) -> None:
    """[tool.pytest.ini_options] turns it on and sets the export and the report folder (relative to
    the ini file); a wait that is no number is one warning."""
    shutil.copytree(FIXTURES / "seed" / "logs", pytester.path / "exports")
    pytester.makepyprojecttoml("""
        [tool.pytest.ini_options]
        forensics = true
        forensics_logs = ["exports"]
        forensics_out = "reports"
    """)
    _failing_test(pytester)
    result = _run(pytester)
    section = _section(result)
    assert section[0].startswith("forensics: 1 failed test(s), from 252 log entries")
    assert f"read 252 log entries from {pytester.path / 'exports'}" in section
    assert (pytester.path / "reports" / "report.jsonl").is_file()
    assert (pytester.path / "reports" / "triage.json").is_file()
    assert "test_fails.py::test_fails - unknown 0.00" in section

    bad = _run(pytester, "-o", "forensics_wait=soon")
    assert "--forensics-wait 'soon' is not a number of seconds from 0 to 600" in _warning(bad)


# --- installed with the package --------------------------------------------------------------


def _installed_entry_point(site: Path) -> None:
    """A dist-info holding the pytest11 entry point pyproject.toml declares, as pip would write it."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][
        "pytest11"
    ]
    info = site / "forensics_entry_point-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: forensics-entry-point\nVersion: 0\n"
    )
    (info / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in declared.items())
    )


@pytest.mark.realrun
def test_entry_point_loads_the_plugin_and_costs_nothing_unused(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed, the plugin loads in every session without -p; unused, it does not even import
    forensics (no polars, no rules) and changes nothing."""
    site = pytester.path / "site"
    _installed_entry_point(site)
    monkeypatch.setenv("PYTHONPATH", f"{site}:{ROOT}")
    assert pytest_forensics.__file__ == str(ROOT / "pytest_forensics.py")
    pytester.makeconftest("""
        import sys
        def pytest_unconfigure(config):
            with open("imported.txt", "w") as fh:
                fh.write(str(sorted(m for m in sys.modules if m == "forensics" or m.startswith(("forensics.", "polars")))))
    """)
    _failing_test(pytester)
    helped = pytester.runpytest_subprocess("--help")
    assert (
        "--forensics-project=ID" in helped.stdout.str() and "forensics_wait" in helped.stdout.str()
    )
    unused = pytester.runpytest_subprocess("-p", "no:randomly")
    unused.assert_outcomes(passed=1, failed=1)
    assert (pytester.path / "imported.txt").read_text() == "[]"
    used = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--forensics", f"--forensics-logs={FIXTURES / 'seed' / 'logs'}"
    )
    used.assert_outcomes(passed=1, failed=1)
    assert "test_fails.py::test_fails - unknown 0.00" in _section(used)
    assert sys.modules["pytest_forensics"] is pytest_forensics


def test_reports_that_cannot_be_written_are_a_note(pytester: pytest.Pytester) -> None:
    """--forensics-out naming a file: the verdicts are still shown, with a note that no report was written."""
    (pytester.path / "taken").write_text("a file, not a folder\n")
    _failing_test(pytester)
    result = _run(
        pytester,
        "--forensics",
        f"--forensics-logs={FIXTURES / 'seed' / 'logs'}",
        f"--forensics-out={pytester.path / 'taken'}",
    )
    section = _section(result)
    assert "test_fails.py::test_fails - unknown 0.00" in section
    assert any(
        line.startswith(f"the reports were not written to {pytester.path / 'taken'}: ")
        for line in section
    )
    result.assert_outcomes(passed=1, failed=1)


def test_history_records_failing_and_passing_runs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--forensics-history records the run, passing runs too, and `forensics history` compares them."""
    from forensics.history import compare, load

    history = pytester.path / "history"
    monkeypatch.setenv("GITLAB_CI", "true")  # the CI facts: a commit per run
    monkeypatch.setenv("CI_COMMIT_SHA", "1" * 40)
    _failing_test(pytester)
    failing = _run(
        pytester,
        "--forensics",
        f"--forensics-logs={FIXTURES / 'seed' / 'logs'}",
        f"--forensics-history={history}",
    )
    failing.assert_outcomes(passed=1, failed=1)
    assert f"run recorded in {history}" in _section(failing)
    monkeypatch.setenv("CI_COMMIT_SHA", "2" * 40)  # the fix
    (pytester.path / "test_fails.py").write_text(
        "def test_passes():\n    pass\n\ndef test_fails():\n    pass\n"
    )
    passing = _run(
        pytester,
        "--forensics",
        f"--forensics-logs={FIXTURES / 'seed' / 'logs'}",
        f"--forensics-history={history}",
    )
    passing.assert_outcomes(passed=2)
    assert f"run recorded in {history}" in _section(passing)
    runs = load(history)
    assert runs.get_column("run_id").n_unique() == 2
    status = {t.test_id.split("::")[-1]: t.status for t in compare(history, last=2).tests}
    assert status == {"test_fails": "fixed", "test_passes": "passing"}


def test_history_from_pyproject_and_unwritable_is_a_note(pytester: pytest.Pytester) -> None:
    """forensics_history in [tool.pytest.ini_options]; a history that cannot be written is a note."""
    (pytester.path / "taken").write_text("a file, not a folder\n")
    pytester.makepyprojecttoml(
        "[tool.pytest.ini_options]\nforensics = true\nforensics_history = 'taken'\n"
        f"forensics_logs = ['{FIXTURES / 'seed' / 'logs'}']\n"
    )
    _failing_test(pytester)
    result = _run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    assert any(
        line.startswith(f"the run was not recorded in {pytester.path / 'taken'}")
        for line in _section(result)
    )
