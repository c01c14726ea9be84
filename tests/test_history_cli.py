"""The history's commands: triage --history, record, history, report-iteration (in-process and as a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.history.store import partitions
from tests.conftest import FIXTURES, ROOT

SEED = FIXTURES / "seed"
LOOP = FIXTURES / "iterations"
SEED_ARGS = ["triage", "--tests", str(SEED / "junit.xml"), "--logs", str(SEED / "logs")]


def test_triage_history_records_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``triage --history DIR`` prints the triage as usual and records the run in DIR."""
    assert main([*SEED_ARGS, "--history", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "missing_bypass_header" in out
    assert len(partitions(tmp_path)) == 1 and "recorded run" in err


def test_triage_history_without_a_folder_uses_the_default_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--history`` alone records into .forensics/history under the current directory."""
    monkeypatch.chdir(tmp_path)
    assert main([*SEED_ARGS, "--history"]) == 0
    assert len(partitions(tmp_path / ".forensics" / "history")) == 1


def test_forensics_history_variable_records_every_triage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With $FORENSICS_HISTORY set, a plain triage records there; without it, nothing is recorded."""
    monkeypatch.chdir(tmp_path)
    assert main(SEED_ARGS) == 0
    assert not (tmp_path / ".forensics").exists()
    monkeypatch.setenv("FORENSICS_HISTORY", str(tmp_path / "env"))
    assert main(SEED_ARGS) == 0
    assert len(partitions(tmp_path / "env")) == 1


@pytest.fixture(scope="module")
def loop_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The iterations recorded with ``record`` (run folders, triaged on the way)."""
    folder = tmp_path_factory.mktemp("cli-loop")
    runs = [str(p) for p in sorted(LOOP.iterdir()) if p.is_dir()]
    assert main(["record", *runs, "--history", str(folder)]) == 0
    return folder


def test_record_adds_each_run_once(loop_history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Recording the same folders again adds nothing: seven runs stay seven."""
    assert len(partitions(loop_history)) == 7
    assert main(["record", str(LOOP / "01_bypass_missing"), "--history", str(loop_history)]) == 0
    assert "recorded run 20250908T090006-" in capsys.readouterr().out
    assert len(partitions(loop_history)) == 7


def test_record_refuses_what_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder with neither triage.json nor reports and logs is a one-line input error."""
    assert main(["record", str(tmp_path), "--history", str(tmp_path / "h")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a triage.json" in err


def test_history_text_json_and_markdown(
    loop_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The three formats tell the same comparison: the default compares the last ten runs."""
    assert main(["history", "--history", str(loop_history)]) == 0
    text = capsys.readouterr().out
    assert (
        "7 run(s)" in text
        and "revision chat-backend-staging-00314-gow between runs 5 and 6: 0 fixed, 6 new" in text
    )
    assert "flaky" in text and "test_concurrent_websocket_real" in text
    assert main(["history", "--history", str(loop_history), "--format", "json", "--last", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["revisions"][0][-9:] for r in data["runs"]] == ["00314-gow", "00315-dax"]
    assert data["statuses"] == {"fixed": 6, "passing": 52}
    assert (
        main(
            [
                "history",
                "--history",
                str(loop_history),
                "--format",
                "markdown",
                "--since",
                "2025-09-08T11:00Z",
            ]
        )
        == 0
    )
    md = capsys.readouterr().out
    assert md.startswith("# Run history: 4 run(s)") and "| status | runs (oldest first) |" in md


def test_history_out_writes_reports_and_plots(loop_history: Path, tmp_path: Path) -> None:
    """``--out`` leaves history.txt/json/md and the three PNGs the markdown embeds."""
    assert (
        main(["history", "--history", str(loop_history), "--last", "0", "--out", str(tmp_path)])
        == 0
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "causes_per_run.png",
        "history.json",
        "history.md",
        "history.txt",
        "pass_rate.png",
        "run_grid.png",
    ]
    md = (tmp_path / "history.md").read_text()
    assert "![run_grid](run_grid.png)" in md
    assert all(
        (tmp_path / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names if n.endswith(".png")
    )


def test_report_iteration_to_a_file(loop_history: Path, tmp_path: Path) -> None:
    """``report-iteration 6 --out FILE`` writes iteration 6's report."""
    target = tmp_path / "iteration-6.md"
    assert (
        main(["report-iteration", "6", "--history", str(loop_history), "--out", str(target)]) == 0
    )
    text = target.read_text()
    assert text.startswith("# Test Iteration 6 Report") and "cors_origin" in text


def test_history_errors_are_one_line(
    tmp_path: Path, loop_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No history, an unknown run, or a bad date: one line on stderr, exit 2."""
    assert main(["history", "--history", str(tmp_path / "none")]) == 2
    assert main(["report-iteration", "nope", "--history", str(loop_history)]) == 2
    assert main(["history", "--history", str(loop_history), "--since", "someday"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("forensics: error: ") for line in err)
    assert "no history here" in err[0] and "not in the history" in err[1] and "not a date" in err[2]


def test_history_as_a_subprocess(loop_history: Path) -> None:
    """``python -m forensics history --format json`` works as a program (exit 0, JSON on stdout)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "forensics", "history", "--history", str(loop_history), "--format", "json"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["runs"]) == 7


def test_an_empty_history_folder_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder with no run yet: ``history`` says nothing is recorded; ``report-iteration`` is an error."""
    assert main(["history", "--history", str(tmp_path)]) == 0
    assert "nothing recorded yet" in capsys.readouterr().out
    assert main(["report-iteration", "--history", str(tmp_path)]) == 2
    assert "holds no run yet" in capsys.readouterr().err
