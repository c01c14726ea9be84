"""Every export shape users have yields the same log frame; folders, gzip, sink trees, dedupe."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from forensics import KIND_SCHEMA, LOG_SCHEMA, entries_to_frame, load_logs, read_logs


def entry(i: int, **extra: Any) -> dict[str, Any]:
    """A Cloud Run request LogEntry in API (entries.list) shape."""
    base = {
        "insertId": f"ins-{i:04d}",
        "logName": "projects/shop-prod/logs/run.googleapis.com%2Frequests",
        "timestamp": f"2026-03-01T10:00:{i:02d}.{i:06d}Z",
        "receiveTimestamp": f"2026-03-01T10:00:{i:02d}.900000000Z",
        "severity": "INFO",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "service_name": "cart",
                "revision_name": "cart-0001",
                "location": "europe-west1",
                "project_id": "shop-prod",
            },
        },
        "httpRequest": {
            "requestMethod": "GET",
            "requestUrl": f"https://cart.run.app/items/{i}?q=1",
            "status": 200,
            "latency": "0.25s",
        },
        "textPayload": f"request {i}",
    }
    base.update(extra)
    return base


ENTRIES = [entry(i) for i in range(1, 6)]


def _jsonl(entries: list[dict]) -> str:
    return "".join(json.dumps(e) + "\n" for e in entries)


def _concatenated(entries: list[dict]) -> str:
    return "\n".join(json.dumps(e, indent=2) for e in entries) + "\n"


SHAPES = {
    "gcloud array (newest first)": lambda es: json.dumps(list(reversed(es)), indent=2),
    "jsonl": _jsonl,
    "jsonl with CRLF and blank lines": lambda es: (
        "\r\n\r\n".join(json.dumps(e) for e in es) + "\r\n"
    ),
    "concatenated pretty objects": _concatenated,
    "entries.list response": lambda es: json.dumps(
        {"entries": es, "nextPageToken": "tok"}, indent=2
    ),
    "entries.list response on one line": lambda es: json.dumps(
        {"nextPageToken": "t", "entries": es}
    ),
    "compact array": lambda es: json.dumps(es),
    "byte order mark + jsonl": lambda es: "\ufeff" + _jsonl(es),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_gives_the_same_frame(tmp_path: Path, shape: str) -> None:
    """Each export shape is detected by content and gives the same rows, sorted by time."""
    path = tmp_path / "export.data"  # no telling extension: the content decides
    path.write_text(SHAPES[shape](ENTRIES), encoding="utf-8")
    frame = load_logs(path)
    assert frame.schema == pl.Schema({**LOG_SCHEMA, **KIND_SCHEMA})
    assert frame["insert_id"].to_list() == [e["insertId"] for e in ENTRIES]
    assert frame["message"].to_list() == [f"request {i}" for i in range(1, 6)]
    assert frame["timestamp"].is_sorted()


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_reads_the_same_gzipped(tmp_path: Path, shape: str) -> None:
    """A gzip of any shape is recognized by its magic bytes, whatever the file is called."""
    path = tmp_path / "export.json"
    path.write_bytes(gzip.compress(SHAPES[shape](ENTRIES).encode("utf-8")))
    assert load_logs(path)["insert_id"].to_list() == [e["insertId"] for e in ENTRIES]


def test_single_pretty_object_is_one_entry(tmp_path: Path) -> None:
    """A file holding one pretty-printed LogEntry gives one row, at line 1."""
    path = tmp_path / "one.json"
    path.write_text(json.dumps(ENTRIES[0], indent=4))
    frame = load_logs(path)
    assert frame.height == 1
    assert frame["source_line"].to_list() == [1]


def test_source_line_is_the_line_where_each_entry_starts(tmp_path: Path) -> None:
    """JSONL rows point at their line; pretty rows at the line of their opening brace."""
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n" + _jsonl(ENTRIES[:2]) + "\n" + _jsonl(ENTRIES[2:3]))
    assert load_logs(jsonl)["source_line"].to_list() == [2, 3, 5]
    pretty = tmp_path / "b.json"
    text = _concatenated(ENTRIES[:2])
    pretty.write_text(text)
    second = text.splitlines().index("{", 1) + 1
    assert load_logs(pretty)["source_line"].to_list() == [1, second]
    array = tmp_path / "c.json"
    array.write_text(json.dumps(ENTRIES[:2], indent=2))
    assert load_logs(array)["source_line"].to_list() == [
        2,
        2 + len(json.dumps(ENTRIES[0], indent=2).splitlines()),
    ]


def _sink(root: Path, log_id: str, hour: int, entries: list[dict]) -> Path:
    folder = root / log_id / "2026" / "03" / "01"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hour:02d}:00:00_{hour:02d}:59:59_S0.json"
    path.write_text(_jsonl(entries))
    return path


def test_sink_tree_is_walked_and_overlap_deduplicated(tmp_path: Path) -> None:
    """A Cloud Storage sink tree is read recursively; an entry in two shards is kept once."""
    _sink(tmp_path, "run.googleapis.com/requests", 10, ENTRIES[:3])
    _sink(tmp_path, "run.googleapis.com/requests", 11, ENTRIES[2:])
    stderr = [
        entry(9, logName="projects/shop-prod/logs/run.googleapis.com%2Fstderr", textPayload="boom")
    ]
    _sink(tmp_path, "run.googleapis.com/stderr", 10, stderr)
    loaded = read_logs(tmp_path)
    assert loaded.frame.height == 6
    assert loaded.duplicates == 1
    assert len(loaded.files) == 3
    assert set(loaded.frame["log_id"]) == {
        "run.googleapis.com/requests",
        "run.googleapis.com/stderr",
    }


def test_folder_skips_files_that_are_not_logs(tmp_path: Path) -> None:
    """README, .DS_Store and images in a folder are reported as skipped files, not fatal."""
    (tmp_path / "logs.jsonl").write_text(_jsonl(ENTRIES))
    (tmp_path / "README.md").write_text("# Exports of the e2e run\n")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00\x10")
    (tmp_path / "graph.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    loaded = read_logs(tmp_path)
    assert loaded.frame.height == 5
    skipped = {Path(s.source).name: s.reason for s in loaded.skipped}
    assert set(skipped) == {"README.md", ".DS_Store", "graph.png"}
    assert all(reason.startswith("not a log file") for reason in skipped.values())


def test_overlapping_exports_are_deduplicated_across_files(tmp_path: Path) -> None:
    """Two exports of overlapping windows give each entry once, counted as duplicates."""
    (tmp_path / "first.json").write_text(json.dumps(ENTRIES[:4], indent=2))
    (tmp_path / "second.jsonl").write_text(_jsonl(ENTRIES[2:]))
    loaded = read_logs(tmp_path / "first.json", tmp_path / "second.jsonl")
    assert loaded.frame["insert_id"].to_list() == [e["insertId"] for e in ENTRIES]
    assert loaded.duplicates == 2
    assert (
        loaded.frame.filter(pl.col("insert_id") == "ins-0003")["source_file"]
        .item()
        .endswith("first.json")
    )


def test_duplicates_within_one_file_are_removed(tmp_path: Path) -> None:
    """The same entry twice in one file (a re-run export appended) is kept once."""
    path = tmp_path / "twice.jsonl"
    path.write_text(_jsonl(ENTRIES + ENTRIES[:2]))
    loaded = read_logs(path)
    assert loaded.frame.height == 5
    assert loaded.duplicates == 2


def test_entries_without_insert_id_are_never_merged(tmp_path: Path) -> None:
    """Entries lacking insertId cannot be told apart from copies, so all are kept and counted."""
    bare = [{k: v for k, v in entry(1).items() if k != "insertId"}] * 3
    path = tmp_path / "bare.jsonl"
    path.write_text(_jsonl(bare))
    loaded = read_logs(path)
    assert loaded.frame.height == 3
    assert loaded.duplicates == 0
    assert loaded.without_insert_id == 3


def test_same_insert_id_in_different_logs_is_not_a_duplicate(tmp_path: Path) -> None:
    """Dedupe is per logName: equal insertIds in two logs are two entries."""
    other = entry(1, logName="projects/shop-prod/logs/run.googleapis.com%2Fstdout")
    path = tmp_path / "x.jsonl"
    path.write_text(_jsonl([entry(1), other]))
    assert read_logs(path).frame.height == 2


def test_entries_to_frame_matches_the_file_reader(tmp_path: Path) -> None:
    """Already parsed dicts (the live pull) normalize exactly as the same entries read from a file."""
    path = tmp_path / "e.jsonl"
    path.write_text(_jsonl(ENTRIES))
    from_file = load_logs(path).drop("source_file", "source_line")
    from_dicts = entries_to_frame(ENTRIES, "cloud-logging:shop-prod")
    assert from_dicts["source_file"].unique().to_list() == ["cloud-logging:shop-prod"]
    assert from_dicts["source_line"].to_list() == [1, 2, 3, 4, 5]
    assert from_dicts.drop("source_file", "source_line").equals(from_file)


def test_entries_to_frame_accepts_datetimes_and_empty_input() -> None:
    """datetime values are written as RFC 3339; no entries give an empty frame with the schema."""
    from datetime import UTC, datetime

    when = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    frame = entries_to_frame([entry(1, timestamp=when)], "live")
    assert frame["timestamp"].item() == when
    empty = entries_to_frame([], "live")
    assert empty.is_empty() and empty.schema == pl.Schema({**LOG_SCHEMA, **KIND_SCHEMA})


def test_utf16_export_from_powershell_is_read(tmp_path: Path) -> None:
    """A UTF-16 file with byte order mark (PowerShell `>` redirect) is decoded, not called binary."""
    path = tmp_path / "ps.json"
    path.write_bytes(json.dumps(ENTRIES, indent=2).encode("utf-16"))
    assert load_logs(path)["insert_id"].to_list() == [e["insertId"] for e in ENTRIES]


@pytest.mark.parametrize("indent", [2, 4, "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_indented_array_lines_match_a_full_parse(
    tmp_path: Path, indent: int | str, newline: str
) -> None:
    """The fast cut of indented arrays finds the same entries and start lines as parsing does."""
    from forensics.logs.pretty import scan_values, split_indented_array

    nested = [
        entry(i, jsonPayload={"a": [{"b": [1, {}]}, []], "m": "x},\n  {y"}) for i in range(1, 4)
    ]
    text = json.dumps(nested, indent=indent).replace("\n", newline) + newline
    fast = split_indented_array(text)
    assert fast is not None
    found = scan_values(text)
    assert fast[1] == [line for line, _ in found.entries]
    assert [json.loads(one) for one in fast[0]] == nested
    path = tmp_path / "a.json"
    path.write_bytes(text.encode())
    assert load_logs(path)["source_line"].to_list() == fast[1]


def test_broken_element_of_an_indented_array_costs_only_itself(tmp_path: Path) -> None:
    """One damaged entry inside a complete gcloud array is skipped at its line; the rest are read."""
    text = json.dumps(ENTRIES[:3], indent=2)
    lines = text.splitlines()
    second = [n for n, line in enumerate(lines) if line == "  {"][1]
    lines[second + 1] = '    "insertId": "broken'  # an unterminated string
    path = tmp_path / "g.json"
    path.write_text("\n".join(lines) + "\n")
    loaded = read_logs(path)
    assert loaded.frame["insert_id"].to_list() == ["ins-0001", "ins-0003"]
    assert [(s.reason, s.count, s.first_line) for s in loaded.skipped] == [
        ("not JSON", 1, second + 1)
    ]
