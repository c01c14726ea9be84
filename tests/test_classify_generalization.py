"""Phenomena a blind corpus taught: a request's own status, trace ids, structured fields decide."""

from __future__ import annotations

import polars as pl
import pytest

from forensics.classify import classify, load_rules
from forensics.correlate.link import LINK_SCHEMA, WINDOW_SCHEMA, Correlation
from forensics.result import Verdict
from forensics.schema import LOG_SCHEMA, TEST_SCHEMA
from tests.test_classify import TRACE, app_line, one, run_request


def test_downstream_429_quoted_in_our_500_is_app_error() -> None:
    """A 500 whose traceback quotes a downstream '429 Too Many Requests' is our app failing, not a limit."""
    rows = [
        run_request(500, "/summarize"),
        app_line(
            'Traceback (most recent call last):\n  File "app.py", line 40, in summarize\n'
            "httpx.HTTPStatusError: Client error '429 Too Many Requests' for url "
            "'https://llm-gateway.internal/v1/complete'",
            severity="ERROR",
            trace=TRACE,
        ),
    ]
    assert one(rows).root_cause == "app_error"


def test_limiter_line_on_a_429_is_still_rate_limited() -> None:
    """The app's own limiter refusing our request (429) stays rate_limited."""
    rows = [
        run_request(429, "/search"),
        app_line("rate limit exceeded for key ip:1.2.3.4", trace=TRACE),
    ]
    assert one(rows).root_cause == "rate_limited"


def test_message_naming_two_causes_is_unknown() -> None:
    """'missing or invalid token' says no more for invalid_jwt than for missing_jwt: unknown, a conflict."""
    for text in ("halt 401: missing or invalid token", "auth: token missing or expired"):
        v = one([run_request(401, "/notes"), app_line(text, trace=TRACE)])
        assert v.root_cause == "unknown", text
        assert "conflicting evidence" in (v.reason or "")


def test_echo_extractor_missing_or_malformed_stays_missing_jwt() -> None:
    """Echo/Fiber's 'missing or malformed jwt' (no Bearer token found) is still missing_jwt."""
    v = one(
        [
            run_request(400, "/me"),
            app_line("code=400, message=missing or malformed jwt", trace=TRACE),
        ]
    )
    assert v.root_cause == "missing_jwt"


def test_aspnet_not_authenticated_with_a_failure_message_is_invalid_jwt() -> None:
    """ASP.NET 'Bearer was not authenticated. Failure message: IDX10223 ... expired' is invalid_jwt, not missing."""
    line = (
        "Bearer was not authenticated. Failure message: IDX10223: Lifetime validation failed. "
        "The token is expired."
    )
    v = one([run_request(401, "/invoices"), app_line(line, trace=TRACE)])
    assert (v.root_cause, v.detail) == ("invalid_jwt", "expired")


def test_identitymodel_code_alone_is_invalid_jwt() -> None:
    """A Microsoft.IdentityModel IDX10xxx/IDX14xxx validation code names a token check: invalid_jwt."""
    line = "Bearer was not authenticated. Failure message: IDX14100: JWT is not well formed, there are no dots (.)."
    assert one([run_request(401, "/x"), app_line(line, trace=TRACE)]).root_cause == "invalid_jwt"


def test_fastapi_not_authenticated_alone_stays_missing_jwt() -> None:
    """FastAPI's bare {"detail":"Not authenticated"} is still missing_jwt."""
    v = one([run_request(403, "/me"), app_line('{"detail":"Not authenticated"}', trace=TRACE)])
    assert v.root_cause == "missing_jwt"


def _envoy(details: str, status: int, path: str) -> dict:
    """An Envoy sidecar's JSON access log line (stdout of the Cloud Run service)."""
    payload = {
        "method": "GET",
        "path": path,
        "response_code": status,
        "response_code_details": details,
        "user_agent": "python-httpx/0.28.1",
    }
    return app_line("", trace=TRACE, payload=payload, severity="INFO")


