"""Find and open input files as untrusted: regular files only, read as a stream under limits.

- ``input_kind``: whether a path the user named is a file or a folder; anything else (missing,
  a symlink loop or a broken link, a FIFO or device, no permission) is an ``InputError`` that
  says which.
- ``walk``: the files under a folder, in a stable order, without following links out of it
  unless asked; what it passes over (links out, special files, loops) is counted.
- ``InputFile``: one file's bytes read into the caller's buffer, gunzipped as a stream when it
  is gzip, refused (``InputTooLargeError``) as soon as it passes ``InputLimits``.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from forensics.exceptions import InputError, MissingInputError
from forensics.logs.limits import InputLimits, MiB
from forensics.result import Skipped

GZIP_MAGIC = b"\x1f\x8b"
#: Compressed bytes read at a time; the most one gunzip step writes.
_READ = 1 * MiB
_EXPAND_STEP = 8 * MiB
_SPECIAL = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _not_regular(mode: int) -> str:
    what = _SPECIAL.get(stat.S_IFMT(mode), "something else")
    return f"not a regular file but {what}; save the export to a file and give that"


def _permission(path: Path) -> str:
    """What a permission refusal says: the file's mode and owner when they can be seen."""
    try:
        info = path.stat()
    except OSError:
        return "cannot read: permission denied (on the file or a folder above it)"
    try:
        import pwd

        owner = pwd.getpwuid(info.st_uid).pw_name
    except (ImportError, KeyError):
        owner = f"uid {info.st_uid}"
    mode = stat.filemode(info.st_mode)[1:]
    return f"cannot read: permission denied (mode {mode}, owner {owner})"


def _os_problem(err: OSError, path: Path) -> str:
    """An OSError on ``path`` in the user's words."""
    if err.errno == errno.ELOOP:
        return "symlink loop: the link leads back to itself, never to a file"
    if err.errno in (errno.EACCES, errno.EPERM):
        return _permission(path)
    if err.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"broken symlink: it points at {os.readlink(path)}, which does not exist"
        return "no such file or folder"
    return f"cannot read: {err.strerror or err}"


def input_kind(path: Path) -> str:
    """``"file"`` or ``"folder"`` for a path the user named.

    Raises:
        MissingInputError: it does not exist (or is a link to nothing).
        InputError: it is a symlink loop, cannot be looked at, or is not a regular file (a
            FIFO, a device, a socket).
    """
    try:
        mode = path.stat().st_mode
    except OSError as err:
        missing = MissingInputError if err.errno == errno.ENOENT else InputError
        raise missing(_os_problem(err, path), path=path) from None
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    raise InputError(_not_regular(mode), path=path)


def open_regular(path: Path) -> io.BufferedReader:
    """``path`` opened for binary reading, if it is a regular file.

    Opened without blocking, so a FIFO (which would wait for a writer) is looked at, not read.

    Raises:
        InputError: what ``input_kind`` raises, for the file as it is when opened.
    """
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, os.O_RDONLY | nonblocking)
    except OSError as err:
        raise InputError(_os_problem(err, path), path=path) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(_not_regular(mode), path=path)
    if nonblocking:
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _walk_entry(
    entry: os.DirEntry[str], root: Path, follow_links: bool
) -> tuple[str, Skipped | None]:
    """How a walk treats one folder entry: ``"file"``, ``"folder"`` or ``"skip"`` (with why)."""
    path = Path(entry.path)
    try:
        mode = entry.stat().st_mode
    except OSError as err:
        return "skip", Skipped(str(path), _os_problem(err, path), 1)
    if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
        return "skip", Skipped(str(path), _not_regular(mode), 1)
    kind = "folder" if stat.S_ISDIR(mode) else "file"
    if not entry.is_symlink() or follow_links:
        return kind, None
    if not _inside(path.resolve(), root):
        note = f"a link to a {kind} outside the folder, not followed (--follow-links reads it)"
        return "skip", Skipped(str(path), note, 1)
    return ("file", None) if kind == "file" else ("skip", None)  # the folder is walked anyway


