"""Edge labels (IAM, IAP, Cloud Armor), rate limiting and app errors: structure and text together."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from forensics.classify import classify
from forensics.correlate.link import LINK_SCHEMA, WINDOW_SCHEMA, Correlation
from forensics.result import Verdict
from forensics.schema import LOG_SCHEMA, TEST_SCHEMA
from tests.test_classify import RULES, TRACE, app_line, entry, lb_request, one, run_request

IAM_UNAUTHENTICATED = (
    "The request was not authenticated. Either allow unauthenticated invocations or set the proper "
    "Authorization header. Read more at https://cloud.google.com/run/docs/securing/authenticating"
)
IAM_UNAUTHORIZED = (
    "The request was not authorized to invoke this service. Read more at "
    "https://cloud.google.com/run/docs/securing/authenticating"
)


@pytest.mark.parametrize(
    ("text", "detail"),
    [(IAM_UNAUTHENTICATED, "unauthenticated"), (IAM_UNAUTHORIZED, "not_invoker")],
)
def test_cloud_run_iam_text_without_app_log_is_iam_denied(text: str, detail: str) -> None:
    """Cloud Run's own IAM text on a 403 with no app log is iam_denied at the edge."""
    v = one([run_request(403, message=text)])
    assert (v.root_cause, v.layer, v.detail) == ("iam_denied", "edge", detail)
    assert v.confidence >= 0.8
    assert v.evidence[0].summary.startswith(
        "403 GET /ws run.googleapis.com/requests: The request was not"
    )


def test_bare_cloud_run_403_without_any_text_or_app_log_is_unknown() -> None:
    """A 403 request entry alone could be IAM or app logs missing from the export: do not guess."""
    v = one([run_request(403)])
    assert v.root_cause == "unknown"
    assert "no app log for this request" in (v.reason or "")


def test_app_log_for_the_request_rules_out_the_structural_iam_reading() -> None:
    """With an app line for the same request, the edge-shaped IAM rule does not fire."""
    rows = [run_request(403), app_line("GET /ws handled", trace=TRACE, severity="INFO")]
    v = one(rows)
    assert v.root_cause == "unknown"
    assert "from the app but no app log says why" in (v.reason or "")


def test_cloud_armor_deny_on_the_lb_is_cloud_armor_denied() -> None:
    """LB entry with enforcedSecurityPolicy.outcome DENY: cloud_armor_denied, layer edge."""
    payload = {
        "statusDetails": "denied_by_security_policy",
        "enforcedSecurityPolicy": {
            "name": "e2e-policy",
            "priority": 1000,
            "configuredAction": "DENY",
            "outcome": "DENY",
        },
    }
    v = one([lb_request(403, payload, message="denied_by_security_policy")])
    assert (v.root_cause, v.layer, v.detail) == ("cloud_armor_denied", "edge", "security_policy")
    assert v.evidence[0].summary == (
        "403 GET /ws requests [denied_by_security_policy] "
        "policy e2e-policy, priority 1000, action DENY, outcome DENY"
    )


def test_cloud_armor_edge_policy_deny() -> None:
    """An enforced *edge* security policy DENY is cloud_armor_denied too."""
    payload = {
        "enforcedEdgeSecurityPolicy": {"name": "edge", "outcome": "DENY"},
        "statusDetails": "denied_by_security_policy",
    }
    v = one([lb_request(403, payload)])
    assert (v.root_cause, v.detail) == ("cloud_armor_denied", "edge_security_policy")


def test_cloud_armor_accept_is_not_a_denial() -> None:
    """Policies that ACCEPT do not make a denial, even on an error status."""
    payload = {
        "enforcedSecurityPolicy": {"name": "p", "outcome": "ACCEPT"},
        "statusDetails": "response_sent_by_backend",
    }
    v = one([lb_request(403, payload)])
    assert v.root_cause != "cloud_armor_denied"


