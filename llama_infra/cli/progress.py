"""One progress bar for every command that can run longer than a few seconds (simulate, tune, `make bench`).

A rich Progress with elapsed time and ETA, on stderr so stdout stays the command's result (pure JSON with
`--json`), shown only once the work has taken longer than `SHOW_AFTER_SECONDS`: short runs print nothing extra.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

SHOW_AFTER_SECONDS = 2.0  # short runs finish before a progress bar would help


class EtaProgress:
    """`with EtaProgress(total, "simulating") as p: p(done_now)` — a callable that counts completed units (steps,
    trials, benchmarks) towards `total`; `describe(text)` names the unit in progress. Disabled: counts only."""

    def __init__(
        self, total: int, label: str, enabled: bool = True, show_after_seconds: float | None = None, console=None
    ) -> None:
        self.total, self.label, self.enabled, self.done = total, label, enabled, 0
        self.show_after_seconds = show_after_seconds
        self.console = console
        self.current = ""
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> EtaProgress:
        self.started = time.monotonic()
        self._maybe_show()
        return self

    def __call__(self, units: int = 1) -> None:
        self.done += units
        self._maybe_show()

    def describe(self, text: str) -> None:
        """Name what is running now (a benchmark, a trial), shown next to the label."""
        self.current = text
        self._maybe_show()

    def set_total(self, total: int) -> None:
        """A better estimate of the total (e.g. a search that stops early)."""
        self.total = total
        self._maybe_show()

    def _maybe_show(self) -> None:
        after = SHOW_AFTER_SECONDS if self.show_after_seconds is None else self.show_after_seconds
        if self.bar is None and self.enabled and time.monotonic() - self.started >= after:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            from llama_infra import terminal

            self.bar = Progress(
                TextColumn(self.label),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console or terminal.console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.current, total=self.total, completed=self.done)
        elif self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.done, total=self.total, description=self.current)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
