"""Pull the entries a triage needs straight from Cloud Logging, through ``google-cloud-logging``.

- ``connect``: the real client, for Google (Application Default Credentials) or a local endpoint.
- ``filters``: the server-side filter for a window (timestamp clause always, < 20,000 characters).
- ``pull``: pages through ``entries.list`` holding the tokens; retries 429/5xx; errors translated once.
- ``cache``: pulled windows as Parquet, keyed by endpoint, project and filter; atomic writes.
- ``api``: ``pull_window`` / ``pull_logs``, the whole pull of a window in one call.
- ``cli``: the ``pull`` command and the live half of ``triage --project``.
"""

from __future__ import annotations

from forensics.live.api import pull_logs, pull_window
from forensics.live.cache import PullCache, default_cache_dir, pull_cached
from forensics.live.connect import Target, make_client, resolve_target
from forensics.live.filters import MAX_FILTER_CHARS, RESOURCE_TYPES, build_filter
from forensics.live.pull import Pulled, PullStats, RetryPolicy, pull_entries
from forensics.live.window import Window, window_from_options, window_from_tests

__all__ = [
    "MAX_FILTER_CHARS",
    "RESOURCE_TYPES",
    "PullCache",
    "PullStats",
    "Pulled",
    "RetryPolicy",
    "Target",
    "Window",
    "build_filter",
    "default_cache_dir",
    "make_client",
    "pull_cached",
    "pull_entries",
    "pull_logs",
    "pull_window",
    "resolve_target",
    "window_from_options",
    "window_from_tests",
]