def test_cloud_armor_throttle_is_rate_limited_at_the_edge() -> None:
    """A Cloud Armor throttle rule's 429 is rate_limited with layer edge, not cloud_armor_denied."""
    payload = {
        "statusDetails": "denied_by_security_policy",
        "enforcedSecurityPolicy": {
            "name": "p",
            "configuredAction": "THROTTLE",
            "outcome": "DENY",
            "rateLimitAction": {"key": "1.2.3.4", "outcome": "RATE_LIMIT_THRESHOLD_EXCEED"},
        },
    }
    v = one([lb_request(429, payload)])
    assert (v.root_cause, v.layer, v.detail) == ("rate_limited", "edge", "armor_rate_limit")


def test_app_limiter_429_is_rate_limited_in_the_app() -> None:
    """A 429 request entry plus the app limiter's line: rate_limited, layer app."""
    rows = [run_request(429), app_line("Too many requests, please try again later.", trace=TRACE)]
    v = one(rows)
    assert (v.root_cause, v.layer) == ("rate_limited", "app")
    assert v.confidence >= 0.8


def test_lone_429_request_entry_is_rate_limited_with_lower_confidence() -> None:
    """The status alone says a limit was hit; confidence stays below a corroborated case."""
    lone = one([run_request(429)])
    both = one([run_request(429), app_line("Rate limit exceeded: 5 per 1 minute", trace=TRACE)])
    assert lone.root_cause == "rate_limited"
    assert lone.confidence < both.confidence


def test_iap_lb_entry_is_iap_denied() -> None:
    """LB entry handled by IAP with 401/403 is iap_denied."""
    v = one([lb_request(401, {"statusDetails": "handled_by_identity_aware_proxy"})])
    assert (v.root_cause, v.layer) == ("iap_denied", "edge")


def test_iap_audit_entry_not_granted_is_iap_denied() -> None:
    """An IAP data-access audit entry with granted=false is iap_denied."""
    audit = entry(
        0.01,
        log_id="cloudaudit.googleapis.com/data_access",
        resource_type="gce_backend_service",
        payload_kind="proto",
        message="iap.googleapis.com AuthorizeUser PERMISSION_DENIED",
        payload={
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "iap.googleapis.com",
            "methodName": "AuthorizeUser",
            "status": {"code": 7, "message": "PERMISSION_DENIED"},
            "authorizationInfo": [
                {"permission": "iap.webServiceVersions.accessViaIAP", "granted": False}
            ],
        },
    )
    v = one([audit])
    assert (v.root_cause, v.layer) == ("iap_denied", "edge")


def test_iap_audit_entry_granted_is_not_a_denial() -> None:
    """An IAP audit entry that granted access does not make iap_denied."""
    audit = entry(
        0.0,
        log_id="cloudaudit.googleapis.com/data_access",
        payload={
            "serviceName": "iap.googleapis.com",
            "methodName": "AuthorizeUser",
            "authorizationInfo": [{"granted": True}],
        },
    )
    assert one([audit]).root_cause == "unknown"


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        (
            "Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in ws\nKeyError: 'user'",
            "exception",
        ),
        ('Exception in thread "http-nio-8080-exec-1" java.lang.NullPointerException', "exception"),
        ("panic: runtime error: invalid memory address or nil pointer dereference", "panic"),
        (
            "UnhandledPromiseRejectionWarning: TypeError: Cannot read properties of undefined (reading 'id')",
            "exception",
        ),
    ],
)
def test_5xx_with_exception_is_app_error(message: str, detail: str) -> None:
    """A 5xx request entry and the exception for it (Python, Java, Go, Node) give app_error."""
    v = one([run_request(500), app_line(message, severity="ERROR", trace=TRACE)])
    assert (v.root_cause, v.layer, v.detail) == ("app_error", "app", detail)
    assert v.confidence >= 0.75


def test_traceback_summary_shows_the_exception_line() -> None:
    """A traceback's evidence line is its last line (the exception), not 'Traceback ...'."""
    msg = 'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: bad things'
    v = one([run_request(500), app_line(msg, severity="ERROR", trace=TRACE)])
    assert any(e.summary == "ERROR backend: ValueError: bad things" for e in v.evidence)


