"""Errors forensics raises, one tree with one root.

    ForensicsError                 every error below; the CLI prints ``str(err)`` on one line
    ├── InputError                 a file the user named cannot be used (missing, empty, unreadable)
    │   ├── MissingInputError      a named file or folder does not exist (also FileNotFoundError)
    │   ├── LogFormatError         a log export whose shape or content is not a LogEntry export
    │   ├── InputTooLargeError     a file past the input limits (size, or expansion of a .gz)
    │   └── TestReportError        a JUnit / reportlog / json-report file that cannot be read
    │       └── MissingTestReportError  the report does not exist (also FileNotFoundError)
    ├── RuleError                  a rule file that is broken (carries every problem found)
    ├── UsageError                 options that do not fit together
    ├── HistoryError               a run history that cannot be read or written (or is newer)
    └── PullError                  the live pull from Cloud Logging failed
        ├── CredentialsError       no usable Google credentials
        ├── PermissionDeniedError  the caller lacks roles/logging.viewer
        ├── ProjectNotFoundError   the project does not exist
        ├── FilterError            Cloud Logging rejected the filter
        └── QuotaError             read quota still exhausted after the retries

Errors carry where they happened: ``path`` and ``line`` for files, so the one-line message
names them (``fixtures/x.json:12: not JSON``).
"""

from __future__ import annotations

import errno
import shlex
from collections.abc import Sequence
from pathlib import Path


class ForensicsError(Exception):
    """Root of every error forensics raises on purpose."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return where + self.message


class InputError(ForensicsError):
    """A file the user named cannot be used."""


class _NotFound(FileNotFoundError):
    """Makes a forensics error also a ``FileNotFoundError``: ``except FileNotFoundError`` works."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # ForensicsError set message and path before calling this
        self.errno = errno.ENOENT
        self.strerror = getattr(self, "message", None)
        self.filename = getattr(self, "path", None)


class MissingInputError(InputError, _NotFound):
    """A file or folder the user named does not exist."""


class LogFormatError(InputError):
    """A log export that is not a Cloud Logging export in a shape forensics reads."""


class InputTooLargeError(InputError):
    """A file refused before it is read whole: too large, or a compressed file that expands too far."""


class TestReportError(InputError):
    """A test report that cannot be read."""

    __test__ = False  # not a pytest test class


class MissingTestReportError(TestReportError, _NotFound):
    """A test report the user named does not exist."""

    __test__ = False


class RuleError(ForensicsError):
    """One or more broken rules; ``problems`` lists each as (path, line, message)."""

    def __init__(self, problems: list[tuple[str, int | None, str]], *, checked: Sequence[str] = ()):
        """``checked``: the rule files and folders given, named in the ``rules check`` hint."""
        self.problems = problems
        first = problems[0] if problems else ("<rules>", None, "no problems recorded")
        command = " ".join(["python -m forensics rules check", *map(shlex.quote, checked)])
        more = (
            f" (and {len(problems) - 1} more: `{command}` lists them all)"
            if len(problems) > 1
            else ""
        )
        super().__init__(first[2] + more, path=first[0], line=first[1])


class UsageError(ForensicsError):
    """Options that do not fit together."""


class HistoryError(ForensicsError):
    """A run history folder that cannot be read or written, or was written by a newer schema."""


class PullError(ForensicsError):
    """The live pull from Cloud Logging failed."""


class CredentialsError(PullError):
    """No usable Google credentials."""


class PermissionDeniedError(PullError):
    """The caller may not read the project's logs."""


class ProjectNotFoundError(PullError):
    """The project does not exist or is not visible."""


class FilterError(PullError):
    """Cloud Logging rejected the filter."""


class QuotaError(PullError):
    """Read quota stayed exhausted after the allowed retries."""
