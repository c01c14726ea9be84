"""The ``pull`` command, and the live half of ``triage --project``.

python -m forensics pull --project P --since T [--until T] [--filter F] [--service S] --out FILE
python -m forensics pull --project P --around-tests junit.xml --out FILE
python -m forensics triage --tests junit.xml --project P [--endpoint URL]
python -m forensics triage --tests junit.xml --bigquery P.DATASET [--dry-run]
python -m forensics pull --log-analytics P.LINKED_DATASET --since T --out FILE
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import polars as pl

from forensics.atomic import atomic_file
from forensics.exceptions import UsageError
from forensics.live.api import pull_window
from forensics.live.filters import DEFAULT_SLACK_S, NAIVE_SLACK_S, RESOURCE_TYPES
from forensics.live.window import Window, window_from_options, window_from_tests
from forensics.logs import LoadedLogs
from forensics.sources import Pulled
from forensics.sources.cloud_logging import EMULATOR_ENV, PROJECT_ENV

#: ``pull --out -`` writes the export to standard output.
STDOUT = "-"


def add_pull_source_options(
    p: argparse.ArgumentParser | argparse._ArgumentGroup, *, project_required: bool
) -> None:
    """Options naming where and how to pull (shared by ``pull`` and ``triage``)."""
    p.add_argument(
        "--project",
        required=project_required,
        metavar="ID",
        help=f"Google Cloud project ID whose logs to pull (default ${PROJECT_ENV}, "
        "else gcloud config's project; or --bigquery / --log-analytics)",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help=f"a local Cloud Logging API (python -m forensics.emulator) instead of Google; "
        f"also ${EMULATOR_ENV}=host:port",
    )
    p.add_argument(
        "--bigquery",
        metavar="PROJECT.DATASET",
        help="read the window from a log sink's BigQuery dataset instead (SQL pushed down)",
    )
    p.add_argument(
        "--log-analytics",
        metavar="PROJECT.DATASET",
        help="read the window from the _AllLogs view of a Log Analytics bucket's linked dataset",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="with --bigquery/--log-analytics: print the SQL and the bytes it would scan, run nothing",
    )
    p.add_argument(
        "--refresh", action="store_true", help="pull again even when the window is cached"
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where pulled windows are kept (default $FORENSICS_CACHE_DIR or ~/.cache/forensics)",
    )


def add_live_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pull`` on the main parser."""
    p = subparsers.add_parser(
        "pull",
        help="pull a window of Cloud Logging entries into an export file",
        description="Pull the entries of a time window from Cloud Logging (filtered server-side) "
        "and write them as a JSONL export that triage --logs reads.",
    )
    add_pull_source_options(p, project_required=False)  # --bigquery names its own project
    p.add_argument(
        "--since",
        metavar="TIME",
        help="window start, RFC 3339 (UTC if no zone) or a duration back from now: 30s, 15m, 1h, 2d",
    )
    p.add_argument(
        "--freshness",
        metavar="DURATION",
        help="as gcloud logging read --freshness: the last DURATION (30s, 15m, 1h, 2d); --since DURATION",
    )
    p.add_argument(
        "--until", metavar="TIME", help="window end, a time or a duration ago (default: now)"
    )
    p.add_argument(
        "--around-tests",
        action="append",
        default=[],
        metavar="FILE",
        help="take the window from a test report instead of --since/--until (repeatable)",
    )
    p.add_argument(
        "--slack",
        type=float,
        metavar="SECONDS",
        help=f"widen the window on both sides (default: 0 for --since/--until; "
        f"{DEFAULT_SLACK_S:g} for --around-tests, {NAIVE_SLACK_S:g} around each zone "
        "when the report's times have no zone)",
    )
    p.add_argument(
        "--filter", metavar="TEXT", help="extra Cloud Logging filter, ANDed with the window"
    )
    p.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="NAME",
        help="keep only these services' entries (load balancer and audit entries stay; repeatable)",
    )
    p.add_argument(
        "--resource-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="resource types to pull (repeatable; default: the ones triage reads)",
    )
    p.add_argument("--all-resources", action="store_true", help="pull every resource type")
    p.add_argument("--max-entries", type=int, metavar="N", help="stop after N entries")
    p.add_argument(
        "--out", required=True, metavar="FILE", help="JSONL export to write; - for stdout"
    )
    p.set_defaults(run=_run_pull)


