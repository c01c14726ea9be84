"""Recording runs: what a run's rows hold, the Parquet store, and its guarantees."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

import forensics
from forensics import history
from forensics.cli import main
from forensics.exceptions import HistoryError
from forensics.history.ci import ci_facts
from forensics.history.schema import HISTORY_SCHEMA, SCHEMA_VERSION
from forensics.history.store import partitions, read_history, write_run
from forensics.result import TriageResult
from tests.conftest import FIXTURES, ROOT

SEED = FIXTURES / "seed"
SECRET_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtcnVubmVyIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS12YWx1ZQ"


@pytest.fixture(scope="module")
def seed() -> TriageResult:
    """The seed run, triaged once for the module."""
    return forensics.triage([SEED / "junit.xml", SEED / "report.jsonl"], [SEED / "logs"])


def test_a_run_records_every_test_its_verdicts_revisions_and_clock(
    seed: TriageResult, tmp_path: Path
) -> None:
    """All 58 tests are stored (passes with durations), each failure with its cause, rule,
    evidence and deciding line, and the run with the revision that served the runner."""
    path = history.record(seed, tmp_path, ci={})
    rows = history.load(tmp_path)
    assert path.parent == tmp_path and path.name == f"{rows['run_id'][0]}.parquet"
    assert rows.height == 58 and rows.columns[: len(HISTORY_SCHEMA)] == list(HISTORY_SCHEMA)
    passed = rows.filter(pl.col("outcome") == "passed")
    assert passed.height == 52 and passed["duration_s"].null_count() == 0
    assert passed["root_cause"].null_count() == 52
    failed = rows.filter(pl.col("outcome") == "failed")
    assert set(failed["root_cause"]) == {"missing_bypass_header"}
    assert set(failed["rule"]) == {"bypass-header-missing-or-invalid"}
    assert all(len(ev) >= 2 for ev in failed["evidence"])
    assert all("X-E2E-Bypass-Key missing" in line for line in failed["deciding_line"])
    assert set(failed["failure"]) == {
        "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"
    }
    run = rows.row(0, named=True)
    assert run["revisions"] == ["chat-backend-staging-00042-xum"]
    assert run["services"] == ["chat-backend-staging"]
    assert run["revisions_method"].startswith("runner requests")
    assert run["clock_method"] and abs(run["clock_offset_s"] - 0.4) < 1.0
    assert run["started"] < run["ended"] and run["schema_version"] == SCHEMA_VERSION


def test_the_same_run_recorded_twice_counts_once(seed: TriageResult, tmp_path: Path) -> None:
    """Recording a run again replaces its partition: one run, 58 rows."""
    first = history.record(seed, tmp_path, ci={})
    second = history.record(seed, tmp_path, ci={})
    assert first == second
    assert len(partitions(tmp_path)) == 1
    assert history.load(tmp_path).height == 58
    assert len(history.compare(tmp_path, last=None).runs) == 1


def test_a_run_recorded_from_its_triage_json_is_the_same_run(
    seed: TriageResult, tmp_path: Path
) -> None:
    """``triage --out`` then ``record triage.json`` gives the run the id a direct record gives."""
    out = tmp_path / "out"
    assert main(["triage", "--tests", str(SEED / "junit.xml"), "--tests", str(SEED / "report.jsonl"),
                 "--logs", str(SEED / "logs"), "--out", str(out), "--format", "json"]) == 0  # fmt: skip
    direct = history.record(seed, tmp_path / "h", ci={})
    again = history.record_path(out / "triage.json", tmp_path / "h", ci={})
    assert direct == again
    rows = history.load(tmp_path / "h")
    assert rows.height == 58 and rows.filter(pl.col("outcome") == "failed").height == 6
    assert rows["revisions"][0].to_list() == ["chat-backend-staging-00042-xum"]


def test_a_triage_json_without_its_reports_records_its_failures(
    seed: TriageResult, tmp_path: Path
) -> None:
    """When the test reports named in the JSON are gone, the failed tests are still recorded."""
    data = json.loads(forensics.render_json(seed))
    data["run"]["tests"]["files"] = ["/gone/junit.xml"]
    data["run"]["logs"]["files"] = ["/gone/logs"]
    path = tmp_path / "triage.json"
    path.write_text(json.dumps(data))
    history.record_path(path, tmp_path / "h", ci={})
    rows = history.load(tmp_path / "h")
    assert rows.height == 6 and set(rows["root_cause"]) == {"missing_bypass_header"}


def test_secrets_stay_out_of_the_history_unless_redaction_is_off(
    seed: TriageResult, tmp_path: Path
) -> None:
    """A token in a failure message or a verdict is redacted in the store; ``--no-redact`` keeps it."""
    failed = seed.verdicts[0]
    message = f"AssertionError: 401 for Authorization: Bearer {SECRET_JWT}"
    tests = seed.tests.with_columns(
        pl.when(pl.col("test_id") == failed.test_id)
        .then(pl.lit(message))
        .otherwise(pl.col("message"))
        .alias("message")
    )
    verdict = dataclasses.replace(failed, explanation=f"{failed.explanation} token={SECRET_JWT}")
    leaky = dataclasses.replace(seed, tests=tests, verdicts=[verdict, *seed.verdicts[1:]])
    history.record(leaky, tmp_path / "safe", ci={})
    assert SECRET_JWT not in history.load(tmp_path / "safe").write_ndjson()
    assert (
        "[REDACTED"
        in history.load(tmp_path / "safe").filter(pl.col("test_id") == failed.test_id)["failure"][0]
    )
    history.record(dataclasses.replace(leaky, redact=False), tmp_path / "raw", ci={})
    assert SECRET_JWT in history.load(tmp_path / "raw").write_ndjson()


def test_concurrent_recorders_lose_nothing(tmp_path: Path) -> None:
    """Four processes record five runs each at once, and all record one shared run: 21 runs, every row."""
    script = textwrap.dedent(
        """
        import sys
        from datetime import UTC, datetime, timedelta
        import polars as pl
        from forensics import history
        from forensics.result import TriageResult
        from forensics.runfacts import RunFacts
        from forensics.schema import TEST_SCHEMA, empty_test_frame

        def run(n):
            start = datetime(2025, 9, 8, tzinfo=UTC) + timedelta(minutes=n)
            tests = pl.DataFrame(
                {"test_id": [f"t{i}" for i in range(40)], "outcome": ["passed"] * 39 + ["failed"],
                 "start": [start + timedelta(seconds=i) for i in range(40)], "duration_s": [1.0] * 40},
            ).with_columns(pl.col("outcome").cast(TEST_SCHEMA["outcome"]))
            tests = pl.concat([empty_test_frame(), tests], how="diagonal_relaxed")
            return TriageResult(verdicts=[], run=RunFacts(), logs=pl.DataFrame(), tests=tests)

        worker, folder = int(sys.argv[1]), sys.argv[2]
        for k in range(5):
            history.record(run(worker * 10 + k), folder, ci={})
            history.record(run(999), folder, ci={})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(w), str(tmp_path)], env=env, stderr=subprocess.PIPE
        )
        for w in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    rows = history.load(tmp_path)
    assert rows["run_id"].n_unique() == 21
    assert rows.height == 21 * 40
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in partitions(tmp_path)
    )


