"""The exchange link's state (live / reconnecting / offline) and when to poll next. Pure logic.

Polls are chained: the caller runs one poll, reports ``succeeded`` or ``failed``, and waits the returned
delay before the next, so polls never overlap and failures back off exponentially.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from perptui.presentation.numbers import age


class LinkState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass
class Link:
    refresh_s: float
    #: Consecutive failures after which the link counts as offline (it keeps retrying).
    offline_after: int = 3
    max_backoff_s: float = 60.0
    state: LinkState = LinkState.CONNECTING
    failures: int = 0
    last_ok_ms: int | None = None
    last_error: str = ""
    next_delay_s: float = 0.0

    def succeeded(self, now_ms: int) -> float:
        self.state, self.failures, self.last_ok_ms, self.last_error = LinkState.LIVE, 0, now_ms, ""
        self.next_delay_s = self.refresh_s
        return self.next_delay_s

    def failed(self, error: str) -> float:
        self.failures += 1
        self.last_error = error
        self.state = LinkState.OFFLINE if self.failures >= self.offline_after else LinkState.RECONNECTING
        self.next_delay_s = min(self.max_backoff_s, self.refresh_s * 2**self.failures)
        return self.next_delay_s

    def go_offline(self) -> None:
        """Offline by choice (``--offline``): never polled."""
        self.state = LinkState.OFFLINE

    def label(self, cache_age_ms: int | None) -> str:
        """What the header shows, e.g. ``reconnecting · retry in 4 s`` or ``offline · cache 3 min old``."""
        if self.state is LinkState.RECONNECTING:
            return f"reconnecting · retry in {self.next_delay_s:.0f} s"
        if self.state is LinkState.OFFLINE:
            return (
                "offline · no cache" if cache_age_ms is None else f"offline · cache {age(cache_age_ms)} old"
            )
        return self.state.value
