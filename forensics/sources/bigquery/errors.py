"""google.api_core / transport errors of a BigQuery pull as ``Retryable`` or a one-line ``PullError``."""

from __future__ import annotations

from forensics.exceptions import (
    CredentialsError,
    PermissionDeniedError,
    ProjectNotFoundError,
    PullError,
)
from forensics.sources.bigquery.sql import Dataset
from forensics.sources.cloud_logging.connect import login_hint
from forensics.sources.cloud_logging.errors import _first_line
from forensics.sources.protocol import Retryable

QUOTA = "BigQuery query quota"
_RATE_REASONS = ("rateLimitExceeded", "quotaExceeded", "jobRateLimitExceeded")
_TOO_LARGE = ("bytes billed", "responseTooLarge", "Resources exceeded", "too large")


def translate(err: BaseException, dataset: Dataset, where: str) -> Retryable | PullError | None:
    """Map a third-party exception to ``Retryable`` or a ``PullError``; None when it is not ours."""
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(err, api.GoogleAPICallError):
        return _from_api_error(err, dataset, where)
    if isinstance(err, (auth.DefaultCredentialsError, auth.RefreshError)):
        return CredentialsError(f"Google credentials failed ({_first_line(err)}); {login_hint()}")
    import requests

    if isinstance(err, (requests.ConnectionError, requests.Timeout)):
        hint = "is the local server running?" if where != "BigQuery" else "check the network"
        return PullError(f"cannot reach {where}: {type(err).__name__}; {hint}")
    return None


def _from_api_error(err: object, dataset: Dataset, where: str) -> Retryable | PullError:
    status = int(getattr(err, "code", 0) or 0)
    message = _first_line(getattr(err, "message", None) or err)
    if message.startswith(("POST ", "GET ")) and ": " in message:
        message = message.split(": ", 1)[1]  # drop api_core's "POST https://...:" prefix
    reasons = {
        str(e.get("reason", "")) for e in getattr(err, "errors", None) or [] if isinstance(e, dict)
    }
    if status == 429 or reasons & set(_RATE_REASONS):
        return Retryable(
            "quota",
            status,
            None,
            message,
            quota=QUOTA,
            quota_rate="concurrent and per-minute query limits",
        )
    if status in (500, 502, 503, 504):
        return Retryable("server", status, None, message)
    name = dataset.name
    if status == 401:
        return CredentialsError(
            f"{where} did not accept the credentials ({message}); {login_hint()}"
        )
    if status == 403:
        return PermissionDeniedError(
            f"permission denied reading {name}: ask for roles/bigquery.dataViewer on the dataset and "
            f"roles/bigquery.jobUser on project {dataset.project} ({message})"
        )
    if status == 404:
        return ProjectNotFoundError(
            f"{name} was not found by {where}: check the PROJECT.DATASET you passed "
            f"(`bq ls {dataset.project}:` lists the datasets) ({message})"
        )
    if any(words in message for words in _TOO_LARGE):
        return PullError(
            f"BigQuery refused the query as too large ({message}); narrow --since/--until "
            "or pass --service"
        )
    if status == 400:
        return PullError(
            f"BigQuery rejected the query ({message}); run with --dry-run to see the SQL"
        )
    return PullError(f"{where} answered {status or 'an error'}: {message}")
