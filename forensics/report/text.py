"""The terminal summary: a table of failed tests, totals by cause, the clock offset used.

In a terminal it is a rich table with colour; written to a file, a pipe or a CI log it is the
same layout in plain text (no ANSI codes) at ``COLUMNS`` columns (120 when unset), so
``triage.txt`` diffs cleanly. Test ids are never broken mid-name: they wrap after a ``/`` or before
a ``::``. Below ``NARROW`` columns the explanation gets its own line under each row.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from forensics.labels import UNKNOWN
from forensics.report.facts import (
    causes_in_order,
    clip,
    printable,
    rfc3339,
    skipped_lines,
)
from forensics.result import TriageResult, Verdict
from forensics.runfacts import clock_line

if TYPE_CHECKING:  # rich is imported when a report is printed, not by ``import forensics``
    from rich.console import Console
    from rich.table import Table

#: Width used when the output is not a terminal (files, pipes, CI logs) and ``COLUMNS`` is unset.
PLAIN_WIDTH = 120
#: Below this width the "why" column moves to its own line under each row.
NARROW = 100
WHY_LIMIT = 110
TEST_MIN = 36  # test ids fold below this width only on very narrow outputs
WHY_MIN = 30
_NUMBERS = 13  # a narrow row's conf. and evid. (10) and the three spaces between its four fields
_FIXED = 26  # conf. and evid. (10), one space of padding each side of 5 columns (10), borders (6)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_NAME_BREAK = re.compile(r"(?=::)")
_ID_BREAK = re.compile(r"(?<=/)|(?=::)")  # a test id may wrap after a "/" or before a "::"
_CAUSE_STYLE = {UNKNOWN: "yellow"}


def _is_tty(file: IO[str]) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):
        return False


def _columns() -> int | None:
    """``COLUMNS`` from the environment when it is a positive number."""
    value = os.environ.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def _console(file: IO[str], width: int | None, tty: bool) -> Console:
    from rich.console import Console

    return Console(
        file=file,
        force_terminal=tty,  # never ANSI codes into files, pipes or CI logs
        force_jupyter=False,  # a notebook cell prints the text; the HTML repr is TriageResult's job
        force_interactive=False,
        color_system="auto" if tty else None,
        width=width or _columns() or (None if tty else PLAIN_WIDTH),
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )


def _why(result: TriageResult, v: Verdict) -> str:
    """The explanation's first sentence (the full text is in JSON and the postmortem)."""
    # redact before cutting: a cut could leave half a secret that no pattern recognises
    text = _SENTENCE_END.split((result.scrub(v.explanation) or "").strip(), maxsplit=1)[0]
    reason = result.scrub(v.reason) or ""
    if v.root_cause == UNKNOWN and reason and reason not in text:
        text = f"{text} ({reason})" if text else reason
    return clip(text, WHY_LIMIT)


def wrap_test_id(test_id: str, width: int) -> str:
    """``test_id`` on lines of at most ``width`` characters, broken only before ``::`` or after ``/``.

    Breaks before ``::`` come first (the file on one line, the test on the next); a single part
    longer than ``width`` stays whole on its own line: ids are what users copy.
    """
    for breaks in (_NAME_BREAK, _ID_BREAK):
        parts = breaks.split(test_id)
        if max(len(p) for p in parts) <= width:
            break
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def _longest_part(test_id: str) -> int:
    return max((len(p) for p in _ID_BREAK.split(test_id)), default=0)


def _cause_cell(result: TriageResult, v: Verdict) -> str:
    from rich.markup import escape

    cause = escape(v.root_cause) + (
        f"\n({escape(printable(result.scrub(v.detail) or ''))})" if v.detail else ""
    )
    style = _CAUSE_STYLE.get(v.root_cause, "bold red" if v.layer == "edge" else "bold")
    return f"[{style}]{cause}[/]"


def _verdict_table(result: TriageResult, tty: bool, width: int) -> Table:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    narrow = width < NARROW
    table = Table(
        title=f"forensics triage: {len(result.verdicts)} failed test(s)",
        title_justify="left",
        box=box.ROUNDED if tty else box.ASCII2,
        show_lines=narrow,  # at narrow widths each row is two lines: keep the rows apart
        expand=True,
    )
    ids = [printable(result.scrub(v.test_id) or "") for v in result.verdicts]
    # test ids are what users copy: keep them whole when there is room, let "why" wrap first
    longest = max((len(i) for i in ids), default=4)
    part = max((_longest_part(i) for i in ids), default=4)
    cause_width = max(
        (max(len(v.root_cause), len(v.detail or "") + 2) for v in result.verdicts), default=10
    )
    own_line = False  # narrow and a part of an id longer than its column: ids get their own line
    if narrow:  # one bordered column: the four fields on a line, "why" under them, full width
        test_width = width - 4 - cause_width - _NUMBERS
        own_line = part > test_width
        test_width = max(test_width, 4)
        table.add_column(
            _row_grid(test_width, cause_width, ("test", "root cause", "conf.", "evid."))
        )
    else:
        room = width - cause_width - _FIXED - WHY_MIN
        test_width = max(min(longest, max(TEST_MIN, room)), min(part, width - 4))
        table.add_column("test", overflow="fold", min_width=test_width, max_width=test_width)
        table.add_column("root cause", no_wrap=True)
        table.add_column("conf.", justify="right", no_wrap=True)
        table.add_column("evid.", justify="right", no_wrap=True)
        table.add_column("why", overflow="fold", ratio=1, min_width=WHY_MIN)
    for v, test_id in zip(result.verdicts, ids, strict=True):
        shown_id = escape(wrap_test_id(test_id, width - 4 if own_line else test_width))
        cells = (
            "" if own_line else shown_id,
            _cause_cell(result, v),
            f"{v.confidence:.2f}",
            str(len(v.evidence)),
        )
        why = escape(printable(_why(result, v)))
        if narrow:
            from rich.console import Group
            from rich.padding import Padding

            lines = (shown_id,) if own_line else ()
            grid = _row_grid(test_width, cause_width, cells)
            table.add_row(Group(*lines, grid, Padding(why, (0, 0, 0, 2))))
        else:
            table.add_row(*cells, why)
    return table


