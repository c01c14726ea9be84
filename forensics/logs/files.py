"""Find and open input files as untrusted: regular files only, read as a stream under limits.

- ``input_kind``: whether a path the user named is a file or a folder; anything else (missing,
  a symlink loop or a broken link, a FIFO or device, no permission) is an ``InputError`` that
  says which.
- ``walk``: the files under a folder, in a stable order, without following links out of it
  unless asked; what it passes over (links out, special files, loops) is counted.
- ``file_bytes``: the bytes of one file, chunk by chunk, gunzipped as a stream when it is gzip,
  refused (``InputTooLargeError``) as soon as it passes ``InputLimits``.
"""

from __future__ import annotations

import errno
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from forensics.exceptions import InputError, MissingInputError
from forensics.logs.limits import InputLimits, MiB
from forensics.result import Skipped

GZIP_MAGIC = b"\x1f\x8b"
#: Compressed bytes read at a time; the most one gunzip step writes (and plain bytes read at a time).
_READ = 1 * MiB
_EXPAND_STEP = 8 * MiB
_SPECIAL = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _special(mode: int) -> str:
    return _SPECIAL.get(stat.S_IFMT(mode), "something else")


def _not_regular(mode: int) -> str:
    return f"not a regular file but {_special(mode)}; save the export to a file and give that"


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


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for binary reading, if it is a regular file.

    Opened without blocking, so a FIFO (which would wait for a writer) is looked at, not read.

    Raises:
        InputError: what ``input_kind`` raises, for the file as it is when opened.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise InputError(_os_problem(err, path), path=path) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(_not_regular(mode), path=path)
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


def _chunks(source: BinaryIO, path: Path, gzipped: bool, limits: InputLimits) -> Iterator[bytes]:
    with source:
        try:
            if gzipped:
                yield from _gunzip(source, path, limits)
                return
            size = 0
            while chunk := source.read(_EXPAND_STEP):
                size += len(chunk)
                limits.check_size(path, size)  # a file that grows while it is read
                yield chunk
        except OSError as err:
            raise InputError(_os_problem(err, path), path=path) from None


def file_bytes(path: Path, limits: InputLimits) -> tuple[bool, Iterator[bytes]]:
    """Whether one regular file is gzip, and its bytes (gunzipped if so), chunk by chunk.

    Raises (the chunks raise as they are read):
        InputError: it cannot be opened or read, is not a regular file, or is a broken gzip.
        InputTooLargeError: it passes ``limits`` (checked before reading when its size is known).
    """
    source = open_regular(path)
    try:
        gzipped = source.read(2) == GZIP_MAGIC
        source.seek(0)
        if not gzipped:
            limits.check_size(path, os.fstat(source.fileno()).st_size)
    except OSError as err:
        source.close()
        raise InputError(_os_problem(err, path), path=path) from None
    except InputError:
        source.close()
        raise
    return gzipped, _chunks(source, path, gzipped, limits)
