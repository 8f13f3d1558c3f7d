"""What the account pane's workers report back to it on the UI thread. None of them bubble: they are
the pane's own."""

from __future__ import annotations

from textual.message import Message

from perptui.domain.account import AccountSummary


class SummaryRead(Message, bubble=False):
    """The account's summary and its equity history (empty for an exchange account)."""

    def __init__(self, summary: AccountSummary, history: list[tuple[int, float]]) -> None:
        super().__init__()
        self.summary = summary
        self.history = history


class SummaryFailed(Message, bubble=False):
    """The account could not be read; ``error`` says why."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class SnapshotTaken(Message, bubble=False):
    """A new equity snapshot was recorded: the summary and the chart are out of date."""


class Written(Message, bubble=False):
    """A ledger write (deposit, withdrawal, risk %, split) was recorded; ``done`` says what."""

    def __init__(self, done: str) -> None:
        super().__init__()
        self.done = done


class WriteFailed(Message, bubble=False):
    """A ledger write was refused or failed; ``error`` says why."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
