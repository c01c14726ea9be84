"""Triage on the sixth blind corpus: the seed's WebSocket handshake 403 against Cloud Run.

The folders under tests/data/incidents_blind6/ come from build_blind6.py (on
tests/incident_builder.py), written without reading the engine's rules or correlation. Every failing
test raises websockets' "server rejected WebSocket connection: HTTP 403"; the truth is, per
incident, a missing token (structlog JSON), an origin check (Django Channels, Go nhooyr), a Spring
handshake interceptor's tenant policy, a missing E2E bypass header (Express + ws), Cloud Run's IAM
invoker check (no app log), a bare uvicorn "WebSocket /ws 403" (unknown), and two causes in one run
beside a browser refused the same second. JUnit only, runner clock 2-6 s off, one naive timestamp,
untraced app lines on two instances. Today's misses are strict xfails naming what the engine gets
wrong, so each turns red when fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.labels import UNKNOWN
from tests._incident_corpus import DATA, Corpus

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}

CORPUS = Corpus(DATA / "incidents_blind6", KNOWN_MISSES, title="blind6")
NAMES = CORPUS.names


def test_corpus_covers_the_brief() -> None:
    """The corpus has 8 incidents, several export shapes, and app, edge and unknown labels."""
    assert len(NAMES) >= 8
    assert {
        UNKNOWN,
        "missing_jwt",
        "cors_origin",
        "middleware_rejection",
        "missing_bypass_header",
        "iam_denied",
    } <= CORPUS.labels()
    files = [p for name in NAMES for p in (CORPUS.folder / name / "logs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".gz" for p in files)
    assert any("run.googleapis.com" in p.parts for p in files)  # a Cloud Storage sink tree


def test_builder_reproduces_the_committed_folders(tmp_path: Path) -> None:
    """build_blind6.py rebuilds byte-identical incident folders, so the corpus is reviewable as code."""
    CORPUS.assert_builder_reproduces("build_blind6.py", tmp_path)


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
