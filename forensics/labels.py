"""The root-cause labels of ../shared/TAXONOMY.md: a contract shared by rules, output and reports.

Everything said per label lives here: where the request was stopped (``LAYERS``), what happened
(``WHAT_HAPPENED`` for explanations, ``MEANING`` for reports) and what to do (``REMEDIATION``).
"""

from __future__ import annotations

from typing import Final

MISSING_JWT: Final = "missing_jwt"
INVALID_JWT: Final = "invalid_jwt"
CORS_ORIGIN: Final = "cors_origin"
MIDDLEWARE_REJECTION: Final = "middleware_rejection"
MISSING_BYPASS_HEADER: Final = "missing_bypass_header"
IAM_DENIED: Final = "iam_denied"
IAP_DENIED: Final = "iap_denied"
CLOUD_ARMOR_DENIED: Final = "cloud_armor_denied"
RATE_LIMITED: Final = "rate_limited"
APP_ERROR: Final = "app_error"
UNKNOWN: Final = "unknown"

#: Every label, in TAXONOMY order.
LABELS: Final = (
    MISSING_JWT,
    INVALID_JWT,
    CORS_ORIGIN,
    MIDDLEWARE_REJECTION,
    MISSING_BYPASS_HEADER,
    IAM_DENIED,
    IAP_DENIED,
    CLOUD_ARMOR_DENIED,
    RATE_LIMITED,
    APP_ERROR,
    UNKNOWN,
)

#: Where the request was stopped for each label ("edge", "app", or None when either/unknown).
LAYERS: Final[dict[str, str | None]] = {
    MISSING_JWT: "app",
    INVALID_JWT: "app",
    CORS_ORIGIN: "app",
    MIDDLEWARE_REJECTION: "app",
    MISSING_BYPASS_HEADER: "app",
    IAM_DENIED: "edge",
    IAP_DENIED: "edge",
    CLOUD_ARMOR_DENIED: "edge",
    RATE_LIMITED: None,  # app or edge: decided by the evidence
    APP_ERROR: "app",
    UNKNOWN: None,
}

#: What each label means, as a verdict's explanation says it in its first sentence.
WHAT_HAPPENED: Final[dict[str, str]] = {
    MISSING_JWT: "the app rejected the request because it carried no token",
    INVALID_JWT: "the app rejected the token the request carried",
    CORS_ORIGIN: "the app refused the request's Origin",
    MIDDLEWARE_REJECTION: "an auth/security middleware in the app refused the request",
    MISSING_BYPASS_HEADER: "the app requires the E2E bypass header/key and it was absent or rejected",
    IAM_DENIED: "Cloud Run's IAM invoker check refused the call before it reached the container",
    IAP_DENIED: "Identity-Aware Proxy refused the call before it reached the app",
    CLOUD_ARMOR_DENIED: "a Cloud Armor security policy denied the call at the load balancer",
    RATE_LIMITED: "the request was rate limited (HTTP 429)",
    APP_ERROR: "the app failed while handling the request",
}

#: What each label means, in a few words, for a report's one-sentence verdict (TAXONOMY "what
#: happened").
MEANING: Final[dict[str, str]] = {
    MISSING_JWT: "the request carried no token",
    INVALID_JWT: "a token was sent but rejected",
    CORS_ORIGIN: "the Origin was not allowed",
    MIDDLEWARE_REJECTION: "an auth/security middleware refused the request",
    MISSING_BYPASS_HEADER: "the E2E bypass header or key was missing or rejected",
    IAM_DENIED: "Cloud Run's IAM invoker check refused the call",
    IAP_DENIED: "Identity-Aware Proxy refused the call",
    CLOUD_ARMOR_DENIED: "a Cloud Armor policy denied the call",
    RATE_LIMITED: "the call was rate limited (HTTP 429)",
    APP_ERROR: "the app failed (HTTP 5xx)",
    UNKNOWN: "the logs do not decide the cause",
}

#: What to do about each cause, for reports (TAXONOMY "Remediation hints").
REMEDIATION: Final[dict[str, str]] = {
    MISSING_JWT: "The client does not attach the token to the handshake: check the header / subprotocol the server reads.",
    INVALID_JWT: "Compare the token's `iss`/`aud`/`exp` and the signing secret or key id used by the issuer and by the service that verifies it.",
    CORS_ORIGIN: "The client's `Origin` is not in the allowed list of that environment.",
    MIDDLEWARE_REJECTION: "Read the middleware's decision log; check the policy or the middleware's own error.",
    MISSING_BYPASS_HEADER: "Send the E2E bypass header in the WebSocket handshake too, with the key that this environment's secret holds.",
    IAM_DENIED: "Send a Google-signed identity token for the service's audience, or allow unauthenticated invocations.",
    IAP_DENIED: "The caller's identity lacks IAP access (`roles/iap.httpsResourceAccessor`) or sends no IAP credential.",
    CLOUD_ARMOR_DENIED: "The named policy and rule priority matched the request.",
    RATE_LIMITED: "The limiter's key and limit; slow the client or raise the limit for test traffic.",
    APP_ERROR: "The exception in the app log.",
    UNKNOWN: "Nothing in the logs decides this failure: widen the export window, add the app's logs, or check the runner's clock.",
}
