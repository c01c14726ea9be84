"""Build the real ``google-cloud-logging`` client: Google with your credentials, or a local server.

A local endpoint (``--endpoint URL`` or ``LOGGING_EMULATOR_HOST=host:port``) gets anonymous
credentials and the HTTP transport, and nothing here calls ``google.auth.default``, so no metadata
server is probed. Google itself gets ``google.auth.default()`` with the project passed explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from forensics.exceptions import CredentialsError, UsageError

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud.logging import Client

EMULATOR_ENV = "LOGGING_EMULATOR_HOST"
GOOGLE_ENDPOINT = "https://logging.googleapis.com"
READ_SCOPES = ("https://www.googleapis.com/auth/logging.read",)
_LOGIN_HINT = "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"


@dataclass(frozen=True)
class Target:
    """Where a pull goes: a project, and the endpoint (None means Google)."""

    project: str
    endpoint: str | None = None

    @property
    def where(self) -> str:
        """A short human name of the endpoint, for messages."""
        return self.endpoint or "Cloud Logging"


def resolve_target(project: str | None, endpoint: str | None = None) -> Target:
    """Decide project and endpoint from options and ``LOGGING_EMULATOR_HOST``.

    Raises:
        UsageError: no project, or an endpoint that is not an http(s) URL.
    """
    if not project:
        raise UsageError("a live pull needs --project PROJECT_ID")
    if endpoint is None and os.environ.get(EMULATOR_ENV):
        endpoint = os.environ[EMULATOR_ENV]
    if endpoint:
        if "://" not in endpoint:
            endpoint = "http://" + endpoint  # host:port, as Google's emulator variables are written
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                f"--endpoint {endpoint!r} is not an http(s) URL like http://127.0.0.1:8086"
            )
        endpoint = endpoint.rstrip("/")
        if endpoint.endswith("/v2"):
            endpoint = endpoint[:-3]  # the client adds /v2 itself
    return Target(project=project, endpoint=endpoint)


def make_client(target: Target) -> Client:
    """A ``google.cloud.logging.Client`` on the HTTP transport for ``target``.

    Raises:
        CredentialsError: Google was asked for and no usable credentials were found.
    """
    from google.cloud.logging import Client

    if target.endpoint is not None:
        import requests
        from google.auth.credentials import AnonymousCredentials

        session = requests.Session()
        if _is_loopback(target.endpoint):
            session.trust_env = (
                False  # a proxy from the environment must not carry loopback traffic
            )
        return Client(
            project=target.project,
            credentials=AnonymousCredentials(),
            _http=session,
            client_options={"api_endpoint": target.endpoint},
            _use_grpc=False,
        )

    credentials = google_credentials()
    return Client(project=target.project, credentials=credentials, _use_grpc=False)


def google_credentials() -> Credentials:
    """Application Default Credentials with the Logging read scope.

    Raises:
        CredentialsError: none are configured, or the configured ones cannot be loaded.
    """
    import google.auth
    from google.auth import exceptions as auth_exceptions

    try:
        credentials, _ = google.auth.default(scopes=READ_SCOPES)
    except auth_exceptions.DefaultCredentialsError as err:
        detail = str(err).splitlines()[0][:160] if str(err) else "none found"
        raise CredentialsError(f"no Google credentials ({detail}); {_LOGIN_HINT}") from None
    return credentials


def login_hint() -> str:
    """What to run when credentials are missing or rejected."""
    return _LOGIN_HINT


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
