"""Triage on the fifth blind corpus: real stacks' own words with a run's messiness.

The folders under tests/data/incidents_blind5/ come from build_blind5.py (on
tests/incident_builder.py), written without reading the engine's rules or correlation: a FastAPI
dependency's 403 "Could not validate credentials" on an expired token, Django's CSRF origin check,
express-jwt's wrong audience beside a browser's missing-token 401, Spring's resource server (bad
signature) and a servlet exception, Go's "token used before issued" and a panic, Cloud Run's
invoker check with a browser denied too, Cloud Armor beside slowapi's 429 and a failing uptime
check, a bare uvicorn 403, an export ten minutes before the run, and a JUnit file without any
timestamp holding three causes. Clocks are off by -6 to +7 s and many app lines carry no trace.
Today's misses are strict xfails naming what the engine gets wrong, so each turns red when fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.labels import UNKNOWN
from tests._incident_corpus import DATA, Corpus

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}

CORPUS = Corpus(DATA / "incidents_blind5", KNOWN_MISSES, title="blind5")
NAMES = CORPUS.names


def test_corpus_covers_the_brief() -> None:
    """The corpus has 10 incidents, several export shapes, and app, edge and unknown labels."""
    assert len(NAMES) >= 10
    assert {
        UNKNOWN,
        "invalid_jwt",
        "missing_jwt",
        "cors_origin",
        "missing_bypass_header",
        "iam_denied",
        "cloud_armor_denied",
        "rate_limited",
        "app_error",
    } <= CORPUS.labels()
    files = [p for name in NAMES for p in (CORPUS.folder / name / "logs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".gz" for p in files)
    assert any("run.googleapis.com" in p.parts for p in files)  # a Cloud Storage sink tree


def test_builder_reproduces_the_committed_folders(tmp_path: Path) -> None:
    """build_blind5.py rebuilds byte-identical incident folders, so the corpus is reviewable as code."""
    CORPUS.assert_builder_reproduces("build_blind5.py", tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_one_verdict_per_failed_test(name: str) -> None:
    """Triage answers each failed test exactly once."""
    CORPUS.assert_one_verdict_per_failure(name)


@pytest.mark.parametrize(("name", "test_id", "label"), CORPUS.cases())
def test_root_cause_is_what_the_logs_show(name: str, test_id: str, label: str) -> None:
    """Each failure gets the label a careful engineer reads from the logs; unknown says what is missing."""
    CORPUS.assert_root_cause(name, test_id, label)


@pytest.mark.parametrize("name", NAMES)
def test_evidence_is_in_the_export_and_never_another_clients(name: str) -> None:
    """Every non-unknown verdict cites entries that exist in the input, none written for a browser or probe."""
    CORPUS.assert_named_causes_cite_the_runners_entries(name)


def test_accuracy_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the expected-vs-got table and accuracy; the misses are exactly KNOWN_MISSES."""
    CORPUS.print_accuracy_and_assert_misses(capsys)
