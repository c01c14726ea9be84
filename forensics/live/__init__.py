"""Pull the entries a triage needs straight from Cloud Logging: the ``pull`` command and ``triage --project``.

- ``window``: the run's time window, from its test report or from ``--since`` / ``--until``.
- ``filters``: the server-side filter for a window (timestamp clause always, < 20,000 characters).
- ``pull``: one Cloud Logging pull (``pull_entries``) and its cached form (``pull_cached``).
- ``api``: ``pull_window`` / ``pull_logs``, the whole pull of a window in one call.
- ``cli``: the ``pull`` command and the live half of ``triage --project``.

The client, paging, retries, cache and progress live in ``forensics.sources``: the Cloud Logging
source (``forensics.sources.cloud_logging``) and the layer every source shares.
"""

from __future__ import annotations

from forensics.live.api import pull_logs, pull_window
from forensics.live.filters import MAX_FILTER_CHARS, RESOURCE_TYPES, build_filter, time_ranges
from forensics.live.pull import pull_cached, pull_entries
from forensics.live.window import Window, window_from_options, window_from_tests
from forensics.sources import PullCache, Pulled, PullStats, RetryPolicy, default_cache_dir
from forensics.sources.cloud_logging import Target, make_client, resolve_target

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
    "time_ranges",
    "window_from_options",
    "window_from_tests",
]
