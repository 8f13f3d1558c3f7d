"""The base of every pane: focusable (so its bindings apply and show in the footer), told when it is
shown or hidden so it polls and redraws only while visible.

Keys follow the screen: a hidden pane's bindings never fire (``check_action``), and focus moves at once
(``focus_now``), not after the queued messages as ``Widget.focus`` does, so a key typed right after a
switch or a field change reaches the widget shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.containers import Vertical
from textual.timer import Timer
from textual.widget import Widget

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

    def focus_target(self) -> Widget:
        """The widget that takes the keys when the pane is shown."""
        return self

    def focus_now(self, widget: Widget | None = None) -> None:
        """Focus ``widget`` (the pane's focus target by default) before the next queued key is read."""
        self.screen.set_focus(widget or self.focus_target())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A hidden pane's keys never act; a shown pane's follow ``allows_action``."""
        if not self.display:
            return False
        return self.allows_action(action, parameters)

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """True: the key acts; False: hidden from the footer and inactive; None: shown disabled."""
        return True

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
