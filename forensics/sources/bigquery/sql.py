"""The SQL a BigQuery pull sends: the window (with its slack), the resource types, the services.

Two shapes of dataset hold Cloud Logging entries in BigQuery:

- a **sink** dataset (``--bigquery PROJECT.DATASET``): one table per log, named after the log ID
  with every character but letters and digits written as ``_`` (``run_googleapis_com_requests``),
  either date-sharded (``..._20260115``, by the entries' UTC date) or partitioned on
  ``timestamp``; LogEntry fields are camelCase columns (``httpRequest`` and ``jsonPayload`` are
  RECORDs whose fields differ from table to table);
- a **Log Analytics** linked dataset (``--log-analytics PROJECT.DATASET``): the ``_AllLogs`` view,
  snake_case columns (``log_name``, ``http_request``, ``json_payload`` JSON, ``resource.labels``
  JSON, ``span_id``, ``insert_id``, ...).

Every table's rows come back as one JSON text each (``TO_JSON_STRING`` of the row), so tables
whose RECORD columns differ still ``UNION ALL``, and the service clause reads the resource labels
through ``JSON_VALUE`` whatever columns a table has. Only shards whose date meets the window are
named; partitioned tables are pruned by the ``timestamp`` clause.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from forensics.exceptions import UsageError
from forensics.live.filters import FRONT_END_TYPES, SERVICE_LABELS
from forensics.sources.protocol import TimeRange

SINK = "sink"
LOG_ANALYTICS = "log-analytics"
ALL_LOGS_VIEW = "_AllLogs"
_SHARD = re.compile(r"^(?P<base>.+)_(?P<day>\d{8})$")
_NAME = re.compile(r"^[A-Za-z0-9_\-:.]+$")


@dataclass(frozen=True)
class Dataset:
    """Where the logs are: a project, a dataset in it, and its shape (``SINK`` or ``LOG_ANALYTICS``)."""

    project: str
    dataset: str
    shape: str

    @property
    def name(self) -> str:
        """``PROJECT.DATASET``, as the user typed it."""
        return f"{self.project}.{self.dataset}"

    def table(self, table_id: str) -> str:
        """The quoted full name of a table of this dataset, for the SQL."""
        return f"`{self.project}.{self.dataset}.{table_id}`"


@dataclass(frozen=True)
class Scope:
    """What to keep besides the window: resource types (empty: all) and services (empty: all)."""

    resource_types: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


def parse_dataset(text: str, shape: str) -> Dataset:
    """``PROJECT.DATASET`` as a ``Dataset``.

    Raises:
        UsageError: the text is not ``PROJECT.DATASET`` (a Log Analytics
            ``PROJECT.LOCATION.BUCKET`` is answered with how to find its linked dataset).
    """
    option = "--bigquery" if shape == SINK else "--log-analytics"
    parts = text.strip().split(".")
    if shape == LOG_ANALYTICS and len(parts) == 3 and all(parts):
        project, location, bucket = parts
        raise UsageError(
            f"{option} {text}: BigQuery reads a Log Analytics bucket through its linked dataset; "
            f"`gcloud logging links list --bucket={bucket} --location={location} --project={project}` "
            f"names it: pass {option} {project}.LINKED_DATASET"
        )
    if len(parts) != 2 or not all(parts) or not all(_NAME.match(p) for p in parts):
        raise UsageError(f"{option} {text!r} is not PROJECT.DATASET (e.g. my-project-123.logs)")
    return Dataset(parts[0], parts[1], shape)


def tables_for_window(table_ids: Sequence[str], window: Sequence[TimeRange]) -> list[str]:
    """The tables of a sink dataset worth reading: every unsharded table, and each shard whose
    date is a UTC day the window touches (all shards when there is no window)."""
    days = _days(window) if window else None
    chosen = []
    for table_id in sorted(table_ids):
        shard = _SHARD.match(table_id)
        if shard and days is not None:
            try:
                day = datetime.strptime(shard["day"], "%Y%m%d").date()
            except ValueError:
                day = None
            if day is not None and day not in days:
                continue
        chosen.append(table_id)
    return chosen


def build_sql(
    dataset: Dataset,
    tables: Sequence[str],
    window: Sequence[TimeRange],
    scope: Scope,
    order_by: str = "timestamp asc",
) -> str:
    """The query: one ``SELECT`` per table, ``UNION ALL``, in ``order_by`` order, one column ``entry``.

    Raises:
        UsageError: a sink dataset with no table to read.
    """
    if not tables:
        raise UsageError(f"{dataset.name} holds no log tables for the window; check --bigquery")
    direction = "DESC" if order_by.strip().lower() == "timestamp desc" else "ASC"
    labels = (
        "t.resource.labels"
        if dataset.shape == LOG_ANALYTICS
        else "TO_JSON_STRING(t.resource.labels)"
    )
    insert_id = "insert_id" if dataset.shape == LOG_ANALYTICS else "insertId"
    where = _where(window, scope, labels)
    selects = [
        f"SELECT t.timestamp AS ts, t.{insert_id} AS tie, TO_JSON_STRING(t) AS entry "
        f"FROM {dataset.table(table)} AS t{where}"
        for table in tables
    ]
    body = "\nUNION ALL\n".join(selects)
    return f"SELECT entry FROM (\n{body}\n)\nORDER BY ts {direction}, tie {direction}"


def _where(window: Sequence[TimeRange], scope: Scope, labels: str) -> str:
    clauses = []
    if window:
        ranges = [
            f"t.timestamp BETWEEN TIMESTAMP '{_ts(lo)}' AND TIMESTAMP '{_ts(hi)}'"
            for lo, hi in window
        ]
        clauses.append(ranges[0] if len(ranges) == 1 else "(" + " OR ".join(ranges) + ")")
    if scope.resource_types:
        clauses.append(f"t.resource.type IN ({_list(scope.resource_types)})")
    if scope.services:
        names = _list(scope.services)
        parts = [f"JSON_VALUE({labels}, '$.{label}') IN ({names})" for label in SERVICE_LABELS]
        front = [
            t for t in FRONT_END_TYPES if not scope.resource_types or t in scope.resource_types
        ]
        if front:
            parts.insert(0, f"t.resource.type IN ({_list(front)})")
        clauses.append("(" + " OR ".join(parts) + ")")
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def _days(window: Sequence[TimeRange]) -> set[date]:
    days: set[date] = set()
    for lo, hi in window:
        day, last = lo.astimezone(UTC).date(), hi.astimezone(UTC).date()
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return days


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def _list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)
