"""Each app label decided from the real wordings of common stacks, and near-misses that must not be."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.result import Verdict
from tests.test_classify import TRACE, app_line, one, run_request

# (stack, app log message, label, detail or None)
WORDINGS = [
    # missing_jwt
    ("custom python logger", "ws rejected: missing token", "missing_jwt", None),
    ("custom", "WebSocket auth failed: no token provided", "missing_jwt", None),
    ("custom", "Authorization header missing", "missing_jwt", None),
    (
        "custom",
        "rejecting handshake: token not provided in subprotocol or query",
        "missing_jwt",
        None,
    ),
    ("custom redacting", "ws auth: JWT=None subprotocols=[] -> 403", "missing_jwt", None),
    ("FastAPI HTTPBearer", '{"detail":"Not authenticated"}', "missing_jwt", None),
    ("FastAPI", "HTTPException(status_code=403, detail='Not authenticated')", "missing_jwt", None),
    ("DRF", "Authentication credentials were not provided.", "missing_jwt", None),
    ("DRF token", "Invalid token header. No credentials provided.", "missing_jwt", None),
    ("jsonwebtoken", "JsonWebTokenError: jwt must be provided", "missing_jwt", None),
    ("express-jwt", "UnauthorizedError: No authorization token was found", "missing_jwt", None),
    (
        "Spring Security",
        "Full authentication is required to access this resource",
        "missing_jwt",
        None,
    ),
    ("golang-jwt request", "auth: no token present in request", "missing_jwt", None),
    ("echo jwt", "code=400, message=missing or malformed jwt", "missing_jwt", None),
    (
        "flask-jwt-extended",
        "Missing JWT in headers or cookies (Missing Authorization Header)",
        "missing_jwt",
        None,
    ),
    ("passport-jwt", "Unauthorized: No auth token", "missing_jwt", None),
    ("custom", "JWT token not found in request headers", "missing_jwt", None),
    ("Envoy jwt_authn", "Jwt is missing", "missing_jwt", None),
    ("go-jwt-middleware", "jwt missing", "missing_jwt", None),
    # invalid_jwt
    (
        "PyJWT",
        "jwt.exceptions.ExpiredSignatureError: Signature has expired",
        "invalid_jwt",
        "expired",
    ),
    ("python-jose", "JWTError: Signature has expired.", "invalid_jwt", "expired"),
    ("jsonwebtoken", "TokenExpiredError: jwt expired", "invalid_jwt", "expired"),
    (
        "Spring",
        "An error occurred while attempting to decode the Jwt: Jwt expired at 2026-03-02T09:59:00Z",
        "invalid_jwt",
        "expired",
    ),
    ("golang-jwt v4", "token is expired", "invalid_jwt", "expired"),
    ("golang-jwt v5", "token has invalid claims: token is expired", "invalid_jwt", "expired"),
    ("custom redacting", "WS reject JWT=REDACTED reason=token expired", "invalid_jwt", "expired"),
    (
        "PyJWT",
        "jwt.exceptions.InvalidSignatureError: Signature verification failed",
        "invalid_jwt",
        "bad_signature",
    ),
    ("jsonwebtoken", "JsonWebTokenError: invalid signature", "invalid_jwt", "bad_signature"),
    (
        "golang-jwt",
        "token signature is invalid: signature is invalid",
        "invalid_jwt",
        "bad_signature",
    ),
    (
        "Spring nimbus",
        "An error occurred while attempting to decode the Jwt: Signed JWT rejected: Invalid signature",
        "invalid_jwt",
        "bad_signature",
    ),
    ("PyJWT", "jwt.exceptions.InvalidAudienceError: Invalid audience", "invalid_jwt", "audience"),
    ("PyJWT 2.10", "InvalidAudienceError: Audience doesn't match", "invalid_jwt", "audience"),
    (
        "jsonwebtoken",
        "JsonWebTokenError: jwt audience invalid. expected: api://backend",
        "invalid_jwt",
        "audience",
    ),
    (
        "golang-jwt v5",
        "token has invalid claims: token has invalid audience",
        "invalid_jwt",
        "audience",
    ),
    ("PyJWT", "jwt.exceptions.InvalidIssuerError: Invalid issuer", "invalid_jwt", "issuer"),
    (
        "jsonwebtoken",
        "jwt issuer invalid. expected: https://auth.example.com",
        "invalid_jwt",
        "issuer",
    ),
    ("PyJWT", "jwt.exceptions.DecodeError: Not enough segments", "invalid_jwt", "malformed"),
    ("PyJWT", "DecodeError: Invalid header padding", "invalid_jwt", "malformed"),
    ("jsonwebtoken", "JsonWebTokenError: jwt malformed", "invalid_jwt", "malformed"),
    ("golang-jwt", "token contains an invalid number of segments", "invalid_jwt", "malformed"),
    (
        "PyJWT",
        "ImmatureSignatureError: The token is not yet valid (iat)",
        "invalid_jwt",
        "not_yet_valid",
    ),
    ("FastAPI tutorial", "401 Could not validate credentials", "invalid_jwt", None),
    ("simplejwt", "Given token not valid for any token type", "invalid_jwt", None),
    ("simplejwt", "Token is invalid or expired", "invalid_jwt", None),
    (
        "Spring",
        'Bearer error="invalid_token", error_description="An error occurred while attempting to decode the Jwt"',
        "invalid_jwt",
        None,
    ),
    ("echo jwt", "code=401, message=invalid or expired jwt", "invalid_jwt", None),
    ("custom redacting", "ws auth failed JWT=REDACTED", "invalid_jwt", None),
    ("jose (node)", 'JWTExpired: "exp" claim timestamp check failed', "invalid_jwt", "expired"),
    ("google-auth", "ValueError: Token expired, 1767261600 < 1767261700", "invalid_jwt", "expired"),
    (
        "firebase-admin",
        "Firebase ID token has expired. Get a fresh ID token from your client app",
        "invalid_jwt",
        "expired",
    ),
    (
        "ASP.NET Core",
        "IDX10223: Lifetime validation failed. The token is expired.",
        "invalid_jwt",
        "expired",
    ),
    (
        "google-auth",
        "ValueError: Could not verify token signature.",
        "invalid_jwt",
        "bad_signature",
    ),
    (
        "ASP.NET Core",
        "IDX10503: Signature validation failed. Token does not have a kid.",
        "invalid_jwt",
        "bad_signature",
    ),
    (
        "lestrrat jwx",
        "could not verify message using any of the signatures or keys",
        "invalid_jwt",
        "bad_signature",
    ),
    (
        "google-auth",
        "ValueError: Wrong recipient, payload audience != requested audience.",
        "invalid_jwt",
        "audience",
    ),
    (
        "jose (node)",
        'JWTClaimValidationFailed: unexpected "aud" claim value',
        "invalid_jwt",
        "audience",
    ),
    ("ASP.NET Core", "IDX10214: Audience validation failed.", "invalid_jwt", "audience"),
    ("jose (node)", 'unexpected "iss" claim value', "invalid_jwt", "issuer"),
    (
        "custom redacting",
        "auth failed JWT=REDACTED reason=aud mismatch expected=notes-api got=notes-web",
        "invalid_jwt",
        "audience",
    ),
    ("custom", "token rejected: iss claim invalid", "invalid_jwt", "issuer"),
    ("simplejwt", "Token is blacklisted", "invalid_jwt", None),
    ("ruby-jwt", "JWT::DecodeError: Not enough or too many segments", "invalid_jwt", "malformed"),
    ("php-jwt", "UnexpectedValueException: Wrong number of segments", "invalid_jwt", "malformed"),
    ("php-jwt", "Firebase\\JWT\\ExpiredException: Expired token", "invalid_jwt", "expired"),
    (
        "flask-jwt-extended",
        "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
        "invalid_jwt",
        "malformed",
    ),
    ("Envoy jwt_authn", "Jwt is expired", "invalid_jwt", "expired"),
    ("Envoy jwt_authn", "Audiences in Jwt are not allowed", "invalid_jwt", "audience"),
    ("Quarkus smallrye-jwt", "SRJWT07000: Failed to verify a token", "invalid_jwt", None),
    ("PyJWT", 'MissingRequiredClaimError: Token is missing the "exp" claim', "invalid_jwt", None),
    # cors_origin
    ("Express cors", "Error: Not allowed by CORS", "cors_origin", None),
    (
        "gorilla/websocket",
        "websocket: request origin not allowed by Upgrader.CheckOrigin",
        "cors_origin",
        "websocket_origin",
    ),
    ("Spring", "Invalid CORS request", "cors_origin", None),
    (
        "Spring DefaultCorsProcessor",
        "Reject: 'https://evil.example' origin is not allowed",
        "cors_origin",
        None,
    ),
    (
        "Spring WebSocket",
        "Handshake request rejected, Origin header value https://evil.example not allowed",
        "cors_origin",
        None,
    ),
    ("Starlette CORSMiddleware", "Disallowed CORS origin", "cors_origin", None),
    ("python-socketio", "https://evil.example is not an accepted origin.", "cors_origin", None),
    (
        "Django CSRF",
        "Forbidden (Origin checking failed - https://evil.example does not match any trusted origins.): /api/ws",
        "cors_origin",
        None,
    ),
    ("custom", "ws rejected: origin https://evil.example not in allowlist", "cors_origin", None),
    ("custom", "rejecting websocket: bad origin 'http://localhost:3000'", "cors_origin", None),
    (
        "rs/cors",
        "Preflight aborted: origin 'http://localhost:5173' not allowed",
        "cors_origin",
        None,
    ),
    # middleware_rejection
    (
        "Django CSRF",
        "Forbidden (CSRF cookie not set.): /api/session",
        "middleware_rejection",
        "csrf",
    ),
    ("Django CSRF", "CSRF verification failed. Request aborted.", "middleware_rejection", "csrf"),
    (
        "Django CSRF",
        "Forbidden (CSRF token missing.): /api/session",
        "middleware_rejection",
        "csrf",
    ),
    (
        "DRF",
        "You do not have permission to perform this action.",
        "middleware_rejection",
        "permission",
    ),
    (
        "Spring",
        "org.springframework.security.access.AccessDeniedException: Access is denied",
        "middleware_rejection",
        "permission",
    ),
    (
        "custom",
        "TenantMiddleware: tenant mismatch for user u-1 (acme != globex)",
        "middleware_rejection",
        None,
    ),
    ("custom", "AuthzMiddleware denied request: policy ws.connect", "middleware_rejection", None),
    (
        "Starlette",
        "closing websocket before accept: code=1008 policy violation",
        "middleware_rejection",
        "policy_violation",
    ),
    # missing_bypass_header
    ("custom", "E2E bypass key missing", "missing_bypass_header", None),
    ("custom", "e2e bypass key invalid for this environment", "missing_bypass_header", None),
    (
        "custom",
        "X-E2E-Bypass header not present on websocket handshake",
        "missing_bypass_header",
        None,
    ),
    (
        "custom",
        "rejecting request: test bypass header required in staging",
        "missing_bypass_header",
        None,
    ),
    (
        "custom",
        "bypass key mismatch (expected secret from E2E_BYPASS_KEY)",
        "missing_bypass_header",
        None,
    ),
    # rate_limited (app)
    (
        "express-rate-limit",
        "Too many requests, please try again later.",
        "rate_limited",
        "app_limiter",
    ),
    (
        "DRF",
        "Request was throttled. Expected available in 42 seconds.",
        "rate_limited",
        "app_limiter",
    ),
    (
        "slowapi",
        "ratelimit 5 per 1 minute (127.0.0.1) exceeded at endpoint: /ws",
        "rate_limited",
        "app_limiter",
    ),
    ("custom", "rate limit exceeded for key runner-1", "rate_limited", "app_limiter"),
]


def _decide(message: str, status: int = 403) -> Verdict:
    return one(
        [
            run_request(status if "throttl" not in message.lower() else 429),
            app_line(message, trace=TRACE),
        ]
    )


@pytest.mark.parametrize(
    ("stack", "message", "label", "detail"),
    WORDINGS,
    ids=[f"{w[2]}:{w[0]}:{w[1][:30]}" for w in WORDINGS],
)
def test_stack_wording_decides_the_label(
    stack: str, message: str, label: str, detail: str | None
) -> None:
    """An app line in this stack's words, tied to the rejected request, decides the label."""
    v = _decide(message, 429 if label == "rate_limited" else 403)
    assert (v.root_cause, v.detail) == (label, detail), v.reason or v.explanation
    assert v.layer == "app"
    assert v.confidence >= 0.6