def walk(path: Path, follow_links: bool = False) -> tuple[list[Path], list[Skipped]]:
    """The regular files under a folder, in a stable order, and what the walk passed over.

    Hidden folders (``.git``, ...) are not entered. A link to a file inside the folder is read;
    links out of it are passed over and counted unless ``follow_links``. Links to folders are
    entered only with ``follow_links``, and each real folder once, so a link back up the tree
    does not loop.
    """
    root = path.resolve()
    files: list[Path] = []
    passed: list[Skipped] = []
    seen: set[tuple[int, int]] = set()

    def visit(folder: Path) -> None:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            return
        seen.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            passed.append(Skipped(str(folder), _os_problem(err, folder), 1))
            return
        folders = []
        for entry in entries:
            kind, note = _walk_entry(entry, root, follow_links)
            if note is not None:
                passed.append(note)
            elif kind == "file":
                files.append(Path(entry.path))
            elif kind == "folder" and not entry.name.startswith("."):
                folders.append(Path(entry.path))
        for sub in folders:  # a folder's files, then its folders: the order os.walk gives
            visit(sub)

    visit(path)
    return files, passed


def _gzip_problem(err: zlib.error) -> str:
    what = str(err).rsplit(": ", 1)[-1]
    if what in ("incorrect data check", "incorrect length check"):
        return f"not a readable gzip file ({what}: damaged after it was written?)"
    return f"not a readable gzip file ({what})"


def _gunzip(source: BinaryIO, path: Path, limits: InputLimits) -> Iterator[bytes]:
    """The expanded bytes of a gzip file (every member), refused past ``limits``."""
    unpack = zlib.decompressobj(31)
    step = min(_EXPAND_STEP, limits.batch_bytes)  # checked at least once a batch
    compressed = expanded = 0
    pending = b""
    while True:
        if not pending:
            pending = source.read(_READ)
            if not pending:
                break
            compressed += len(pending)
        if unpack.eof:  # another gzip member follows (or padding with zeros)
            if not pending.strip(b"\x00"):
                pending = b""
                continue
            unpack = zlib.decompressobj(31)
        try:
            out = unpack.decompress(pending, step)
        except zlib.error as err:
            raise InputError(_gzip_problem(err), path=path) from None
        pending = unpack.unused_data if unpack.eof else unpack.unconsumed_tail
        expanded += len(out)
        limits.check_expansion(path, compressed - len(pending), expanded)
        if out:
            yield out
    if not unpack.eof:
        raise InputError(
            "not a readable gzip file (it ends before its gzip stream does: cut off?)", path=path
        )


class ChunkReader:
    """Chunks of bytes read as a file is: ``readinto`` fills a caller's buffer from them."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readinto(self, view: memoryview) -> int:
        """Fill the start of ``view`` with the next bytes; how many (0 at the end)."""
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def read_chunks(readinto: Callable[[memoryview], int]) -> Iterator[bytes]:
    """What ``readinto`` reads, as chunks of bytes."""
    buffer = bytearray(_EXPAND_STEP)
    while size := readinto(memoryview(buffer)):
        yield bytes(buffer[:size])


class InputFile:
    """One regular file opened for reading as untrusted input.

    ``readinto`` gives its bytes (gunzipped as a stream when it starts with the gzip magic)
    straight into the caller's buffer, and refuses the file as soon as it passes ``limits``.

    Raises (on opening, and then as it is read):
        InputError: it cannot be opened or read, is not a regular file, or is a broken gzip.
        InputTooLargeError: it passes ``limits`` (checked before reading when its size is known).
    """

    def __init__(self, path: Path, limits: InputLimits):
        self.path, self.limits = path, limits
        self._source = open_regular(path)
        try:
            self.gzipped = self._source.read(2) == GZIP_MAGIC
            self._source.seek(0)
            if not self.gzipped:
                limits.check_size(path, os.fstat(self._source.fileno()).st_size)
        except OSError as err:
            self.close()
            raise InputError(_os_problem(err, path), path=path) from None
        except InputError:
            self.close()
            raise
        self._expanded = ChunkReader(_gunzip(self._source, path, limits)) if self.gzipped else None
        self._size = 0

    def readinto(self, view: memoryview) -> int:
        """Fill the start of ``view`` with the file's next bytes; how many (0 at the end)."""
        try:
            if self._expanded is not None:
                return self._expanded.readinto(view)
            size = self._source.readinto(view)
        except OSError as err:
            raise InputError(_os_problem(err, self.path), path=self.path) from None
        self._size += size
        self.limits.check_size(self.path, self._size)  # a file that grows while it is read
        return size

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
