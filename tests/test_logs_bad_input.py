"""Bad input: one-line errors naming file and line, or counted skips; never a traceback or a hang."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from forensics import InputError, LogFormatError, read_logs


def entry(i: int, **extra: Any) -> dict[str, Any]:
    """A minimal Cloud Run stdout LogEntry."""
    base = {
        "insertId": f"id-{i}",
        "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
        "timestamp": f"2026-03-01T10:00:{i:02d}Z",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
        "textPayload": f"line {i}",
    }
    base.update(extra)
    return base


def lines(*items: Any) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)


def skips(loaded: Any) -> dict[str, tuple[int, int | None]]:
    return {s.reason: (s.count, s.first_line) for s in loaded.skipped}


def test_missing_path_names_it(tmp_path: Path) -> None:
    """A path that does not exist is an InputError naming it."""
    with pytest.raises(InputError, match=r"nope\.json: no such file or folder"):
        read_logs(tmp_path / "nope.json")


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_empty_file_is_an_input_error(tmp_path: Path, content: bytes) -> None:
    """An empty (or whitespace-only) file is an InputError that says so."""
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"empty\.json: empty file"):
        read_logs(path)


def test_empty_gzip_is_an_input_error(tmp_path: Path) -> None:
    """A gzip that holds nothing is reported as empty."""
    path = tmp_path / "e.json.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(InputError, match="empty file"):
        read_logs(path)


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    """A file the user may not read is an InputError naming it."""
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = tmp_path / "locked.jsonl"
    path.write_text(lines(entry(1)))
    path.chmod(0)
    with pytest.raises(InputError, match=r"locked\.jsonl: cannot read"):
        read_logs(path)


def test_binary_junk_is_a_log_format_error(tmp_path: Path) -> None:
    """Random bytes are 'binary data', not a crash in a JSON parser."""
    path = tmp_path / "junk.bin"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(LogFormatError, match=r"junk\.bin: binary data, not a log export"):
        read_logs(path)


def test_fake_gzip_says_it_is_not_gzip(tmp_path: Path) -> None:
    """A .gz that is not gzip data, and a gzip with a broken body, both get one clear line."""
    fake = tmp_path / "logs.json.gz"
    fake.write_bytes(b"\x00\x01\x02 not gzip at all" * 10)
    with pytest.raises(LogFormatError, match=r"named \.gz but not gzip data"):
        read_logs(fake)
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(lines(entry(1)).encode())[:12])
    with pytest.raises(InputError, match=r"broken\.json\.gz: not a readable gzip file"):
        read_logs(broken)


def test_text_named_gz_is_read_by_content(tmp_path: Path) -> None:
    """Content decides: a plain JSONL file called .gz is read as JSONL."""
    path = tmp_path / "plain.jsonl.gz"
    path.write_text(lines(entry(1), entry(2)))
    assert read_logs(path).frame.height == 2


def test_bad_lines_are_counted_by_reason_with_first_line(tmp_path: Path) -> None:
    """Non-JSON, truncated and non-LogEntry lines are skipped and counted; good lines stay."""
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        lines(
            entry(1),
            "not json at all",
            json.dumps(entry(2))[:-9],
            [1, 2],
            {"foo": 1},
            entry(3),
            "42",
        )
    )
    loaded = read_logs(path)
    assert loaded.frame["insert_id"].to_list() == ["id-1", "id-3"]
    assert skips(loaded) == {"not JSON": (2, 2), "not a LogEntry": (3, 4)}


def test_strict_makes_the_first_bad_line_fatal(tmp_path: Path) -> None:
    """With strict=True the first bad line raises, naming file, line and what is wrong."""
    path = tmp_path / "mixed.jsonl"
    path.write_text(lines(entry(1), entry(2), "{oops", entry(3)))
    with pytest.raises(LogFormatError) as err:
        read_logs(path, strict=True)
    assert str(err.value) == f"{path}:3: not JSON"
    assert err.value.line == 3


def test_strict_rejects_a_bad_timestamp_with_its_line(tmp_path: Path) -> None:
    """strict=True also refuses an entry that cannot be placed in time."""
    path = tmp_path / "t.jsonl"
    path.write_text(lines(entry(1), entry(2, timestamp="2026-03-01T10:00:02")))
    with pytest.raises(LogFormatError, match=r"t\.jsonl:2: invalid timestamp"):
        read_logs(path, strict=True)


def test_truncated_array_keeps_the_complete_entries(tmp_path: Path) -> None:
    """An array cut off mid-entry keeps the entries before the cut and reports the cut line."""
    text = json.dumps([entry(i) for i in range(1, 4)], indent=2)
    path = tmp_path / "cut.json"
    path.write_text(text[: text.rindex('"textPayload"')])
    loaded = read_logs(path)
    assert loaded.frame["insert_id"].to_list() == ["id-1", "id-2"]
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if line == "  {"]
    assert skips(loaded) == {"truncated array": (1, starts[2])}


def test_damaged_entry_in_pretty_concatenation_costs_only_itself(tmp_path: Path) -> None:
    """In a Logs Explorer copy, a broken object is skipped and the next one still read."""
    good = [json.dumps(entry(i), indent=2) for i in (1, 2)]
    path = tmp_path / "copy.txt"
    path.write_text(
        good[0] + "\n" + '{\n  "insertId": "broken",\n  "textPayload": "x\n' + good[1] + "\n"
    )
    loaded = read_logs(path)
    assert loaded.frame["insert_id"].to_list() == ["id-1", "id-2"]
    assert skips(loaded) == {"not JSON": (1, len(good[0].splitlines()) + 1)}


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-03-01T10:00:00",
        "2026-03-01 10:00:00",
        "yesterday",
        "2026-13-45T99:00:00Z",
        "1741000000",
    ],
)
def test_zone_less_or_malformed_timestamp_is_skipped_and_counted(
    tmp_path: Path, stamp: str
) -> None:
    """A timestamp without zone or not RFC 3339 is skipped (not guessed) and counted at its line."""
    path = tmp_path / "t.jsonl"
    path.write_text(lines(entry(1), entry(2, timestamp=stamp)))
    loaded = read_logs(path)
    assert loaded.frame.height == 1
    assert skips(loaded) == {"invalid timestamp (no zone or not RFC 3339)": (1, 2)}


def test_missing_timestamp_falls_back_to_receive_timestamp(tmp_path: Path) -> None:
    """No timestamp: receiveTimestamp is used (as Cloud Logging does); neither: skipped as 'no timestamp'."""
    no_ts = {k: v for k, v in entry(1).items() if k != "timestamp"}
    path = tmp_path / "t.jsonl"
    path.write_text(
        lines({**no_ts, "receiveTimestamp": "2026-03-01T10:00:05.5Z"}, {**no_ts, "insertId": "x"})
    )
    loaded = read_logs(path)
    assert loaded.frame["timestamp"].dt.to_string("%H:%M:%S%.3f").to_list() == ["10:00:05.500"]
    assert skips(loaded) == {"no timestamp": (1, 2)}


def test_file_with_no_log_entry_is_an_error_with_the_reasons(tmp_path: Path) -> None:
    """JSON that holds no LogEntry at all is a LogFormatError that says what was found."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"name": "app", "version": 3}, indent=2))
    with pytest.raises(
        LogFormatError, match=r"config\.json: no usable LogEntry in the file: 1 not a LogEntry"
    ):
        read_logs(path)


