"""Triage on the eighth blind corpus: five small Cloud Run e2e runs, JUnit only, clock 2-6 s off.

The folders under tests/data/incidents_blind8/ come from build_blind8.py (on
tests/incident_builder.py), written without reading the engine's rules or correlation: a Starlette
WebSocket 403 explained only by an untraced stderr "JWT decode failed: Invalid audience" with a
browser 403 in the same second; an Express 500 with a pino error object; a Go slog "origin not
allowed" for a 403 handshake; an httpx.ReadTimeout with only earlier successes (unknown); an IAP
401 on the load balancer with no app log. Today's misses are strict xfails naming what the engine
gets wrong, so each turns red when fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.labels import UNKNOWN
from tests._incident_corpus import DATA, Corpus

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}

CORPUS = Corpus(DATA / "incidents_blind8", KNOWN_MISSES, title="blind8")
NAMES = CORPUS.names


def test_corpus_covers_the_brief() -> None:
    """The corpus has 5 incidents, several export shapes, and app, edge and unknown labels."""
    assert len(NAMES) >= 5
    assert {UNKNOWN, "invalid_jwt", "app_error", "cors_origin", "iap_denied"} <= CORPUS.labels()
    files = [p for name in NAMES for p in (CORPUS.folder / name / "logs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".gz" for p in files)
    assert len({p.suffix for p in files}) >= 3


def test_builder_reproduces_the_committed_folders(tmp_path: Path) -> None:
    """build_blind8.py rebuilds byte-identical incident folders, so the corpus is reviewable as code."""
    CORPUS.assert_builder_reproduces("build_blind8.py", tmp_path)


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
