"""How far the run is: a progress bar and what it is doing, shown only while a run is under way."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static


class RunProgress(Horizontal):
    def compose(self) -> ComposeResult:
        yield ProgressBar(total=None, show_eta=False, id="bt-progress-bar")
        yield Static("", id="bt-progress-label", markup=False)

    def show(self, done: int, total: int | None, label: str) -> None:
        """``done`` of ``total`` steps (None: not known yet, the bar pulses)."""
        self.query_one(ProgressBar).update(total=total, progress=done)
        self.query_one("#bt-progress-label", Static).update(label)

    def set_running(self, running: bool) -> None:
        self.set_class(running, "-running")
