"""Estimate per-test windows when a report gives only durations and the session's start and length.

JUnit XML and pytest-json-report say when the session started (``S``), how long it took (``T``)
and how long each test took (``d_k``, setup + call + teardown), but not when each test started.
Tests run one after another in document order, so test ``k`` started at

    S + c_k + g_k,     c_k = d_0 + ... + d_(k-1),

where ``g_k`` is the time spent outside any test before it: collection, plugin hooks, reporting,
anything a ``junit_duration_report = call`` report leaves out. ``g_k`` only grows with ``k``
and never exceeds the unaccounted total ``U = T - sum(d)``. That is all a report tells us, and it
bounds every test the same way: ``start_k`` lies in ``[S + c_k, S + c_k + U]``. A model where the
uncertainty grows from zero with the position would claim the first test is exact, yet collection
(seconds, for e2e suites that import clients) sits before it. So each start is the middle of its
interval and ``window_uncertainty_s = U / 2`` (plus the reports' rounding), which is exactly wide
enough that ``[start - u, stop + u]`` covers every possible true window.

If the durations add up to more than the session (``U < 0``: tests ran in parallel, pytest-xdist),
the order says nothing; each test lies somewhere in ``[S, S + T - d_k]``.
If the session length is unknown, ``U`` is taken as the sum of the durations (half the session went
to tests in the reference run: 22.6 s of 44.6 s).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def estimate_windows(
    durations: list[float],
    session_start: datetime | None,
    session_s: float | None,
    *,
    rounding_s: float = 0.0,
) -> list[tuple[datetime | None, datetime | None, float | None]]:
    """(start, stop, uncertainty) for tests run in order from ``session_start``.

    Args:
        durations: each test's duration in seconds, in run order.
        session_start: when the session started; None gives no windows.
        session_s: the session's wall time in seconds, or None when the report lacks it.
        rounding_s: how far each reported number may be off by rounding (JUnit writes ms: 0.0005).

    Returns:
        One (start, stop, uncertainty_s) per test; all None when there is no session start.
    """
    if session_start is None:
        return [(None, None, None)] * len(durations)
    total = sum(durations)
    unaccounted = (session_s - total) if session_s is not None else total
    # Each of the n durations and the session time carry rounding; the bound absorbs it.
    slack = rounding_s * (2 * len(durations) + 2)
    out: list[tuple[datetime | None, datetime | None, float | None]] = []
    if unaccounted < -slack and session_s is not None:
        for d in durations:
            half = max(session_s - d, 0.0) / 2
            start = session_start + timedelta(seconds=half)
            out.append((start, start + timedelta(seconds=d), half + slack))
        return out
    half = max(unaccounted, 0.0) / 2
    elapsed = 0.0
    for d in durations:
        start = session_start + timedelta(seconds=elapsed + half)
        out.append((start, start + timedelta(seconds=d), half + slack))
        elapsed += d
    return out