def _real_frame(path: Path) -> pl.DataFrame:
    from forensics.logs import entries_to_frame

    data = json.loads(path.read_text())
    return entries_to_frame(data if isinstance(data, list) else [data], str(path)).with_row_index(
        "row"
    )


def _classify_all(logs: pl.DataFrame) -> str:
    tests = pl.DataFrame([{"test_id": "t", "outcome": "failed"}], schema=TEST_SCHEMA)
    links = pl.DataFrame(
        [{"test_id": "t", "row": r, "via": "trace", "strength": 1.0} for r in range(logs.height)],
        schema=LINK_SCHEMA,
    )
    (v,) = classify(
        tests, logs, Correlation(0.0, 0.0, "x", pl.DataFrame(schema=WINDOW_SCHEMA), links), RULES
    )
    return v.root_cause


@pytest.mark.parametrize(
    ("file", "label"),
    [
        ("otel-contrib/armor_enforced_security_policy_deny.json", "cloud_armor_denied"),
        ("otel-contrib/armor_enforced_edge_security_policy_deny.json", "cloud_armor_denied"),
        ("mybazaar20/cloudrun_requests_403_iam_unauthenticated_options.json", "iam_denied"),
        ("otel-contrib/cloudrun_requests_503_h2c_real_log.json", "app_error"),
        ("otel-contrib/global_external_alb_200.json", "unknown"),
    ],
)
def test_real_exports_get_their_label(real_logs: Path, file: str, label: str) -> None:
    """Real Cloud Logging exports (loaded by the project's loader) are classified as they should be."""
    assert _classify_all(_real_frame(real_logs / file)) == label


def test_edge_explanation_says_the_container_never_saw_the_request() -> None:
    """An edge verdict's explanation says no app log belongs to the request."""
    v = one([run_request(403, message=IAM_UNAUTHENTICATED)])
    assert "stopped before the container" in v.explanation


def test_lb_passing_the_backends_429_is_app_layer() -> None:
    """A 429 the load balancer passed through from the backend is rate_limited in the app layer."""
    v = one([lb_request(429, {"statusDetails": "response_sent_by_backend"})])
    assert (v.root_cause, v.layer) == ("rate_limited", "app")


def _iap_redirect_case(failure: str) -> Verdict:
    rows = [
        lb_request(
            302, {"statusDetails": "handled_by_identity_aware_proxy"}, http_path="/api/status"
        )
    ]
    logs = pl.DataFrame(rows, schema=LOG_SCHEMA).with_row_index("row")
    tests = pl.DataFrame(
        [{"test_id": "t", "outcome": "failed", "message": failure}], schema=TEST_SCHEMA
    )
    links = pl.DataFrame(
        [{"test_id": "t", "row": 0, "via": "url", "strength": 0.3}], schema=LINK_SCHEMA
    )
    (v,) = classify(
        tests, logs, Correlation(0.0, 0.0, "x", pl.DataFrame(schema=WINDOW_SCHEMA), links), RULES
    )
    return v


def test_failure_naming_the_iap_redirect_makes_it_decisive() -> None:
    """A test that failed on the 302 the LB entry shows (same path) is iap_denied, even on a weak link."""
    v = _iap_redirect_case(
        "httpx.HTTPStatusError: Redirect response '302 Found' for url 'https://portal.example.dev/api/status'"
    )
    assert (v.root_cause, v.detail, v.layer) == ("iap_denied", "login_redirect", "edge")


def test_failure_naming_another_path_does_not_promote_the_link() -> None:
    """A 302 on a different URL than the one the test failed on stays weak context."""
    v = _iap_redirect_case(
        "httpx.HTTPStatusError: Redirect response '302 Found' for url 'https://portal.example.dev/other'"
    )
    assert v.root_cause == "unknown"
