"""What the backtest screen's run worker posts back to the screen. Each carries its worker: the screen
ignores what a run replaced by a newer one still posts."""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.worker import Worker

from perptui.ui.screens.backtest.series import Shown


class Progressed(Message):
    """How far a run is: ``done`` of ``total`` steps (None: not known yet) and what it is doing."""

    def __init__(self, worker: Worker[Any], done: int, total: int | None, label: str) -> None:
        super().__init__()
        self.worker, self.done, self.total, self.label = worker, done, total, label

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progressed) and message.worker is self.worker


class RunDone(Message):
    """The run finished: the report and its chart series."""

    def __init__(self, worker: Worker[Any], shown: Shown) -> None:
        super().__init__()
        self.worker, self.shown = worker, shown


class RunFailed(Message):
    """The run failed: why, in one line."""

    def __init__(self, worker: Worker[Any], error: str) -> None:
        super().__init__()
        self.worker, self.error = worker, error
