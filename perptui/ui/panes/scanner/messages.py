"""What the scanner's workers post back to the pane (from the app's loop or a worker thread). Each one is
the pane's own: none bubbles further."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from perptui.ui.panes.scanner.data import Poll, Scanned

if TYPE_CHECKING:
    from perptui.services.scan import BackfillReport


@dataclass
class Polled(Message, bubble=False):
    poll: Poll


@dataclass
class Reconnecting(Message, bubble=False):
    """A request of the running poll failed and is being retried: what the status line says meanwhile."""

    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Reconnecting)


@dataclass
class PollFailed(Message, bubble=False):
    error: BaseException


@dataclass
class StatsRecomputed(Message, bubble=False):
    """``started_from`` again with the statistics of the history cached since (after a backfill stage)."""

    started_from: Scanned
    scanned: Scanned


@dataclass
class BackfillProgress(Message, bubble=False):
    """``done`` of ``total`` fetches, the last for ``symbol``; a newer one replaces a queued older one."""

    done: int
    total: int
    symbol: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BackfillProgress)


@dataclass
class BackfillDone(Message, bubble=False):
    """The backfill ended: its report (None: offline, nothing fetched), or the error that stopped it."""

    report: BackfillReport | None
    error: BaseException | None = None


@dataclass
class HistoryLoaded(Message, bubble=False):
    """One perp's cached prints ``(time_ms, rate)``, oldest first, for the side panel."""

    key: str
    prints: list[tuple[int, float]]


@dataclass
class ViewNotRemembered(Message, bubble=False):
    error: BaseException


@dataclass
class AlertSaved(Message, bubble=False):
    """The rule of "alert me when ..." was saved (``done`` says which), or not (``error``)."""

    done: str | None
    error: str | None = None