def test_invalid_utf8_is_replaced_and_counted(tmp_path: Path) -> None:
    """Invalid UTF-8 bytes become U+FFFD; the entry is kept and the damage reported."""
    good = json.dumps(entry(1)).encode()
    damaged = json.dumps(entry(2, textPayload="caf@")).encode().replace(b"caf@", b"caf\xe9\xff")
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(good + b"\n" + damaged + b"\n")
    loaded = read_logs(path)
    assert loaded.frame["message"].to_list() == ["line 1", "caf\ufffd\ufffd"]
    assert skips(loaded) == {"invalid UTF-8 (replaced with U+FFFD, entries kept)": (1, 2)}


def test_megabyte_line_is_read(tmp_path: Path) -> None:
    """A 5 MB textPayload on one line is read whole."""
    path = tmp_path / "big.jsonl"
    path.write_text(lines(entry(1, textPayload="x" * 5_000_000), entry(2)))
    frame = read_logs(path).frame
    assert frame["message"].str.len_bytes().to_list() == [5_000_000, 6]


@pytest.mark.parametrize("depth", [200, 5_000, 200_000])
def test_deep_nesting_neither_crashes_nor_hangs(tmp_path: Path, depth: int) -> None:
    """A deeply nested payload is read when it can be and otherwise skipped as 'nested too deeply'."""
    deep = json.dumps(entry(2))[:-1] + ', "jsonPayload": {"a": ' + "[" * depth + "]" * depth + "}}"
    path = tmp_path / "deep.jsonl"
    path.write_text(lines(entry(1), deep, entry(3)))
    loaded = read_logs(path)
    ids = loaded.frame["insert_id"].to_list()
    assert ids[0] == "id-1" and ids[-1] == "id-3"
    if len(ids) == 2:
        assert skips(loaded) == {"nested too deeply": (1, 2)}
    else:
        assert loaded.skipped == []


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        (
            "uvicorn.log",
            'INFO:     127.0.0.1:4 - "GET / HTTP/1.1" 200 OK\n',
            "plain-text console output",
        ),
        (
            "table.txt",
            "LEVEL  NAME  EXECUTION_ID  TIME_UTC  LOG\nW  f  2025-10-21 10:49:05.216  x\n",
            "gcloud table",
        ),
        ("notes.txt", "The deploy went fine.\n", "not a Cloud Logging export: line 1 is not JSON"),
        ("read.yaml", "---\ninsertId: abc\nlogName: projects/p/logs/x\n", "YAML output of gcloud"),
        (
            "dl.csv",
            "timestamp,severity,logName,textPayload\n2026-03-01T10:00:00Z,INFO,x,y\n",
            "CSV download",
        ),
    ],
)
def test_text_that_is_not_an_export_gets_one_line_saying_what_it_is(
    tmp_path: Path, name: str, content: str, words: str
) -> None:
    """Console logs, gcloud tables and prose are refused with a hint, in one line."""
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(LogFormatError) as err:
        read_logs(path)
    message = str(err.value)
    assert message.startswith(f"{path}:1: ") and words in message
    assert "\n" not in message


