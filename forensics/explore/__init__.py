"""Helpers for looking around a triage in a notebook.

``frames``: failure windows on Google time, log filters, the neighbourhood of a failure, the
request behind an entry, entries no verdict explains. ``templates``: mask messages into templates,
rank them, and draft a rule file for the top ones.
"""

from __future__ import annotations

from forensics.explore.frames import (
    annotate,
    clock_offset,
    evidence_rows,
    failure_windows,
    filter_logs,
    linked_rows,
    neighbourhood,
    readable,
    request_behind,
    unexplained,
)
from forensics.explore.templates import draft_rules, mask, mask_one, templates

__all__ = [
    "annotate",
    "clock_offset",
    "draft_rules",
    "evidence_rows",
    "failure_windows",
    "filter_logs",
    "linked_rows",
    "mask",
    "mask_one",
    "neighbourhood",
    "readable",
    "request_behind",
    "templates",
    "unexplained",
]
