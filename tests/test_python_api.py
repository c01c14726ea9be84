"""The Python API as a notebook user meets it: the verdict table, its HTML repr, the errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import polars as pl
import pytest

import forensics
from forensics.cli import main
from forensics.exceptions import RuleError, TestReportError
from forensics.result import WHY_HTML_LIMIT
from tests.conftest import FIXTURES
from tests.test_report import make_result

SEED = FIXTURES / "seed"


def test_verdict_table_has_the_names_and_types_of_verdict_and_json() -> None:
    """to_frame()/to_pandas() carry rule and reason, and every column but evidence_ids is a Verdict
    field and a JSON key of the same meaning; evidence is the count, evidence_ids the insertIds."""
    r = make_result()
    frame = r.to_frame()
    verdict_fields = {f.name for f in dataclasses.fields(forensics.Verdict)}
    json_keys = set(json.loads(forensics.render_json(r))["failures"][0])
    assert {"rule", "reason", "evidence_ids"} <= set(frame.columns)
    assert set(frame.columns) - {"evidence_ids"} <= verdict_fields & json_keys
    assert frame.schema["evidence_ids"] == pl.List(pl.String)
    assert frame.schema["evidence"] == pl.Int64
    rows = frame.to_dicts()
    for row, v in zip(rows, r.verdicts, strict=True):
        assert row["rule"] == v.rule and row["root_cause"] == v.root_cause
        assert row["evidence_ids"] == [e.insert_id for e in v.evidence]
        assert row["evidence"] == len(v.evidence)
    assert rows[0]["rule"] == "bypass-missing"
    assert rows[2]["reason"] == "no request from the runner between 09:00:05 and 09:00:06"
    pandas = r.to_pandas()
    assert list(pandas.columns) == frame.columns


def test_verdict_table_redacts_reasons() -> None:
    """A secret in an unknown's reason is redacted in the frame as in every output."""
    r = make_result()
    jwt = r.verdicts[0].explanation.split("Bearer ")[1].split()[0]
    r.verdicts[2] = dataclasses.replace(r.verdicts[2], reason=f"token {jwt} was never sent")
    assert jwt not in str(r.to_frame().to_dicts())


def test_notebook_table_marks_a_cut_explanation_with_an_ellipsis() -> None:
    """In Jupyter a long "why" ends with an ellipsis; a short one is shown whole."""
    r = make_result()
    long_text = " ".join(["the gateway refused the handshake"] * 20)
    r.verdicts[1] = dataclasses.replace(r.verdicts[1], explanation=long_text)
    page = r._repr_html_()
    assert long_text not in page
    second_row = page.split("<tbody>")[1].split("<tr>")[2]
    cut = second_row.split("<td>")[-1].split("</td>")[0]  # its "why"
    assert cut.endswith("…") and len(cut) <= WHY_HTML_LIMIT
    assert "no entry in the window" in page


def test_missing_files_are_file_not_found_errors(tmp_path: Path) -> None:
    """``except FileNotFoundError`` catches a missing test report or log export, as forensics errors."""
    with pytest.raises(FileNotFoundError) as report:
        forensics.read_tests(tmp_path / "junit.xml")
    assert isinstance(report.value, TestReportError)
    assert str(report.value) == f"{tmp_path / 'junit.xml'}: no such file"
    with pytest.raises(FileNotFoundError) as logs:
        forensics.load_logs(tmp_path / "logs.json")
    assert isinstance(logs.value, forensics.InputError)
    assert logs.value.filename == str(tmp_path / "logs.json")
    with pytest.raises(FileNotFoundError):
        forensics.triage([SEED / "junit.xml"], [tmp_path / "logs.json"])


def test_rules_check_on_an_empty_folder_says_it_holds_no_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty rules folder is not "rules ok": it says so, exit 2."""
    assert main(["rules", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: holds no rule files" in err
    (tmp_path / "notes.txt").write_text("not a rule\n")
    assert main(["rules", "check", str(tmp_path)]) == 2


def test_triage_rules_error_names_the_folder_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken --rules folder: the one-line error's hint is `rules check` on that folder."""
    rules = tmp_path / "my rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("id: a\nlabel: not_a_label\nweight: 0.5\n")
    (rules / "b.yaml").write_text("id: b\nlabel: [unclosed\n")
    args = ["triage", "--tests", str(SEED / "junit.xml"), "--logs", str(SEED / "logs")]
    assert main([*args, "--rules", str(rules)]) == 2
    err = capsys.readouterr().err
    assert f"`python -m forensics rules check '{rules}'` lists them all" in err
    with pytest.raises(RuleError):
        forensics.load_rules(rules)
