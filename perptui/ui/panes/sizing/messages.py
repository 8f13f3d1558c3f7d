"""What the sizing pane's workers post back to it (handled by ``SizingPane.on_sizing_*``). Each worker
posts its result or why it failed; none of these bubble past the pane."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from perptui.services.sizing_inputs import AtrReading
    from perptui.ui.panes.sizing.data import Polled


class PollDone(Message, bubble=False, namespace="sizing"):
    """One refresh read (``data.poll``): the markets the first time, the account, the mark and funding."""

    def __init__(self, polled: Polled) -> None:
        super().__init__()
        self.polled = polled


class WorkerFailed(Message, bubble=False):
    """A worker failed: ``error`` says why (one line)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class PollFailed(WorkerFailed, bubble=False, namespace="sizing"):
    """A refresh failed: the last figures stay, the heading says why."""


class AtrRead(Message, bubble=False, namespace="sizing"):
    """The ATR of ``symbol`` (``data.atr``)."""

    def __init__(self, symbol: str, reading: AtrReading) -> None:
        super().__init__()
        self.symbol = symbol
        self.reading = reading


class AtrFailed(WorkerFailed, bubble=False, namespace="sizing"):
    """Reading the ATR failed: the form says why."""


class FormNotSaved(WorkerFailed, bubble=False, namespace="sizing"):
    """Remembering the form and the recent symbols failed: a warning; the pane works on."""


class Reconnecting(Message, bubble=False, namespace="sizing"):
    """A request of the running refresh failed and is being retried: the heading says so meanwhile."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Reconnecting)
