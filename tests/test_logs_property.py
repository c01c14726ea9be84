"""Property: every input entry ends up in the frame or in a skip count; none lost, none doubled."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics import ForensicsError, InputLimits, read_logs

#: Characters a damaged line is made of: no braces or brackets, so damage can never turn into a
#: LogEntry (or an array of them) by chance; digits, quotes and letters still make some lines
#: valid JSON scalars, which must be counted as "not a LogEntry".
_JUNK = st.text(
    alphabet=st.sampled_from(list('abc xyz"01:,.-\\\t\u00e9\u2603')), min_size=1, max_size=40
)
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@st.composite
def log_entry(draw: st.DrawFn, i: int) -> dict[str, Any]:
    """A LogEntry with a random mix of the fields exports carry."""
    entry: dict[str, Any] = {
        "insertId": f"e{i}",
        "logName": draw(
            st.sampled_from(
                ["projects/p/logs/run.googleapis.com%2Frequests", "projects/p/logs/app"]
            )
        ),
        "timestamp": f"2026-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}.{draw(st.integers(0, 999_999_999)):09d}Z",
    }
    payload = draw(st.sampled_from(["text", "json", "proto", "none"]))
    if payload == "text":
        entry["textPayload"] = draw(_TEXT)
    elif payload == "json":
        entry["jsonPayload"] = draw(
            st.dictionaries(st.sampled_from(["message", "msg", "k", "n"]), _TEXT, max_size=3)
        )
    elif payload == "proto":
        entry["protoPayload"] = {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "methodName": draw(_TEXT),
        }
    if draw(st.booleans()):
        entry["severity"] = draw(st.sampled_from(["INFO", "ERROR", 400, "debug"]))
    if draw(st.booleans()):
        entry["httpRequest"] = {
            "status": draw(st.sampled_from([200, "403", 503])),
            "latency": "0.5s",
        }
    if draw(st.booleans()):
        entry["labels"] = draw(
            st.dictionaries(st.sampled_from(["instanceId", "a"]), _TEXT, max_size=2)
        )
    if draw(st.booleans()):
        entry["resource"] = {"type": "cloud_run_revision", "labels": {"service_name": draw(_TEXT)}}
    return entry


@st.composite
def damaged_export(draw: st.DrawFn) -> tuple[list[str], set[str], int, int]:
    """JSONL lines, the insertIds that must survive, how many lines are damaged, how many repeated."""
    n = draw(st.integers(1, 40))
    lines: list[str] = []
    good: set[str] = set()
    damaged = 0
    for i in range(n):
        text = json.dumps(draw(log_entry(i)), ensure_ascii=draw(st.booleans()))
        damage = draw(st.sampled_from(["none", "none", "none", "truncate", "junk", "no zone"]))
        if damage == "truncate":
            text = text[: draw(st.integers(1, len(text) - 1))]
        elif damage == "junk":
            text = draw(_JUNK.filter(lambda s: s.strip()))
        elif damage == "no zone":
            text = text.replace('Z"', '"', 1)
        else:
            good.add(f"e{i}")
        damaged += damage != "none"
        lines.append(text)
    repeats = draw(st.lists(st.sampled_from(sorted(good)), max_size=5)) if good else []
    for insert_id in repeats:  # the same entry exported twice
        index = int(insert_id[1:])
        lines.append(lines[index])
    blanks = draw(st.lists(st.integers(0, len(lines)), max_size=3))
    for at in sorted(blanks, reverse=True):
        lines.insert(at, "")
    return lines, good, damaged, len(repeats)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_export())
def test_every_entry_is_in_the_frame_or_counted(
    export: tuple[list[str], set[str], int, int],
) -> None:
    """Good entries appear exactly once; every damaged line is counted in a skip reason."""
    lines, good, damaged, repeats = export
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if not good:
            try:
                read_logs(path)
            except Exception as err:  # the one accepted failure, checked below
                assert type(err).__name__ in {"LogFormatError", "InputError"}
                return
            raise AssertionError("a file with no good entry was accepted")
        loaded = read_logs(path)
    ids = loaded.frame["insert_id"].to_list()
    assert sorted(ids) == sorted(good)  # nothing lost, nothing doubled
    assert sum(s.count for s in loaded.skipped) == damaged
    assert loaded.duplicates == repeats
    rows = {r["insert_id"]: r["source_line"] for r in loaded.frame.iter_rows(named=True)}
    for insert_id, line in rows.items():
        assert f'"insertId": "{insert_id}"' in lines[line - 1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=15, unique=True).flatmap(
    lambda ids: st.tuples(*(log_entry(i) for i in ids))
))  # fmt: skip
def test_indented_array_and_jsonl_give_the_same_frame(entries: tuple[dict[str, Any], ...]) -> None:
    """The same entries as a gcloud-style indented array and as JSONL load to the same frame."""
    with tempfile.TemporaryDirectory() as tmp:
        array, jsonl = Path(tmp) / "a.json", Path(tmp) / "b.jsonl"
        array.write_text(json.dumps(list(entries), indent=2, ensure_ascii=False), encoding="utf-8")
        jsonl.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
        from_array, from_jsonl = read_logs(array), read_logs(jsonl)
    assert from_array.skipped == [] and from_jsonl.skipped == []
    columns = [c for c in from_jsonl.frame.columns if c not in ("source_file", "source_line")]
    assert from_array.frame.select(columns).equals(from_jsonl.frame.select(columns))


def _as_shape(lines: list[str], shape: str) -> str:
    """The export's lines as JSONL, an indented gcloud array, or pretty objects one after another.

    The pretty shapes keep the lines that are JSON (pretty-printed): their damage is in the
    content (a timestamp without zone, a value that is not a LogEntry), not in the syntax.
    """
    if shape == "jsonl":
        return "\n".join(lines) + "\n"
    pretty = []
    for line in lines:
        try:
            pretty.append(json.dumps(json.loads(line), indent=2, ensure_ascii=False))
        except ValueError:
            continue
    if shape == "objects":
        return "\n".join(pretty) + "\n"
    return "[\n" + ",\n".join("  " + p.replace("\n", "\n  ") for p in pretty) + "\n]\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_export(), st.integers(1, 600), st.sampled_from(["jsonl", "array", "objects"]))
def test_batch_size_never_changes_what_is_read(
    export: tuple[list[str], set[str], int, int], batch: int, shape: str
) -> None:
    """A file read in batches of any size gives the frame, lines and skip counts of one read."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.json"
        path.write_text(_as_shape(export[0], shape), encoding="utf-8")

        def read(limits: InputLimits) -> Any:
            try:
                loaded = read_logs(path, limits=limits)
            except ForensicsError as err:
                return str(err)
            return loaded.frame, loaded.skipped, loaded.duplicates

        whole, batched = read(InputLimits()), read(InputLimits(batch_bytes=batch))
    if isinstance(whole, str):
        assert batched == whole
        return
    assert not isinstance(batched, str), batched
    assert batched[0].equals(whole[0])
    assert batched[1:] == whole[1:]
