"""The same ``ListLogEntries`` over gRPC (insecure, loopback), for clients on the gRPC transport.

It answers ``google.logging.v2.LoggingServiceV2/ListLogEntries`` from the same entries, filter,
paging and fault plan as the HTTP server (``LoggingEmulator.answer``); errors become gRPC status
codes, so the generated client raises the same ``google.api_core`` exceptions. Connect with an
insecure channel::

    channel = grpc.insecure_channel("127.0.0.1:PORT")
    gapic = LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=channel))
"""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from forensics.emulator.server import ApiError, LoggingEmulator

SERVICE = "google.logging.v2.LoggingServiceV2"


class GrpcLoggingServer:
    """A gRPC server in front of a ``LoggingEmulator``; ``host`` is ``127.0.0.1:PORT``."""

    def __init__(self, emulator: LoggingEmulator, port: int = 0):
        import grpc

        self._emulator = emulator
        self._server = grpc.server(ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler(
            SERVICE, {"ListLogEntries": grpc.unary_unary_rpc_method_handler(self._list_log_entries)})
        self._server.add_generic_rpc_handlers((handler,))
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")
        if not self.port:
            raise OSError(f"cannot listen on 127.0.0.1:{port} for gRPC")

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> GrpcLoggingServer:
        """Serve on gRPC's own threads; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop at once."""
        self._server.stop(grace=None)

    def __enter__(self) -> GrpcLoggingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _list_log_entries(self, request_bytes: bytes, context: Any) -> bytes:
        import grpc
        from google.cloud.logging_v2.types import ListLogEntriesRequest, ListLogEntriesResponse

        request = ListLogEntriesRequest.deserialize(request_bytes)
        body = {"resourceNames": list(request.resource_names), "filter": request.filter or None,
                "orderBy": request.order_by or None, "pageSize": request.page_size or None,
                "pageToken": request.page_token or None}
        try:
            text, _ = self._emulator.answer(body, transport="grpc")
        except ApiError as err:
            if err.retry_after is not None:
                context.set_trailing_metadata((("retry-after", f"{err.retry_after:g}"),))
            context.abort(grpc.StatusCode[err.status], err.message)
        page = json.loads(text)
        response = ListLogEntriesResponse(entries=[_log_entry(e) for e in page.get("entries", [])],
                                          next_page_token=page.get("nextPageToken", ""))
        return ListLogEntriesResponse.serialize(response)


def _log_entry(entry: dict[str, Any]) -> Any:
    """A LogEntry proto from its JSON; a protoPayload of a type this process does not know is
    carried as jsonPayload rather than dropped."""
    from google.cloud.logging_v2.types import LogEntry

    _register_audit_types()
    try:
        return LogEntry.from_json(json.dumps(entry), ignore_unknown_fields=True)
    except Exception:  # an Any of an unregistered type, or a field of the wrong JSON type
        if "protoPayload" not in entry:
            raise
        fixed = {k: v for k, v in entry.items() if k != "protoPayload"}
        fixed["jsonPayload"] = entry["protoPayload"]
        return LogEntry.from_json(json.dumps(fixed), ignore_unknown_fields=True)


def _register_audit_types() -> None:
    # AuditLog protoPayloads: google-cloud-audit-log ships with google-cloud-logging
    with contextlib.suppress(ImportError):
        import google.cloud.audit.audit_log_pb2  # noqa: F401
