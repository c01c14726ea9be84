"""``python -m forensics``: triage a failed test run from its Cloud Logging entries.

Exit codes: 0 the command ran (failures found or not); 2 unusable input or usage; 1 an
unexpected internal error; 3 the ``triage --fail-on`` condition held. ``--debug`` adds the
traceback and never changes the code.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from forensics.exceptions import ForensicsError, UsageError

if TYPE_CHECKING:
    from forensics.logs.limits import InputLimits
    from forensics.result import TriageResult

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_FAIL_ON = 3
FAIL_ON = ("never", "unknown", "any")


def _triage_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "triage",
        help="explain each failed test from the run's logs",
        description="Correlate failed tests with Cloud Logging entries and classify their root cause. "
        "Give the logs as exports (--logs) or pull the run's window from Cloud Logging (--project).",
    )
    p.add_argument("--tests", action="extend", nargs="+", required=True, metavar="PATH",
                   help="test report file or folder (repeatable, several after one flag): JUnit XML, "
                        "pytest-reportlog JSONL or pytest-json-report JSON, .gz of any; - reads stdin")
    p.add_argument("--logs", action="append", default=[], metavar="PATH",
                   help="log export file or folder (repeatable): gcloud JSON, JSONL, sink trees, .gz; "
                        "or pull them with --project")
    p.add_argument("--rules", action="append", default=[], metavar="DIR",
                   help="folder of extra rule files, added to the shipped ones (repeatable)")
    p.add_argument("--format", choices=["text", "json", "markdown", "github"], default="text",
                   help="what to print on stdout (default: text); github: ::error annotations on stdout "
                        "and the job summary appended to $GITHUB_STEP_SUMMARY")
    p.add_argument("--junit-out", metavar="FILE",
                   help="write the --tests JUnit XML again with each failed testcase's verdict in it")
    p.add_argument("--out", metavar="DIR", help="also write triage.txt, triage.json, postmortem.md and plots here")
    p.add_argument("--strict", action="store_true", help="a bad line in any input is fatal instead of skipped")
    p.add_argument("--no-redact", action="store_true", help="show secrets found in logs (local use only)")
    p.add_argument("--fail-on", choices=FAIL_ON, default="never",
                   help=f"exit {EXIT_FAIL_ON} (after every report is written) when a failure stays unknown "
                        "(unknown) or when any test failed (any); default never: exit 0 whatever the verdicts")
    add_input_limit_options(p)
    from forensics.live.cli import add_pull_source_options

    live = p.add_argument_group("pulling the logs instead of --logs",
                                "Pull the run's time window (from the test report, plus slack) from Cloud Logging.")
    add_pull_source_options(live, project_required=False)
    from forensics.history.cli import add_history_option

    add_history_option(p)
    p.set_defaults(run=_run_triage)


def _input_size(text: str) -> int:
    from forensics.logs.limits import parse_size

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_input_limit_options(p: argparse.ArgumentParser) -> None:
    """``--max-input-bytes`` and ``--follow-links``: how far untrusted log files are read."""
    p.add_argument("--max-input-bytes", type=_input_size, metavar="SIZE",
                   help="refuse a log file that holds more than SIZE once decompressed (500M, 8G; 0: no limit). "
                        "Default: a quarter of this machine's memory, and a .gz may not expand past 100:1; "
                        "a size you set replaces that check")
    p.add_argument("--follow-links", action="store_true",
                   help="in folders given to --logs, also read links that point out of the folder")


def input_limits(args: argparse.Namespace) -> InputLimits | None:
    """The limits ``--max-input-bytes`` asks for (None: the defaults)."""
    from forensics.logs.limits import InputLimits

    return None if args.max_input_bytes is None else InputLimits.chosen(args.max_input_bytes)


def _run_triage(args: argparse.Namespace) -> int:
    from forensics.logs import read_logs
    from forensics.report import render_json, render_markdown, render_text, write_reports
    from forensics.sources.cloud_logging import default_project
    from forensics.testruns import read_tests
    from forensics.triage import triage

    logs = args.logs
    if not logs and not (args.project or args.bigquery or args.log_analytics or default_project()):
        raise UsageError("triage needs --logs PATH (an export file or folder), or --project ID "
                         "(or GOOGLE_CLOUD_PROJECT) / --bigquery PROJECT.DATASET (to pull the run's window)")
    if args.out:  # a report folder that cannot be written is refused before any work
        from forensics.report.write import prepare_out_dir

        prepare_out_dir(args.out)
    tests = read_tests(*args.tests, strict=args.strict)  # read once: a pull takes its window from them
    if logs:
        logs = read_logs(*logs, strict=args.strict, limits=input_limits(args), follow_links=args.follow_links)
    else:
        from forensics.live.cli import pull_for_triage

        logs = pull_for_triage(args, tests.frame)
        if logs is None:  # --dry-run: the SQL and its estimate are printed, nothing was pulled
            return EXIT_OK
    result = triage(tests, logs, rules=args.rules, strict=args.strict)
    result.redact = not args.no_redact
    if args.format == "json":
        sys.stdout.write(render_json(result))
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(result))
    elif args.format == "github":
        from forensics.report.ci import print_github

        print_github(result, args.out)
    else:
        render_text(result, sys.stdout)
    if args.out:
        written = write_reports(result, args.out)
        print(f"wrote {', '.join(str(p) for p in written.values())}", file=sys.stderr)
    if args.junit_out:
        from forensics.report.ci import write_junit_out

        write_junit_out(tests.files, result, args.junit_out)
    from forensics.history.cli import record_triaged

    record_triaged(args, result)
    return _fail_on_code(args.fail_on, result)


def _fail_on_code(fail_on: str, result: TriageResult) -> int:
    """EXIT_FAIL_ON when ``--fail-on`` holds for ``result`` (a CI step can fail on it), else EXIT_OK."""
    from forensics.labels import UNKNOWN

    if fail_on == "any" and result.verdicts:
        return EXIT_FAIL_ON
    if fail_on == "unknown" and any(v.root_cause == UNKNOWN for v in result.verdicts):
        return EXIT_FAIL_ON
    return EXIT_OK


def _rules_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rules", help="check rule files", description="Work with rule files (YAML).")
    rsub = p.add_subparsers(dest="rules_command", required=True)
    c = rsub.add_parser(
        "check",
        help="report every broken rule with file and line",
        description="Report every broken rule under each PATH with file and line; exit 2 if any.",
    )
    c.add_argument("paths", nargs="*", metavar="PATH",
                   help="rule file or folder of rule files (default: the shipped rules)")
    c.set_defaults(run=_run_rules_check)


def _run_rules_check(args: argparse.Namespace) -> int:
    from forensics.classify import check_rules

    for p in args.paths:
        if not Path(p).exists():
            raise UsageError(f"{p}: no such file or folder")
    problems = check_rules(*args.paths)
    for path, line, msg in problems:
        print(f"{path}:{line}: {msg}" if line else f"{path}: {msg}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return EXIT_INPUT
    print("rules ok")
    return EXIT_OK


def _prog() -> str:
    """How the user started us: ``python -m forensics`` or the installed ``forensics`` script."""
    return "python -m forensics" if Path(sys.argv[0]).name == "__main__.py" else "forensics"


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    from forensics import __version__

    parser = argparse.ArgumentParser(
        prog=prog or _prog(),
        description="Google Cloud log forensics for failed test runs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True)
    _triage_parser(sub)
    _rules_parser(sub)
    from forensics.live.cli import add_live_commands

    add_live_commands(sub)
    from forensics.history.cli import add_history_commands

    add_history_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ForensicsError as err:
        if debug:
            traceback.print_exc()
        print(f"forensics: error: {_safe(str(err))}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("forensics: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (run with --debug for the traceback)"
        print(f"forensics: internal error: {type(err).__name__}: {_safe(str(err))}{hint}",
              file=sys.stderr)
        return EXIT_INTERNAL


def _safe(text: str) -> str:
    from forensics.redact import redact

    return (redact(text) or "").replace("\n", " ")
