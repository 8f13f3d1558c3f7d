"""The base of every pane: focusable (so its bindings apply and show in the footer), told when it is
shown or hidden so it polls and redraws only while visible."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.containers import Vertical
from textual.timer import Timer

from perptui.ui.context import AppContext


@dataclass(frozen=True)
class PaneCommand:
    """A command palette entry a pane offers (run after switching to the pane)."""

    name: str
    help: str
    run: Callable[[], object]


class Pane(Vertical, can_focus=True):
    DEFAULT_CSS = """
    Pane { height: 1fr; padding: 0 1; }
    Pane:focus { background-tint: $foreground 0%; }
    """

    def __init__(self, ctx: AppContext, *, id: str) -> None:
        super().__init__(id=id)
        self.ctx = ctx
        self.active = False
        self._poll_timer: Timer | None = None

    def activated(self) -> None:
        """Shown: refresh now and resume polling."""
        self.active = True
        self.refresh_data()

    def deactivated(self) -> None:
        """Hidden: stop polling; nothing redraws until shown again."""
        self.active = False
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None

    def refresh_data(self) -> None:
        """Start one refresh (in a worker). Panes call ``schedule_next`` when it has finished."""

    def schedule_next(self, delay_s: float | None = None) -> None:
        """Chain the next refresh after this one finished, while the pane is visible."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
        if self.active:
            delay = self.ctx.settings.ui.refresh_s if delay_s is None else delay_s
            self._poll_timer = self.set_timer(delay, self.refresh_data, name=f"{self.id} poll")

    def commands(self) -> list[PaneCommand]:
        """Entries for the command palette."""
        return []
