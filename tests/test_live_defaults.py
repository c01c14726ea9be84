"""What a gcloud user already has set: the project from the environment or gcloud's config,
the local server from LOGGING_EMULATOR_HOST, durations for --since, stdout for --out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.emulator import LoggingEmulator, load_export
from forensics.exceptions import CredentialsError
from forensics.sources.cloud_logging import default_project
from forensics.sources.cloud_logging.connect import google_credentials
from tests import _live_server
from tests.test_live_cli import JUNIT, PROJECT, _incident_entries

emulator = _live_server.emulator

_PROJECT_VARS = ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "CLOUDSDK_ACTIVE_CONFIG_NAME")


@pytest.fixture
def no_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No project in the environment and an empty gcloud config folder (returned)."""
    for name in (*_PROJECT_VARS, "LOGGING_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "gcloud"
    config.mkdir()
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(config))
    monkeypatch.setenv("FORENSICS_CACHE_DIR", str(tmp_path / "cache"))
    return config


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("incident")
    (folder / "junit.xml").write_text(JUNIT)
    with (folder / "logs.jsonl").open("w") as fh:
        fh.writelines(json.dumps(e) + "\n" for e in _incident_entries())
    return folder


@pytest.fixture(scope="module")
def server(incident: Path):
    with LoggingEmulator(load_export(incident / "logs.jsonl")) as srv:
        yield srv


def _gcloud_config(folder: Path, name: str, project: str) -> None:
    (folder / "configurations").mkdir(exist_ok=True)
    (folder / "configurations" / f"config_{name}").write_text(
        f"[core]\naccount = me@example.com\nproject = {project}\n\n[compute]\nregion = europe-west1\n"
    )


def test_project_comes_from_the_environment_then_gcloud(
    no_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOOGLE_CLOUD_PROJECT first, then CLOUDSDK_CORE_PROJECT, then gcloud's active configuration."""
    assert default_project() is None
    _gcloud_config(no_project, "default", "from-gcloud")
    assert default_project() == "from-gcloud"
    _gcloud_config(no_project, "work", "from-work-config")
    (no_project / "active_config").write_text("work\n")
    assert default_project() == "from-work-config"
    monkeypatch.setenv("CLOUDSDK_CORE_PROJECT", "from-cloudsdk")
    assert default_project() == "from-cloudsdk"
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    assert default_project() == "from-env"


def test_a_broken_gcloud_config_is_as_if_there_were_none(no_project: Path) -> None:
    """An unparsable config file means no project, never a traceback."""
    (no_project / "configurations").mkdir()
    (no_project / "configurations" / "config_default").write_text("project = no section\n[[[\n")
    assert default_project() is None


def test_google_cloud_project_and_emulator_host_are_enough_to_triage(
    no_project: Path,
    emulator: LoggingEmulator,
    incident: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``triage --tests junit.xml`` with only the two variables set pulls from the local server."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("LOGGING_EMULATOR_HOST", emulator.host)
    assert main(["triage", "--tests", str(incident / "junit.xml"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["run"]["logs"]["files"] == [f"cloud-logging:{PROJECT}"]
    assert {f["test_id"] for f in data["failures"]} == {
        "tests/e2e/test_ws.py::test_connect",
        "tests/e2e/test_api.py::test_items",
    }
    assert len(emulator.requests_seen) == 1


def test_gcloud_config_project_stands_for_project_in_pull(
    no_project: Path,
    emulator: LoggingEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``pull`` without --project uses gcloud's configured project."""
    _gcloud_config(no_project, "default", PROJECT)
    args = ["pull", "--endpoint", emulator.url, "--since", "2026-01-15T10:02:00Z"]
    assert main([*args, "--until", "2026-01-15T10:02:10Z", "--out", str(tmp_path / "o.jsonl")]) == 0
    assert f"of {PROJECT}" in capsys.readouterr().err


def test_without_any_project_the_error_says_where_one_comes_from(
    no_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --project, variable or gcloud config: one line naming all three ways, exit 2."""
    assert main(["pull", "--since", "1h", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--project" in err and "GOOGLE_CLOUD_PROJECT" in err and "gcloud config" in err


def test_pull_out_dash_writes_the_export_to_stdout(
    no_project: Path,
    emulator: LoggingEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``pull --out -`` prints one LogEntry per line on stdout and creates no file named ``-``."""
    monkeypatch.chdir(tmp_path)
    args = [
        "pull",
        "--project",
        PROJECT,
        "--endpoint",
        emulator.url,
        "--since",
        "2026-01-15T10:02:00Z",
        "--until",
        "2026-01-15T10:02:10Z",
        "--out",
        "-",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    ids = {json.loads(line)["insertId"] for line in captured.out.splitlines()}
    assert {"ws403", "items500", "items500log"} <= ids
    assert "to stdout" in captured.err
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("flags", "ago"),
    [
        (["--since", "1h"], 3600),
        (["--freshness", "1h"], 3600),
        (["--since", "90m"], 5400),
        (["--freshness", "2d"], 172800),
        (["--since", "45s"], 45),
    ],
)
def test_since_and_freshness_take_durations(
    flags: list[str], ago: int, no_project: Path, emulator: LoggingEmulator, tmp_path: Path
) -> None:
    """``--since 1h`` / ``--freshness 1h`` pull the last hour (s, m, h, d as gcloud takes them)."""
    args = ["pull", "--project", PROJECT, "--endpoint", emulator.url, *flags]
    assert main([*args, "--out", str(tmp_path / "o.jsonl")]) == 0
    sent = emulator.requests_seen[0]["filter"]
    lo, hi = (datetime.fromisoformat(t) for t in re.findall(r'timestamp [<>]= "([^"]+)"', sent))
    now = datetime.now(UTC)
    assert abs((now - lo) - timedelta(seconds=ago)) < timedelta(seconds=60)
    assert abs(now - hi) < timedelta(seconds=60)


def test_since_that_is_neither_a_time_nor_a_duration_is_refused(
    no_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--since yesterday`` says what it takes, exit 2; --since and --freshness together are refused."""
    base = ["pull", "--project", PROJECT, "--endpoint", "127.0.0.1:9", "--out", str(tmp_path / "o")]
    assert main([*base, "--since", "yesterday"]) == 2
    assert "a duration like 1h" in capsys.readouterr().err
    assert main([*base, "--since", "1h", "--freshness", "1h"]) == 2
    assert "not both" in capsys.readouterr().err


def test_missing_credentials_message_is_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """google.auth's long message is given as its whole first sentence plus what to run, never cut mid-word."""
    import google.auth
    from google.auth import exceptions

    message = (
        "Your default credentials were not found. To set up Application Default Credentials, "
        "see https://cloud.google.com/docs/authentication/external/set-up-adc for more information."
    )

    def no_credentials(**kwargs: object) -> None:
        raise exceptions.DefaultCredentialsError(message)

    monkeypatch.setattr(google.auth, "default", no_credentials)
    with pytest.raises(CredentialsError) as err:
        google_credentials()
    text = str(err.value)
    assert "(Your default credentials were not found.)" in text
    assert text.endswith(
        "gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
    )
