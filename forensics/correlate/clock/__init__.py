"""The runner's clock on Google's: how far off it is, and each test's times on Google's clock.

* ``offset``: the offset (Google time minus runner time) from trace anchors and request order,
  with its uncertainty (``ClockEstimate``).
* ``estimate``: the offset per clock kind of a run, client by client, refined once the runner is
  known.
* ``windows``: each test's start, stop and search window on Google's clock; the one place runner
  time becomes Google time (``Correlation.test_times``).
"""

from forensics.correlate.clock.estimate import estimate_clock, refine
from forensics.correlate.clock.offset import NS, ClockEstimate, no_estimate
from forensics.correlate.clock.windows import clock_kind, google_times, google_windows

__all__ = [
    "NS",
    "ClockEstimate",
    "clock_kind",
    "estimate_clock",
    "google_times",
    "google_windows",
    "no_estimate",
    "refine",
]
