"""A triage -> the history rows of its run: every test's outcome, every verdict, the run's facts.

Which revisions served the run is read from the request entries of the runner (its fingerprint:
remote IPs and user agents) between the first test start and the last test stop on Google's
clock. A failure's signature is the message template of its deciding line: the evidence line that
says why (an app or edge decision before the bare request entry), variable parts masked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl

from forensics.explore.templates import mask_one
from forensics.history.ci import CiFacts
from forensics.history.schema import HISTORY_SCHEMA, SCHEMA_VERSION
from forensics.labels import UNKNOWN
from forensics.result import Evidence, TriageResult, Verdict

#: Seconds added on both sides of the run when looking for the runner's requests (clock error,
#: a request logged when it ended).
REQUEST_SLACK_S = 5.0
#: The deciding line is looked for in this order of roles: the app's own account, then an audit or
#: edge decision, then the request entry itself.
ROLE_ORDER = {"app": 0, "audit": 1, "edge": 2, "request": 3, "other": 4}
FAILURE_CHARS = 300

Scrub = Callable[[str | None], str | None]


def run_id_of(tests: pl.DataFrame) -> str:
    """A stable id for the run a test frame holds: ``20250907T152209-3fa9c2d1``.

    The prefix is the first test start as the runner wrote it; the suffix hashes every test's id,
    outcome, start and duration, so the same report gives the same id however often it is
    recorded, and two runs of one second still differ.
    """
    rows = tests.select(
        pl.col("test_id"),
        pl.col("outcome").cast(pl.String),
        pl.col("start").dt.epoch("us").cast(pl.String).fill_null(""),
        pl.col("duration_s").round(6).cast(pl.String).fill_null(""),
    ).sort("test_id", "start")
    digest = hashlib.sha256()
    for row in rows.iter_rows():
        digest.update(("\t".join(str(v) for v in row) + "\n").encode())
    first = tests.get_column("start").min() if tests.height else None
    prefix = first.strftime("%Y%m%dT%H%M%S") if isinstance(first, datetime) else "undated"
    return f"{prefix}-{digest.hexdigest()[:8]}"


def google_times(result: TriageResult) -> pl.DataFrame:
    """test_id, start, stop on Google's clock: the correlation's, else runner time moved by the
    recorded offset (a run read back from its JSON report)."""
    times = result.test_times
    if times.height:
        return times.select("test_id", "start", "stop")
    clock = result.clock
    shift = timedelta(seconds=(clock.zone_s + clock.offset_s) if clock else 0.0)
    return result.tests.select(
        "test_id", (pl.col("start") + shift).alias("start"), (pl.col("stop") + shift).alias("stop")
    )


def runner_revisions(
    result: TriageResult, started: datetime, ended: datetime
) -> tuple[list[str], list[str], str]:
    """(revisions, services, how they were found) of the requests the runner made during the run."""
    logs = result.logs
    if not logs.height or "revision" not in logs.columns:
        return [], [], "none: no log entries"
    # the platform's request log (layer "service"); a frame without kinds: any entry with a status
    request = (
        pl.col("layer") == "service"
        if "layer" in logs.columns
        else pl.col("http_status").is_not_null()
    )
    served = logs.filter(request & pl.col("revision").is_not_null())
    slack = timedelta(seconds=REQUEST_SLACK_S + (result.clock.uncertainty_s if result.clock else 0))
    served = served.filter(pl.col("timestamp").is_between(started - slack, ended + slack))
    if not served.height:
        return [], [], "none: no request entry of a revision during the run"
    found = result.run.fingerprint
    ips, agents = (list(found.remote_ips), list(found.user_agents)) if found else ([], [])
    method = "all requests during the run (runner unknown)"
    if ips or agents:
        from_runner = (
            pl.col("http_remote_ip").is_in(ips) if ips else pl.col("http_remote_ip").is_null()
        ) & (pl.col("http_user_agent").is_in(agents) if agents else pl.lit(True))
        mine = served.filter(from_runner.fill_null(False))
        if mine.height:
            served, method = mine, "runner requests (remote IP and user agent)"
        else:
            method = "all requests during the run (none from the runner's IPs and user agents)"
    return (
        sorted(served.get_column("revision").unique().to_list()),
        sorted(served.get_column("service").drop_nulls().unique().to_list()),
        method,
    )


def _role_by_log_id(log_id: str) -> str:
    """A row's role from its log id alone, for evidence whose log row is not at hand."""
    if log_id.startswith("cloudaudit.googleapis.com/"):
        return "audit"
    if log_id == "requests" or log_id.startswith("loadbalancing.googleapis.com/"):
        return "edge"
    return "request" if log_id.endswith("/requests") or log_id == "request_log" else "app"


def evidence_roles(logs: pl.DataFrame) -> dict[str, str]:
    """insertId -> the row's ``role`` as the log frame decided it (empty without one)."""
    if not logs.height or "role" not in logs.columns or "insert_id" not in logs.columns:
        return {}
    pairs = logs.select("insert_id", "role").drop_nulls()
    return dict(zip(pairs["insert_id"].to_list(), pairs["role"].to_list(), strict=True))


