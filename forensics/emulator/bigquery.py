"""A BigQuery v2 REST API on loopback, answering queries with DuckDB, for tests without Google.

    python -m forensics.emulator.bigquery --logs EXPORT [--port N]

serves the export as a sink dataset ``PROJECT.logs_sink`` (date-sharded) and a Log Analytics
linked dataset ``PROJECT.logs_linked``, and prints the ``BIGQUERY_EMULATOR_HOST`` to set.

What the ``google-cloud-bigquery`` client calls to list a dataset and run a query is served:
``datasets.get``/``list``, ``tables.list``/``get``, ``tabledata.list``, ``jobs.insert`` (a query,
or its dry run), ``jobs.get``, ``jobs.query`` and ``jobs.getQueryResults``, with errors in
Google's JSON shape so the client raises its ``google.api_core`` exceptions. The SQL (BigQuery's
dialect) is translated with SQLGlot and run on DuckDB over tables written by
``forensics.emulator.bigquery_tables``; every table a query names counts its whole size as bytes
processed. No Storage Read API (gRPC): results go over REST.

    from forensics.emulator.bigquery import BigQueryEmulator
    with BigQueryEmulator() as server:
        server.load_sink("proj", "logs", entries)            # or load_log_analytics
        client = bigquery.Client("proj", AnonymousCredentials(),
                                 client_options={"api_endpoint": server.url})
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from forensics.emulator.bigquery_tables import load_log_analytics, load_sink
from forensics.emulator.server import ApiError

_PREFIX = "/bigquery/v2/projects/"
_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "INTEGER",
    "INTEGER": "INTEGER",
    "DOUBLE": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMP",
}
_REASONS = {400: "invalidQuery", 403: "accessDenied", 404: "notFound", 429: "rateLimitExceeded"}
MAX_ROWS_PER_PAGE = 10_000


class BigQueryEmulator(ThreadingHTTPServer):
    """The HTTP server; ``url`` is the client's ``api_endpoint``.

    Attributes:
        sizes: ``"PROJECT.DATASET.TABLE"`` -> its size in bytes (the bytes a query of it processes).
        queries: the SQL of every query job and dry run, in order.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, port: int = 0):
        import duckdb

        super().__init__(("127.0.0.1", port), _Handler)
        self.db = duckdb.connect()
        self.db.execute("SET TimeZone='UTC'")
        self.sizes: dict[str, int] = {}
        self.queries: list[str] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def load_sink(
        self, project: str, dataset: str, entries: Iterable[dict[str, Any]], *, sharded: bool = True
    ) -> None:
        """Add a sink dataset holding ``entries`` (date-sharded tables, or one table per log)."""
        with self.lock:
            for table, size in load_sink(
                self.db, project, dataset, entries, sharded=sharded
            ).items():
                self.sizes[f"{project}.{dataset}.{table}"] = size

    def load_log_analytics(
        self, project: str, dataset: str, entries: Iterable[dict[str, Any]]
    ) -> None:
        """Add a Log Analytics linked dataset whose ``_AllLogs`` holds ``entries``."""
        with self.lock:
            for table, size in load_log_analytics(self.db, project, dataset, entries).items():
                self.sizes[f"{project}.{dataset}.{table}"] = size

    def start(self) -> BigQueryEmulator:
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="bigquery-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and the database."""
        self.shutdown()
        self.server_close()
        self.db.close()

    def __enter__(self) -> BigQueryEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the API ------------------------------------------------------------------------
    def datasets(self, project: str) -> list[str]:
        """The datasets of ``project`` that hold a table."""
        return sorted({name.split(".")[1] for name in self.sizes if name.split(".")[0] == project})

    def tables(self, project: str, dataset: str) -> list[str]:
        """The tables of a dataset.

        Raises:
            ApiError: 404 when the dataset does not exist.
        """
        if dataset not in self.datasets(project):
            raise ApiError(404, "NOT_FOUND", f"Not found: Dataset {project}:{dataset}")
        return sorted(
            n.split(".", 2)[2] for n in self.sizes if n.startswith(f"{project}.{dataset}.")
        )

    def run_query(self, project: str, sql: str, *, dry_run: bool = False) -> dict[str, Any]:
        """Run (or estimate) ``sql``; returns the job resource.

        Raises:
            ApiError: 400 for SQL that cannot be parsed or run; 404 for a missing table.
        """
        duck_sql, scanned = self._translate(project, sql)
        job_id = "job_" + uuid.uuid4().hex[:20]
        job: dict[str, Any] = {
            "kind": "bigquery#job",
            "id": f"{project}:US.{job_id}",
            "jobReference": {"projectId": project, "jobId": job_id, "location": "US"},
            "configuration": {"query": {"query": sql, "useLegacySql": False}, "dryRun": dry_run},
            "status": {"state": "DONE"},
            "statistics": {
                "query": {"totalBytesProcessed": str(scanned)},
                "totalBytesProcessed": str(scanned),
            },
        }
        with self.lock:
            self.queries.append(sql)
            if dry_run:
                return job
            try:
                cursor = self.db.execute(duck_sql)
                rows = cursor.fetchall()
                columns = [
                    (d[0], _TYPES.get(str(d[1]).upper(), "STRING")) for d in cursor.description
                ]
            except Exception as err:  # DuckDB's errors: the query is wrong for us
                raise ApiError(
                    400, "INVALID_ARGUMENT", f"Query error: {str(err).splitlines()[0]}"
                ) from None
        job["configuration"]["query"]["destinationTable"] = {
            "projectId": project,
            "datasetId": "_anon",
            "tableId": job_id,
        }
        job["statistics"]["query"]["totalBytesBilled"] = str(scanned)
        self.jobs[job_id] = {"job": job, "rows": rows, "columns": columns}
        return job

    def _translate(self, project: str, sql: str) -> tuple[str, int]:
        import sqlglot
        from sqlglot import exp

        try:
            tree = sqlglot.parse_one(sql, read="bigquery")
        except sqlglot.errors.ParseError as err:
            raise ApiError(
                400, "INVALID_ARGUMENT", f"Syntax error: {str(err).splitlines()[0]}"
            ) from None
        scanned = 0
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            if not table.db and table.name in ctes:
                continue
            full = ".".join(p for p in (table.catalog or project, table.db, table.name) if p)
            if full not in self.sizes:
                dataset = ".".join(full.split(".")[:2])
                what = (
                    "Table"
                    if dataset.split(".")[-1] in self.datasets(full.split(".")[0])
                    else "Dataset"
                )
                raise ApiError(
                    404, "NOT_FOUND", f"Not found: {what} {full if what == 'Table' else dataset}"
                )
            scanned += self.sizes[full]
            alias = table.args.get("alias")
            table.replace(exp.Table(this=exp.to_identifier(full, quoted=True), alias=alias))
        return tree.sql(dialect="duckdb"), scanned

    def results(self, job_id: str, params: dict[str, str]) -> dict[str, Any]:
        """One page of a job's rows (``getQueryResults`` / ``tabledata.list``).

        Raises:
            ApiError: 404 for an unknown job.
        """
        held = self.jobs.get(job_id)
        if held is None:
            raise ApiError(404, "NOT_FOUND", f"Not found: Job {job_id}")
        rows, columns = held["rows"], held["columns"]
        start = int(params.get("pageToken") or params.get("startIndex") or 0)
        size = min(int(params.get("maxResults") or MAX_ROWS_PER_PAGE), MAX_ROWS_PER_PAGE)
        micros = params.get("formatOptions.useInt64Timestamp") == "true"
        chosen = rows[start : start + size]
        answer: dict[str, Any] = {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": held["job"]["jobReference"],
            "jobComplete": True,
            "schema": {"fields": [{"name": n, "type": t, "mode": "NULLABLE"} for n, t in columns]},
            "totalRows": str(len(rows)),
            "totalBytesProcessed": held["job"]["statistics"]["query"]["totalBytesProcessed"],
            "rows": [
                {"f": [{"v": _cell(v, t, micros)} for v, (_, t) in zip(row, columns, strict=True)]}
                for row in chosen
            ],
        }
        if start + size < len(rows):
            answer["pageToken"] = str(start + size)
        return answer