def test_a_damaged_partition_is_skipped_with_a_one_line_warning(
    seed: TriageResult,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A truncated file and a non-Parquet file are skipped, each with one warning line; the rest reads."""
    good = history.record(seed, tmp_path, ci={})
    (tmp_path / "20250101T000000-deadbeef.parquet").write_bytes(
        good.read_bytes()[: good.stat().st_size // 2]
    )
    (tmp_path / "20250102T000000-cafebabe.parquet").write_text("not parquet at all")
    with caplog.at_level(logging.WARNING, logger="forensics.history"):
        stored = read_history(tmp_path)
    assert stored.frame.height == 58
    assert sorted(d.path.name for d in stored.damaged) == [
        "20250101T000000-deadbeef.parquet", "20250102T000000-cafebabe.parquet",
    ]  # fmt: skip
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("\n" not in w and "damaged partition" in w for w in warnings)
    assert main(["history", "--history", str(tmp_path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["runs"]) == 1 and len(out["damaged"]) == 2


def test_a_history_written_by_a_newer_schema_is_a_clear_error(
    seed: TriageResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partition of a newer schema version stops the read with an error naming the versions."""
    history.record(seed, tmp_path, ci={})
    newer = history.load(tmp_path).with_columns(
        pl.lit(SCHEMA_VERSION + 1, dtype=pl.Int32).alias("schema_version"),
        pl.lit("2099-01-01T00:00:00Z").alias("started"),  # a column whose type moved
        pl.lit("x").alias("added_later"),
        pl.lit("20990101T000000-00000000").alias("run_id"),
    )
    write_run(newer, tmp_path)
    with pytest.raises(
        HistoryError,
        match=rf"newer forensics \(history schema {SCHEMA_VERSION + 1}; this one reads up to {SCHEMA_VERSION}\)",
    ):
        history.load(tmp_path)
    assert main(["history", "--history", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "upgrade forensics" in err


def test_the_history_reads_without_forensics(seed: TriageResult, tmp_path: Path) -> None:
    """A bare polars (no forensics imported) scans the folder and sees every run and test."""
    history.record(seed, tmp_path, ci={})
    script = (
        "import sys, polars as pl\n"
        f"df = pl.scan_parquet({str(tmp_path / '*.parquet')!r}).group_by('run_id').agg(pl.len(), pl.col('outcome').eq('failed').sum()).collect()\n"
        "assert not any(m.startswith('forensics') for m in sys.modules)\n"
        "print(df.rows())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    assert ", 58, 6)]" in done.stdout


def test_the_history_reads_with_duckdb(seed: TriageResult, tmp_path: Path) -> None:
    """DuckDB reads the same folder with a glob, every column typed."""
    duckdb = pytest.importorskip("duckdb")
    history.record(seed, tmp_path, ci={})
    got = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), count(DISTINCT run_id), sum((outcome = 'failed')::INT), "
            f"any_value(typeof(started)), any_value(typeof(revisions)) FROM '{tmp_path}/*.parquet'"
        )
        .fetchall()
    )
    assert got == [(58, 1, 6, "TIMESTAMP WITH TIME ZONE", "VARCHAR[]")]


