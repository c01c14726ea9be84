"""A managed gateway in front (API Gateway, ESPv2) answers on its own: its request log decides."""

from __future__ import annotations

import polars as pl
import pytest

from forensics.classify import classify, load_rules
from forensics.correlate.link import LINK_SCHEMA, WINDOW_SCHEMA, Correlation
from forensics.result import Verdict
from forensics.schema import LOG_SCHEMA, TEST_SCHEMA
from tests.test_classify import entry

FAILURE = "httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://x/v1/rooms'"


def _gateway_verdict(payload: dict, status: int = 401) -> Verdict:
    """The verdict when the test's only linked row is the gateway's request entry (role request)."""
    row = entry(
        0.0,
        log_id="apigateway.googleapis.com/requests",
        resource_type="apigateway.googleapis.com/Gateway",
        http_status=status,
        http_method="POST",
        http_path="/v1/rooms",
        http_url="https://rooms-gw-1.uc.gateway.dev/v1/rooms",
        payload_kind="json",
        payload=payload,
    )
    logs = pl.DataFrame([row], schema=LOG_SCHEMA).with_row_index("row")
    tests = pl.DataFrame(
        [{"test_id": "t", "outcome": "failed", "order": 0, "message": FAILURE}], schema=TEST_SCHEMA
    )
    links = pl.DataFrame(
        [{"test_id": "t", "row": 0, "via": "url", "strength": 0.75, "role": "request"}],
        schema={**LINK_SCHEMA, "role": pl.String()},
    )
    corr = Correlation(0.0, 0.5, "test", pl.DataFrame(schema=WINDOW_SCHEMA), links, notes={})
    (v,) = classify(tests, logs, corr, load_rules())
    return v


def test_gateway_request_log_saying_jwt_is_missing_is_missing_jwt() -> None:
    """API Gateway's response_code_detail jwt_authn_access_denied{Jwt_is_missing} is missing_jwt, no app log needed."""
    v = _gateway_verdict(
        {
            "response_code_detail": "jwt_authn_access_denied{Jwt_is_missing}",
            "error_cause": "Jwt is missing",
        }
    )
    assert v.root_cause == "missing_jwt"


@pytest.mark.parametrize(
    "payload",
    [
        {"response_code_detail": "jwt_authn_access_denied{Jwt_is_expired}"},
        {"error_cause": "Jwt verification fails"},
    ],
)
def test_gateway_rejecting_a_sent_jwt_is_invalid_jwt(payload: dict) -> None:
    """A gateway that rejected the JWT it was given (expired, bad signature) says invalid_jwt."""
    assert _gateway_verdict(payload).root_cause == "invalid_jwt"


def test_gateway_passing_the_request_upstream_names_no_cause() -> None:
    """response_code_detail via_upstream (the backend answered) is no gateway decision."""
    v = _gateway_verdict({"response_code_detail": "via_upstream"}, status=403)
    assert v.root_cause == "unknown"