def _row_grid(test_width: int, cause_width: int, cells: tuple[str, ...]) -> Table:
    """One narrow row's test, root cause, conf. and evid. side by side, at fixed widths."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_column(overflow="fold", width=test_width)
    grid.add_column(no_wrap=True, width=cause_width)
    grid.add_column(justify="right", no_wrap=True, width=5)
    grid.add_column(justify="right", no_wrap=True, width=5)
    grid.add_row(*cells)
    return grid


def _lines(result: TriageResult) -> list[str]:
    """Everything below the table, as plain lines (scrubbed)."""
    scrub = result.scrub
    out: list[str] = []
    causes = causes_in_order(result)
    total = len(result.verdicts)
    out.append(
        "totals by cause: "
        + (", ".join(f"{c} {len(vs)}" for c, vs in causes) or "no failed tests")
        + f" (of {total})"
    )
    out.append(scrub(clock_line(result.clock)) or "")
    fp = result.run.fingerprint
    if fp:
        parts = [
            f"{what}: {', '.join(scrub(x) or '' for x in values) or '-'}"
            for what, values in fp.items()
        ]
        out.append("runner fingerprint: " + "; ".join(parts))
    else:
        out.append("runner fingerprint: none found")
    tests, logs = result.run.tests, result.run.logs
    if tests:
        out.append(
            f"tests: {tests.total} from {_files(tests.files, scrub)}, "
            f"{tests.failed} failed, {tests.duplicates_merged} duplicate(s) merged"
        )
    if logs:
        window = f", {rfc3339(logs.first)} .. {rfc3339(logs.last)}" if logs.first else ""
        out.append(
            f"logs: {logs.entries} entries from {_files(logs.files, scrub)}, "
            f"{logs.duplicates_removed} duplicate(s) removed{window}"
        )
    skipped = skipped_lines(result)
    if skipped:
        out.append(f"skipped input ({sum(s.count for s in result.skipped)}):")
        out.extend(f"  {line}" for line in skipped)
    else:
        out.append("skipped input: none")
    if not result.redact:
        out.append(
            "WARNING: redaction is off (--no-redact): secrets from the logs may be shown above"
        )
    return out


def _files(files: tuple[str, ...], scrub: Callable[[str | None], str | None]) -> str:
    if not files:
        return "no files"
    shown = [scrub(f) or "" for f in files]
    return (
        ", ".join(shown) if len(shown) <= 3 else f"{', '.join(shown[:3])} and {len(shown) - 3} more"
    )


def render_text(
    result: TriageResult, file: IO[str] | None = None, *, width: int | None = None
) -> None:
    """Print the summary table with rich to ``file`` (stdout by default).

    Args:
        result: the triage to show; every string goes through ``result.scrub``.
        file: where to print. A terminal gets colour; anything else gets plain text.
        width: columns to lay out for; default ``COLUMNS``, else the terminal's width, else 120.
    """
    from rich.markup import escape

    file = file if file is not None else sys.stdout
    tty = _is_tty(file)
    # plain output is laid out in a buffer first so trailing padding can be cut from each line
    target: IO[str] = file if tty else io.StringIO()
    console = _console(target, width, tty)
    if result.verdicts:
        console.print(_verdict_table(result, tty, console.width))
    else:
        console.print("forensics triage: no failed tests")
    for line in _lines(result):
        console.print(escape(printable(line)), overflow="fold")
    if not tty:
        text = target.getvalue()  # type: ignore[attr-defined]
        file.write("\n".join(line.rstrip() for line in text.split("\n")))
        if hasattr(file, "flush"):
            file.flush()


def text_report(result: TriageResult, *, width: int = PLAIN_WIDTH) -> str:
    """The plain-text summary as a string (what ``triage.txt`` holds)."""
    buf = io.StringIO()
    render_text(result, buf, width=width)
    return buf.getvalue()
