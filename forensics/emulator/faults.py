"""Faults the local server injects on request, so clients can be tested against Google's failures.

A plan is a list of faults served in order. Each fault lets ``after`` requests pass untouched, then
answers the next ``times`` ``entries.list`` requests with its failure::

    [{"kind": "429", "after": 2, "retry_after": 1},  # header and google.rpc.RetryInfo detail
     {"kind": "429", "retry_after": 5, "header": false},  # RetryInfo only, as Google sends it
     {"kind": "empty", "times": 3},
     {"kind": "503", "times": 2}]

Kinds: ``429`` (RESOURCE_EXHAUSTED, with a ``Retry-After`` header), ``500``, ``503``, ``401``
(UNAUTHENTICATED), ``403`` (PERMISSION_DENIED), ``404`` (project NOT_FOUND), ``400``
(INVALID_ARGUMENT, a bad filter) and ``empty`` (a page with no entries that still carries a token
to the same place).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensics.exceptions import InputError

#: kind -> (HTTP status, google.rpc status, message)
ERRORS: dict[str, tuple[int, str, str]] = {
    "429": (429, "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' "
            "of service 'logging.googleapis.com'."),
    "500": (500, "INTERNAL", "Internal error encountered."),
    "503": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "401": (401, "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token."),
    "403": (403, "PERMISSION_DENIED",
            "Permission 'logging.logEntries.list' denied on resource (or it may not exist)."),
    "404": (404, "NOT_FOUND", "Project does not exist: {project}"),
    "400": (400, "INVALID_ARGUMENT", "Unparseable filter: syntax error at line 1, column 1"),
}
KINDS = (*ERRORS, "empty")


@dataclass
class Fault:
    """One injected failure: ``kind`` after ``after`` clean requests, ``times`` times in a row."""

    kind: str
    after: int = 0
    times: int = 1
    retry_after: float | None = None
    header: bool = True  # send retry_after as a Retry-After header (else only as google.rpc.RetryInfo)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Validate one fault of a plan."""
        kind = str(data.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        unknown = set(data) - {"kind", "after", "times", "retry_after", "header"}
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        fault = cls(kind=kind, after=int(data.get("after", 0)), times=int(data.get("times", 1)),
                    retry_after=float(data["retry_after"]) if data.get("retry_after") is not None else None,
                    header=bool(data.get("header", True)))
        if fault.after < 0 or fault.times < 1:
            raise ValueError("fault 'after' must be >= 0 and 'times' >= 1")
        return fault


class FaultPlan:
    """A thread-safe queue of faults, consumed one ``entries.list`` request at a time."""

    def __init__(self, faults: list[Fault] | None = None):
        self._lock = threading.Lock()
        self._queue: list[Fault] = list(faults or [])

    @classmethod
    def parse(cls, data: Any) -> FaultPlan:
        """A plan from its JSON value (a list of fault objects).

        Raises:
            ValueError: the value is not a valid plan.
        """
        if isinstance(data, dict) and "faults" in data:
            data = data["faults"]
        if not isinstance(data, list):
            raise ValueError("a fault plan is a JSON list of fault objects")
        return cls([Fault.from_dict(item if isinstance(item, dict) else {}) for item in data])

    @classmethod
    def from_option(cls, value: str) -> FaultPlan:
        """A plan from a ``--faults`` value: a JSON file's path, or JSON text.

        Raises:
            InputError: one line naming the file (and line), or ``--faults`` for JSON text.
        """
        path = None if value.lstrip().startswith("[") else value
        where = "" if path else "--faults: "
        try:
            return cls.parse(json.loads(Path(path).read_text(encoding="utf-8") if path else value))
        except OSError as err:
            raise InputError(f"cannot read the fault plan: {err.strerror or err}", path=path) from None
        except json.JSONDecodeError as err:
            raise InputError(f"{where}fault plan is not JSON ({err.msg})", path=path,
                             line=err.lineno if path else None) from None
        except ValueError as err:
            raise InputError(f"{where}bad fault plan: {err}", path=path) from None

    def replace(self, other: FaultPlan) -> None:
        """Swap in another plan (the control endpoint's job)."""
        with self._lock:
            self._queue = list(other._queue)

    def pending(self) -> list[dict[str, Any]]:
        """The faults not yet served, as JSON."""
        with self._lock:
            return [vars(f).copy() for f in self._queue]

    def next_fault(self) -> Fault | None:
        """The fault this request gets, if any; advances the plan."""
        with self._lock:
            if not self._queue:
                return None
            head = self._queue[0]
            if head.after > 0:
                head.after -= 1
                return None
            head.times -= 1
            if head.times == 0:
                self._queue.pop(0)
            return Fault(kind=head.kind, retry_after=head.retry_after, header=head.header)