def test_every_app_label_has_wordings_from_several_stacks() -> None:
    """Coverage guard: each app label is exercised by the words of at least three stacks."""
    for label in (
        "missing_jwt",
        "invalid_jwt",
        "cors_origin",
        "middleware_rejection",
        "rate_limited",
    ):
        stacks = {w[0] for w in WORDINGS if w[2] == label}
        assert len(stacks) >= 3, label


# App lines that look close to a cause but must not decide one.
NEAR_MISSES = [
    ("URL path with 'origin'", "GET /api/origin-settings?status=invalid 403"),
    ("host named origin", "fetching https://origin.example.com/denied/config failed over to cache"),
    ("origin server", "origin server responded in 12ms"),
    ("origin query parameter", "GET /ws?origin=https://evil.example&state=invalid 403"),
    ("rate limiter bucket", "token bucket empty, refilling tokens"),
    ("bypass accepted", "E2E bypass header accepted for runner"),
    ("bypass config", "bypass key loaded from Secret Manager"),
    ("token refresh success", "access token refreshed successfully"),
    ("access log with 403", "access: 169.254.1.1 GET /ws 403 Forbidden 2ms"),
    (
        "outbound token cache",
        "no token cached for audience https://billing.run.app, minting a new one",
    ),
    ("outbound token renewal", "id token expired, refreshing credentials for downstream call"),
    ("public route", "no authorization required for /health"),
    ("outbound credentials", "missing credentials for service account, falling back to default credentials"),
    ("plain access line", 'INFO:     127.0.0.1:50000 - "WebSocket /ws" 403'),
    ("connection rejected", "INFO:     connection rejected (403 Forbidden)"),
    ("Django bare 403", "Forbidden: /ws/events/"),
    ("cors config", "CORS allowed origins: https://app.example.com, https://staging.example.com"),
    ("token count", "tokens used: 1532 of 4096"),
    ("ip allowlist change", "IP allowlist reloaded with 12 entries"),
    ("close code in a number", "processed 1008 events in 3s"),
    ("rate limit config", "rate limit configured: 100 per minute"),
    ("exception word at INFO", "retrying after TimeoutError, attempt 2"),
]