def test_error_message_hides_secrets_in_the_quoted_line(tmp_path: Path) -> None:
    """The first line quoted in an error passes through redaction."""
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"
    path = tmp_path / "curl.txt"
    path.write_text(f"Authorization: Bearer {token}\n")
    with pytest.raises(LogFormatError) as err:
        read_logs(path)
    assert token not in str(err.value)


def test_folder_of_only_non_logs_is_an_error(tmp_path: Path) -> None:
    """A folder where no file is a log export raises instead of returning nothing."""
    (tmp_path / "README.md").write_text("# nothing here\n")
    with pytest.raises(LogFormatError, match="no Cloud Logging entries found"):
        read_logs(tmp_path)


def test_empty_folder_is_an_input_error(tmp_path: Path) -> None:
    """A folder without files is an InputError naming it."""
    with pytest.raises(InputError, match="folder holds no files"):
        read_logs(tmp_path)


def test_no_paths_is_an_input_error() -> None:
    """Calling read_logs without any path is an InputError."""
    with pytest.raises(InputError, match="no log files given"):
        read_logs()


@pytest.mark.parametrize("pretty", [False, True])
def test_lone_surrogate_escape_does_not_crash(tmp_path: Path, pretty: bool) -> None:
    """A "\\ud800" escape (valid JSON, no UTF-8 form) is replaced; the entry is kept."""
    raw = json.dumps(entry(1, textPayload="bad \ud800 half"))
    path = tmp_path / "s.json"
    path.write_text(f"[\n{raw}\n]" if pretty else raw + "\n")
    message = read_logs(path).frame["message"].item()
    assert message.startswith("bad ") and message.endswith(" half")
    message.encode("utf-8")  # no surrogate left: every output path can write it


def test_strict_folder_still_passes_over_files_that_are_not_exports(tmp_path: Path) -> None:
    """strict is about bad lines in exports: a README beside them is still just noted."""
    (tmp_path / "README.md").write_text("# run 42\n")
    (tmp_path / "a.jsonl").write_text(lines(entry(1)))
    assert read_logs(tmp_path, strict=True).frame.height == 1
    (tmp_path / "b.jsonl").write_text(lines(entry(2), "garbage"))
    with pytest.raises(LogFormatError, match=r"b\.jsonl:2: not JSON"):
        read_logs(tmp_path, strict=True)


@pytest.mark.parametrize("content", ["[]\n", '{"entries": []}\n'])
def test_export_of_nothing_says_the_filter_matched_nothing(tmp_path: Path, content: str) -> None:
    """An empty gcloud array or entries.list response points at the filter/window, not the format."""
    path = tmp_path / "logs.json"
    path.write_text(content)
    with pytest.raises(LogFormatError, match="holds no entries"):
        read_logs(path)
