"""Triage from BigQuery (log sink tables, Log Analytics ``_AllLogs``) equals triage of the export.

Every committed incident is written into a sink dataset (date-sharded tables), a partitioned sink
dataset and a Log Analytics linked dataset of the local BigQuery API (``forensics.emulator.bigquery``:
BigQuery REST over DuckDB), read back through the real ``google-cloud-bigquery`` client with the
run's window pushed down as SQL, and triaged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import forensics
from forensics.cli import main
from forensics.emulator import load_export
from forensics.emulator.bigquery import BigQueryEmulator
from forensics.exceptions import ProjectNotFoundError, UsageError
from forensics.live import time_ranges, window_from_tests
from forensics.live.api import window_query
from forensics.live.bigquery import bigquery_logs, pull_bigquery
from forensics.live.filters import RESOURCE_TYPES
from forensics.sources import MemorySource, Query, pull
from forensics.sources.bigquery import LOG_ANALYTICS, SINK, BigQuerySource, Dataset, Scope

pytest.importorskip("google.cloud.bigquery")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INCIDENTS = sorted(
    d.name for d in FIXTURES.iterdir() if (d / "logs").is_dir() and (d / "expected.json").is_file()
)
PROJECT = "logs-project"
SHAPES = {  # dataset prefix -> shape
    "sink": SINK,
    "la": LOG_ANALYTICS,
}


def _report(folder: Path) -> Path:
    return folder / "junit.xml" if (folder / "junit.xml").is_file() else folder / "report.jsonl"


def _dataset(prefix: str, name: str) -> str:
    return f"{PROJECT}.{prefix}_{name}"


@pytest.fixture(scope="module")
def server() -> Iterator[BigQueryEmulator]:
    """Every incident in a sharded sink, a Log Analytics dataset, and (one) a partitioned sink."""
    with BigQueryEmulator() as bq:
        for name in INCIDENTS:
            entries = load_export(FIXTURES / name / "logs").entries
            bq.load_sink(PROJECT, f"sink_{name}", entries)
            bq.load_log_analytics(PROJECT, f"la_{name}", entries)
        bq.load_sink(
            PROJECT,
            "partitioned_seed",
            load_export(FIXTURES / "seed" / "logs").entries,
            sharded=False,
        )
        yield bq


def test_there_are_incidents_to_compare() -> None:
    """The comparison below runs over the committed incidents, not over nothing."""
    assert len(INCIDENTS) >= 10


@pytest.mark.parametrize("prefix", sorted(SHAPES))
@pytest.mark.parametrize("name", INCIDENTS)
def test_bigquery_triage_matches_offline_triage(
    server: BigQueryEmulator, name: str, prefix: str
) -> None:
    """Reading the run's window from either BigQuery shape gives the export's verdicts, word for word."""
    folder = FIXTURES / name
    report = _report(folder)
    logs = bigquery_logs(
        _dataset(prefix, name),
        tests=[report],
        shape=SHAPES[prefix],
        endpoint=server.url,
        progress=False,
    )
    assert "TIMESTAMP '" in server.queries[-1]  # the window went into the SQL
    live = forensics.triage(report, logs).to_dict()["failures"]
    offline = forensics.triage(report, folder / "logs").to_dict()["failures"]
    assert live == offline


def test_partitioned_sink_matches_offline_triage(server: BigQueryEmulator) -> None:
    """A sink writing one partitioned table per log (no date suffix) is read alike."""
    report = _report(FIXTURES / "seed")
    logs = bigquery_logs(
        f"{PROJECT}.partitioned_seed", tests=[report], endpoint=server.url, progress=False
    )
    assert "run_googleapis_com_requests`" in server.queries[-1]
    live = forensics.triage(report, logs).to_dict()["failures"]
    assert live == forensics.triage(report, FIXTURES / "seed" / "logs").to_dict()["failures"]


@pytest.mark.parametrize("service", ["chat-backend-staging", "another-service"])
@pytest.mark.parametrize("prefix", sorted(SHAPES))
def test_pushdown_returns_what_the_logging_filter_keeps(
    server: BigQueryEmulator, prefix: str, service: str
) -> None:
    """With services and resource types, BigQuery returns exactly the entries the same Cloud Logging
    filter keeps (load balancer entries stay whatever the service), and the SQL (not the client)
    dropped the others."""
    name = "iap_denied"  # Cloud Run, load balancer and backend service entries
    entries = load_export(FIXTURES / name / "logs").entries
    window = window_from_tests([_report(FIXTURES / name)])
    services = [service]
    types = ("cloud_run_revision", "http_load_balancer")
    filter_text, ranges, _ = window_query(window, None, types, services, None)
    query = Query(filter_text, ranges)
    source = BigQuerySource(
        Dataset(PROJECT, f"{prefix}_{name}", SHAPES[prefix]),
        Scope(types, tuple(services)),
        endpoint=server.url,
    )
    from_bigquery = pull(source, query, progress=False).texts
    from_logging = pull(MemorySource(entries), query, progress=False).texts
    ids = [json.loads(t)["insertId"] for t in from_bigquery]
    assert sorted(ids) == sorted(json.loads(t)["insertId"] for t in from_logging)
    times = [json.loads(t)["timestamp"] for t in from_bigquery]
    assert times == sorted(times)  # in the query's order (entries of one microsecond by insertId)
    assert 0 < len(ids) < len(entries)
    assert source.last is not None and source.last.rows == len(ids)  # nothing fetched to be dropped
    assert f"'{service}'" in source.last.sql and "'cloud_run_revision'" in source.last.sql


def test_only_the_shards_of_the_window_are_scanned(server: BigQueryEmulator) -> None:
    """A date-sharded sink is read from the window's days only; a day outside it scans nothing."""
    entries = load_export(FIXTURES / "seed" / "logs").entries
    server.load_sink(PROJECT, "two_days", entries)
    moved = [dict(e, timestamp="2025-01-01T00:00:00Z") for e in entries[:5]]
    server.load_sink(PROJECT, "two_days", moved)  # a shard of another day
    window = window_from_tests([_report(FIXTURES / "seed")])
    source = BigQuerySource(Dataset(PROJECT, "two_days", SINK), endpoint=server.url)
    estimate = source.dry_run(Query("", time_ranges(window.since, window.until)))
    assert "_20250101" not in estimate.sql and "_20250907" in estimate.sql
    assert estimate.bytes_processed == sum(
        size
        for table, size in server.sizes.items()
        if table.startswith(f"{PROJECT}.two_days.") and "20250907" in table
    )


