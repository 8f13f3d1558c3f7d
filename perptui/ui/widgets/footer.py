"""The footer of key bindings, redrawn once per burst of focus changes.

Textual's ``Footer`` recomposes (removes and mounts every key) on each bindings update, and every focus
change is one: a burst of 600 pane keys queued ~450 recomposes and held the event loop for ~20 s, the
clock and the workers with it. This one queues at most one recompose at a time; it runs after the
next refresh and reads the bindings of the widget focused then, so it shows the final pane's keys.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    _recompose_due = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._recompose_due:
            self._recompose_due = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_due = False
        await self.recompose()
