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


class StopsChecked(Message):
    """Live trading: the exchange's positions read back, those without a stop covering them
    (``naked``: their symbols and what protects them), or why they could not be read (``error``)."""

    def __init__(self, naked: list[tuple[str, str]], error: str | None = None) -> None:
        super().__init__()
        self.naked = naked
        self.error = error
