"""Link each failed test to the log entries of its own requests.

Input: the test frame and the log frame (with a ``row`` index column, see ``triage``).
Output: a ``Correlation``: the runner/Google clock offset it estimated, each failed test's window
in Google time, the runner's fingerprint, and ``links`` (which log rows belong to which test, and
by what: trace id, request id, URL, time window, app-log join).
"""

from __future__ import annotations

from forensics.correlate.link import Correlation
from forensics.correlate.pipeline import correlate

__all__ = ["Correlation", "correlate"]