def _cell(value: Any, kind: str, micros: bool) -> Any:
    if value is None:
        return None
    if kind == "TIMESTAMP" and isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        us = int(moment.timestamp()) * 1_000_000 + moment.microsecond
        return str(us) if micros else f"{us / 1e6:.6f}"
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: BigQueryEmulator

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._route("GET", {})

    def do_POST(self) -> None:
        text = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(text or b"{}")
        except json.JSONDecodeError:
            return self._error(ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
        self._route("POST", body if isinstance(body, dict) else {})

    def _route(self, method: str, body: dict[str, Any]) -> None:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not parts.path.startswith(_PREFIX):
            return self._error(
                ApiError(404, "NOT_FOUND", f"Method not found: {method} {parts.path}")
            )
        path = [unquote(p) for p in parts.path[len(_PREFIX) :].split("/")]
        try:
            self._send(200, json.dumps(self._answer(method, path, params, body)))
        except ApiError as err:
            self._error(err)

    def _answer(
        self, method: str, path: list[str], params: dict[str, str], body: dict[str, Any]
    ) -> Any:
        server, project = self.server, path[0]
        route = (method, *[p if i % 2 == 0 else "" for i, p in enumerate(path[1:])])
        if route == ("POST", "jobs"):
            query = body.get("configuration", {}).get("query", {})
            dry = bool(body.get("configuration", {}).get("dryRun"))
            return server.run_query(project, str(query.get("query", "")), dry_run=dry)
        if route == ("POST", "queries"):
            job = server.run_query(
                project, str(body.get("query", "")), dry_run=bool(body.get("dryRun"))
            )
            if body.get("dryRun"):
                return {
                    "jobReference": job["jobReference"],
                    "totalBytesProcessed": job["statistics"]["totalBytesProcessed"],
                    "jobComplete": True,
                    "schema": {"fields": []},
                }
            return server.results(
                job["jobReference"]["jobId"], {"maxResults": str(body.get("maxResults") or "")}
            )
        if route == ("GET", "jobs", "") and path[2] in server.jobs:
            return server.jobs[path[2]]["job"]
        if route == ("GET", "queries", ""):
            return server.results(path[2], params)
        if route == ("GET", "datasets"):
            return {
                "datasets": [
                    {"datasetReference": {"projectId": project, "datasetId": d}}
                    for d in server.datasets(project)
                ]
            }
        if route == ("GET", "datasets", ""):
            if path[2] not in server.datasets(project):
                raise ApiError(404, "NOT_FOUND", f"Not found: Dataset {project}:{path[2]}")
            return {
                "datasetReference": {"projectId": project, "datasetId": path[2]},
                "location": "US",
            }
        if route == ("GET", "datasets", "", "tables"):
            return {
                "tables": [
                    {
                        "tableReference": {
                            "projectId": project,
                            "datasetId": path[2],
                            "tableId": t,
                        },
                        "type": "VIEW" if t == "_AllLogs" else "TABLE",
                    }
                    for t in server.tables(project, path[2])
                ]
            }
        if route in (
            ("GET", "datasets", "", "tables", ""),
            ("GET", "datasets", "", "tables", "", "data"),
        ):
            return self._table(project, path, params)
        raise ApiError(404, "NOT_FOUND", f"Method not found: {method} {'/'.join(path)}")

    def _table(self, project: str, path: list[str], params: dict[str, str]) -> dict[str, Any]:
        server, dataset, table = self.server, path[2], path[4]
        if dataset == "_anon":
            if len(path) == 6:
                return server.results(table, params)
            return {
                "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
                "numRows": str(len(server.jobs.get(table, {}).get("rows", []))),
            }
        if table not in server.tables(project, dataset):
            raise ApiError(404, "NOT_FOUND", f"Not found: Table {project}:{dataset}.{table}")
        if len(path) == 6:
            job = server.run_query(project, f"SELECT * FROM `{project}.{dataset}.{table}`")
            return server.results(job["jobReference"]["jobId"], params)
        with server.lock:
            described = server.db.execute(f'DESCRIBE "{project}.{dataset}.{table}"').fetchall()
        fields = [
            {
                "name": name,
                "type": _TYPES.get(
                    kind.upper(),
                    "RECORD"
                    if kind.startswith("STRUCT")
                    else "JSON"
                    if kind == "JSON"
                    else "STRING",
                ),
            }
            for name, kind, *_ in described
        ]
        return {
            "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
            "type": "VIEW" if table == "_AllLogs" else "TABLE",
            "schema": {"fields": fields},
            "numBytes": str(server.sizes[f"{project}.{dataset}.{table}"]),
        }

    def _error(self, err: ApiError) -> None:
        reason = _REASONS.get(err.code, "backendError")
        payload = {
            "error": {
                "code": err.code,
                "message": err.message,
                "status": err.status,
                "errors": [{"reason": reason, "message": err.message, "domain": "global"}],
            }
        }
        self._send(err.code, json.dumps(payload))

    def _send(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


SINK_DATASET = "logs_sink"
LINKED_DATASET = "logs_linked"


def main(argv: Sequence[str] | None = None) -> int:
    """Serve an export in both shapes until interrupted; exit 2 with one line on unusable input."""
    from forensics.emulator.store import load_export
    from forensics.exceptions import ForensicsError

    parser = argparse.ArgumentParser(
        prog="python -m forensics.emulator.bigquery",
        description="A local BigQuery API (REST, queries on DuckDB) serving a log export as a sink "
        f"dataset ({SINK_DATASET}) and a Log Analytics linked dataset ({LINKED_DATASET}).",
    )
    parser.add_argument(
        "--logs",
        action="append",
        required=True,
        metavar="PATH",
        help="export file or folder to serve (repeatable)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=9050,
        metavar="PORT",
        help="HTTP port on 127.0.0.1 (default: 9050; 0 picks a free one)",
    )
    args = parser.parse_args(argv)
    try:
        store = load_export(*args.logs)
        server = BigQueryEmulator(port=args.port)
    except ForensicsError as err:
        print(f"forensics.emulator.bigquery: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(
            f"forensics.emulator.bigquery: error: cannot listen on 127.0.0.1:{args.port}: {err.strerror}",
            file=sys.stderr,
        )
        return 2
    project = store.default_project
    server.load_sink(project, SINK_DATASET, store.entries)
    server.load_log_analytics(project, LINKED_DATASET, store.entries)
    print(
        f"serving {len(store.entries)} entries as {project}.{SINK_DATASET} and {project}.{LINKED_DATASET} "
        f"on {server.url}",
        flush=True,
    )
    print(f"export BIGQUERY_EMULATOR_HOST={server.url.removeprefix('http://')}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
