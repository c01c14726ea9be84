"""CI outputs: GitHub annotations and job summary, and the enriched JUnit, read back by their readers."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from hypothesis import given
from hypothesis import strategies as st
from junitparser import Failure, JUnitXml, Properties

import forensics
from forensics.cli import main
from forensics.exceptions import TestReportError
from forensics.report.github import (
    STEP_SUMMARY_LIMIT,
    append_step_summary,
    error_annotations,
    error_command,
    escape_data,
    escape_property,
    job_summary,
)
from forensics.report.junit_out import enrich_junit
from tests import _workflow_commands as wf
from tests.conftest import FIXTURES, ROOT

pytest_plugins = ["pytester"]

SEED = FIXTURES / "seed"
SEED_ARGS = ["triage", "--tests", str(SEED / "junit.xml"), "--logs", str(SEED / "logs")]
SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "data" / "junit" / "junit.xsd")
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtcnVubmVyIn0.Zm9yZW5zaWNzLWNpLXNpZ25hdHVyZQ"
KEY = "e2e-staging-key-c1c1c1"
REPLACE = "E2E bypass header X-E2E-Bypass-Key missing"
LEAKY = f"E2E bypass header X-E2E-Bypass-Key missing (x-e2e-bypass-key={KEY}, Authorization: Bearer {JWT})"
APP_LINE = "E2E bypass header X-E2E-Bypass-Key missing on automated request WS /ws"


@pytest.fixture(scope="module")
def seed() -> forensics.TriageResult:
    return forensics.triage(SEED / "junit.xml", SEED / "logs")


@pytest.fixture
def leaky_seed(tmp_path: Path) -> Path:
    """The seed with a JWT and a bypass key in every app rejection line (the deciding lines)."""
    dst = tmp_path / "seed"
    shutil.copytree(SEED, dst)
    for f in (dst / "logs").iterdir():
        f.write_text(f.read_text().replace(REPLACE, LEAKY))
    return dst


# --- workflow commands -------------------------------------------------------------------


@given(st.text())
def test_escaped_text_reads_back_as_written(text: str) -> None:
    """Any message, file or title reaches the runner as written: one line, properties unsplit."""
    line = error_command(text, file=text, line=3, title=text)
    cmd = wf.parse(line)
    assert cmd.name == "error"
    assert cmd.data == text
    assert cmd.properties == {"file": text, "line": "3", "title": text}


def test_escaping_follows_the_documented_table() -> None:
    """%, CR and LF in data; also : and , in properties (GitHub's toolkit, @actions/core)."""
    assert escape_data("100% a\r\nb:c,d") == "100%25 a%0D%0Ab:c,d"
    assert escape_property("100% a\r\nb:c,d") == "100%25 a%0D%0Ab%3Ac%2Cd"
    assert error_command("m") == "::error::m"


def test_one_annotation_per_failure_at_its_line_with_the_deciding_line(
    seed: forensics.TriageResult,
) -> None:
    """Each failed test gets an ::error at the traceback's line in its test file, titled with the
    cause, whose message names the app's own rejection line (not the bare 403 request log)."""
    lines = error_annotations(seed)
    assert len(lines) == len(seed.verdicts) == 6
    messages = seed.tests.filter(seed.tests["test_id"].is_in([v.test_id for v in seed.verdicts]))
    text_of = dict(zip(messages["test_id"], messages["message"], strict=True))
    for verdict, line in zip(seed.verdicts, lines, strict=True):
        cmd = wf.parse(line)
        path = verdict.test_id.split("::")[0]
        assert cmd.properties["file"] == path
        assert f"{path}:{cmd.properties['line']}: " in text_of[verdict.test_id]
        assert cmd.properties["title"] == "forensics: missing_bypass_header"
        assert cmd.data.startswith(
            f"{verdict.test_id}: missing_bypass_header {verdict.confidence:.2f}\n"
        )
        assert APP_LINE in cmd.data.splitlines()[1]


def test_unknown_verdicts_say_what_is_missing() -> None:
    """A failure nothing explains is annotated with the reason, so the reader knows what to fetch."""
    result = forensics.triage(
        FIXTURES / "window_miss" / "junit.xml", FIXTURES / "window_miss" / "logs"
    )
    cmd = wf.parse(error_annotations(result)[0])
    assert cmd.properties["title"] == "forensics: unknown"
    reason = result.verdicts[0].reason or ""
    assert reason and f"no deciding log line: {reason[:30]}" in cmd.data  # the stated reason
    assert "window" in reason  # it names the window the reader should fetch
    summary = job_summary(result)
    assert "### Unexplained" in summary and reason[:30] in summary
    assert "| test | cause |" not in summary  # nothing explained: no causes table


def test_job_summary_tables_each_explained_failure(seed: forensics.TriageResult) -> None:
    """The summary's table has one row per failed test with its cause, confidence and deciding line."""
    summary = job_summary(
        seed, reports={"markdown": Path("out/postmortem.md"), "timeline": Path("out/timeline.png")}
    )
    rows = [r for r in summary.splitlines() if r.startswith("| `tests/")]
    assert len(rows) == 6
    assert all("`missing_bypass_header`" in r and APP_LINE in r for r in rows)
    assert "Postmortem: `out/postmortem.md`" in summary and "`out/timeline.png`" in summary
    assert "Unexplained" not in summary


def test_step_summary_appends_and_stays_under_githubs_limit(
    tmp_path: Path, seed: forensics.TriageResult
) -> None:
    """The job summary is appended (earlier steps' text kept); text past 1 MiB is cut at a line with a note."""
    target = tmp_path / "step_summary.md"
    target.write_text("earlier step\n")
    append_step_summary(job_summary(seed), target)
    text = target.read_text()
    assert text.startswith("earlier step\n## forensics: 6 failed test(s)")
    append_step_summary("x" * 100 + "\n" + ("row\n" * 400_000), target)
    assert target.stat().st_size <= STEP_SUMMARY_LIMIT
    assert target.read_text().rstrip().endswith("see triage.json._")


def test_no_summary_file_named_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert append_step_summary("text") is None


# --- enriched JUnit ----------------------------------------------------------------------


def test_enriched_junit_read_back_by_junitparser(
    tmp_path: Path, seed: forensics.TriageResult
) -> None:
    """junitparser reads the same suite and counts; each failed testcase carries its verdict as
    properties and its explanation in system-out; passed testcases are untouched."""
    data, annotated = enrich_junit((SEED / "junit.xml").read_bytes(), seed)
    assert annotated == 6
    out = tmp_path / "enriched.xml"
    out.write_bytes(data)
    before, after = JUnitXml.fromfile(str(SEED / "junit.xml")), JUnitXml.fromfile(str(out))
    assert (after.tests, after.failures, after.errors, after.skipped) == (
        before.tests,
        before.failures,
        before.errors,
        before.skipped,
    )
    verdicts = {v.test_id: v for v in seed.verdicts}
    seen = 0
    for suite in after:
        for case in suite:
            test_id = f"{case.classname.replace('.', '/')}.py::{case.name}"
            props = {p.name: p.value for ps in case.iterchildren(Properties) for p in ps}
            if not any(isinstance(r, Failure) for r in case.result):
                assert not props and not case.system_out
                continue
            seen += 1
            v = verdicts[test_id]
            assert props["forensics.root_cause"] == v.root_cause
            assert props["forensics.confidence"] == f"{v.confidence:.2f}"
            assert APP_LINE in props["forensics.evidence"]
            assert case.system_out.startswith("--- forensics ---\nmissing_bypass_header")
            assert v.explanation.split(". ")[0] in case.system_out
    assert seen == 6


def test_enriched_junit_is_valid_junit(seed: forensics.TriageResult) -> None:
    """The seed's JUnit is valid against the schema, and so is its enriched form."""
    data = (SEED / "junit.xml").read_bytes()
    SCHEMA.validate(ET.fromstring(data))
    SCHEMA.validate(ET.fromstring(enrich_junit(data, seed)[0]))


def test_schema_holds_the_order_readers_expect() -> None:
    """The schema is no rubber stamp: properties after the result, or a property without value, fail."""
    ok = '<testsuite name="s" tests="1"><testcase name="t"><properties><property name="a" value="1"/></properties><failure/></testcase></testsuite>'
    late = '<testsuite name="s" tests="1"><testcase name="t"><failure/><properties><property name="a" value="1"/></properties></testcase></testsuite>'
    bare = '<testsuite name="s" tests="1"><testcase name="t"><properties><property name="a"/></properties></testcase></testsuite>'
    assert SCHEMA.is_valid(ET.fromstring(ok))
    assert not SCHEMA.is_valid(ET.fromstring(late))
    assert not SCHEMA.is_valid(ET.fromstring(bare))


def test_existing_properties_and_output_are_kept_and_merged(pytester: pytest.Pytester) -> None:
    """pytest's own xunit1 report with record_property and captured output: forensics' properties
    join the testcase's one <properties>, its text follows the captured output, and the file stays valid."""
    pytester.makepyfile(
        test_rec="""
        import pytest
        def test_fails(record_property):
            record_property("trace_id", "4bf92f3577b34da6")
            print("captured line")
            assert 0
        @pytest.fixture
        def broken():
            yield
            raise RuntimeError("teardown")
        def test_fails_twice(broken):
            assert 0
        def test_passes(record_property):
            record_property("trace_id", "00f067aa0ba902b7")
    """
    )
    junit = pytester.path / "junit.xml"
    pytester.runpytest(
        "-p",
        "no:randomly",
        f"--junitxml={junit}",
        "-o",
        "junit_family=xunit1",
        "-o",
        "junit_logging=all",
    )
    result = forensics.triage(junit, SEED / "logs")
    data, annotated = enrich_junit(junit.read_bytes(), result)
    assert annotated == 3  # test_fails, and test_fails_twice's call failure and teardown error
    SCHEMA.validate(ET.fromstring(junit.read_bytes()))
    SCHEMA.validate(ET.fromstring(data))
    cases = {
        c.get("name"): c
        for c in ET.fromstring(data).iter("testcase")
        if c.find("failure") is not None
    }
    fails = cases["test_fails"]
    assert [p.get("name") for p in fails.find("properties")] == [
        "trace_id",
        "forensics.root_cause",
        "forensics.confidence",
        "forensics.evidence",
    ]
    assert len(fails.findall("properties")) == 1 and len(fails.findall("system-out")) == 1
    out = fails.find("system-out").text
    assert out.index("captured line") < out.index("--- forensics ---\nunknown 0.00")
    passed = next(c for c in ET.fromstring(data).iter("testcase") if c.get("name") == "test_passes")
    assert [p.get("name") for p in passed.find("properties")] == ["trace_id"]


def test_broken_junit_is_one_error_naming_the_file(seed: forensics.TriageResult) -> None:
    with pytest.raises(TestReportError, match=r"^in\.xml: broken XML"):
        enrich_junit(b"<testsuite><testcase", seed, path="in.xml")


# --- secrets and the command line ---------------------------------------------------------


def test_ci_outputs_never_show_logged_secrets(
    leaky_seed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Annotations, job summary, summary.md and the enriched JUnit show the secrets' markers only."""
    summary_file = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    enriched = tmp_path / "enriched.xml"
    leaky = ["triage", "--tests", str(leaky_seed / "junit.xml"), "--logs", str(leaky_seed / "logs")]
    out = ["--format", "github", "--out", str(tmp_path / "out"), "--junit-out", str(enriched)]
    assert main([*leaky, *out]) == 0
    captured = capsys.readouterr()
    outputs = [
        captured.out,
        captured.err,
        summary_file.read_text(),
        (tmp_path / "out" / "summary.md").read_text(),
        enriched.read_text(),
    ]
    assert "[REDACTED" in captured.out and "[REDACTED" in enriched.read_text()
    for text in outputs:
        assert JWT not in text and KEY not in text and JWT.split(".")[1] not in text


def test_cli_github_format_prints_only_annotations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """stdout holds one ::error line per failed test and nothing else; the summary goes to its file."""
    summary_file = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    assert main([*SEED_ARGS, "--format", "github"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 and all(wf.parse(line).name == "error" for line in out)
    assert summary_file.read_text().startswith("## forensics: 6 failed test(s)")


def test_junit_out_needs_a_junit_among_the_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--junit-out with only a reportlog is a usage error (exit 2, one line), and writes nothing."""
    only_reportlog = ["triage", "--tests", str(SEED / "report.jsonl"), "--logs", str(SEED / "logs")]
    assert main([*only_reportlog, "--junit-out", str(tmp_path / "x.xml")]) == 2
    assert "--junit-out needs a JUnit XML report among --tests" in capsys.readouterr().err
    assert not (tmp_path / "x.xml").exists()


def test_junit_out_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``triage --junit-out`` writes the enriched file and says how many testcases carry a verdict."""
    out = tmp_path / "enriched.xml"
    assert main([*SEED_ARGS, "--tests", str(SEED / "report.jsonl"), "--junit-out", str(out)]) == 0
    assert "6 failed testcase(s) annotated" in capsys.readouterr().err
    SCHEMA.validate(str(out))
