"""Correlation of failed tests with log rows: the contract the classifier reads.

``correlate(tests, logs)`` (in ``pipeline``, next to its steps) runs these steps, each in its module:

1. ``entries.tag_entries``: what each log row is for correlation (the frame's kinds, plus which
   rows stand in for missing request logs).
2. ``clock.estimate_clock`` (on ``clock``): Google time minus runner time, from trace anchors
   and request order; refined on the runner's own requests once they are known.
3. ``runner.identify_runner`` (on ``fingerprint``): the runner's remote IPs and user agents.
4. ``windows``: each failed test's window on Google's clock.
5. ``requests`` + ``assign``: each failed test's own request entries (ids from its text, window,
   fingerprint, failure match), shared out among overlapping tests.
6. ``applines``: the app lines of those requests (by trace, else by time within service/instance).
7. ``notes``: what is missing, per test.

See docs/correlation.md for the reasoning and the strengths.

How to read a ``Correlation`` (classifier side):

* ``links`` holds every row tied to a failed test. The four ``LINK_SCHEMA`` columns are the
  contract; ``LINK_DETAIL_SCHEMA`` columns follow them when ``correlate`` built the frame (a
  hand-built Correlation may omit them: treat a missing column as all null).
* ``requests`` holds one row per (failed test, request entry) with the facts a rule needs without
  re-reading the log frame: layer, status, whether it came from the runner, whether it matches the
  failure the test reported, how many app lines were joined to it, and whether it is shared with
  other failed tests.
* ``notes[test_id]`` says, in one line, what is missing for a test (no entries in the window, no
  request from the runner, requests but no app log, no start time). Use it as the ``unknown`` reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from forensics.runfacts import ClockFacts, CorrelationFacts, FingerprintFacts, KindClock

#: Schema of ``Correlation.links`` (the contract: always these four columns first).
LINK_SCHEMA: dict[str, pl.DataType] = {
    "test_id": pl.String(),
    "row": pl.UInt32(),  # row index into the log frame (its ``row`` column)
    "via": pl.String(),  # "trace", "request_id", "url", "window", "app_join", "app_join_contested"
    "strength": pl.Float64(),  # 0..1: how sure the link is (trace 1.0, window lower)
}

#: Extra columns ``correlate`` adds to ``links`` after the ``LINK_SCHEMA`` ones.
LINK_DETAIL_SCHEMA: dict[str, pl.DataType] = {
    # The row's ``role`` in the log frame: "request" (a request-log entry: Cloud Run / App Engine
    # / Functions), "edge" (load balancer), "audit" (IAP, Cloud Armor and other audit entries),
    # "app" (the service's own stdout/stderr/structured lines, including an access line standing
    # in for a missing request log), "other".
    "role": pl.String(),
    # The request entry this row belongs to: itself for request/edge rows, the joined request for
    # app lines; null when an app line was tied by trace to the test but no request entry exists.
    "request_row": pl.UInt32(),
}

#: Schema of ``Correlation.requests``: the request entries tied to each failed test.
REQUEST_SCHEMA: dict[str, pl.DataType] = {
    "test_id": pl.String(),
    "row": pl.UInt32(),  # the request entry's ``row``
    # "service" (Cloud Run/App Engine request log), "edge" (LB, IAP, Armor), or "access": an
    # app access line standing in for a request log the export lacks (its link role is "app")
    "layer": pl.String(),
    "status": pl.Int32(),  # HTTP status of the entry (null if none)
    "from_runner": pl.Boolean(),  # remote IP / user agent match the runner fingerprint
    "matches_failure": pl.Boolean(),  # status / path / protocol agree with the test's message
    "strength": pl.Float64(),  # same as the link's strength
    "app_lines": pl.UInt32(),  # app lines joined to this request (by trace or time)
    "shared": pl.Boolean(),  # also tied to another failed test (overlapping windows, undecided)
}

#: Schema of ``Correlation.windows``.
WINDOW_SCHEMA: dict[str, pl.DataType] = {
    "test_id": pl.String(),
    "lo": pl.Datetime("ns", "UTC"),  # Google time, widened by uncertainty and offset error
    "hi": pl.Datetime("ns", "UTC"),
}


#: Schema of ``Correlation.test_times``: every test's own times on Google's clock. Reports, plots,
#: notebooks and queries read test times here and never move runner time themselves.
TEST_TIME_SCHEMA: dict[str, pl.DataType] = {
    "test_id": pl.String(),
    # runner start plus the offset of its clock kind (zone and skew); null without a start time
    "start": pl.Datetime("ns", "UTC"),
    "stop": pl.Datetime("ns", "UTC"),  # likewise (start + duration when the report has no stop)
    # +- seconds on start and stop: the test's own window uncertainty plus the offset's
    "uncertainty_s": pl.Float64(),
    # how the time was obtained: "utc" (zone-aware runner time, skew applied), "naive" (local
    # runner time, zone and skew applied), "zone slip" (labelled UTC but local: the zone found
    # applied), "unaligned" (no offset found: runner time as given, with that clock's wide
    # uncertainty), "none" (no start time)
    "clock": pl.String(),
}


def empty_links() -> pl.DataFrame:
    """An empty links frame with the contract and detail columns."""
    return pl.DataFrame(schema={**LINK_SCHEMA, **LINK_DETAIL_SCHEMA})


@dataclass
class Correlation:
    """How failed tests were tied to log rows.

    Attributes:
        clock_offset_s: Google time minus the runner's UTC time, in seconds. For a runner clock
            without a zone ("naive" JUnit timestamps) this is the skew alone, and the zone is in
            ``clock_zone_s``: Google time = test time as stored + clock_zone_s + clock_offset_s.
        clock_offset_uncertainty_s: +- seconds on the offset.
        clock_method: how the offset was found ("trace ids", "request order", "none: ...").
        clock_zone_s: the zone part of a naive runner clock's offset (e.g. 25200.0 for a runner at
            UTC-07:00), 0.0 otherwise.
        windows: one row per failed test (``WINDOW_SCHEMA``).
        links: log rows tied to each failed test (``LINK_SCHEMA`` then ``LINK_DETAIL_SCHEMA``).
        fingerprint: the runner's remote IPs and user agents: {"remote_ips": [...], "user_agents": [...]}.
        notes: per test id, why little or nothing could be linked (used for ``unknown`` reasons).
        requests: request entries tied to each failed test (``REQUEST_SCHEMA``).
        clocks: per test clock kind ("utc", "naive"), the estimate used for those tests:
            {"skew_s", "zone_s", "offset_s" (zone + skew), "uncertainty_s", "method", "anchors",
            "tests_hit", "tests_timed"}; the top-level fields repeat the estimate for the kind
            most failed tests have.
        export_span: (first, last) entry timestamps of the log frame, ISO 8601, or None when empty.
        fingerprint_method: how the fingerprint was found, or "none: <why>".
        test_times: every test's own start and stop on Google's clock (``TEST_TIME_SCHEMA``): the
            times every report, plot and query shows.
    """

    clock_offset_s: float
    clock_offset_uncertainty_s: float
    clock_method: str
    windows: pl.DataFrame
    links: pl.DataFrame
    fingerprint: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    requests: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REQUEST_SCHEMA))
    clocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    export_span: tuple[str, str] | None = None
    fingerprint_method: str = ""
    clock_zone_s: float = 0.0
    test_times: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=TEST_TIME_SCHEMA))

    @property
    def clock(self) -> ClockFacts:
        """The clock estimate the reports state (the kind most failed tests have)."""
        return ClockFacts(
            offset_s=self.clock_offset_s,
            uncertainty_s=self.clock_offset_uncertainty_s,
            method=self.clock_method,
            zone_s=self.clock_zone_s,
            kinds={k: KindClock.from_dict(v) for k, v in self.clocks.items()},
        )

    def facts(self) -> CorrelationFacts:
        """What a report states about this correlation (``run.correlation`` of the JSON contract)."""
        return CorrelationFacts(
            clock=self.clock,
            fingerprint=FingerprintFacts.from_dict(
                {"fingerprint": self.fingerprint, "fingerprint_method": self.fingerprint_method}
            ),
            export_span=self.export_span,
            linked_rows=self.links.height,
            notes=dict(self.notes),
        )

    def to_dict(self) -> dict[str, Any]:
        return self.facts().to_dict()