def test_a_run_without_tests_is_refused(seed: TriageResult, tmp_path: Path) -> None:
    """Nothing to record is an error, not an empty partition."""
    with pytest.raises(HistoryError, match="no tests"):
        history.record(dataclasses.replace(seed, tests=seed.tests.clear()), tmp_path)


def test_history_folder_default_and_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The folder is the one given, else $FORENSICS_HISTORY, else .forensics/history here."""
    monkeypatch.delenv("FORENSICS_HISTORY", raising=False)
    assert history.history_dir() == Path(".forensics") / "history"
    monkeypatch.setenv("FORENSICS_HISTORY", str(tmp_path / "env"))
    assert history.history_dir() == tmp_path / "env"
    assert history.history_dir(tmp_path / "given") == tmp_path / "given"


@pytest.mark.parametrize(
    ("env", "want"),
    [
        ({"GITHUB_ACTIONS": "true", "GITHUB_SHA": "abc123", "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/app",
          "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2",
          "GITHUB_TOKEN": "ghs_secret"},
         ("github", "abc123", "main", "https://github.com/acme/app/actions/runs/42/attempts/2")),
        ({"GITHUB_ACTIONS": "true", "GITHUB_SHA": "abc", "GITHUB_REF_NAME": "7/merge", "GITHUB_HEAD_REF": "fix-ws"},
         ("github", "abc", "fix-ws", None)),
        ({"GITLAB_CI": "true", "CI_COMMIT_SHA": "def", "CI_COMMIT_REF_NAME": "dev", "CI_JOB_URL": "https://gl/j/9"},
         ("gitlab", "def", "dev", "https://gl/j/9")),
        ({"BUILD_ID": "b-1", "PROJECT_ID": "p", "COMMIT_SHA": "0ff", "BRANCH_NAME": "main", "LOCATION": "us-central1"},
         ("cloudbuild", "0ff", "main", "https://console.cloud.google.com/cloud-build/builds;region=us-central1/b-1?project=p")),
        ({"JENKINS_URL": "https://ci/", "GIT_COMMIT": "123", "GIT_BRANCH": "origin/main", "BUILD_URL": "https://ci/job/7/"},
         ("jenkins", "123", "main", "https://ci/job/7/")),
        ({"BUILDKITE": "true", "BUILDKITE_COMMIT": "456", "BUILDKITE_BRANCH": "main",
          "BUILDKITE_BUILD_URL": "https://bk/b/3", "BUILDKITE_JOB_ID": "j1"},
         ("buildkite", "456", "main", "https://bk/b/3#j1")),
        ({"HOME": "/root"}, (None, None, None, None)),
    ],
)  # fmt: skip
def test_ci_facts_from_each_ci_system(env: dict[str, str], want: tuple[str | None, ...]) -> None:
    """Commit, branch and job URL come from the variables each CI system sets; nothing else is read."""
    facts = ci_facts(env)
    assert (facts.provider, facts.commit, facts.branch, facts.job_url) == want
    assert "ghs_secret" not in json.dumps(facts.to_dict())


def test_ci_facts_are_recorded_with_the_run(seed: TriageResult, tmp_path: Path) -> None:
    """The job's commit, branch and URL travel with every row of the run."""
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": "f00d",
        "CI_COMMIT_BRANCH": "main",
        "CI_JOB_URL": "https://gl/j/1",
    }
    history.record(seed, tmp_path, ci=env)
    rows = history.load(tmp_path)
    assert set(rows["commit"]) == {"f00d"} and set(rows["job_url"]) == {"https://gl/j/1"}
    assert set(rows["ci_provider"]) == {"gitlab"} and set(rows["branch"]) == {"main"}
