"""Untrusted input: archives that expand too far, special files, links and loops, unreadable files.

Each is refused with one line naming the file (exit 2 from the command line), or, inside a
folder, passed over and counted while the rest is read. Bombs are made at test time and kept
small by passing small limits; their memory is measured by ``bench/bench_memory.py``.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import zlib
from pathlib import Path
from typing import Any

import pytest

from forensics import InputError, InputLimits, InputTooLargeError, LogFormatError, read_logs
from forensics.cli import main
from forensics.emulator import load_export
from forensics.logs import files
from forensics.logs.limits import MiB, parse_size
from tests.conftest import FIXTURES

SEED_TESTS = str(FIXTURES / "seed" / "junit.xml")
#: Small limits: a bomb is refused once it expanded past 256 KiB at more than 100:1.
SMALL = InputLimits(ratio_allowance=256 * 1024, batch_bytes=64 * 1024)
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def entry(i: int, service: str = "api") -> dict[str, Any]:
    return {
        "insertId": f"{service}-{i}",
        "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
        "timestamp": f"2026-03-01T10:00:{i % 60:02d}Z",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": service}},
        "textPayload": f"line {i}",
    }


def jsonl(*entries: dict[str, Any]) -> str:
    return "".join(json.dumps(e) + "\n" for e in entries)


def gzip_of(head: bytes, block: bytes, size: int, tail: bytes = b"") -> bytes:
    """``head``, ``block`` repeated to ``size`` bytes, ``tail``: gzip made without the text in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(head)]
    parts += [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.compress(tail), packer.flush()])


def entries_bomb(path: Path, size: int = 4 * MiB) -> Path:
    """Copies of one valid entry, as a ``.jsonl.gz`` expanding to ``size``."""
    line = (json.dumps(entry(1, "bomb")) + "\n").encode()
    path.write_bytes(gzip_of(b"", line * 1000, size))
    return path


def spaces_bomb(path: Path, size: int = 4 * MiB) -> Path:
    """``[``, spaces, ``]`` as a ``.json.gz`` expanding to ``size``."""
    path.write_bytes(gzip_of(b"[", b" " * 65536, size, b"]\n"))
    return path


