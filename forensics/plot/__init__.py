"""Pictures of a triage: the failures on the log timeline, causes, and requests by status; and of a
run history: tests x runs by cause, causes per run, pass rate over runs (``iterations``).

Every function builds and returns its own ``matplotlib.figure.Figure`` (no pyplot, no global
state), so it is safe under any backend, in threads, and in a notebook. Every text drawn passes
through ``result.scrub`` so secrets never reach a PNG or an SVG; ``save`` keeps SVG text as text.

    >>> from forensics import plot
    >>> plot.save(plot.timeline(result), "out/timeline.png")
"""

from __future__ import annotations

from forensics.plot.counts import causes, requests_by_status
from forensics.plot.iterations import causes_per_run, pass_rate, run_grid
from forensics.plot.lanes import timeline
from forensics.plot.style import save

__all__ = [
    "causes",
    "causes_per_run",
    "pass_rate",
    "requests_by_status",
    "run_grid",
    "save",
    "timeline",
]