def deciding_evidence(verdict: Verdict, roles: dict[str, str] | None = None) -> Evidence | None:
    """The evidence line that says why: the app's own line first, then an audit or edge entry,
    then the request entry; the earliest of the first role present.

    Args:
        verdict: the verdict.
        roles: insertId -> role from the log frame (``evidence_roles``); an entry not in it is
            judged by its log id.
    """
    if not verdict.evidence:
        return None
    known = roles or {}

    def rank(e: Evidence) -> int:
        role = known.get(e.insert_id) or _role_by_log_id(e.log_id)
        return ROLE_ORDER.get(role, len(ROLE_ORDER))

    return min(verdict.evidence, key=rank)


def signature(
    verdict: Verdict, scrub: Scrub, roles: dict[str, str] | None = None
) -> tuple[str | None, str | None]:
    """(deciding line, its template) of a verdict; an unknown one is known by its reason."""
    if verdict.root_cause == UNKNOWN:
        reason = scrub(verdict.reason or verdict.explanation) or ""
        return None, mask_one(reason) or None
    found = deciding_evidence(verdict, roles)
    line = scrub(found.summary) if found else None
    return line, (mask_one(line) or None) if line else None


def _first_line(text: str | None, scrub: Scrub) -> str | None:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    if not lines:
        return None
    return (scrub(lines[0]) or "")[:FAILURE_CHARS]


def _verdict_columns(result: TriageResult) -> pl.DataFrame:
    scrub = result.scrub
    roles = evidence_roles(result.logs)
    rows = []
    for v in result.verdicts:
        line, template = signature(v, scrub, roles)
        rows.append(
            {
                "test_id": scrub(v.test_id),
                "root_cause": v.root_cause,
                "detail": v.detail,
                "confidence": v.confidence,
                "layer": v.layer,
                "rule": v.rule,
                "explanation": scrub(v.explanation),
                "reason": scrub(v.reason),
                "evidence": [
                    {
                        "insert_id": e.insert_id,
                        "timestamp": e.timestamp,
                        "log_id": e.log_id,
                        "summary": scrub(e.summary),
                        "log_name": e.log_name,
                    }
                    for e in v.evidence
                ],
                "deciding_line": line,
                "template": template,
            }
        )
    names = ["test_id", *list(HISTORY_SCHEMA)[list(HISTORY_SCHEMA).index("root_cause") :]]
    return pl.DataFrame(rows, schema={n: HISTORY_SCHEMA[n] for n in names})


def _span(per_test: pl.DataFrame, result: TriageResult, now: datetime) -> tuple[datetime, datetime]:
    """The run's first test start and last test stop on Google's clock; without test times, the
    span of its logs, else the moment of recording."""
    started, ended = per_test.get_column("start").min(), per_test.get_column("stop").max()
    if not isinstance(started, datetime):
        logs = result.run.logs
        first, last = (logs.first, logs.last) if logs else (None, None)
        started = datetime.fromisoformat(first) if first else now
        ended = datetime.fromisoformat(last) if last else started
    return started, ended if isinstance(ended, datetime) else started


def run_frame(
    result: TriageResult, *, ci: CiFacts | None = None, recorded_at: datetime | None = None
) -> pl.DataFrame:
    """The history rows of one triaged run (``HISTORY_SCHEMA``), one per test of its report.

    Every text that can carry log content passes through ``result.scrub``: the history is an
    output like any report, so secrets stay out of it unless redaction was turned off.
    """
    scrub = result.scrub
    tests = result.tests.unique("test_id", keep="last", maintain_order=True)
    times = google_times(result).unique("test_id", keep="last")
    per_test = tests.select(
        "test_id", pl.col("outcome").cast(pl.String), "duration_s", "message"
    ).join(times, on="test_id", how="left")
    now = (recorded_at or datetime.now(UTC)).astimezone(UTC)
    started, ended = _span(per_test, result, now)
    revisions, services, method = runner_revisions(result, started, ended)
    ci = ci or CiFacts()
    clock = result.clock
    run = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id_of(result.tests),
        "started": started,
        "ended": ended,
        "recorded_at": now,
        "revisions": revisions,
        "services": services,
        "revisions_method": method,
        "clock_offset_s": (clock.zone_s + clock.offset_s) if clock else None,
        "clock_uncertainty_s": clock.uncertainty_s if clock else None,
        "clock_method": clock.method if clock else None,
        "ci_provider": ci.provider,
        "commit": ci.commit,
        "branch": ci.branch,
        "job_url": ci.job_url,
        "ci_build": ci.build,
        "test_files": [
            scrub(f) or "" for f in (result.run.tests.files if result.run.tests else ())
        ],
    }
    failed = pl.col("outcome").is_in(["failed", "error"])
    per_test = per_test.with_columns(
        pl.col("test_id").map_elements(lambda t: scrub(t), return_dtype=pl.String),
        pl.when(failed)
        .then(
            pl.col("message").map_elements(lambda m: _first_line(m, scrub), return_dtype=pl.String)
        )
        .alias("failure"),
    ).join(_verdict_columns(result), on="test_id", how="left")
    run_columns = pl.DataFrame([run], schema={k: HISTORY_SCHEMA[k] for k in run})
    frame = per_test.join(run_columns, how="cross")
    return frame.select(pl.col(name).cast(dtype) for name, dtype in HISTORY_SCHEMA.items())
