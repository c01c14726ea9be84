"""The entries the local server serves: raw LogEntry dicts read from an export, kept in time order.

The server needs entries exactly as the API returns them, so this takes the export's JSON values
from the shape reader triage uses (``forensics.logs.readers``: arrays, JSONL, pretty objects one
after another, gzip) and stops before the normalizer, under the same ``InputLimits``; folders are
walked as triage walks them, and files in them that are not JSON are counted and passed over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensics.emulator.filter import entry_timestamp_ns
from forensics.exceptions import InputError, LogFormatError
from forensics.logs.files import input_kind, walk
from forensics.logs.limits import InputLimits
from forensics.logs.readers import read_file


@dataclass
class EntryStore:
    """Entries in time order, each with its pre-encoded JSON text and project.

    Attributes:
        entries: LogEntry dicts sorted by timestamp (entries without one come last).
        texts: the compact JSON text of each entry, so pages are joined, not re-encoded.
        projects: the project id of each entry, from its logName (or ``default_project``).
        default_project: the project entries without a ``projects/P/logs/`` logName belong to.
        skipped: JSON values that were not LogEntry objects, by reason.
    """

    entries: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    default_project: str = "local-project"
    skipped: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_entries(cls, entries: list[dict[str, Any]], default_project: str | None = None) -> EntryStore:
        """Build a store from LogEntry dicts (any order)."""
        keyed = sorted(entries, key=lambda e: (entry_timestamp_ns(e) is None, entry_timestamp_ns(e) or 0))
        projects = [_project_of(e) for e in keyed]
        default = default_project or next((p for p in projects if p), None) or "local-project"
        return cls(
            entries=keyed,
            texts=[json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in keyed],
            projects=[p or default for p in projects],
            default_project=default,
        )

    @property
    def project_ids(self) -> set[str]:
        """Every project this store holds entries for (and the default one)."""
        return {*self.projects, self.default_project}


def load_export(
    *paths: str | Path,
    default_project: str | None = None,
    limits: InputLimits | None = None,
    follow_links: bool = False,
) -> EntryStore:
    """Read LogEntry dicts from export files or folders.

    Args:
        paths: export files or folders.
        default_project: the project of entries whose logName names none.
        limits: how much one file may hold (default ``InputLimits()``, as for triage).
        follow_links: in folders, also read links that point out of the folder.

    Raises:
        InputError: a path is missing or holds no export file; a file named directly is refused.
        LogFormatError: a file is not JSON (names the file and line).
    """
    entries: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    for path, named in _files(paths, follow_links, skipped):
        try:
            values = _json_values(path, limits)
        except InputError:
            if named:
                raise
            skipped["file in the folder is not a JSON export"] = skipped.get("file in the folder is not a JSON export", 0) + 1
            continue  # a README or an image beside the export: note it and go on, as read_logs does
        for value in values:
            if isinstance(value, dict) and isinstance(value.get("entries"), list):
                value = value["entries"]  # an entries.list response saved to a file
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and ("logName" in item or "timestamp" in item):
                    entries.append(item)
                else:
                    reason = "not a LogEntry object"
                    skipped[reason] = skipped.get(reason, 0) + 1
    store = EntryStore.from_entries(entries, default_project)
    store.skipped = skipped
    return store


def _files(
    paths: tuple[str | Path, ...], follow_links: bool, skipped: dict[str, int]
) -> list[tuple[Path, bool]]:
    """Every file to read, and whether the user named it (then it must be an export); what a
    folder walk passes over (links out of it, special files) is counted in ``skipped``."""
    files: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if input_kind(path) == "file":
            files.append((path, True))
            continue
        found, passed = walk(path, follow_links)  # the files triage would read from the same folder
        if not found and not passed:
            raise InputError("folder holds no files", path=path)
        for note in passed:
            skipped[note.reason] = skipped.get(note.reason, 0) + 1
        files.extend((p, False) for p in found)
    return files


def _json_values(path: Path, limits: InputLimits | None) -> list[Any]:
    """Every top-level JSON value in the file: an array's, JSONL lines, or concatenated objects.

    The file is cut into JSON lines by ``forensics.logs.readers.read_file``, so the emulator
    accepts exactly the export shapes (gzip, UTF-16, BOM, pretty arrays) that triage reads.
    """
    batch = read_file(path, limits)
    if batch.skipped:  # the server serves an export whole or not at all
        first = min(batch.skipped, key=lambda s: s.first_line or 0)
        raise LogFormatError(first.reason, path=path, line=first.first_line)
    lines = [(n, line) for n, line in enumerate(batch.data.split(b"\n"), 1) if line.strip()]
    numbers = batch.line_numbers or [n for n, _ in lines]
    values: list[Any] = []
    for number, (_, line) in zip(numbers, lines, strict=True):
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise LogFormatError(f"not JSON ({err.msg})", path=path, line=number) from None
    return values


def _project_of(entry: dict[str, Any]) -> str | None:
    name = entry.get("logName")
    if isinstance(name, str) and name.startswith("projects/"):
        return name.split("/", 2)[1]
    labels = (entry.get("resource") or {}).get("labels") or {}
    project = labels.get("project_id") if isinstance(labels, dict) else None
    return project if isinstance(project, str) else None
