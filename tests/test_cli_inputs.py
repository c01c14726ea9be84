"""``--tests`` as CI hands reports over (folders, gzip, stdin, several at once); ``--out`` checked first."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import sys
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.exceptions import TestReportError
from forensics.testruns import read_tests
from tests.conftest import FIXTURES

SEED = FIXTURES / "seed"
LOGS = ["--logs", str(SEED / "logs")]


def _expected() -> dict[str, str]:
    return json.loads((SEED / "expected.json").read_text())["failures"]


def _verdicts(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    data = json.loads(capsys.readouterr().out)
    return {f["test_id"]: f["root_cause"] for f in data["failures"]}


def test_tests_takes_a_folder_of_shards(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder of per-shard reports is walked; a file in it that is no report is skipped and counted."""
    shards = tmp_path / "test-results"
    (shards / "shard-1").mkdir(parents=True)
    (shards / "shard-2").mkdir()
    shutil.copy(SEED / "junit.xml", shards / "shard-1" / "junit.xml")
    shutil.copy(SEED / "report.jsonl", shards / "shard-2" / "report.jsonl")
    (shards / "shard-2" / "pytest-output.txt").write_text("collected 58 items\n")
    assert main(["triage", "--tests", str(shards), *LOGS, "--format", "json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert {f["test_id"]: f["root_cause"] for f in data["failures"]} == _expected()
    assert data["run"]["tests"]["total"] == 58  # the two formats of one run count once
    assert any("pytest-output.txt" in s["source"] for s in data["run"]["skipped"])


def test_a_folder_without_a_report_is_refused_naming_it(tmp_path: Path) -> None:
    """A folder holding no test report is exit 2 with the folder named, not an empty triage."""
    (tmp_path / "notes.txt").write_text("nothing here\n")
    with pytest.raises(TestReportError, match=str(tmp_path)):
        read_tests(tmp_path)
    assert main(["triage", "--tests", str(tmp_path), *LOGS]) == 2


def test_tests_reads_gzip_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``junit.xml.gz`` (CI artifacts are often compressed) gives the same verdicts as the XML."""
    packed = tmp_path / "junit.xml.gz"
    packed.write_bytes(gzip.compress((SEED / "junit.xml").read_bytes()))
    assert main(["triage", "--tests", str(packed), *LOGS, "--format", "json"]) == 0
    assert _verdicts(capsys) == _expected()


def test_tests_dash_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--tests -`` reads the report from standard input (``curl ... | forensics triage --tests -``)."""
    stdin = io.TextIOWrapper(io.BytesIO((SEED / "junit.xml").read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["triage", "--tests", "-", *LOGS, "--format", "json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert {f["test_id"]: f["root_cause"] for f in data["failures"]} == _expected()
    assert data["run"]["tests"]["files"] == ["<stdin>"]


def test_several_reports_after_one_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """``--tests junit.xml report.jsonl`` reads both, like ``--tests`` given twice."""
    args = ["triage", "--tests", str(SEED / "junit.xml"), str(SEED / "report.jsonl"), *LOGS]
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["run"]["tests"]["files"]) == 2
    assert {f["test_id"]: f["root_cause"] for f in data["failures"]} == _expected()


@pytest.mark.parametrize("where", ["a-file", "under-a-file"])
def test_out_that_cannot_be_a_folder_is_refused_before_the_triage(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--out`` naming a file (or a folder below a file) is exit 2 before anything is printed."""
    blocker = tmp_path / "report.txt"
    blocker.write_text("keep me\n")
    out = blocker if where == "a-file" else blocker / "reports"
    assert main(["triage", "--tests", str(SEED / "junit.xml"), *LOGS, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # the triage never ran
    assert "report.txt" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert blocker.read_text() == "keep me\n"