def cli_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one stderr line of a command that must exit 2."""
    assert main(["triage", "--tests", SEED_TESTS, *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("make", [entries_bomb, spaces_bomb], ids=["entries", "spaces"])
def test_gzip_bomb_is_refused_naming_file_sizes_and_flag(tmp_path: Path, make: Any) -> None:
    """An archive expanding hundreds of times is refused early, saying how far it got and what lifts it."""
    bomb = make(tmp_path / ("bomb.jsonl.gz" if make is entries_bomb else "bomb.json.gz"))
    with pytest.raises(InputTooLargeError) as err:
        read_logs(bomb, limits=SMALL)
    message = str(err.value)
    assert message.startswith(f"{bomb}: refused: expands ")
    assert " compressed, " in message and " expanded so far), past the 100:1 " in message
    assert "--max-input-bytes" in message
    assert "\n" not in message


def test_a_size_the_user_sets_reads_a_file_that_compresses_very_well(tmp_path: Path) -> None:
    """``InputLimits.chosen`` (what --max-input-bytes sets) replaces the ratio check with the size."""
    bomb = entries_bomb(tmp_path / "repeated.jsonl.gz", 2 * MiB)
    loaded = read_logs(bomb, limits=InputLimits.chosen(8 * MiB))
    copies = 2 * MiB // len(json.dumps(entry(1, "bomb")) + "\n") // 1000 * 1000
    assert loaded.frame["insert_id"].to_list() == ["bomb-1"]
    assert loaded.duplicates == copies - 1
    with pytest.raises(InputTooLargeError, match=r"expands past the input limit of 1\.0 MiB"):
        read_logs(bomb, limits=InputLimits.chosen(1 * MiB))


def test_plain_file_past_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """An uncompressed file larger than the limit names its size and a limit that would admit it."""
    big = tmp_path / "big.jsonl"
    big.write_text(jsonl(*(entry(i) for i in range(12_000))))
    size = big.stat().st_size
    assert 2 * MiB < size < 3 * MiB
    with pytest.raises(InputTooLargeError) as err:
        read_logs(big, limits=InputLimits(max_bytes=1 * MiB))
    assert str(err.value) == (
        f"{big}: refused: {size / MiB:.1f} MiB is more than the input limit of 1.0 MiB; "
        "to read it, raise the limit with --max-input-bytes 3M (0 for no limit)"
    )
    assert read_logs(big, limits=InputLimits.chosen(0)).frame.height == 12_000


def test_bomb_in_a_folder_is_passed_over_and_nothing_of_it_is_kept(tmp_path: Path) -> None:
    """Batches of a bomb read before its refusal never reach the frame; the other files are read."""
    (tmp_path / "good.jsonl").write_text(jsonl(entry(1), entry(2)))
    bomb = tmp_path / "z.jsonl.gz"
    line = "".join(json.dumps(entry(i, "bomb")) + "\n" for i in range(50)).encode()
    bomb.write_bytes(gzip_of(b"", line, 8 * MiB))
    # Up to 2 MiB are read to tell the shape; then 64 KiB batches until it passes 3 MiB.
    limits = InputLimits(ratio_allowance=3 * MiB, batch_bytes=64 * 1024)
    loaded = read_logs(tmp_path, limits=limits)
    assert loaded.frame["insert_id"].to_list() == ["api-1", "api-2"]
    notes = {s.source: s.reason for s in loaded.skipped}
    assert notes[str(bomb)].startswith("not a log file: refused: expands ")


def test_folder_of_only_refused_files_says_why(tmp_path: Path) -> None:
    """When nothing is left, the error names the first file passed over and its reason."""
    bomb = spaces_bomb(tmp_path / "logs.json.gz")
    with pytest.raises(LogFormatError) as err:
        read_logs(tmp_path, limits=SMALL)
    assert "no Cloud Logging entries found in any file (1 passed over; first: " in str(err.value)
    assert f"{bomb}: not a log file: refused: expands " in str(err.value)


def test_truncated_gzip_and_wrong_checksum_are_one_line_each(tmp_path: Path) -> None:
    """A cut-off gzip and one whose CRC does not match its data are refused, not half-read."""
    packed = gzip.compress(jsonl(*(entry(i) for i in range(200))).encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(
        InputError, match=r"cut\.jsonl\.gz: not a readable gzip file \(it ends before"
    ):
        read_logs(cut)
    damaged = tmp_path / "crc.jsonl.gz"
    damaged.write_bytes(packed[:-8] + bytes([packed[-8] ^ 0xFF]) + packed[-7:])
    with pytest.raises(
        InputError, match=r"crc\.jsonl\.gz: not a readable gzip file \(incorrect data check"
    ):
        read_logs(damaged)


def test_concatenated_gzip_members_are_all_read(tmp_path: Path) -> None:
    """``cat a.gz b.gz`` is a valid gzip file: every member is read, as gzip itself does."""
    path = tmp_path / "both.jsonl.gz"
    path.write_bytes(
        gzip.compress(jsonl(entry(1)).encode()) + gzip.compress(jsonl(entry(2)).encode())
    )
    assert read_logs(path).frame["insert_id"].to_list() == ["api-1", "api-2"]


def test_plain_text_named_json_says_what_it_is(tmp_path: Path) -> None:
    """A .json name does not make console output JSON: the first line is described."""
    path = tmp_path / "logs.json"
    path.write_text("2026-03-01 10:00:00 INFO started\n")
    with pytest.raises(LogFormatError, match=r"logs\.json:1: plain-text console output"):
        read_logs(path)


@needs_fifo
def test_fifo_is_not_read_but_named(tmp_path: Path) -> None:
    """A FIFO named as a log file is refused at once (never opened for a blocking read)."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"fifo\.json: not a regular file but a FIFO"):
        read_logs(fifo)


@needs_fifo
def test_fifo_in_a_folder_is_passed_over_and_counted(tmp_path: Path) -> None:
    """Inside a folder, a FIFO is one skipped item and the exports beside it are read."""
    os.mkfifo(tmp_path / "pipe.jsonl")
    (tmp_path / "a.jsonl").write_text(jsonl(entry(1)))
    loaded = read_logs(tmp_path)
    assert loaded.frame.height == 1
    assert [(s.source, s.reason) for s in loaded.skipped] == [
        (
            str(tmp_path / "pipe.jsonl"),
            "not a regular file but a FIFO; save the export to a file and give that",
        )
    ]


