"""A Cloud Logging v2 API on loopback: ``POST /v2/entries:list`` over HTTP/JSON, serving an export.

It pages with opaque tokens, evaluates filters (``forensics.emulator.filter``), orders by
timestamp, and answers errors in Google's JSON shape (``{"error": {"code", "message", "status"}}``)
so the real ``google-cloud-logging`` client maps them to ``google.api_core`` exceptions.

Control endpoints for tests and demos (not part of Google's API):
    ``POST /_emulator/faults``    body: a fault plan (``forensics.emulator.faults``); replaces the plan
    ``GET  /_emulator/requests``  every ``entries.list`` request so far, with its status and entry count
    ``POST /_emulator/reset``     forget the request log and the plan
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from forensics.emulator.faults import ERRORS, FaultPlan
from forensics.emulator.filter import FilterSyntaxError, compile_filter
from forensics.emulator.store import EntryStore

DEFAULT_PAGE_SIZE = 50  # what Cloud Logging uses when pageSize is absent
MAX_PAGE_SIZE = 1000


class ApiError(Exception):
    """An error answer: HTTP status, google.rpc status name, message, optional retry delay."""

    def __init__(self, code: int, status: str, message: str, retry_after: float | None = None,
                 header: bool = True):
        super().__init__(message)
        self.code, self.status, self.message, self.retry_after = code, status, message, retry_after
        self.header = header


class LoggingEmulator(ThreadingHTTPServer):
    """The HTTP server; ``url`` is what ``--endpoint`` takes, ``host`` what LOGGING_EMULATOR_HOST takes."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, store: EntryStore, *, port: int = 0, faults: FaultPlan | None = None):
        super().__init__(("127.0.0.1", port), _Handler)
        self.store = store
        self.faults = faults or FaultPlan()
        self.requests_seen: deque[dict[str, Any]] = deque(maxlen=10_000)  # a long demo must not grow forever
        self._lock = threading.Lock()
        self._queries: OrderedDict[tuple[str, int], list[int]] = OrderedDict()
        self._generation = 0  # bumped by ingest(): cached query answers are for one store only
        self._ingesting = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"

    def start(self) -> LoggingEmulator:
        """Serve in a daemon thread (for tests and benchmarks); returns self."""
        self._thread = threading.Thread(target=self.serve_forever, name="logging-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()

    def __enter__(self) -> LoggingEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ingest(self, entries: list[dict[str, Any]]) -> None:
        """Store entries that just arrived, as Cloud Logging does; queries from now on see them.

        A pull that is paging meanwhile keeps the store it started on for each page, so entries
        arriving during a pull may be missed by it, as with Cloud Logging's ingestion delay.
        """
        with self._ingesting:  # one ingest at a time: none may lose another's entries
            with self._lock:
                store = self.store
            grown = EntryStore.from_entries([*store.entries, *entries], store.default_project)
            with self._lock:
                self.store = grown
                self._generation += 1
                self._queries.clear()

    # --- entries.list --------------------------------------------------------------------
    def answer(self, body: dict[str, Any], transport: str = "http") -> tuple[str, int]:
        """``list_entries``, recorded in ``requests_seen`` whatever the outcome."""
        record = {k: body.get(k) for k in ("resourceNames", "filter", "orderBy", "pageSize", "pageToken")}
        record["transport"] = transport
        try:
            text, count = self.list_entries(body)
            record.update(status=200, entries=count)
            return text, count
        except ApiError as err:
            record.update(status=err.code, entries=0)
            raise
        finally:
            with self._lock:
                self.requests_seen.append(record)

    def list_entries(self, body: dict[str, Any]) -> tuple[str, int]:
        """The JSON text answering one ``entries.list`` request body, and its number of entries."""
        with self._lock:  # one store for the whole request, even if entries arrive meanwhile
            store, generation = self.store, self._generation
        projects = _projects(body.get("resourceNames"), store)
        filter_text = body.get("filter") or ""
        order = str(body.get("orderBy") or "timestamp asc").strip().lower()
        if order not in ("timestamp asc", "timestamp desc", "timestamp"):
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid orderBy: {body.get('orderBy')!r}")
        page_size = _page_size(body.get("pageSize"))
        key = hashlib.sha256(json.dumps([sorted(projects), filter_text, order]).encode()).hexdigest()[:16]
        offset = _offset(body.get("pageToken"), key)

        fault = self.faults.next_fault()
        if fault is not None and fault.kind == "empty":  # no entries yet, but more may come
            return json.dumps({"nextPageToken": _token(key, offset)}), 0
        if fault is not None:
            code, status, message = ERRORS[fault.kind]
            raise ApiError(code, status, message.format(project=",".join(projects)), fault.retry_after,
                            fault.header)

        matched = self._matched((key, generation), store, projects, filter_text, order)
        chosen = matched[offset:offset + page_size]
        texts = store.texts
        page = '{"entries":[' + ",".join(texts[i] for i in chosen) + "]"
        if offset + page_size < len(matched):
            page += ',"nextPageToken":' + json.dumps(_token(key, offset + page_size))
        return page + "}", len(chosen)

    def _matched(self, key: tuple[str, int], store: EntryStore, projects: list[str], filter_text: str,
                 order: str) -> list[int]:
        with self._lock:
            if key in self._queries:
                self._queries.move_to_end(key)
                return self._queries[key]
        try:
            predicate = compile_filter(filter_text)
        except FilterSyntaxError as err:
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid filter: {err}") from None
        wanted = set(projects)
        matched = [i for i, e in enumerate(store.entries) if store.projects[i] in wanted and predicate(e)]
        if order == "timestamp desc":
            matched.reverse()
        with self._lock:
            self._queries[key] = matched
            while len(self._queries) > 32:
                self._queries.popitem(last=False)
        return matched


def _projects(names: Any, store: EntryStore) -> list[str]:
    if not isinstance(names, list) or not names:
        raise ApiError(400, "INVALID_ARGUMENT", "resourceNames must name at least one 'projects/PROJECT_ID'")
    projects = []
    for name in names:
        parts = str(name).split("/")
        if len(parts) != 2 or parts[0] != "projects" or not parts[1]:
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid resource name: {name!r}; use 'projects/PROJECT_ID'")
        if parts[1] not in store.project_ids:
            raise ApiError(404, "NOT_FOUND", f"Project does not exist: {parts[1]}")
        projects.append(parts[1])
    return projects


def _page_size(value: Any) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "INVALID_ARGUMENT", f"Invalid pageSize: {value!r}") from None
    if size < 0:
        raise ApiError(400, "INVALID_ARGUMENT", "pageSize must not be negative")
    return min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _token(key: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{key}:{offset}".encode()).decode().rstrip("=")


def _offset(token: Any, key: str) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4)).decode()
        token_key, offset = raw.split(":")
        if token_key == key and int(offset) >= 0:
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(400, "INVALID_ARGUMENT", "Invalid page token: it does not belong to this query")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's session reuses one connection
    server: LoggingEmulator

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and benches read stdout
        return

    def do_POST(self) -> None:
        body_text = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        try:
            body = json.loads(body_text or b"{}")
        except json.JSONDecodeError:
            return self._error(ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
        if path == "/v2/entries:list":
            return self._entries_list(body if isinstance(body, dict) else {})
        if path == "/_emulator/faults":
            try:
                self.server.faults.replace(FaultPlan.parse(body))
            except ValueError as err:
                return self._error(ApiError(400, "INVALID_ARGUMENT", str(err)))
            return self._send(200, json.dumps({"faults": self.server.faults.pending()}))
        if path == "/_emulator/reset":
            with self.server._lock:
                self.server.requests_seen.clear()
            self.server.faults.replace(FaultPlan())
            return self._send(200, "{}")
        return self._error(ApiError(404, "NOT_FOUND", f"Method not found: POST {path}"))

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/_emulator/requests":
            with self.server._lock:
                seen = list(self.server.requests_seen)
            return self._send(200, json.dumps({"requests": seen}))
        return self._error(ApiError(404, "NOT_FOUND", f"Method not found: GET {self.path}"))

    def _entries_list(self, body: dict[str, Any]) -> None:
        try:
            text, _ = self.server.answer(body)
        except ApiError as err:
            return self._error(err)
        self._send(200, text)

    def _error(self, err: ApiError) -> None:
        headers = {"Retry-After": f"{err.retry_after:g}"} if err.retry_after is not None and err.header else {}
        payload: dict[str, Any] = {"error": {"code": err.code, "message": err.message, "status": err.status}}
        if err.retry_after is not None:
            payload["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                            "retryDelay": f"{err.retry_after:g}s"}]
        self._send(err.code, json.dumps(payload), headers)

    def _send(self, code: int, text: str, headers: dict[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