def test_dry_run_prints_sql_and_bytes_and_runs_nothing(
    server: BigQueryEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``triage --bigquery --dry-run`` prints the SQL and BigQuery's estimate; no query job runs."""
    jobs = len(server.jobs)
    report = _report(FIXTURES / "seed")
    code = main(
        [
            "triage",
            "--tests",
            str(report),
            "--bigquery",
            _dataset("sink", "seed"),
            "--endpoint",
            server.url,
            "--dry-run",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("SELECT entry FROM (") and "TO_JSON_STRING(t)" in out
    assert "would scan" in err and "KiB" in err
    assert len(server.jobs) == jobs


def test_pull_command_writes_an_export_and_reports_bytes(
    server: BigQueryEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pull --log-analytics`` writes a JSONL export that triages like the original, reports bytes
    and rows, and a second pull is answered by the cache without a query."""
    folder = FIXTURES / "iap_denied"
    out = tmp_path / "pulled.jsonl"
    args = [
        "pull",
        "--log-analytics",
        _dataset("la", "iap_denied"),
        "--endpoint",
        server.url,
        "--around-tests",
        str(_report(folder)),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "BigQuery processed" in err and "returned" in err and "rows" in err
    queries = len(server.queries)
    assert main(args) == 0
    assert "from the cache" in capsys.readouterr().err and len(server.queries) == queries
    report = _report(folder)
    assert (
        forensics.triage(report, out).to_dict()["failures"]
        == forensics.triage(report, folder / "logs").to_dict()["failures"]
    )


def test_missing_dataset_is_one_line_naming_it(server: BigQueryEmulator) -> None:
    """A dataset that does not exist is a ProjectNotFoundError naming PROJECT.DATASET and how to list them."""
    window = window_from_tests([_report(FIXTURES / "seed")])
    with pytest.raises(
        ProjectNotFoundError, match=r"logs-project\.nope was not found .*`bq ls logs-project:`"
    ):
        pull_bigquery(f"{PROJECT}.nope", window, endpoint=server.url, resource_types=RESOURCE_TYPES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log-analytics", "p.global._Default"], "linked dataset"),
        (["--bigquery", "just-a-project"], "is not PROJECT.DATASET"),
        (["--project", "p", "--dry-run"], "--dry-run estimates a BigQuery query"),
        (["--bigquery", "p.a", "--log-analytics", "p.b"], "not both"),
    ],
)
def test_options_that_do_not_fit_say_what_to_pass(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad BigQuery options exit 2 with one line, before any request."""
    report = _report(FIXTURES / "seed")
    assert main(["triage", "--tests", str(report), *args]) == 2
    assert message in capsys.readouterr().err


def test_log_analytics_bucket_name_points_to_the_linked_dataset() -> None:
    """PROJECT.LOCATION.BUCKET is answered with the gcloud command that names its linked dataset."""
    from forensics.sources.bigquery import parse_dataset

    with pytest.raises(
        UsageError, match="gcloud logging links list --bucket=_Default --location=global"
    ):
        parse_dataset("p.global._Default", LOG_ANALYTICS)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("TooManyRequests", "quota"),
        ("ServiceUnavailable", "server"),
        ("Forbidden:rateLimitExceeded", "quota"),
        (
            "Forbidden:accessDenied",
            "roles/bigquery.dataViewer on the dataset and roles/bigquery.jobUser",
        ),
        ("BadRequest:Query exceeded limit for bytes billed: 1000.", "too large"),
        ("BadRequest:Syntax error", "--dry-run to see the SQL"),
    ],
)
def test_bigquery_errors_wait_or_say_what_to_do(error: str, expected: str) -> None:
    """Quota and 5xx answers are waited out; the others are one line saying what to do."""
    from google.api_core import exceptions as api

    from forensics.sources import Retryable
    from forensics.sources.bigquery.errors import translate

    kind, _, detail = error.partition(":")
    reason = detail if detail in ("rateLimitExceeded", "accessDenied") else "invalidQuery"
    err = getattr(api, kind)(detail or "busy", errors=[{"reason": reason}])
    mapped = translate(err, Dataset(PROJECT, "logs", SINK), "BigQuery")
    if expected in ("quota", "server"):
        assert isinstance(mapped, Retryable) and mapped.kind == expected
    else:
        assert mapped is not None and not isinstance(mapped, Retryable)
        assert expected in str(mapped) and "\n" not in str(mapped)


def test_one_query_is_paged_out_and_max_entries_stops_it(server: BigQueryEmulator) -> None:
    """Pages of a query's result carry every row once, from one query job; --max-entries cuts it."""
    window = window_from_tests([_report(FIXTURES / "seed")])
    query = Query("", time_ranges(window.since, window.until, slack_s=900))
    dataset = Dataset(PROJECT, "sink_seed", SINK)
    whole = pull(BigQuerySource(dataset, endpoint=server.url), query, progress=False)
    queries = len(server.queries)
    paged = pull(BigQuerySource(dataset, endpoint=server.url, page_size=50), query, progress=False)
    assert paged.texts == whole.texts and paged.stats.pages == -(-len(whole.texts) // 50) > 1
    assert len(server.queries) == queries + 1  # one query job for all of its pages
    cut = pull(
        BigQuerySource(dataset, endpoint=server.url, page_size=50),
        query,
        max_entries=60,
        progress=False,
    )
    assert cut.texts == whole.texts[:60] and cut.stats.truncated


def test_triage_through_the_environment_variable_and_the_module_server(tmp_path: Path) -> None:
    """``python -m forensics.emulator.bigquery`` serves an export in both shapes, and
    BIGQUERY_EMULATOR_HOST alone points ``triage --bigquery`` / ``--log-analytics`` at it."""
    import os
    import subprocess
    import sys

    root = FIXTURES.parent
    folder = FIXTURES / "cors_origin"
    report = _report(folder)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "forensics.emulator.bigquery",
            "--logs",
            str(folder / "logs"),
            "--port",
            "0",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        host = (proc.stdout.readline() if proc.stdout else "").strip().split("=", 1)[1]
        project = first.split(" as ", 1)[1].split(".", 1)[0]
        env = {k: v for k, v in os.environ.items() if k not in ("LOGGING_EMULATOR_HOST",)}
        env.update(BIGQUERY_EMULATOR_HOST=host, FORENSICS_CACHE_DIR=str(tmp_path))
        offline = forensics.triage(report, folder / "logs").to_dict()["failures"]
        for option, dataset in (("--bigquery", "logs_sink"), ("--log-analytics", "logs_linked")):
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "forensics",
                    "triage",
                    "--tests",
                    str(report),
                    option,
                    f"{project}.{dataset}",
                    "--format",
                    "json",
                ],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["failures"] == offline
            assert "BigQuery processed" in done.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(
    "latency", ["0.25s", {"seconds": 0, "nanos": 250000000}, 0.25, "0-0 0 0:0:0.25"]
)
def test_log_analytics_latency_comes_back_as_a_duration(latency: object) -> None:
    """However BigQuery writes http_request.latency (text, STRUCT, number, INTERVAL), the entry
    carries the Duration text the log frame reads."""
    from forensics.sources.bigquery import to_entry

    row = {
        "timestamp": "2026-01-15 10:00:00.5+00",
        "log_name": "projects/p/logs/requests",
        "http_request": {"status": 503, "latency": latency, "response_size": 12},
        "json_payload": None,
    }
    entry = to_entry(json.dumps(row), LOG_ANALYTICS)
    assert entry == {
        "timestamp": "2026-01-15T10:00:00.500000Z",
        "logName": "projects/p/logs/requests",
        "httpRequest": {"status": 503, "latency": "0.25s", "responseSize": "12"},
    }
