"""A progress line on stderr while pages arrive: entries, pages, rate, elapsed (terminals only)."""

from __future__ import annotations

import sys
import time
from typing import Any


class PullProgress:
    """A rich progress display on stderr; does nothing when ``enabled`` is false."""

    def __init__(self, enabled: bool, console: Any = None):
        self.enabled = enabled
        self._console = console
        self._progress: Any = None
        self._task: Any = None
        self._started = time.monotonic()

    def __enter__(self) -> PullProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn(
                    "pulling logs: {task.fields[entries]:>9,} entries, {task.fields[pages]:>5} pages, "
                    "{task.fields[rate]:>8,.0f} entries/s"
                ),
                TimeElapsedColumn(),
                console=self._console or Console(file=sys.stderr),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("pull", total=None, entries=0, pages=0, rate=0.0)
        return self

    def update(self, entries: int, pages: int) -> None:
        """Show the running totals."""
        if self._progress is not None:
            elapsed = max(time.monotonic() - self._started, 1e-9)
            self._progress.update(self._task, entries=entries, pages=pages, rate=entries / elapsed)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
