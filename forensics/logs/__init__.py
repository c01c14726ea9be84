"""Where log entries come from and how they become one typed frame.

- ``readers``: finds the entries in a file or folder, whatever export shape it has
  (gcloud JSON array, JSONL, one object, concatenated pretty objects, Cloud Storage sink
  trees, gzip of any of these) and yields them as JSON text with their line numbers.
- ``normalize``: turns JSON text of LogEntries into the log frame (``forensics.schema.LOG_SCHEMA``)
  with polars expressions, not per-entry Python objects.

Public entry points: ``read_logs`` (frame plus what was skipped and deduplicated) and
``load_logs`` (just the frame).
"""

from __future__ import annotations

from forensics.logs.load import LoadedLogs, load_logs, read_logs
from forensics.logs.normalize import entries_to_frame

__all__ = ["LoadedLogs", "entries_to_frame", "load_logs", "read_logs"]