@pytest.mark.parametrize(("what", "message"), NEAR_MISSES, ids=[n[0] for n in NEAR_MISSES])
def test_near_misses_decide_nothing(what: str, message: str) -> None:
    """Lines that only resemble a cause leave a bare 403 unknown."""
    v = _decide(message)
    assert v.root_cause == "unknown", f"{what}: {v.root_cause} via {v.rule}"


@pytest.mark.parametrize(
    ("message", "label"),
    [
        ("ws rejected: token expired", "invalid_jwt"),
        ("ws rejected: missing token", "missing_jwt"),
        ("ws rejected: expired token", "invalid_jwt"),
        ("ws rejected: no token", "missing_jwt"),
    ],
)
def test_expired_is_invalid_and_missing_is_missing(message: str, label: str) -> None:
    """'token expired' is a token that was sent (invalid_jwt); 'missing token' was never sent."""
    assert _decide(message).root_cause == label


@pytest.mark.parametrize(
    "payload",
    [
        {"message": "ws rejected", "reason": "missing_jwt"},
        {"message": "handshake refused", "error": {"code": "token_missing"}},
    ],
)
def test_structured_reason_fields_decide(payload: dict[str, object]) -> None:
    """A structured log whose reason/code field names the cause decides even with a terse message."""
    v = one([run_request(403), app_line(str(payload["message"]), trace=TRACE, payload=payload)])
    assert v.root_cause == "missing_jwt"


