"""Triage on every incident corpus under tests/data/: one runner, each corpus described in its folder.

A corpus is a folder of incidents written independently of the engine (tests/data/incidents in the
words of other stacks, tests/data/incidents_blind* by authors who had not read the engine), with a
corpus.toml naming it and listing what it covers and what the engine gets wrong on it today. Each
case is one failed test: its verdict must be the label a careful engineer reads from the logs, and
a named cause must cite entries of the runner that are really in the export. Today's misses are
strict xfails naming what the engine gets wrong, so each turns red the moment it is fixed (then
drop its entry from the corpus.toml). Ids read "<corpus>/<incident>" and
"<corpus>/<incident>::<test>"; `-k blind5` runs one corpus, `-k accuracy -s` prints every table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._incident_corpus import CORPUS_FILE, DATA, Corpus, corpora

CORPORA = corpora()
BY_NAME = {corpus.name: corpus for corpus in CORPORA}

# A token-shaped secret the blind corpus's Phoenix incident sends in the query string.
FAKE_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJlMmUtcnVubmVyIn0.bm90LWEtcmVhbC1zaWduYXR1cmU"
)


def test_every_incident_folder_belongs_to_a_corpus() -> None:
    """A folder of incidents under tests/data without a corpus.toml would silently go unchecked."""
    with_incidents = {p.parent.parent for p in DATA.glob("*/*/expected.json")}
    assert with_incidents == {corpus.folder for corpus in CORPORA}, f"add a {CORPUS_FILE}"
    assert all(corpus.notes.strip() for corpus in CORPORA)


@pytest.mark.parametrize("corpus", [c.param() for c in CORPORA])
def test_corpus_covers_its_brief(corpus: Corpus) -> None:
    """The corpus keeps the incidents, labels and export shapes its corpus.toml says it covers."""
    corpus.assert_covers_its_brief()


@pytest.mark.parametrize(("corpus", "name"), [p for c in CORPORA for p in c.incidents()])
def test_one_verdict_per_failed_test(corpus: Corpus, name: str) -> None:
    """Triage answers exactly the failed (or setup-errored) tests of the run's reports, once each."""
    corpus.assert_one_verdict_per_failure(name)


@pytest.mark.parametrize(
    ("corpus", "name", "test_id", "label"), [p for c in CORPORA for p in c.cases()]
)
def test_root_cause_is_what_the_logs_show(
    corpus: Corpus, name: str, test_id: str, label: str
) -> None:
    """Each failure gets the label a careful engineer reads from the logs; unknown says what is missing."""
    corpus.assert_root_cause(name, test_id, label)


@pytest.mark.parametrize(("corpus", "name"), [p for c in CORPORA for p in c.evidence_cases()])
def test_named_causes_cite_the_runners_entries(corpus: Corpus, name: str) -> None:
    """Any non-unknown verdict cites entries that exist in the export and never another client's."""
    corpus.assert_named_causes_cite_the_runners_entries(name)


@pytest.mark.parametrize("corpus", [c.param() for c in CORPORA])
def test_committed_corpus_is_what_the_builder_writes(corpus: Corpus, tmp_path: Path) -> None:
    """Rebuilding every incident gives byte-identical folders, so the builder is the corpus's truth."""
    corpus.assert_builder_reproduces(tmp_path)


@pytest.mark.parametrize("corpus", [c.param() for c in CORPORA])
def test_accuracy_summary(corpus: Corpus, capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the expected-vs-got table and accuracy; the misses are exactly the known misses."""
    corpus.print_accuracy_and_assert_misses(capsys)


def test_token_in_a_request_url_never_reaches_the_output() -> None:
    """A JWT the client put in the handshake's query string is absent from the JSON result."""
    corpus, name = BY_NAME["blind"], "phoenix_refused_and_guardian"
    assert FAKE_JWT in (corpus.folder / name / "logs" / "entries.jsonl").read_text()
    out = json.dumps(corpus.result(name).to_dict())
    assert FAKE_JWT not in out
    assert FAKE_JWT.split(".")[2] not in out
