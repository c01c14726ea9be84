"""Build the real ``google-cloud-logging`` client: Google with your credentials, or a local server.

A local endpoint (``--endpoint URL`` or ``LOGGING_EMULATOR_HOST=host:port``) gets anonymous
credentials and the HTTP transport, and nothing here calls ``google.auth.default``, so no metadata
server is probed. Google itself gets ``google.auth.default()`` with the project passed explicitly.

Without ``--project`` the project is ``GOOGLE_CLOUD_PROJECT``, else gcloud's own
(``CLOUDSDK_CORE_PROJECT``, else ``[core] project`` of the active configuration under
``CLOUDSDK_CONFIG`` or ``~/.config/gcloud``).
"""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from forensics.exceptions import CredentialsError, UsageError

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud.logging import Client

EMULATOR_ENV = "LOGGING_EMULATOR_HOST"
PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"
_GCLOUD_PROJECT_ENV = "CLOUDSDK_CORE_PROJECT"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
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
    project = project or default_project()
    if not project:
        raise UsageError(
            f"a live pull needs --project PROJECT_ID (or {PROJECT_ENV}, or `gcloud config set project`)"
        )
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


def default_project() -> str | None:
    """The project a pull uses without ``--project``: ``GOOGLE_CLOUD_PROJECT``, else gcloud's."""
    for name in (PROJECT_ENV, _GCLOUD_PROJECT_ENV):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return _gcloud_config_project()


def _gcloud_config_project() -> str | None:
    """``[core] project`` of gcloud's active configuration, when the file is there and readable."""
    try:
        base = Path(os.environ.get("CLOUDSDK_CONFIG") or Path.home() / ".config" / "gcloud")
        name = os.environ.get("CLOUDSDK_ACTIVE_CONFIG_NAME", "").strip()
        if not name and (base / "active_config").is_file():
            name = (base / "active_config").read_text(encoding="utf-8").strip()
        config = configparser.ConfigParser(interpolation=None)
        config.read(base / "configurations" / f"config_{name or 'default'}", encoding="utf-8")
        return config.get("core", "project", fallback="").strip() or None
    except (OSError, RuntimeError, UnicodeDecodeError, configparser.Error):
        return None  # no home folder, an unreadable or broken file: as if gcloud had none


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
        detail = first_sentence(str(err)) or "none found"
        raise CredentialsError(f"no Google credentials ({detail}); {_LOGIN_HINT}") from None
    return credentials


def whole_words(text: str, limit: int) -> str:
    """``text`` on one line, cut after a whole word (with an ellipsis) when longer than ``limit``."""
    one = " ".join(text.split())
    if len(one) <= limit:
        return one
    cut = one.rfind(" ", 0, limit)
    return one[: cut if cut > 0 else limit - 1].rstrip(" ,;:") + "…"


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of ``text`` on one line, in whole words."""
    return whole_words(_SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0], limit)


def login_hint() -> str:
    """What to run when credentials are missing or rejected."""
    return _LOGIN_HINT


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