def test_structured_log_with_origin_field_decides_cors() -> None:
    """A JSON log carrying the refused origin (and the allowlist) is cors_origin."""
    payload = {
        "message": "Rejected WebSocket upgrade",
        "origin": "https://e2e.example",
        "allowed_origins": ["https://app.example"],
    }
    v = one(
        [run_request(403), app_line("Rejected WebSocket upgrade", trace=TRACE, payload=payload)]
    )
    assert v.root_cause == "cors_origin"


@pytest.mark.parametrize(
    ("payload", "label"),
    [
        ({"message": "authentication failed", "error": "jwt expired"}, "invalid_jwt"),
        (
            {
                "msg": "ws handshake refused",
                "err": {"type": "UnauthorizedError", "message": "No authorization token was found"},
            },
            "missing_jwt",
        ),
        (
            {
                "message": "request failed",
                "stack_trace": "java.lang.NullPointerException\n\tat com.acme.Ws.open(Ws.java:42)",
            },
            "app_error",
        ),
    ],
)
def test_cause_in_structured_error_field_decides(payload: dict[str, object], label: str) -> None:
    """The cause written beside the message (error, err, stack_trace fields) counts like the message."""
    status = 500 if label == "app_error" else 403
    message = str(payload.get("message") or payload.get("msg"))
    v = one(
        [run_request(status), app_line(message, trace=TRACE, payload=payload, severity="ERROR")]
    )
    assert v.root_cause == label


