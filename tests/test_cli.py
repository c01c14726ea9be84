"""The command line as users run it: the demo, formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.cli import main
from tests.conftest import FIXTURES, ROOT

SEED = FIXTURES / "seed"
SEED_ARGS = ["triage", "--tests", str(SEED / "junit.xml"), "--logs", str(SEED / "logs")]


def _expected(incident: Path) -> dict[str, str]:
    return json.loads((incident / "expected.json").read_text())["failures"]


def test_demo_command_explains_the_seed_run(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's demo prints every failed test of the seed with its cause, totals and clock offset."""
    assert main(SEED_ARGS) == 0
    out = capsys.readouterr().out
    assert "6 failed test(s)" in out
    assert "totals by cause: missing_bypass_header 6" in out
    assert "clock offset" in out
    assert "\x1b[" not in out  # not a terminal: no colour codes


def test_json_format_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    """``--format json`` gives run/failures/summary with one failure per failed test, labelled as expected."""
    assert main([*SEED_ARGS, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"run", "failures", "summary"}
    got = {f["test_id"]: f["root_cause"] for f in data["failures"]}
    assert got == _expected(SEED)
    for failure in data["failures"]:
        assert {"test_id", "root_cause", "confidence", "layer", "evidence", "explanation"} <= set(failure)
        assert 0.0 <= failure["confidence"] <= 1.0
        for ev in failure["evidence"]:
            assert {"insert_id", "timestamp", "log_id", "summary"} <= set(ev)


def test_out_writes_all_three_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--out DIR`` writes the text summary, the JSON and the postmortem, and names them on stderr."""
    out = tmp_path / "report"
    assert main([*SEED_ARGS, "--out", str(out)]) == 0
    for name in ("triage.txt", "triage.json", "postmortem.md"):
        assert (out / name).stat().st_size > 0, name
    assert "postmortem.md" in capsys.readouterr().err
    assert "missing_bypass_header" in (out / "postmortem.md").read_text()


@pytest.mark.parametrize(
    ("name", "content"),
    [("nope.json", None), ("empty.json", b""), ("junk.json", b"\x00\x01\x02garbage")],
    ids=["missing", "empty", "binary"],
)
def test_unusable_log_file_is_one_line_naming_it(
    name: str, content: bytes | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing, empty or binary log file exits 2 with one line on stderr that names the file."""
    bad = tmp_path / name
    if content is not None:
        bad.write_bytes(content)
    code = main(["triage", "--tests", str(SEED / "junit.xml"), "--logs", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert name in err
    assert "Traceback" not in err


def test_unusable_test_report_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A test report that is not one exits 2 and names the file."""
    bad = tmp_path / "junit.xml"
    bad.write_text("<html><body>not junit</body></html>")
    code = main(["triage", "--tests", str(bad), "--logs", str(SEED / "logs")])
    err = capsys.readouterr().err
    assert code == 2
    assert "junit.xml" in err and len(err.strip().splitlines()) == 1


def test_bad_lines_are_counted_and_strict_makes_them_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Broken lines in a JSONL export are skipped and reported; ``--strict`` refuses them naming the line."""
    export = tmp_path / "logs.jsonl"
    src = json.loads(next((SEED / "logs").iterdir()).read_text())
    lines = [json.dumps(e) for e in src]
    lines.insert(3, "{not json")
    export.write_text("\n".join(lines) + "\n")
    assert main(["triage", "--tests", str(SEED / "junit.xml"), "--logs", str(export), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["skipped_input"] == 1
    assert data["run"]["skipped"][0]["first_line"] == 4
    assert main(["triage", "--tests", str(SEED / "junit.xml"), "--logs", str(export), "--strict"]) == 2
    assert "logs.jsonl:4" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With ``--debug`` an input error shows its traceback, and the exit code stays 2."""
    code = main(["--debug", "triage", "--tests", str(SEED / "junit.xml"), "--logs", str(tmp_path / "missing.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" in err and "InputError" in err
    assert "missing.json" in err.strip().splitlines()[-1]


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
def test_debug_never_changes_the_exit_code(
    debug: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing test report is 2 and an internal error is 1, with or without ``--debug``."""
    assert main([*debug, "triage", "--tests", str(tmp_path / "x.xml"), "--logs", str(SEED / "logs")]) == 2

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(sys.modules["forensics.triage"], "triage", boom)
    assert main([*debug, *SEED_ARGS]) == 1
    assert "RuntimeError: kaput" in capsys.readouterr().err


WINDOW_MISS = FIXTURES / "window_miss"


@pytest.mark.parametrize(
    ("incident", "fail_on", "code"),
    [
        (SEED, "never", 0),
        (SEED, "unknown", 0),  # every failure of the seed is explained
        (SEED, "any", 3),
        (WINDOW_MISS, "never", 0),
        (WINDOW_MISS, "unknown", 3),  # the export misses the run: the failures stay unknown
    ],
)
def test_fail_on_lets_a_ci_step_fail(
    incident: Path, fail_on: str, code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--fail-on unknown`` exits 3 when a failure stays unexplained, ``any`` when a test failed;
    the reports are written either way."""
    args = ["triage", "--tests", str(incident / "junit.xml"), "--logs", str(incident / "logs")]
    assert main([*args, "--fail-on", fail_on, "--out", str(tmp_path)]) == code
    assert (tmp_path / "triage.json").exists()
    assert "failed test(s)" in capsys.readouterr().out


def test_fail_on_and_its_exit_codes_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    """``triage --help`` and the README's exit-code table both say what exit 3 means."""
    with pytest.raises(SystemExit):
        main(["triage", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--fail-on {never,unknown,any}" in help_text
    assert "exit 3" in help_text
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| exit | meaning |", 1)[1].split("\n\n", 1)[0]
    assert "| 3 |" in table and "--fail-on" in table


def test_triage_opens_no_network_connection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An offline triage with all reports written never opens a socket, not even to loopback."""
    calls: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        calls.append(address)
        raise AssertionError(f"triage connected to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    assert main([*SEED_ARGS, "--format", "json", "--out", str(tmp_path / "out")]) == 0
    assert calls == []


def test_module_runs_as_a_subprocess() -> None:
    """``python -m forensics triage`` works as a separate process and exits 0."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "forensics", *SEED_ARGS, "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["failed_tests"] == 6


def test_subprocess_error_has_no_traceback(tmp_path: Path) -> None:
    """A missing file gives exit 2 and one stderr line, as a real process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "forensics", "triage", "--tests", str(tmp_path / "x.xml"), "--logs", str(SEED / "logs")],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "x.xml" in proc.stderr


def test_rules_check_reports_every_broken_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``rules check`` lists each broken rule with file and line, exit 2; a good folder says ok, exit 0."""
    (tmp_path / "a.yaml").write_text("id: a\nlabel: not_a_label\nweight: 0.5\n")
    (tmp_path / "b.yaml").write_text("id: b\nlabel: [unclosed\n")
    assert main(["rules", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "a.yaml:" in err and "b.yaml:" in err
    good = ROOT / "forensics" / "rules"
    assert main(["rules", "check", str(good)]) == 0
    assert "ok" in capsys.readouterr().out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown options are a usage error with exit 2."""
    with pytest.raises(SystemExit) as exc:
        main(["triage", "--bogus"])
    assert exc.value.code == 2


def test_rules_check_without_a_path_checks_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """``rules check`` alone lints the rules forensics ships, and they are all valid."""
    assert main(["rules", "check"]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv0", "prog"),
    [("/venv/bin/forensics", "forensics"), ("/src/forensics/__main__.py", "python -m forensics")],
    ids=["installed-script", "python-m"],
)
def test_version_names_the_command_as_the_user_typed_it(
    argv0: str, prog: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--version`` exits 0 with the package version; usage names ``forensics`` or ``python -m forensics``."""
    import tomllib

    monkeypatch.setattr(sys, "argv", [argv0])
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"{prog} {version}"
    with pytest.raises(SystemExit):
        main([])
    assert capsys.readouterr().err.startswith(f"usage: {prog} [-h]")


def test_readme_shows_the_demo_as_printed_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every line of the README's demo output (but its "..." row) is what ``COLUMNS=80`` prints."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```\nforensics triage: 6 failed test(s)\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("COLUMNS", "80")
    assert main(SEED_ARGS) == 0
    printed = capsys.readouterr().out.splitlines()
    shown = [line for line in block.splitlines() if not line.startswith("| ...")]
    assert len(shown) > 15
    assert all(len(line) == 80 for line in shown if line.startswith(("|", "+")))
    missing = [line for line in shown if line not in printed]
    assert missing == []
