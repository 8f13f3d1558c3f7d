"""The footer of key bindings, redrawn once per burst of focus changes, and fitted to narrow terminals.

Textual's ``Footer`` recomposes (removes and mounts every key) on each bindings update, and every focus
change is one: a burst of 600 pane keys queued ~450 recomposes and held the event loop for ~20 s, the
clock and the workers with it. This one queues at most one recompose at a time; it runs after the
next refresh and reads the bindings of the widget focused then, so it shows the final pane's keys.

Below ``NARROW`` columns (an 80x24 terminal) the keys are drawn compact, and the keys every screen has
that a trader does not need at hand (the command palette, privacy, theme: all on the help screen, ``?``)
give their place to the pane's own keys, which otherwise ran off the edge.
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

NARROW = 120
#: Actions left out of a narrow footer (they still work; the help screen lists them).
SPARE_WHEN_NARROW = frozenset({"app.toggle_privacy", "app.toggle_theme", "toggle_privacy", "toggle_theme"})


class KeysFooter(Footer):
    _recompose_due = False
    _narrow = False

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
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        # The terminal's width, not the footer's: a screen with padding narrows the footer a little.
        self._narrow = self.app.size.width < NARROW
        self.compact = self._narrow
        self.show_command_palette = not self._narrow
        self._fit()

    def _fit(self) -> None:
        for key in self.query(FooterKey):
            key.display = not (self._narrow and key.action in SPARE_WHEN_NARROW)
