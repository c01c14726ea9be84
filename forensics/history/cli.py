"""The history's commands: ``history``, ``record``, ``report-iteration``, and ``triage --history``.

``forensics.cli`` registers them with ``add_history_commands`` and ``add_history_option``, and
calls ``record_triaged`` after each triage.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from forensics.exceptions import UsageError
from forensics.history.store import DEFAULT_DIR, ENV_VAR, history_dir
from forensics.result import TriageResult

_HISTORY_HELP = f"the run history folder (default ${ENV_VAR}, else {DEFAULT_DIR})"


def add_history_option(parser: argparse.ArgumentParser) -> None:
    """``--history [DIR]`` on ``triage``: record the run after triaging it."""
    parser.add_argument(
        "--history", nargs="?", const="", default=None, metavar="DIR",
        help=f"record this run in the run history (DIR default ${ENV_VAR}, else {DEFAULT_DIR}); "
        f"setting ${ENV_VAR} records every run",
    )  # fmt: skip


def record_triaged(args: argparse.Namespace, result: TriageResult) -> None:
    """Record a triaged run when ``--history`` was given or ``$FORENSICS_HISTORY`` is set."""
    given = getattr(args, "history", None)
    if given is None and not os.environ.get(ENV_VAR):
        return
    from forensics.history.record import record

    path = record(result, history_dir(given))
    print(f"recorded run {path.stem} in {path.parent}", file=sys.stderr)


def _history_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--history", metavar="DIR", help=_HISTORY_HELP)


def add_history_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``history``, ``record`` and ``report-iteration``."""
    h = sub.add_parser(
        "history",
        help="compare recorded runs: fixed, new, flaky, deploys, recurring failures",
        description="Compare the recorded runs: each test's status now (fixed, new, persistent, "
        "cause_changed, flaky, passing), the deploys between runs and what they changed, and the "
        "failures that keep coming back (signatures).",
    )
    _history_arg(h)
    h.add_argument(
        "--last",
        type=int,
        default=10,
        metavar="N",
        help="compare the latest N runs (default 10; 0 for all)",
    )
    h.add_argument(
        "--since",
        metavar="DATE",
        help="only runs started at or after DATE (UTC, 2025-09-07[T10:00Z])",
    )
    h.add_argument(
        "--until",
        metavar="DATE",
        help="only runs started at or before DATE (a bare date keeps that day)",
    )
    h.add_argument(
        "--format",
        choices=["text", "json", "markdown"],
        default="text",
        help="what to print on stdout (default: text)",
    )
    h.add_argument(
        "--out",
        metavar="DIR",
        help="also write history.txt, history.json, history.md and plots here",
    )
    h.set_defaults(run=_run_history)

    r = sub.add_parser(
        "record",
        help="add a run triaged earlier to the run history",
        description="Record a run in the history: a triage.json (from --format json or --out), a "
        "folder holding one, or a run folder with its test reports (junit.xml, report.jsonl, "
        "report.json) and logs/ (triaged now). The same run recorded again counts once.",
    )
    r.add_argument("paths", nargs="+", metavar="RUN_DIR_OR_TRIAGE_JSON")
    _history_arg(r)
    r.set_defaults(run=_run_record)

    i = sub.add_parser(
        "report-iteration",
        help="write the iteration report of a recorded run (markdown)",
        description="Write the test-iteration report of a recorded run from its evidence: summary, "
        "failed tests by proven cause with the deciding lines, what changed since the previous run "
        "and the deploy between, next steps, and what stays unexplained.",
    )
    i.add_argument(
        "run_ref",
        nargs="?",
        metavar="RUN",
        help="run id, id prefix, or iteration number (negative from the end); default the latest",
    )
    _history_arg(i)
    i.add_argument("--out", metavar="FILE", help="write the report to FILE instead of stdout")
    i.set_defaults(run=_run_report_iteration)


def _run_history(args: argparse.Namespace) -> int:
    from forensics.history.compare import compare
    from forensics.history.render import render_json, render_markdown, render_text

    if args.last is not None and args.last < 0:
        raise UsageError(f"--last {args.last}: give a number of runs, or 0 for all")
    comparison = compare(args.history, last=args.last or None, since=args.since, until=args.until)
    render = {"json": render_json, "markdown": render_markdown}.get(args.format, render_text)
    sys.stdout.write(render(comparison))
    if args.out:
        from forensics.history.write import write_history_reports

        written = write_history_reports(comparison, args.out)
        print(f"wrote {', '.join(str(p) for p in written.values())}", file=sys.stderr)
    return 0


def _run_record(args: argparse.Namespace) -> int:
    from forensics.history.record import record_path

    for given in args.paths:
        path = record_path(given, history_dir(args.history))
        print(f"recorded run {path.stem} in {path.parent}")
    return 0


def _run_report_iteration(args: argparse.Namespace) -> int:
    from forensics.atomic import atomic_write
    from forensics.history.iteration import iteration_report

    text = iteration_report(history_dir(args.history), args.run_ref)
    if args.out:
        atomic_write(Path(args.out), text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
