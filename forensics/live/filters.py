"""The filter a live pull sends: the run's window plus slack, the resources triage reads, services.

Cloud Logging evaluates it server-side, so only the entries triage needs cross the network. There
is always a timestamp clause (without one the client library silently adds a 24-hour window, or the
API scans everything), and the text stays under the API's 20,000-character limit.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta

from forensics.exceptions import UsageError

MAX_FILTER_CHARS = 20_000
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Seconds added on both sides of a run's window: runner clocks drift, slow requests are logged at
#: their start, and the correlator searches a UTC runner clock's offset within +-15 minutes.
DEFAULT_SLACK_S = 900.0
#: Most slack a window takes: Cloud Logging keeps entries ten years at most, and more would move
#: the window's bounds past the dates a filter can name.
MAX_SLACK_S = 3650 * 86400.0
#: Slack around each candidate zone of a report whose times have no zone (kept small: 38 windows).
NAIVE_SLACK_S = 300.0
#: Every UTC offset in use by a time zone, in hours: where a report's zone-less times may come from.
ZONE_OFFSETS_H = (
    -12,
    -11,
    -10,
    -9.5,
    -9,
    -8,
    -7,
    -6,
    -5,
    -4,
    -3.5,
    -3,
    -2,
    -1,
    0,
    1,
    2,
    3,
    3.5,
    4,
    4.5,
    5,
    5.5,
    5.75,
    6,
    6.5,
    7,
    8,
    8.75,
    9,
    9.5,
    10,
    10.5,
    11,
    12,
    12.75,
    13,
    14,
)

#: Resource types whose entries triage reads: app logs and request logs of the serving stacks,
#: the load balancers and IAP in front of them, and audit logs (IAP and IAM decisions).
RESOURCE_TYPES = (
    "cloud_run_revision",
    "cloud_run_job",
    "cloud_function",
    "gae_app",
    "k8s_container",
    "http_load_balancer",
    "http_external_regional_lb_rule",
    "internal_http_lb_rule",
    "gce_backend_service",
    "audited_resource",
    "api",
)
#: Front-end types kept whatever --service says: their entries name backends, not services.
FRONT_END_TYPES = (
    "http_load_balancer",
    "http_external_regional_lb_rule",
    "internal_http_lb_rule",
    "gce_backend_service",
    "audited_resource",
)
#: Resource labels that carry a service's name on the types above.
SERVICE_LABELS = ("service_name", "module_id", "function_name", "container_name", "job_name")


def rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 text with a Z, as Cloud Logging filters want it."""
    if moment.tzinfo is None:
        raise UsageError(
            f"{moment.isoformat()} has no time zone; give times in UTC (with Z or +00:00)"
        )
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_duration(text: str) -> timedelta | None:
    """``30s``, ``15m``, ``1h``, ``2d`` (as gcloud's ``--freshness`` takes them); None if not one."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        return None
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2)])


def parse_time(text: str, option: str, now: datetime | None = None) -> datetime:
    """A user's ``--since`` / ``--until`` value: RFC 3339, or a duration back from now (``1h``).

    A date-time without a zone is read as UTC.

    Raises:
        UsageError: the text is neither a date-time nor a duration.
    """
    ago = parse_duration(text)
    if ago is not None:
        return (now or datetime.now(UTC)) - ago
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a time like 2026-01-31T12:00:00Z or a duration like 1h"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_of(field: str, values: tuple[str, ...] | list[str]) -> str:
    if len(values) == 1:
        return f"{field} = {_quote(values[0])}"
    return f"{field} = (" + " OR ".join(_quote(v) for v in values) + ")"


def build_filter(
    since: datetime,
    until: datetime,
    *,
    slack_s: float = DEFAULT_SLACK_S,
    resource_types: tuple[str, ...] | list[str] | None = RESOURCE_TYPES,
    services: tuple[str, ...] | list[str] = (),
    extra: str | None = None,
    zone_offsets_h: tuple[float, ...] | list[float] = (0,),
) -> str:
    """The filter text for a window.

    Args:
        since: start of the window (timezone-aware).
        until: end of the window (timezone-aware).
        slack_s: seconds added on both sides.
        resource_types: types to keep; None or empty keeps every type.
        services: service names to keep (front-end types are kept regardless).
        extra: the user's own filter, ANDed in parentheses.
        zone_offsets_h: read since/until as local times of each of these UTC offsets and pull
            every such window (``ZONE_OFFSETS_H`` for a report whose times have no zone).

    Raises:
        UsageError: the window is reversed, or the filter cannot be kept under 20,000 characters.
    """
    if until < since:
        raise UsageError(f"--until {rfc3339(until)} is before --since {rfc3339(since)}")
    clauses = [_time_clause(since, until, slack_s, zone_offsets_h)]
    if resource_types:
        clauses.append(_any_of("resource.type", list(resource_types)))
    service_clause = _service_clause(list(services), resource_types) if services else None
    if extra and extra.strip():
        clauses.append(f"({extra.strip()})")
    text = " AND ".join(clauses)
    if service_clause:
        with_services = f"{text} AND {service_clause}"
        if len(with_services) < MAX_FILTER_CHARS:
            return with_services
        print(
            f"forensics: note: {len(services)} service names would make the filter longer than "
            f"{MAX_FILTER_CHARS:,} characters; pulling every service",
            file=sys.stderr,
        )
    if len(text) >= MAX_FILTER_CHARS:
        raise UsageError(
            f"the filter is {len(text):,} characters; Cloud Logging accepts fewer than "
            f"{MAX_FILTER_CHARS:,}: shorten --filter"
        )
    return text


def time_ranges(
    since: datetime,
    until: datetime,
    *,
    slack_s: float = DEFAULT_SLACK_S,
    zone_offsets_h: tuple[float, ...] | list[float] = (0,),
) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC ranges a window's filter names: ``since``/``until`` widened by ``slack_s``, read at each
    zone offset, overlapping ranges merged, earliest first (``Query.window``)."""
    slack = timedelta(seconds=slack_s)
    ranges = sorted(
        (since - timedelta(hours=h) - slack, until - timedelta(hours=h) + slack)
        for h in zone_offsets_h
    )
    merged: list[list[datetime]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _time_clause(
    since: datetime, until: datetime, slack_s: float, offsets_h: tuple[float, ...] | list[float]
) -> str:
    merged = time_ranges(since, until, slack_s=slack_s, zone_offsets_h=offsets_h)
    parts = [
        f"timestamp >= {_quote(rfc3339(lo))} AND timestamp <= {_quote(rfc3339(hi))}"
        for lo, hi in merged
    ]
    if len(parts) == 1:
        return parts[0]
    # OR binds tighter than AND in the Logging query language: every range needs its own parentheses
    return "(" + " OR ".join(f"({p})" for p in parts) + ")"


def _service_clause(services: list[str], resource_types: tuple[str, ...] | list[str] | None) -> str:
    front = [t for t in FRONT_END_TYPES if not resource_types or t in resource_types]
    parts = [_any_of(f"resource.labels.{label}", services) for label in SERVICE_LABELS]
    if front:
        parts.insert(0, _any_of("resource.type", front))
    return "(" + " OR ".join(parts) + ")"