def test_middleware_crash_with_a_500_is_app_error() -> None:
    """The same middleware failure answered with 500 is the app failing, not a refusal."""
    v = one(
        [
            run_request(500),
            app_line("AuthMiddleware raised KeyError('sub')", trace=TRACE, severity="ERROR"),
        ]
    )
    assert v.root_cause == "app_error"


def _real_app_rows(real_logs: Path) -> list[dict[str, object]]:
    """Real Cloud Run stdout/stderr entries (gunicorn, Flask, config dumps) as log-frame rows."""
    import json

    from forensics.logs import entries_to_frame

    path = real_logs / "cerberus" / "cloudrun_stdout_stderr.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return entries_to_frame(entries, str(path)).to_dicts()


def test_real_noisy_app_output_decides_nothing(real_logs: Path) -> None:
    """Thirty real stdout/stderr lines of a Flask service around a 403 do not invent a cause."""
    rows = [run_request(403), *_real_app_rows(real_logs)]
    v = one(rows)
    assert v.root_cause == "unknown"


@pytest.mark.parametrize("variant", ["websockets", "websockets-sansio", "wsproto"])
def test_real_uvicorn_rejection_lines_decide_nothing(real_logs: Path, variant: str) -> None:
    """uvicorn's own lines for a WebSocket closed before accept (every --ws variant) are not a cause."""
    text = (real_logs / "local-captures" / f"uvicorn-0.35.0_ws-{variant}.log").read_text()
    rows = [
        run_request(403),
        *(app_line(line, t=0.01 * i, severity="INFO") for i, line in enumerate(text.splitlines())),
    ]
    v = one(rows)
    assert v.root_cause == "unknown"
    assert "no app log says why" in (v.reason or "")


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("token_expired", "invalid_jwt"),
        ("missing_token", "missing_jwt"),
        ("origin_not_allowed", "cors_origin"),
        ("bypass_missing", "missing_bypass_header"),
        ("rate_limited", "rate_limited"),
        ("tenant_mismatch", "middleware_rejection"),
    ],
)
def test_structlog_style_event_with_reason_code(reason: str, label: str) -> None:
    """structlog/pino style: a terse event name and the cause as a reason code."""
    payload = {"event": "ws_rejected", "reason": reason}
    v = one(
        [
            run_request(429 if label == "rate_limited" else 403),
            app_line("ws_rejected", trace=TRACE, payload=payload),
        ]
    )
    assert v.root_cause == label