@pytest.mark.parametrize(
    ("details", "status", "label"),
    [
        ("jwt_authn_access_denied{Jwt_is_expired}", 401, "invalid_jwt"),
        ("jwt_authn_access_denied{Jwt_verification_fails}", 401, "invalid_jwt"),
        ("jwt_authn_access_denied{Audiences_in_Jwt_are_not_allowed}", 403, "invalid_jwt"),
        ("jwt_authn_access_denied{Jwt_is_missing}", 401, "missing_jwt"),
        ("rbac_access_denied_matched_policy[none]", 403, "middleware_rejection"),
        ("ext_authz_denied", 403, "middleware_rejection"),
        ("local_rate_limited", 429, "rate_limited"),
    ],
)
def test_envoy_response_code_details_is_the_decision(details: str, status: int, label: str) -> None:
    """An Envoy/Istio sidecar's response_code_details names why the request was refused."""
    v = one([run_request(status, "/v1/items"), _envoy(details, status, "/v1/items")])
    assert v.root_cause == label


@pytest.mark.parametrize(
    "line",
    [
        "Can't verify CSRF token authenticity.",
        "ActionController::InvalidAuthenticityToken (ActionController::InvalidAuthenticityToken)",
        "CSRF token mismatch.",
        "ForbiddenError: invalid csrf token",
        "The CSRF token is missing.",
        "Invalid CSRF token found for https://app.example/checkout",
        "The antiforgery token could not be decrypted.",
    ],
)
def test_csrf_refusals_across_stacks_are_middleware_rejection(line: str) -> None:
    """CSRF refusals of Rails, Laravel, csurf, Flask-WTF, Spring and ASP.NET are middleware_rejection."""
    v = one([run_request(422, "/checkout"), app_line(line, trace=TRACE)])
    assert (v.root_cause, v.detail) == ("middleware_rejection", "csrf")


def test_policy_engine_denial_is_middleware_rejection() -> None:
    """A casbin/OPA-style 'request denied by policy' line on a 403 is middleware_rejection."""
    payload = {
        "msg": "casbin: request denied by policy",
        "sub": "runner",
        "obj": "/admin",
        "act": "DELETE",
    }
    v = one(
        [
            run_request(403, "/admin"),
            app_line("casbin: request denied by policy", trace=TRACE, payload=payload),
        ]
    )
    assert v.root_cause == "middleware_rejection"


def test_bypass_decision_in_structured_fields_is_read() -> None:
    """A generic msg with check=e2e_bypass_key, result=mismatch in its fields is missing_bypass_header."""
    payload = {
        "msg": "handshake refused",
        "check": "e2e_bypass_key",
        "result": "mismatch",
        "header": "x-e2e-key",
    }
    v = one([run_request(403, "/ws"), app_line("handshake refused", trace=TRACE, payload=payload)])
    assert v.root_cause == "missing_bypass_header"


def test_bypass_header_echoed_in_fields_of_a_token_refusal_is_not_a_bypass_verdict() -> None:
    """A bypass header merely listed in a line's fields, with no refusal verdict on it, decides nothing about bypass."""
    payload = {"msg": "request", "headers": "x-e2e-bypass", "result": "ok"}
    v = one([run_request(403, "/ws"), app_line("request", trace=TRACE, payload=payload)])
    assert v.root_cause != "missing_bypass_header"


def _classify_with_message(rows: list[dict], links: list[tuple], message: str) -> Verdict:
    logs = pl.DataFrame(rows, schema=LOG_SCHEMA).with_row_index("row")
    tests = pl.DataFrame(
        [{"test_id": "t", "outcome": "failed", "order": 0, "message": message}], schema=TEST_SCHEMA
    )
    link_frame = pl.DataFrame(
        [dict(zip(LINK_SCHEMA, link, strict=True)) for link in links], schema=LINK_SCHEMA
    )
    corr = Correlation(0.0, 0.5, "test", pl.DataFrame(schema=WINDOW_SCHEMA), link_frame, notes={})
    (v,) = classify(tests, logs, corr, load_rules())
    return v


def test_request_correlate_demoted_is_not_promoted_by_the_failure_text() -> None:
    """An entry correlate tied at context strength (another's call) is not lifted because the failure names it."""
    rows = [run_request(401, "/v1/balance"), app_line("jwt: token is expired", trace=TRACE)]
    message = "httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://backend-xyz.a.run.app/v1/balance'"
    demoted = _classify_with_message(
        rows, [("t", 0, "window", 0.15), ("t", 1, "trace", 0.15)], message
    )
    assert demoted.root_cause == "unknown"
    context = _classify_with_message(
        rows, [("t", 0, "window", 0.3), ("t", 1, "trace", 0.3)], message
    )
    assert context.root_cause == "invalid_jwt"


