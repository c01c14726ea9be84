"""An export holding only IAP's audit entries: each AuthorizeUser decision stands in for its request."""

from __future__ import annotations

import json

import polars as pl

from forensics.classify import classify, load_rules
from forensics.correlate import correlate
from forensics.correlate.entries import tag_entries
from tests._correlate_frames import (
    BROWSER_IP,
    RUNNER_IP,
    at,
    case,
    linked_rows,
    log_frame,
    make_tests,
)

SA = "e2e-runner@acme.iam.gserviceaccount.com"
IAP_403 = "AssertionError: assert 403 == 200\n  body: 'Access denied. You do not have access to this resource.'"


def iap_audit(t: float, path: str, granted: bool, ip: str = RUNNER_IP, who: str = SA) -> dict:
    """An IAP data_access audit entry (AuthorizeUser) at T0 + t, as Cloud Logging exports it."""
    payload = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {} if granted else {"code": 7, "message": "PERMISSION_DENIED"},
        "authenticationInfo": {"principalEmail": who},
        "requestMetadata": {"callerIp": ip, "callerSuppliedUserAgent": "python-httpx/0.28.1"},
        "serviceName": "iap.googleapis.com",
        "methodName": "AuthorizeUser",
        "authorizationInfo": [
            {"permission": "iap.webServiceVersions.accessViaIAP", "granted": granted}
        ],
        "request": {"httpRequest": {"url": f"https://admin.example.dev{path}"}},
    }
    return {
        "timestamp": at(t),
        "log_id": "cloudaudit.googleapis.com/data_access",
        "resource_type": "gce_backend_service",
        "payload_kind": "proto",
        "payload": json.dumps(payload),
        "message": "iap.googleapis.com AuthorizeUser",
        "severity": "INFO",
    }


def _scenario() -> tuple[pl.DataFrame, pl.DataFrame]:
    tests, logs = [], []
    for i in range(6):  # passing tests, each let through by IAP
        tests.append(case(f"t::ok_{i}", "passed", 10.0 + i, 10.6 + i, i))
        logs.append(iap_audit(10.2 + i, f"/admin/page/{i}", granted=True))
    tests.append(case("t::export_users", "failed", 16.0, 16.5, 6, message=IAP_403))
    logs.append(iap_audit(16.15, "/admin/export", granted=False))
    # a guest from another address is refused on the same path at the same moment
    logs.append(
        iap_audit(16.2, "/admin/export", granted=False, ip=BROWSER_IP, who="guest@gmail.com")
    )
    return make_tests(tests), log_frame(logs)


def test_iap_audit_decision_is_tied_to_the_failing_test_by_time_and_caller() -> None:
    """With no LB or request log, the runner's IAP denial joins the failing test; the guest's does not."""
    tests, logs = _scenario()
    c = correlate(tests, logs)
    rows = linked_rows(c, "t::export_users")
    runner_row = 6
    guest_row = 7
    assert logs.item(runner_row, "timestamp") == at(16.15)
    assert runner_row in rows and guest_row not in rows
    assert (
        RUNNER_IP in c.fingerprint["remote_ips"] and BROWSER_IP not in c.fingerprint["remote_ips"]
    )
    assert not c.clock_method.startswith("none")


def test_iap_decisions_standing_in_for_requests_take_the_callers_client_kind() -> None:
    """The agent IAP names (python-httpx) makes each stood-in request a script's, as the runner's are."""
    _, logs = _scenario()
    requests = tag_entries(logs).filter(pl.col("is_request"))
    assert requests.height == logs.height
    assert set(requests.get_column("client_kind")) == {"script"}
    assert set(requests.get_column("http_user_agent")) == {"python-httpx/0.28.1"}


def test_iap_audit_only_export_reads_as_iap_denied() -> None:
    """The runner's AuthorizeUser PERMISSION_DENIED is the verdict: iap_denied."""
    tests, logs = _scenario()
    verdicts = classify(tests, logs, correlate(tests, logs), load_rules())
    (v,) = [v for v in verdicts if v.test_id == "t::export_users"]
    assert v.root_cause == "iap_denied", v.reason
