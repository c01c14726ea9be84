"""Triage inside busy exports: the incident corpora replayed among everyone else's traffic.

Real staging projects are busy: people's browsers, crawlers, scanners, monitors, other scripts and
services call the same service while a suite runs, and their refusals have app lines naming other
causes. ``busy_traffic`` writes that background (seeded, nothing from the runner's address) around
an incident's export at a rate, and ``busy_replay`` triages the incident on both. A verdict may
become ``unknown`` (the runner cannot be told apart: it says why), never another label.

Each rate, and each way of cutting the export (the app's lines only, ``severity>=WARNING``,
``--limit 1000``), replays a fixed sample of the incidents (every ``STRIDE``-th, a different slice
each, so together they cover all of them); ``FORENSICS_BUSY_ALL=1`` replays every incident each
time, as ``bench/bench_busy.py`` does (minutes).
"""

from __future__ import annotations

import ipaddress
import os
from collections import Counter
from pathlib import Path

import pytest

from forensics.labels import UNKNOWN
from tests.busy_replay import Score, incidents, replay, table
from tests.busy_traffic import RATES, VARIANTS, Export, busy_entries, entry_kind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATA = Path(__file__).resolve().parent / "data"
STRIDE = 8
ALL = os.environ.get("FORENSICS_BUSY_ALL") == "1"


def _sample(rate_index: int) -> list:
    cases = incidents()
    return cases if ALL else cases[rate_index % STRIDE :: STRIDE]


def _agent(entry: dict) -> str:
    http = entry.get("httpRequest") or {}
    meta = (entry.get("protoPayload") or {}).get("requestMetadata") or {}
    return str(http.get("userAgent") or meta.get("callerSuppliedUserAgent") or "")


def _address(entry: dict) -> str | None:
    http = entry.get("httpRequest") or {}
    meta = (entry.get("protoPayload") or {}).get("requestMetadata") or {}
    return http.get("remoteIp") or meta.get("callerIp")


def test_background_is_seeded_and_at_the_rate() -> None:
    """The same seed writes the same entries; the count follows the rate over the export's window."""
    logs = FIXTURES / "seed" / "logs"
    first = busy_entries(logs, 30, seed="seed")
    assert first == busy_entries(logs, 30, seed="seed")
    assert first != busy_entries(logs, 30, seed="other")
    x = Export.read(logs)
    window = (x.hi - x.lo).total_seconds() + 40.0
    # every kind the seed's export holds (requests, stdout, stderr, system) is let through
    assert 0.8 * 30 * window <= len(first) <= 1.3 * 30 * window
    assert 8 * len(busy_entries(logs, 5, seed="seed")) < len(busy_entries(logs, 300, seed="seed"))
    assert [e["timestamp"] for e in first] == sorted(e["timestamp"] for e in first)


def test_background_never_comes_from_an_address_the_export_holds() -> None:
    """No background entry is sent from the runner's address (nor any other the export holds)."""
    for name in ("seed", "cloud_armor_denied", "iap_denied"):
        x = Export.read(FIXTURES / name / "logs")
        assert x.taken_ips
        sent = {_address(e) for e in busy_entries(FIXTURES / name / "logs", 150, seed=name)}
        assert sent and not (sent & x.taken_ips)
        for ip in sent - {None}:
            ipaddress.ip_address(ip)


def test_background_holds_every_kind_of_client() -> None:
    """Browsers, crawlers, scanners, probes, scripts, other services, a second project, Cloud
    Armor and IAP denials, refusals with app lines traced and untraced, and lines with no request."""
    logs = FIXTURES / "seed" / "logs"
    entries = busy_entries(logs, 150, seed="seed")
    agents = Counter(_agent(e).split("/")[0].split(" (")[0] for e in entries if _agent(e))
    for name in ("Mozilla", "GoogleHC", "curl", "python-requests", "Go-http-client"):
        assert agents[name], name
    assert any("Googlebot" in _agent(e) for e in entries)
    assert any("zgrab" in _agent(e) or "Nuclei" in _agent(e) for e in entries)
    assert any("UptimeChecks" in _agent(e) for e in entries)
    seed = Export.read(logs)
    services = {e["resource"]["labels"]["service_name"] for e in entries}
    projects = {e["logName"].split("/")[1] for e in entries}
    assert len(services) >= 3 and seed.project in projects and len(projects) == 2
    refused = [e for e in entries if (e.get("httpRequest") or {}).get("status", 0) in (401, 403)]
    assert any("not authenticated" in str(e.get("textPayload")) for e in refused)  # IAM
    app = [e for e in entries if entry_kind(e) == "app"]
    assert any(e.get("trace") for e in app) and any(not e.get("trace") for e in app)
    armored = busy_entries(FIXTURES / "cloud_armor_denied" / "logs", 150, seed="armor")
    assert any(
        (e.get("jsonPayload") or {}).get("statusDetails") == "denied_by_security_policy"
        for e in armored
    )
    iap = busy_entries(FIXTURES / "iap_denied" / "logs", 150, seed="iap")
    assert any(entry_kind(e) == "iap_audit" for e in iap) or any(
        "identity_aware_proxy" in str(e.get("jsonPayload")) for e in iap
    )


def test_background_keeps_to_what_the_export_holds() -> None:
    """An export of load balancer entries only gets load balancer entries; one filtered to
    WARNING and above gets nothing below it."""
    lb_only = DATA / "incidents" / "cloud_armor_deny_and_ban" / "logs"
    assert Export.read(lb_only).kinds == {"lb"}
    assert {entry_kind(e) for e in busy_entries(lb_only, 150, seed="lb")} == {"lb"}
    warnings = DATA / "incidents_blind5" / "export_ten_minutes_early" / "logs"
    assert Export.read(warnings).min_severity == 400
    sevs = {e["severity"] for e in busy_entries(warnings, 150, seed="warn")}
    assert sevs and sevs <= {"WARNING", "ERROR", "CRITICAL"}


@pytest.mark.parametrize("rate", RATES)
def test_no_wrong_label_in_a_busy_export(
    rate: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Replayed with ``rate`` entries/s of other clients' traffic, every failed test keeps its
    label or becomes unknown with a reason; the accuracy is printed."""
    cases = _sample(RATES.index(rate))
    score = Score(rate)
    for incident in cases:
        found = replay(incident, rate, tmp_path)
        score.add(incident, {v.test_id: v.root_cause for v in found})
        assert all(v.reason for v in found if v.root_cause == UNKNOWN)
    with capsys.disabled():
        print(f"\n{len(cases)} incidents, {score.total} failed tests")
        print(table({rate: score}))
    assert score.wrong == [], "\n".join(score.wrong)


@pytest.mark.parametrize("variant", VARIANTS[1:])
def test_no_wrong_label_in_a_cut_busy_export(
    variant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The busy export (30 entries/s) cut as users cut theirs: the app's lines only (no request
    log), ``severity>=WARNING``, or ``--limit 1000``: still no label but the truth or unknown."""
    cases = _sample(len(RATES) + VARIANTS.index(variant))
    score = Score(30)
    for incident in cases:
        found = replay(incident, 30, tmp_path, variant)
        score.add(incident, {v.test_id: v.root_cause for v in found})
        assert all(v.reason for v in found if v.root_cause == UNKNOWN)
    with capsys.disabled():
        print(f"\n{variant}: {len(cases)} incidents, {score.total} failed tests")
        print(table({30: score}))
    assert score.wrong == [], "\n".join(score.wrong)