def test_generic_refusal_words_on_a_5xx_are_not_a_middleware_refusal() -> None:
    """'permission denied' from the app's own downstream call, on a 500, is the app failing."""
    v = one(
        [
            run_request(500),
            app_line(
                "storage access denied: missing permission storage.objects.get",
                trace=TRACE,
                severity="ERROR",
            ),
        ]
    )
    assert v.root_cause == "app_error"


def test_close_after_accept_with_reason_on_a_101_still_decides() -> None:
    """An app that accepts, then closes with 1008 after checking the token: the 101 entry does not veto."""
    v = one([run_request(101), app_line("closing websocket 1008: token expired", trace=TRACE)])
    assert (v.root_cause, v.detail) == ("invalid_jwt", "expired")


def test_named_check_outranks_the_generic_500_of_its_request() -> None:
    """Express's default handler turns the cors callback's error into a 500: still cors_origin."""
    rows = [
        run_request(500, path="/api/embed/config"),
        app_line(
            "Error: Not allowed by CORS\n    at origin (/app/src/server.js:27:16)",
            trace=TRACE,
            severity="ERROR",
        ),
        app_line(
            '::ffff:169.254.1.1 - - [14/Nov/2025:13:05:44 +0000] "OPTIONS /api/embed/config HTTP/1.1" 500 148',
            trace=TRACE,
            severity="INFO",
        ),
    ]
    v = one(rows)
    assert v.root_cause == "cors_origin"
    assert v.confidence >= 0.8


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("expired_signature", "invalid_jwt"),
        ("signature-expired", "invalid_jwt"),
        ("TOKEN_EXPIRED", "invalid_jwt"),
        ("jwt_expired", "invalid_jwt"),
        ("bad_signature", "invalid_jwt"),
        ("invalid_audience", "invalid_jwt"),
        ("invalid-issuer", "invalid_jwt"),
        ("decode_error", "invalid_jwt"),
        ("missing_authorization", "missing_jwt"),
        ("no-token", "missing_jwt"),
        ("token_missing", "missing_jwt"),
        ("missing_bearer_token", "missing_jwt"),
    ],
)
def test_untraced_structured_reason_codes_name_the_token_check(code: str, label: str) -> None:
    """A JSON app line whose reason is a snake/kebab-case token-check code decides the label."""
    payload = {"event": "ws_auth_failed", "reason": code, "path": "/ws"}
    v = one([run_request(403), app_line("ws_auth_failed", trace=TRACE, payload=payload)])
    assert v.root_cause == label


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "cache_miss", "note": "entry expired_signature_cache rebuilt"},
        {"event": "upload_failed", "detail": "csv decode_error at row 3 of the import"},
    ],
)
def test_token_codes_inside_other_text_are_not_read(payload: dict[str, object]) -> None:
    """A code word inside a longer value is not a token check: no auth label is given."""
    v = one([run_request(403), app_line(str(payload["event"]), trace=TRACE, payload=payload)])
    assert v.root_cause not in {"invalid_jwt", "missing_jwt"}
