"""What a triage states about its run besides the verdicts: the inputs it read, the runner's clock
and the runner's fingerprint.

Each fact is a frozen dataclass whose ``to_dict`` is its part of the JSON contract
(``TriageResult.to_dict()["run"]``) and whose ``from_dict`` reads that part back:
``RunFacts.from_dict(d).to_dict() == d`` for every run a triage writes. ``clock_line`` is the one
sentence every report (terminal text, postmortem, timeline plot) uses to state the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _strings(values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    return (values,) if isinstance(values, str) else tuple(values)


@dataclass(frozen=True)
class SuiteInputs:
    """The test reports read: ``run.tests``."""

    files: tuple[str, ...] = ()
    total: int = 0
    failed: int = 0
    duplicates_merged: int = 0  # rows merged because two reports held the same test run

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "total": self.total,
            "failed": self.failed,
            "duplicates_merged": self.duplicates_merged,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SuiteInputs:
        return cls(
            files=_strings(data.get("files")),
            total=data.get("total", 0),
            failed=data.get("failed", 0),
            duplicates_merged=data.get("duplicates_merged", 0),
        )


@dataclass(frozen=True)
class LogInputs:
    """The log exports read: ``run.logs``."""

    files: tuple[str, ...] = ()
    entries: int = 0
    duplicates_removed: int = 0
    first: str | None = None  # ISO 8601 timestamp of the first entry, None without entries
    last: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "entries": self.entries,
            "duplicates_removed": self.duplicates_removed,
            "first": self.first,
            "last": self.last,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LogInputs:
        return cls(
            files=_strings(data.get("files")),
            entries=data.get("entries", 0),
            duplicates_removed=data.get("duplicates_removed", 0),
            first=data.get("first"),
            last=data.get("last"),
        )


@dataclass(frozen=True)
class KindClock:
    """The clock estimate used for the tests of one clock kind ("utc", "naive"): ``clocks[kind]``."""

    skew_s: float
    zone_s: float
    offset_s: float  # zone + skew
    uncertainty_s: float
    method: str
    anchors: int = 0  # tests whose text names a trace id a request entry carries
    tests_hit: int = 0  # timed tests with a runner request in their window
    tests_timed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "skew_s": self.skew_s,
            "zone_s": self.zone_s,
            "offset_s": self.offset_s,
            "uncertainty_s": self.uncertainty_s,
            "method": self.method,
            "anchors": self.anchors,
            "tests_hit": self.tests_hit,
            "tests_timed": self.tests_timed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KindClock:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class ClockFacts:
    """The runner's clock against Google's, as the triage used it (the ``clock_*`` keys).

    Google time = runner time as stored + ``zone_s`` + ``offset_s``: for a naive runner clock
    (local time without a zone) ``zone_s`` is its zone and ``offset_s`` the skew alone.
    """

    offset_s: float
    uncertainty_s: float
    method: str  # "trace ids (...)", "request order (...)", "none: <why>"
    zone_s: float = 0.0
    kinds: Mapping[str, KindClock] = field(default_factory=dict)

    @property
    def aligned(self) -> bool:
        """Whether anything in the data pinned the clock (else runner time was taken as given)."""
        return not self.method.startswith("none")

    def offset_text(self, decimals: int = 3) -> str:
        """``+1.250 s ± 0.200 s``; a naive clock's zone first: ``+7 h +4.127 s ± 0.572 s``."""
        zone = f"{self.zone_s / 3600:+g} h " if self.zone_s else ""
        return f"{zone}{self.offset_s:+.{decimals}f} s ± {self.uncertainty_s:.{decimals}f} s"

    def to_dict(self) -> dict[str, Any]:
        return {
            "clock_offset_s": self.offset_s,
            "clock_offset_uncertainty_s": self.uncertainty_s,
            "clock_method": self.method,
            "clock_zone_s": self.zone_s,
            "clocks": {k: v.to_dict() for k, v in self.kinds.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClockFacts:
        return cls(
            offset_s=data["clock_offset_s"],
            uncertainty_s=data.get("clock_offset_uncertainty_s", 0.0),
            method=data.get("clock_method") or "",
            zone_s=data.get("clock_zone_s", 0.0),
            kinds={k: KindClock.from_dict(v) for k, v in (data.get("clocks") or {}).items()},
        )


def clock_line(clock: ClockFacts | None, *, short: bool = False) -> str:
    """The sentence every report states the clock with.

    ``clock offset (Google - runner): +1.250 s ± 0.200 s (trace ids (3 anchors))``; ``short``
    (a plot title) keeps two decimals and the method's first clause.
    """
    if clock is None:
        return "clock offset unknown"
    method = clock.method or "method not recorded"
    if short:
        method = re.split(r" \(|;|,", method, maxsplit=1)[0].strip()[:40]
    offset = clock.offset_text(2 if short else 3)
    return f"clock offset (Google - runner): {offset}" + (f" ({method})" if method else "")


@dataclass(frozen=True)
class FingerprintFacts:
    """The runner's remote IPs and user agents (the ``fingerprint`` and ``fingerprint_method`` keys)."""

    remote_ips: tuple[str, ...] = ()
    user_agents: tuple[str, ...] = ()
    method: str = ""  # how it was found, or "none: <why>"

    def items(self) -> list[tuple[str, tuple[str, ...]]]:
        """(what, values) pairs in report order: remote IPs, then user agents."""
        return [("remote ips", self.remote_ips), ("user agents", self.user_agents)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": {
                "remote_ips": list(self.remote_ips),
                "user_agents": list(self.user_agents),
            },
            "fingerprint_method": self.method,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FingerprintFacts:
        found = data.get("fingerprint") or {}
        return cls(
            remote_ips=_strings(found.get("remote_ips")),
            user_agents=_strings(found.get("user_agents")),
            method=data.get("fingerprint_method") or "",
        )


@dataclass(frozen=True)
class CorrelationFacts:
    """How the logs were read: ``run.correlation``."""

    clock: ClockFacts | None = None
    fingerprint: FingerprintFacts | None = None
    export_span: tuple[str, str] | None = None  # first and last entry, ISO 8601
    linked_rows: int = 0  # log rows tied to a failed test
    notes: Mapping[str, str] = field(default_factory=dict)  # per test, what the logs lack

    def to_dict(self) -> dict[str, Any]:
        return {
            **(self.clock.to_dict() if self.clock else {}),
            **(self.fingerprint.to_dict() if self.fingerprint else {}),
            "export_span": list(self.export_span) if self.export_span else None,
            "linked_rows": self.linked_rows,
            "notes": dict(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CorrelationFacts:
        span = data.get("export_span")
        return cls(
            clock=ClockFacts.from_dict(data) if "clock_offset_s" in data else None,
            fingerprint=FingerprintFacts.from_dict(data) if "fingerprint" in data else None,
            export_span=(span[0], span[1]) if span else None,
            linked_rows=data.get("linked_rows", 0),
            notes=dict(data.get("notes") or {}),
        )


@dataclass(frozen=True)
class RunFacts:
    """The run a triage read: inputs, how the logs were read, how many rules decided (``run``).

    A part is None when it is unknown (a result built by hand); ``to_dict`` leaves it out.
    """

    tests: SuiteInputs | None = None
    logs: LogInputs | None = None
    correlation: CorrelationFacts | None = None
    rules: int | None = None

    @property
    def clock(self) -> ClockFacts | None:
        """The runner's clock as the triage used it, None when unknown."""
        return self.correlation.clock if self.correlation else None

    @property
    def fingerprint(self) -> FingerprintFacts | None:
        """The runner's fingerprint, None when unknown."""
        return self.correlation.fingerprint if self.correlation else None

    def to_dict(self) -> dict[str, Any]:
        parts: dict[str, Any] = {
            "tests": self.tests.to_dict() if self.tests else None,
            "logs": self.logs.to_dict() if self.logs else None,
            "correlation": self.correlation.to_dict() if self.correlation else None,
            "rules": self.rules,
        }
        return {k: v for k, v in parts.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunFacts:
        """Read a ``run`` object back (extra keys, such as ``skipped``, are left to their readers)."""
        tests, logs, corr = data.get("tests"), data.get("logs"), data.get("correlation")
        return cls(
            tests=SuiteInputs.from_dict(tests) if tests is not None else None,
            logs=LogInputs.from_dict(logs) if logs is not None else None,
            correlation=CorrelationFacts.from_dict(corr) if corr is not None else None,
            rules=data.get("rules"),
        )
