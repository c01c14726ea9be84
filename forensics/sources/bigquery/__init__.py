"""The BigQuery source: Cloud Logging entries kept in BigQuery, read with one pushed-down query.

- ``sql``: the dataset shapes (sink tables, Log Analytics ``_AllLogs``) and the SQL of a window.
- ``rows``: each result row back in the ``entries.list`` LogEntry shape (the column mapping).
- ``source``: ``BigQuerySource``, the ``LogSource``; ``dry_run`` gives BigQuery's byte estimate.
- ``connect``: the real ``google-cloud-bigquery`` client, for Google or a local endpoint.
- ``errors``: its errors as ``Retryable`` or a one-line ``PullError``.
"""

from __future__ import annotations

from forensics.sources.bigquery.connect import EMULATOR_ENV, make_client
from forensics.sources.bigquery.rows import to_entry
from forensics.sources.bigquery.source import BigQuerySource, QueryStats
from forensics.sources.bigquery.sql import (
    LOG_ANALYTICS,
    SINK,
    Dataset,
    Scope,
    build_sql,
    parse_dataset,
)

__all__ = [
    "EMULATOR_ENV",
    "LOG_ANALYTICS",
    "SINK",
    "BigQuerySource",
    "Dataset",
    "QueryStats",
    "Scope",
    "build_sql",
    "make_client",
    "parse_dataset",
    "to_entry",
]