def _pull(args: argparse.Namespace, window: Window) -> Pulled | None:
    resource_types = (
        None
        if getattr(args, "all_resources", False)
        else (getattr(args, "resource_type", None) or RESOURCE_TYPES)
    )
    if args.bigquery or args.log_analytics:
        return _pull_bigquery(args, window, resource_types)
    if args.dry_run:
        raise UsageError(
            "--dry-run estimates a BigQuery query: use it with --bigquery or --log-analytics"
        )
    return pull_window(
        args.project,
        window,
        endpoint=args.endpoint,
        slack_s=getattr(args, "slack", None),
        resource_types=resource_types,
        services=getattr(args, "service", None) or (),
        extra_filter=getattr(args, "filter", None),
        cache_dir=args.cache_dir,
        refresh=args.refresh,
        max_entries=getattr(args, "max_entries", None),
    )


def _pull_bigquery(
    args: argparse.Namespace, window: Window, resource_types: Sequence[str] | None
) -> Pulled | None:
    from forensics.live.bigquery import pull_bigquery
    from forensics.sources.bigquery import LOG_ANALYTICS, SINK

    if args.bigquery and args.log_analytics:
        raise UsageError("use either --bigquery or --log-analytics, not both")
    return pull_bigquery(
        args.bigquery or args.log_analytics,
        window,
        shape=SINK if args.bigquery else LOG_ANALYTICS,
        endpoint=args.endpoint,
        slack_s=getattr(args, "slack", None),
        resource_types=resource_types,
        services=getattr(args, "service", None) or (),
        extra_filter=getattr(args, "filter", None),
        cache_dir=args.cache_dir,
        refresh=args.refresh,
        max_entries=getattr(args, "max_entries", None),
        dry_run=args.dry_run,
    )


def _run_pull(args: argparse.Namespace) -> int:
    if args.freshness and args.since:
        raise UsageError("use either --freshness or --since, not both")
    since = args.since or args.freshness
    if args.around_tests and (since or args.until):
        raise UsageError("use either --around-tests or --since/--until, not both")
    out = None if args.out == STDOUT else Path(args.out)
    if out is not None:
        _check_folder(out)  # before spending read quota
    window = (
        window_from_tests(args.around_tests)
        if args.around_tests
        else window_from_options(since, args.until)
    )
    pulled = _pull(args, window)
    if pulled is None:  # --dry-run: the SQL and its estimate are printed
        return 0
    if out is None:
        write_lines(pulled, sys.stdout)
        sys.stdout.flush()
    else:
        write_export(pulled, out)
    print(f"forensics: wrote {len(pulled.texts):,} entries to {out or 'stdout'}", file=sys.stderr)
    return 0


def write_export(pulled: Pulled, out: Path) -> None:
    """Write the entries as JSONL (one LogEntry per line), atomically.

    Raises:
        UsageError: the output folder does not exist or is not writable.
    """
    _check_folder(out)
    try:
        # owner-only: the entries are written exactly as the API sent them, secrets included
        with atomic_file(out, private=True) as fh:
            write_lines(pulled, fh)
    except OSError as err:
        raise UsageError(f"{out}: cannot write ({err.strerror})") from None


def write_lines(pulled: Pulled, fh: IO[str]) -> None:
    """The entries as JSONL, one LogEntry per line, exactly as the API sent them."""
    for text in pulled.texts:
        fh.write(text)
        fh.write("\n")


def _check_folder(out: Path) -> None:
    if not out.parent.is_dir():  # Path("x.jsonl").parent is Path(".")
        raise UsageError(f"{out}: folder {out.parent} does not exist")


def pull_for_triage(
    args: argparse.Namespace, tests_frame: pl.DataFrame | None = None
) -> LoadedLogs | None:
    """The ``LoadedLogs`` of a run's window, for ``triage --tests FILE --project P``.

    Args:
        args: the parsed ``triage`` options (``--tests`` and the pull options).
        tests_frame: the test frame already read from ``--tests`` (read here when None).

    Returns:
        the logs; None after a ``--dry-run``, which pulls nothing.
    """
    pulled = _pull(args, window_from_tests(args.tests, tests_frame))
    return None if pulled is None else pulled.to_logs()  # None: --dry-run