def test_device_is_not_a_regular_file() -> None:
    """/dev/zero would never end: it is refused for what it is."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(InputError, match=r"/dev/zero: not a regular file but a character device"):
        read_logs("/dev/zero")


def test_symlink_loop_is_named_as_a_loop(tmp_path: Path) -> None:
    """A link that points at itself exists: it is a loop, not a missing file."""
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match=r"loop\.json: symlink loop"):
        read_logs(loop)
    broken = tmp_path / "broken.json"
    broken.symlink_to(tmp_path / "gone.json")
    with pytest.raises(
        InputError, match=r"broken\.json: broken symlink: it points at .*gone\.json"
    ):
        read_logs(broken)


def test_links_out_of_a_folder_are_followed_only_when_asked(tmp_path: Path) -> None:
    """A link to a file or folder outside is counted, not read; follow_links reads it; links inside are read."""
    outside, folder = tmp_path / "outside", tmp_path / "export"
    outside.mkdir()
    folder.mkdir()
    (outside / "far.jsonl").write_text(jsonl(entry(3)))
    (folder / "a.jsonl").write_text(jsonl(entry(1)))
    (folder / "b.jsonl").write_text(jsonl(entry(2)))
    (folder / "also-b.jsonl").symlink_to(folder / "b.jsonl")
    (folder / "far.jsonl").symlink_to(outside / "far.jsonl")
    (folder / "more").symlink_to(outside, target_is_directory=True)
    loaded = read_logs(folder)
    assert loaded.frame["insert_id"].to_list() == ["api-1", "api-2"]
    assert loaded.duplicates == 1  # also-b.jsonl, read as a link inside the folder
    assert {Path(s.source).name: s.reason for s in loaded.skipped} == {
        "far.jsonl": "a link to a file outside the folder, not followed (--follow-links reads it)",
        "more": "a link to a folder outside the folder, not followed (--follow-links reads it)",
    }
    followed = read_logs(folder, follow_links=True)
    assert followed.frame["insert_id"].to_list() == ["api-1", "api-2", "api-3"]
    assert followed.skipped == []


def test_link_back_up_the_tree_does_not_loop(tmp_path: Path) -> None:
    """With follow_links, a link to an ancestor folder is entered once, not forever."""
    (tmp_path / "a.jsonl").write_text(jsonl(entry(1)))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "sub" / "self").symlink_to(tmp_path / "sub" / "self")
    loaded = read_logs(tmp_path, follow_links=True)
    assert loaded.frame.height == 1
    assert [s.reason for s in loaded.skipped] == [
        "symlink loop: the link leads back to itself, never to a file"
    ]


def test_unreadable_file_names_the_permission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the user may not read says 'permission denied' with its mode and owner."""
    path = tmp_path / "locked.jsonl"
    path.write_text(jsonl(entry(1)))
    path.chmod(0o200)
    if os.geteuid() == 0:  # root reads every file: refuse the open as the kernel would
        real_open = os.open

        def denied(name: Any, *args: Any, **kwargs: Any) -> int:
            if Path(name) == path:
                raise PermissionError(errno.EACCES, "Permission denied", str(name))
            return real_open(name, *args, **kwargs)

        monkeypatch.setattr(files.os, "open", denied)
    with pytest.raises(
        InputError, match=r"locked\.jsonl: cannot read: permission denied \(mode -w-------, owner "
    ):
        read_logs(path)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: spaces_bomb(d / "b.json.gz", 20 * MiB), "refused: expands "),
        (lambda d: d / "missing.json", "no such file or folder"),
        (lambda d: (d / "l.json").symlink_to(d / "l.json") or d / "l.json", "symlink loop"),
    ],
    ids=["bomb", "missing", "loop"],
)
def test_command_line_refusals_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, words: str
) -> None:
    """From the command line, with its default limits, each refusal is one line naming the file."""
    path = make(tmp_path)
    err = cli_error(["--logs", str(path)], capsys)
    assert f"{path}: {words}" in err


def test_max_input_bytes_flag_sets_and_lifts_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--max-input-bytes 1K`` refuses a larger export; ``0`` reads the 20 MiB bomb whole."""
    export = tmp_path / "logs.jsonl"
    export.write_text(jsonl(*(entry(i) for i in range(20))))
    err = cli_error(["--logs", str(export), "--max-input-bytes", "1K"], capsys)
    assert "is more than the input limit of 1.0 KiB" in err
    bomb = spaces_bomb(tmp_path / "b.json.gz", 20 * MiB)
    err = cli_error(["--logs", str(bomb), "--max-input-bytes", "0"], capsys)
    assert "holds no entries" in err  # read to the end: it is an empty array


def test_max_input_bytes_must_be_a_size(capsys: pytest.CaptureFixture[str]) -> None:
    """A value that is not a size is a usage error (exit 2) that shows how to write one."""
    with pytest.raises(SystemExit) as code:
        main(["triage", "--tests", SEED_TESTS, "--logs", ".", "--max-input-bytes", "lots"])
    assert code.value.code == 2
    assert "not a size: 'lots' (write it like 500M, 2G" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("1048576", MiB),
        ("500M", 500 * MiB),
        ("2G", 2 << 30),
        ("1.5GiB", 3 << 29),
        ("64kb", 65536),
    ],
)
def test_sizes_are_read_in_binary_units(text: str, size: int) -> None:
    """Sizes are written as people write them; units are powers of 1024."""
    assert parse_size(text) == size


def test_default_limit_follows_the_machine_memory() -> None:
    """The default size limit is a quarter of the memory this process may use."""
    from forensics.logs.limits import memory_available_to_process

    memory = memory_available_to_process()
    if memory is None:
        pytest.skip("memory size unknown here")
    assert InputLimits().max_bytes == max(memory // 4, 256 * MiB)


def test_local_api_server_refuses_a_bomb_too(tmp_path: Path) -> None:
    """The local Cloud Logging server reads exports under the same limits."""
    bomb = entries_bomb(tmp_path / "bomb.jsonl.gz")
    with pytest.raises(InputTooLargeError, match=r"bomb\.jsonl\.gz: refused: expands "):
        load_export(bomb, limits=SMALL)
    (tmp_path / "ok.jsonl").write_text(jsonl(entry(1)))
    assert len(load_export(tmp_path, limits=SMALL).entries) == 1
