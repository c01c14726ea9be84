"""Where log entries come from and how they become one typed frame.

- ``load``: walks files and folders, reads each, deduplicates, sorts (``read_logs``).
- ``files`` and ``limits``: input is untrusted: regular files only, links out of a folder not
  followed, every file streamed (gzip too) and refused past ``InputLimits``.
- ``readers``: finds the entries in one file, whatever export shape it has (gcloud JSON array,
  JSONL, one object, concatenated pretty objects, entries.list responses, gzip of any of these)
  and hands them on as JSON lines with their line numbers; ``pretty`` walks the pretty shapes.
- ``lines``: reads JSON lines into typed fields with one polars read, counting bad lines;
  ``stdout`` wraps container stdout JSON lines the way Cloud Logging's agents do.
- ``normalize`` and ``fields``: turn those fields into the log frame
  (``forensics.schema.LOG_SCHEMA``) with polars expressions, not per-entry Python objects;
  ``kinds``, its last step, says what each row is (``KIND_SCHEMA``: layer, role, client kind).

Public entry points: ``read_logs`` (frame plus what was skipped and deduplicated) and
``load_logs`` (just the frame), both taking ``InputLimits``.
"""

from __future__ import annotations

from forensics.logs.limits import InputLimits
from forensics.logs.load import LoadedLogs, load_logs, read_logs
from forensics.logs.normalize import entries_to_frame

__all__ = ["InputLimits", "LoadedLogs", "entries_to_frame", "load_logs", "read_logs"]
