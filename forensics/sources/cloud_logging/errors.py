"""The one boundary where google.api_core / google.auth / transport errors become forensics errors.

Every message is one line that says what to do. Retryable failures (429, 500, 502, 503, 504) come
back as ``forensics.sources.Retryable`` so the layer above can wait and resume from the same page
token.
"""

from __future__ import annotations

from typing import Any

from forensics.exceptions import (
    CredentialsError,
    FilterError,
    PermissionDeniedError,
    ProjectNotFoundError,
    PullError,
)
from forensics.sources.cloud_logging.connect import Target, login_hint, whole_words
from forensics.sources.protocol import Retryable

_RETRYABLE = {429: "quota", 500: "server", 502: "server", 503: "server", 504: "server"}
QUOTA = "Cloud Logging read quota"
QUOTA_RATE = "about 60 entries.list requests a minute per project"


def translate(err: BaseException, target: Target) -> Retryable | PullError | None:
    """Map a third-party exception to ``Retryable`` or a ``PullError``; None when it is not ours."""
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(err, api.GoogleAPICallError):
        return _from_api_error(err, target)
    if isinstance(err, auth.DefaultCredentialsError):
        return CredentialsError(f"no Google credentials; {login_hint()}")
    if isinstance(err, auth.RefreshError):
        return CredentialsError(
            f"Google rejected the credentials ({_first_line(err)}); {login_hint()}"
        )
    if isinstance(err, auth.TransportError):
        return PullError(
            f"cannot reach Google to refresh credentials ({_first_line(err)}); check the network"
        )
    import requests

    if isinstance(err, (requests.ConnectionError, requests.Timeout)):
        hint = (
            "is the local server running?"
            if target.endpoint
            else "check the network or proxy settings"
        )
        return PullError(f"cannot reach {target.where}: {type(err).__name__}; {hint}")
    return None


def _from_api_error(err: Any, target: Target) -> Retryable | PullError:
    status = int(getattr(err, "code", 0) or 0)
    message = _first_line(getattr(err, "message", None) or err)
    if message.startswith(("POST ", "GET ")) and ": " in message:
        message = message.split(": ", 1)[1]  # drop api_core's "POST https://...:" prefix
    if status in _RETRYABLE:
        response = getattr(err, "response", None)
        header = response.headers.get("Retry-After") if response is not None else None
        wait = _seconds(header)
        if wait is None:
            wait = _retry_info(getattr(err, "details", None))
        return Retryable(
            _RETRYABLE[status], status, wait, message, quota=QUOTA, quota_rate=QUOTA_RATE
        )
    project = target.project
    if status == 401:
        return CredentialsError(
            f"{target.where} did not accept the credentials ({message}); {login_hint()}"
        )
    if status == 403:
        if (
            "has not been used" in message
            or "is disabled" in message
            or "SERVICE_DISABLED" in message
        ):
            return PermissionDeniedError(
                f"the Cloud Logging API is not enabled in project {project}; "
                f"run `gcloud services enable logging.googleapis.com --project {project}`"
            )
        return PermissionDeniedError(
            f"permission denied reading the logs of project {project}: ask for roles/logging.viewer "
            f"(Logs Viewer) on {project} and check that --project is the project ID ({message})"
        )
    if status == 404:
        return ProjectNotFoundError(
            f"project {project} was not found by {target.where}: check --project "
            f"(the project ID, e.g. my-project-123, not its display name) ({message})"
        )
    if (
        status == 400 and "token" in message.lower()
    ):  # e.g. a page token that expired during long waits
        return PullError(
            f"Cloud Logging no longer accepts the page token ({message}); run the pull again"
        )
    if status == 400:
        return FilterError(
            f"Cloud Logging rejected the filter: {message}; fix --filter "
            f"(see https://cloud.google.com/logging/docs/view/logging-query-language)"
        )
    return PullError(f"{target.where} answered {status or 'an error'}: {message}")


def _seconds(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None  # an HTTP-date Retry-After: fall back to our own backoff


def _retry_info(details: object) -> float | None:
    """The ``retryDelay`` of a google.rpc.RetryInfo error detail ("30s"), as Google sends it."""
    for detail in details if isinstance(details, (list, tuple)) else ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(
            "google.rpc.RetryInfo"
        ):
            delay = str(detail.get("retryDelay", ""))
            if delay.endswith("s"):
                return _seconds(delay[:-1])
    return None


def _first_line(value: object) -> str:
    text = str(value).strip().splitlines()[0] if str(value).strip() else type(value).__name__
    return whole_words(text, 300)
