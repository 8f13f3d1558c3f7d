"""The command palette (ctrl+p): switch pane, the panes' own commands, privacy, theme."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from perptui.ui.app import PerptuiApp


class PerptuiCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: PerptuiApp = self.app  # type: ignore[assignment]  # textual types a Provider's app as App; this one is a PerptuiApp
        found: list[tuple[str, str, Callable[[], object]]] = []
        for spec in app.panes:
            show = partial(app.action_show_pane, spec.id)
            found.append((f"Show the {spec.title} pane", f"key {spec.key}", show))
        for pane in app.pane_widgets():
            for command in pane.commands():
                found.append((command.name, command.help, partial(app.run_pane_command, pane, command.run)))
        found.append(
            (
                "Alert rules",
                "Add, edit, mute the alert rules (key a on the risk pane)",
                app.action_alert_rules,
            )
        )
        found.append(("Toggle privacy", "Mask every money amount (key p)", app.action_toggle_privacy))
        found.append(("Toggle dark / light theme", "key t", app.action_toggle_theme))
        found.append(("Help", "Every key of this pane (F1 or ?)", app.action_help))
        return found

    async def discover(self) -> Hits:
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
