"""GitHub's workflow commands read back the way the Actions runner reads them.

The runner (``ActionCommand.TryParseV2``) takes a line ``::NAME PROPS::DATA``: the command name up
to the first space, properties split on ``,`` and each on its first ``=``, the data after the
second ``::``. It unescapes the data ``%0D`` -> CR, ``%0A`` -> LF, then ``%25`` -> ``%``; property
values also ``%3A`` -> ``:`` and ``%2C`` -> ``,`` (before ``%25``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMAND = re.compile(r"^::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


@dataclass(frozen=True)
class Command:
    """One workflow command as the runner understands it."""

    name: str
    properties: dict[str, str]
    data: str


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def parse(line: str) -> Command:
    """Parse one line; raises ``ValueError`` when the runner would not read it as a command."""
    if "\n" in line or "\r" in line:
        raise ValueError(f"a command is one line: {line!r}")
    m = _COMMAND.match(line)
    if m is None:
        raise ValueError(f"not a workflow command: {line!r}")
    props: dict[str, str] = {}
    for part in (m.group("props") or "").split(","):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"property without '=': {part!r} in {line!r}")
        props[key] = unescape_property(value)
    return Command(m.group("name"), props, unescape_data(m.group("data")))
