"""``BigQuerySource``: one query job per pull through the real ``google-cloud-bigquery`` client.

The first page runs the query (``build_sql``: window, resource types and services pushed down)
and reads its result as Arrow: through the BigQuery Storage Read API when
``google-cloud-bigquery-storage`` is installed and the endpoint is Google, else over REST
(``tabledata.list`` / ``getQueryResults``). Each row is mapped to a LogEntry (``rows.to_entry``)
and kept when the query's Cloud Logging filter keeps it (``sources.local.matcher``, the local
server's evaluator), so a BigQuery pull returns what a Cloud Logging pull of the same filter does.
The result is held and handed out ``page_size`` entries a page (the token is an offset), so
``--max-entries`` and the progress line work as for the other sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forensics.exceptions import PullError
from forensics.sources.bigquery.connect import make_client, use_storage_api
from forensics.sources.bigquery.errors import translate
from forensics.sources.bigquery.rows import to_entry
from forensics.sources.bigquery.sql import (
    ALL_LOGS_VIEW,
    SINK,
    Dataset,
    Scope,
    build_sql,
    tables_for_window,
)
from forensics.sources.local import entry_text, matcher
from forensics.sources.protocol import Page, Query

PAGE_SIZE = 1000


@dataclass(frozen=True)
class QueryStats:
    """What one query cost and gave.

    Attributes:
        sql: the SQL sent.
        bytes_processed: bytes BigQuery scanned (billed on), or would scan for a dry run.
        rows: rows the query returned.
        entries: rows kept as entries (those the query's filter keeps).
        job_id: the BigQuery job (None for a dry run).
    """

    sql: str
    bytes_processed: int
    rows: int = 0
    entries: int = 0
    job_id: str | None = None


class BigQuerySource:
    """The log entries of a sink dataset or a Log Analytics linked dataset.

    Attributes:
        last: the stats of the last query run (or dry run), None before.
    """

    def __init__(
        self,
        dataset: Dataset,
        scope: Scope | None = None,
        *,
        endpoint: str | None = None,
        client: Any = None,
        page_size: int = PAGE_SIZE,
    ):
        """
        Args:
            dataset: project, dataset and shape (``parse_dataset``).
            scope: the resource types and services the SQL keeps (None: every entry).
            endpoint: a local BigQuery API (``http://127.0.0.1:PORT``); None means Google.
            client: a ready ``google.cloud.bigquery.Client``; made on the first page when None.
            page_size: entries a page.
        """
        self.dataset = dataset
        self.scope = scope = scope or Scope()
        self.endpoint = endpoint
        self.where = endpoint or "BigQuery"
        self.origin = f"bigquery:{dataset.name}"
        self.cache_identity: tuple[str, ...] | None = (
            "bigquery",
            endpoint or "google",
            dataset.shape,
            dataset.name,
            ",".join(scope.resource_types),
            ",".join(scope.services),
        )
        self.last: QueryStats | None = None
        self.page_size = page_size
        self._client = client
        self._answers: dict[Query, list[str]] = {}

    def sql(self, query: Query) -> str:
        """The SQL that answers ``query`` (lists the dataset's tables for a sink)."""
        if self.dataset.shape == SINK:
            tables = tables_for_window(self._call(self._table_ids), query.window)
        else:
            tables = [ALL_LOGS_VIEW]
        return build_sql(self.dataset, tables, query.window, self.scope, query.order_by)

    def dry_run(self, query: Query) -> QueryStats:
        """BigQuery's estimate of the bytes the query would scan; nothing is run or billed."""
        from google.cloud import bigquery

        sql = self.sql(query)
        config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
        job = self._call(lambda: self._bq().query(sql, job_config=config))
        self.last = QueryStats(sql, int(job.total_bytes_processed or 0))
        return self.last

    def page(self, query: Query, token: str | None) -> Page:
        """The ``page_size`` entries of ``query`` after ``token``; the first page runs the query."""
        if not token:
            self._answers[query] = self._run(query)
        texts = self._answers.get(query)
        if texts is None or not (token or "0").isdigit() or int(token or 0) > len(texts):
            raise PullError(
                f"{self.where} does not know the page token {token!r}; run the pull again"
            )
        start = int(token or 0)
        end = start + self.page_size
        return Page(texts[start:end], str(end) if end < len(texts) else None)

    def _run(self, query: Query) -> list[str]:
        """Run the query; every row that the query's filter keeps, as LogEntry JSON text."""
        sql = self.sql(query)
        job = self._call(lambda: self._bq().query(sql))
        table = self._call(
            lambda: job.result().to_arrow(create_bqstorage_client=use_storage_api(self.endpoint))
        )
        keep = matcher(query)
        texts = []
        for row in table.column("entry").to_pylist():
            entry = to_entry(row, self.dataset.shape)
            if keep(entry):
                texts.append(entry_text(entry))
        self.last = QueryStats(
            sql, int(job.total_bytes_processed or 0), table.num_rows, len(texts), job.job_id
        )
        return texts

    def _table_ids(self) -> list[str]:
        return [t.table_id for t in self._bq().list_tables(self.dataset.name)]

    def _bq(self) -> Any:
        if self._client is None:
            self._client = make_client(self.dataset.project, self.endpoint)
        return self._client

    def _call(self, work: Any) -> Any:
        try:
            return work()
        except Exception as err:  # translate() decides which errors are ours
            mapped = translate(err, self.dataset, self.where)
            if mapped is None:
                raise
            raise mapped from None
