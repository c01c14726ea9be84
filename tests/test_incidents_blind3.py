"""Triage on the third blind corpus: correlation messiness rather than new wording.

The folders under tests/data/incidents_blind3/ come from build_blind3.py (on
tests/incident_builder.py), written without reading the engine's rules or correlation: app decision
lines without trace ids on two instances while another client fails on the same path, a runner clock
7 s behind with JUnit only, a naive UTC+09:00 JUnit, two causes interleaved among concurrent tests,
an export holding only the request log, Cloud Armor in preview, IAP seen only in its audit log, an
identity token expiring mid-run, a crash loop, an app's 429, duplicated reports and exports, a
json-report as the only report, fixture errors at setup, a timeout that never reached the service,
non-English or ANSI-coloured lines, two CI jobs in one export, Cloud Armor beside an app refusal, an
export that ends mid-run and an untimed JUnit. Today's misses are strict xfails naming what the engine gets
wrong, so each turns red the moment it is fixed (then drop its entry from KNOWN_MISSES).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.labels import UNKNOWN
from tests._incident_corpus import DATA, Corpus

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("two_ci_jobs_one_export", "test_join_channel"): "both CI jobs (34.123.77.201 and .202) send the "
    "same agent and make every call of the suite 12-30 ms apart: nothing in the report or the export "
    "says which job is this report's; each line now goes to its own request by the ip it names, and the "
    "two requests' lines disagree (jwt expired vs no token): unknown, the note names both addresses",
    ("two_ci_jobs_one_export", "test_leave_channel"): "same: the two jobs' failing calls cannot be "
    "told apart from the data; the conflict is stated, not guessed",
    ("two_ci_jobs_one_export", "test_typing_indicator"): "same: the two jobs' failing calls cannot "
    "be told apart from the data; the conflict is stated, not guessed",
}

CORPUS = Corpus(
    DATA / "incidents_blind3",
    KNOWN_MISSES,
    title="blind3",
    report_names=("junit.xml", "report.jsonl", "report.json"),
)
NAMES = CORPUS.names


def test_corpus_covers_the_brief() -> None:
    """The corpus has 15+ incidents, each export shape used, and several labels including unknown."""
    assert len(NAMES) >= 15
    labels = CORPUS.labels()
    assert {UNKNOWN, "invalid_jwt", "iap_denied", "iam_denied", "app_error", "rate_limited"} <= labels
    files = [p for name in NAMES for p in (CORPUS.folder / name / "logs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".gz" for p in files)
    assert any("run.googleapis.com" in p.parts for p in files)  # a Cloud Storage sink tree


@pytest.mark.parametrize("name", NAMES)
def test_one_verdict_per_failed_test(name: str) -> None:
    """Triage answers each failed (or setup-errored) test exactly once, even when reported twice."""
    CORPUS.assert_one_verdict_per_failure(name)


@pytest.mark.parametrize(("name", "test_id", "label"), CORPUS.cases())
def test_root_cause_is_what_the_logs_show(name: str, test_id: str, label: str) -> None:
    """Each failure gets the label a careful engineer reads from the logs; unknown says what is missing."""
    CORPUS.assert_root_cause(name, test_id, label)


@pytest.mark.parametrize("name", NAMES)
def test_named_causes_cite_the_runners_entries(name: str) -> None:
    """Any non-unknown verdict cites entries that exist in the export and never another client's."""
    CORPUS.assert_named_causes_cite_the_runners_entries(name)


def test_committed_corpus_is_what_the_builder_writes(tmp_path: Path) -> None:
    """Rebuilding every incident gives byte-identical folders, so build_blind3.py is the corpus's truth."""
    CORPUS.assert_builder_reproduces("build_blind3.py", tmp_path)


def test_accuracy_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the expected-vs-got table and accuracy; the misses are exactly KNOWN_MISSES."""
    CORPUS.print_accuracy_and_assert_misses(capsys)
