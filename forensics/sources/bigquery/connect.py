"""Build the real ``google-cloud-bigquery`` client: Google with your credentials, or a local server.

A local endpoint gets anonymous credentials and a session that ignores proxy variables on
loopback, and nothing here calls ``google.auth.default``, so no metadata server is probed.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from forensics.exceptions import CredentialsError, UsageError
from forensics.sources.cloud_logging.connect import _is_loopback, login_hint, resolve_target

EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
SCOPES = ("https://www.googleapis.com/auth/bigquery",)


def resolve_endpoint(project: str, endpoint: str | None) -> str | None:
    """The local BigQuery API to use: ``endpoint``, else ``$BIGQUERY_EMULATOR_HOST``; None is Google.

    Raises:
        UsageError: the endpoint is not an http(s) URL.
    """
    chosen = endpoint or os.environ.get(EMULATOR_ENV)
    return resolve_target(project, chosen).endpoint if chosen else None


def make_client(project: str, endpoint: str | None = None) -> Any:
    """A ``google.cloud.bigquery.Client`` whose jobs run in ``project``.

    Raises:
        UsageError: ``google-cloud-bigquery`` is not installed.
        CredentialsError: Google was asked for and no usable credentials were found.
    """
    try:
        from google.cloud import bigquery
    except ImportError:
        raise UsageError(
            "reading BigQuery needs google-cloud-bigquery: pip install 'forensics[bigquery]'"
        ) from None
    if endpoint is not None:
        import requests
        from google.auth.credentials import AnonymousCredentials

        session = requests.Session()
        session.trust_env = not _is_loopback(endpoint)
        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),
            _http=session,
            client_options={"api_endpoint": endpoint},
        )
    import google.auth
    from google.auth import exceptions as auth_exceptions

    try:
        credentials, _ = google.auth.default(scopes=SCOPES)
    except auth_exceptions.DefaultCredentialsError as err:
        detail = str(err).splitlines()[0][:160] if str(err) else "none found"
        raise CredentialsError(f"no Google credentials ({detail}); {login_hint()}") from None
    return bigquery.Client(project=project, credentials=credentials)


def use_storage_api(endpoint: str | None) -> bool:
    """Read results through the Storage Read API (Arrow over gRPC): on Google, when installed."""
    return (
        endpoint is None and importlib.util.find_spec("google.cloud.bigquery_storage") is not None
    )
