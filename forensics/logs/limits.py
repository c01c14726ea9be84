"""How much of one untrusted input file forensics reads before it refuses it.

An export comes from someone else (a ticket attachment, a bucket a teammate filled), so a 5 MB
``.gz`` may expand to gigabytes. Every file is read as a stream and refused as soon as it passes
a limit, with one line naming the file, its sizes so far and the flag that lifts the limit:

- ``max_bytes``: what one file may hold once decompressed. The default is a quarter of the
  memory this process may use (the machine's, or its container's limit when lower): the frame
  built from an export takes about two thirds of the export's size, and sorting copies it.
- ``max_ratio``: how far a compressed file may expand, checked once it passed
  ``ratio_allowance``. JSON log exports gzip about 5-20:1; a file of one line repeated, or of
  spaces, reaches hundreds or thousands to one. A limit the user sets (``--max-input-bytes``)
  replaces this check: it says how much they accept from the file, whatever it compresses to.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from forensics.exceptions import InputTooLargeError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
#: The flag that sets ``max_bytes`` (named in every refusal).
FLAG = "--max-input-bytes"
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def memory_available_to_process() -> int | None:
    """Physical memory, or the container's memory limit when it is lower; None if unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    for name in _CGROUP_LIMITS:
        try:
            text = Path(name).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def default_max_bytes() -> int:
    """A quarter of the memory this process may use (4 GiB when that is unknown), at least 256 MiB."""
    memory = memory_available_to_process()
    return max(memory // 4, 256 * MiB) if memory else 4 * GiB


@dataclass(frozen=True)
class InputLimits:
    """Limits on one input file; see the module docstring.

    Attributes:
        max_bytes: the most one file may hold once decompressed; None for no limit.
        max_ratio: the most a compressed file may expand past ``ratio_allowance``; None: no check.
        ratio_allowance: expanded bytes read before the ratio is checked (a small file may
            compress any amount); below ``batch_bytes``, so a bomb is refused before any of it
            is parsed.
        batch_bytes: the text read, parsed and normalized at a time: memory holds the frame
            built so far plus a few times this.
    """

    max_bytes: int | None = field(default_factory=default_max_bytes)
    max_ratio: float | None = 100.0
    ratio_allowance: int = 16 * MiB
    batch_bytes: int = 64 * MiB

    @classmethod
    def chosen(cls, max_bytes: int) -> InputLimits:
        """The limits when the user sets the size (``--max-input-bytes``; 0 for none).

        A size the user chose replaces the expansion-ratio check: a file that compresses
        unusually well but that they trust is then read up to that size.
        """
        return cls(max_bytes=max_bytes or None, max_ratio=None)

    def check_size(self, path: str | Path, size: int) -> None:
        """Refuse an uncompressed file of ``size`` bytes (or that grew to it) past ``max_bytes``."""
        if self.max_bytes is not None and size > self.max_bytes:
            raise InputTooLargeError(
                f"refused: {human_size(size)} is more than the input limit of "
                f"{human_size(self.max_bytes)}; to read it, raise the limit with "
                f"{FLAG} {_size_flag(size)} (0 for no limit)",
                path=path,
            )

    def check_expansion(self, path: str | Path, compressed: int, expanded: int) -> None:
        """Refuse a compressed file once it expands past ``max_bytes`` or ``max_ratio``."""
        sizes = f"{human_size(compressed)} compressed, {human_size(expanded)} expanded so far"
        if self.max_bytes is not None and expanded > self.max_bytes:
            raise InputTooLargeError(
                f"refused: expands past the input limit of {human_size(self.max_bytes)} "
                f"({sizes}); to read it, raise the limit with {FLAG} SIZE (0 for no limit)",
                path=path,
            )
        ratio = expanded / max(compressed, 1)
        if (
            self.max_ratio is not None
            and expanded > self.ratio_allowance
            and ratio > self.max_ratio
        ):
            raise InputTooLargeError(
                f"refused: expands {ratio:.0f}:1 ({sizes}), past the {self.max_ratio:.0f}:1 log "
                f"exports reach (a decompression bomb?); if you trust it, read it up to a size "
                f"you choose with {FLAG} SIZE (0 for no limit)",
                path=path,
            )


def human_size(size: float) -> str:
    """``5.6 MiB``: bytes in the largest binary unit that keeps the number at least 1."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def _size_flag(size: int) -> str:
    """A ``--max-input-bytes`` value that admits ``size``: whole GiB (or MiB), rounded up."""
    unit, name = (GiB, "G") if size >= GiB else (MiB, "M")
    return f"{-(-size // unit)}{name}"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.I)


def parse_size(text: str) -> int:
    """Bytes of a size as written on the command line: ``500M``, ``2G``, ``1.5GiB``, ``0``.

    Units are binary (``K`` = 1024). Raises ValueError on anything else.
    """
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (write it like 500M, 2G or 1073741824)")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": GiB * 1024}[unit])
