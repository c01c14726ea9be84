"""Triage on incidents written in the words of other stacks (Django, Express, Spring, Go, Google front ends).

The folders under tests/data/incidents/ are built by tests/data/incidents/build_incidents.py with
tests/incident_builder.py, independently of the FastAPI replica behind fixtures/. Each case is one
failed test: its root cause must be the label a careful engineer reads from the logs, and a named
cause must point at entries that are really in the export. Cases the engine gets wrong today are
strict xfails with the reason, so they turn red the moment the engine is fixed (then drop the mark).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.labels import LABELS, UNKNOWN
from tests._incident_corpus import DATA, Corpus

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}

CORPUS = Corpus(DATA / "incidents", KNOWN_MISSES, title="cross-stack")
NAMES = CORPUS.names


def test_corpus_covers_every_label() -> None:
    """The corpus has 16+ incidents and every label is some failure's truth outside the FastAPI replica."""
    assert len(NAMES) >= 16
    assert CORPUS.labels() == set(LABELS)


@pytest.mark.parametrize("name", NAMES)
def test_every_failed_test_gets_one_verdict(name: str) -> None:
    """Triage answers exactly the failed tests of the run's reports, no more, no fewer."""
    CORPUS.assert_one_verdict_per_failure(name)


@pytest.mark.parametrize(("name", "test_id", "label"), CORPUS.cases())
def test_root_cause_matches_the_logs(name: str, test_id: str, label: str) -> None:
    """Each failure's root cause is the expected label; a named cause cites entries present in the export."""
    verdict = CORPUS.assert_root_cause(name, test_id, label)
    if label != UNKNOWN:
        CORPUS.assert_cites_the_runners_entries(name, verdict)


def test_committed_corpus_is_what_the_builder_writes(tmp_path: Path) -> None:
    """Rebuilding every incident gives byte-identical folders, so the definitions are the corpus's truth."""
    CORPUS.assert_builder_reproduces("build_incidents.py", tmp_path)


def test_accuracy_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints per-incident and overall accuracy; the misses are exactly the cases marked as known misses."""
    CORPUS.print_accuracy_and_assert_misses(capsys)
