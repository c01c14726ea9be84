"""Triage on the fourth blind corpus: stacks the other corpora do not speak, with run messiness.

The folders under tests/data/incidents_blind4/ come from build_blind4.py (on
tests/incident_builder.py), written without reading the engine's rules or correlation: Litestar,
Sanic, aiohttp, Tornado, Next.js with Supabase, Koa (pino), Gin and Connect-go with Firebase Auth, Ktor with a Supabase audience, ASP.NET Core
JwtBearer with Auth0, Micronaut with resilience4j, chi, Hapi, Cloud Endpoints (ESPv2) and API Gateway
in front; clocks 2-9 s off, naive or missing JUnit stamps, untraced lines on two instances, a browser
and an uptime check failing at the same moment, overlapping exports, an export cut mid-run, two causes
overlapping in time, an out-of-memory crash, two clients' untraced lines that name neither, a setup error, an assertion the logs cannot explain and a bare 403. Today's
misses are strict xfails naming what the engine gets wrong, so each turns red when fixed.
"""

from __future__ import annotations

import pytest

from forensics.labels import UNKNOWN
from tests._incident_corpus import DATA, Corpus

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}

CORPUS = Corpus(
    DATA / "incidents_blind4",
    KNOWN_MISSES,
    title="blind4",
    report_names=("junit.xml", "report.jsonl", "report.json"),
)
NAMES = CORPUS.names


def test_corpus_covers_the_brief() -> None:
    """The corpus has 12+ incidents, every export shape, and app, edge-proxy and unknown labels."""
    assert len(NAMES) >= 12
    assert {UNKNOWN, "invalid_jwt", "missing_jwt", "cors_origin", "missing_bypass_header",
            "rate_limited", "app_error", "middleware_rejection"} <= CORPUS.labels()
    files = [p for name in NAMES for p in (CORPUS.folder / name / "logs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".gz" for p in files)
    assert any("run.googleapis.com" in p.parts for p in files)  # a Cloud Storage sink tree


@pytest.mark.parametrize("name", NAMES)
def test_one_verdict_per_failed_test(name: str) -> None:
    """Triage answers each failed or setup-errored test exactly once, even with overlapping exports."""
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