def test_downstream_429_in_a_503_is_not_our_limiter() -> None:
    """An HTTP client's '429 ... for url https://other' inside our 503 is a downstream limit, not rate_limited."""
    line = (
        "httpx.HTTPStatusError: Client error '429 Too Many Requests' for url "
        "'https://llm-gateway.internal/v1/complete'"
    )
    v = one([run_request(503, "/summarize"), app_line(line, severity="ERROR", trace=TRACE)])
    assert v.root_cause != "rate_limited"


def test_two_cause_message_is_decided_by_another_line_naming_one_cause() -> None:
    """'missing or invalid token' beside 'token is expired' for the same request is invalid_jwt."""
    rows = [
        run_request(401, "/notes"),
        app_line("halt 401: missing or invalid token", trace=TRACE),
        app_line("jwt: token is expired", trace=TRACE, t=0.04),
    ]
    assert one(rows).root_cause == "invalid_jwt"
    rows[2] = app_line("auth: no Authorization header on the request", trace=TRACE, t=0.04)
    assert one(rows).root_cause == "missing_jwt"


@pytest.mark.parametrize(
    "line",
    [
        "origin_check: rejected WebSocket from Origin 'http://127.0.0.1:4173' (allowed: https://app.example)",
        'denied connection from origin "null"',
        "blocked request for origin https://evil.example",
        "origin-validation failed for http://localhost:3000",
    ],
)
def test_refusal_before_the_origin_it_names_is_cors_origin(line: str) -> None:
    """A refusal followed by the Origin it came from (a URL or quoted value), or an origin check failing, is cors_origin."""
    assert one([run_request(403, "/ws"), app_line(line, trace=TRACE)]).root_cause == "cors_origin"


def test_cdn_origin_server_is_not_a_cors_refusal() -> None:
    """'blocked from origin server' (a CDN's backend) is not the browser Origin check."""
    v = one(
        [
            run_request(403, "/x"),
            app_line("request blocked from origin server 10.0.0.1", trace=TRACE),
        ]
    )
    assert v.root_cause != "cors_origin"


@pytest.mark.parametrize(
    "line",
    [
        "Bucket4j: bucket 'e2e-runner' exhausted (capacity 10/min), responding 429 with Retry-After: 48",
        "io.github.resilience4j.ratelimiter.RequestNotPermitted: RateLimiter 'quotes' does not permit further calls",
        "quota for key ci-runner depleted; returning 429",
        'limiting requests, excess: 5.240 by zone "api", client: 34.1.2.3',
    ],
)
def test_token_bucket_limiter_words_on_a_429_are_rate_limited(line: str) -> None:
    """A token-bucket/permit limiter's own words (Bucket4j, resilience4j, nginx) on a 429 read as the app's limiter."""
    v = one([run_request(429, "/api/quotes/9"), app_line(line, trace=TRACE)])
    assert (v.root_cause, v.detail) == ("rate_limited", "app_limiter")


def test_limiter_words_on_a_served_request_are_not_a_limit() -> None:
    """A bucket line beside a 200 (the limiter let it through) does not make the test rate_limited."""
    v = one(
        [
            run_request(200, "/api/quotes/9"),
            app_line("bucket 'x' exhausted, responding 429", trace=TRACE),
        ]
    )
    assert v.root_cause != "rate_limited"


def test_only_successful_calls_linked_says_no_failing_request_from_the_runner() -> None:
    """A test whose window holds only the runner's successful calls is unknown, and the reason says its failing call left no entry."""
    v = one([run_request(200, "/api/streams/2")])
    assert v.root_cause == "unknown"
    assert "no failing request from the runner" in (v.reason or ""), v.reason


def test_upstream_returning_429_in_our_503_is_not_our_limiter() -> None:
    """'upstream returned 429' beside our 503 names a downstream's limit, not the app's limiter."""
    v = one([run_request(503, "/quote"), app_line("upstream returned 429, giving up", trace=TRACE)])
    assert v.root_cause != "rate_limited"
