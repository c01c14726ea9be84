"""The Cloud Logging source: the only code that touches the ``google-cloud-logging`` client.

- ``connect``: the real client, for Google (Application Default Credentials) or a local endpoint.
- ``source``: ``CloudLoggingSource``, one ``entries.list`` page per call, raw, with its token.
- ``pages``: an ``entries.list`` response split into the JSON text of each entry.
- ``errors``: google.api_core / google.auth errors as ``Retryable`` or one-line ``PullError``.
"""

from __future__ import annotations

from forensics.sources.cloud_logging.connect import (
    EMULATOR_ENV,
    PROJECT_ENV,
    Target,
    default_project,
    make_client,
    resolve_target,
)
from forensics.sources.cloud_logging.source import PAGE_SIZE, CloudLoggingSource

__all__ = [
    "EMULATOR_ENV",
    "PAGE_SIZE",
    "PROJECT_ENV",
    "CloudLoggingSource",
    "Target",
    "default_project",
    "make_client",
    "resolve_target",
]
