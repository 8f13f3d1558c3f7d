"""What the risk pane's poll worker posts back to the pane."""

from __future__ import annotations

from textual.message import Message

from perptui.ui.risk_monitor import Polled


class PollFinished(Message):
    """A poll ended: with what it read (``polled``), or why it could not read (``error``); neither when
    it was cancelled. Either way the next poll may start."""

    def __init__(self, polled: Polled | None, error: str | None = None) -> None:
        super().__init__()
        self.polled = polled
        self.error = error
