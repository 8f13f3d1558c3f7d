"""``PerptuiApp``: the shell. Header, the panes in a switcher, the footer; global keys. Everything a
pane shows lives in its own module; build the app with ``perptui.ui.factory.build_app``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher

from perptui.ui.commands import PerptuiCommands
from perptui.ui.context import AppContext
from perptui.ui.feed import MarketFeed
from perptui.ui.keymap import binding
from perptui.ui.panes import PANES, PaneSpec
from perptui.ui.panes.base import Pane
from perptui.ui.screens.help import HelpScreen, KeyRow
from perptui.ui.widgets.footer import KeysFooter
from perptui.ui.widgets.status_bar import StatusBar

THEMES = {"dark": "textual-dark", "light": "textual-light"}


def _pane_bindings() -> list:
    return [
        binding(
            f"pane_{p.id}", p.key, f"show_pane('{p.id}')", p.title, f"Show the {p.title} pane", show=False
        )
        for p in PANES
    ]


class PerptuiApp(App[None]):
    TITLE = "perptui"
    CSS_PATH = "styles/app.tcss"
    COMMANDS = App.COMMANDS | {PerptuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("quit", "q", "quit", "Quit", "Quit perptui"),
        binding("help", "question_mark,f1", "help", "Help", "Every key of this pane and the global keys"),
        binding("privacy", "p", "toggle_privacy", "Privacy", "Mask every money amount"),
        binding("toggle_theme", "t", "toggle_theme", "Theme", "Switch between the dark and light theme"),
        binding("palette", "ctrl+p", "command_palette", "Commands", "Open the command palette", show=False),
        *_pane_bindings(),
    ]

    #: Mask every money amount on every pane (the ``p`` key).
    privacy: reactive[bool] = reactive(False)

    def __init__(self, ctx: AppContext, *, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.panes: tuple[PaneSpec, ...] = PANES
        self.current_pane = PANES[0].id
        self._activation_due = False
        #: Set once every pane is built (the first one in ``compose``, the others after the first frame).
        self._panes_built = asyncio.Event()
        self._keymap_overrides = keymap or {}
        self.theme = THEMES[ctx.settings.ui.theme]

    def compose(self) -> ComposeResult:
        tabs = [(p.id, p.key, p.title) for p in self.panes]
        self.status_bar = StatusBar(self.ctx.exchange_name, self.ctx.badge, tabs)
        self.switcher = ContentSwitcher(initial=self.current_pane)
        yield self.status_bar
        with self.switcher:
            first = next(spec for spec in self.panes if spec.id == self.current_pane)
            yield first.load()(self.ctx, id=first.id)
        yield KeysFooter()
        yield MarketFeed(self.ctx)

    def on_mount(self) -> None:
        if self._keymap_overrides:
            self.set_keymap(self._keymap_overrides)
        self._tick()
        self.set_interval(1.0, self._tick, name="clock")
        self.show_pane(self.current_pane)
        self.call_after_refresh(self.run_worker, self._build_other_panes, name="build panes", group="panes")

    async def on_unmount(self) -> None:
        await self.ctx.close()

    def _tick(self) -> None:
        now = self.ctx.clock.now_ms() / 1000
        self.status_bar.clock_text = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))

    def on_market_feed_changed(self, message: MarketFeed.Changed) -> None:
        bar = self.status_bar
        bar.link_state, bar.link_text = message.state, message.label

    # --- panes ------------------------------------------------------------------------------------

    async def _build_other_panes(self) -> None:
        """After the first frame: import the other panes' modules off the event loop, then mount them
        hidden. Pane keys pressed meanwhile wait for this (``action_show_pane``)."""
        built = {pane.id for pane in self.pane_widgets()}
        specs = [spec for spec in self.panes if spec.id not in built]
        classes = await asyncio.to_thread(lambda: [spec.load() for spec in specs])
        panes = [cls(self.ctx, id=spec.id) for spec, cls in zip(specs, classes, strict=True)]
        for pane in panes:
            pane.display = False
        await self.switcher.mount_all(panes)
        self._panes_built.set()

    async def wait_for_panes(self) -> None:
        """Return once every pane is built."""
        await self._panes_built.wait()

    def pane_widgets(self) -> list[Pane]:
        return list(self.switcher.query_children(Pane))

    def pane(self, pane_id: str | None = None) -> Pane:
        return self.switcher.get_child_by_id(pane_id or self.current_pane, Pane)

    def show_pane(self, pane_id: str) -> None:
        """Show the pane and give it the keys at once; its refresh waits for the keys already queued, so a
        burst of pane keys refreshes only the pane it ends on."""
        old = self.pane()
        if old.id != pane_id and old.active:
            old.deactivated()
        self.current_pane = pane_id
        self.switcher.current = pane_id
        self.status_bar.active_tab = pane_id
        self.pane().focus_now()
        if not self._activation_due:
            self._activation_due = True
            self.call_later(self._activate_current)

    def _activate_current(self) -> None:
        self._activation_due = False
        pane = self.pane()
        if not pane.active:
            pane.activated()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Focus that lands in a hidden pane (a ``focus()`` queued before a switch) goes back to the pane
        shown: keys go where the trader looks."""
        owner = next((n for n in event.widget.ancestors_with_self if isinstance(n, Pane)), None)
        if owner is not None and owner.id != self.current_pane:
            self.pane().focus_now()

    async def action_show_pane(self, pane_id: str) -> None:
        """A pane key: from a full screen over the panes (the backtest view) it goes back to the panes
        first; with a dialog open it waits for the dialog's answer. Pressed before the panes are built
        (within the first moments), it waits for them, and so do the keys typed after it."""
        await self.wait_for_panes()
        if isinstance(self.screen, ModalScreen):
            return
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.show_pane(pane_id)

    def run_pane_command(self, pane: Pane, run: Callable[[], object]) -> None:
        """A palette command of ``pane``: show the pane, then run it."""
        self.show_pane(str(pane.id))
        run()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast is plain text (``markup`` is ignored): toasts carry symbols, exchange errors and
        typed input, which markup would mangle ("[ALL]" vanishes) or fail on ("[/x]")."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # --- global actions ---------------------------------------------------------------------------

    def action_toggle_privacy(self) -> None:
        self.privacy = not self.privacy
        self.notify("amounts hidden" if self.privacy else "amounts shown", timeout=2)

    def action_toggle_theme(self) -> None:
        self.theme = THEMES["light"] if self.theme == THEMES["dark"] else THEMES["dark"]

    def action_alert_rules(self) -> None:
        """The alert rules screen, over the panes (imported on first use)."""
        from perptui.ui.screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen | ModalScreen):
            self.push_screen(AlertsScreen(self.ctx))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        pane = self.pane()
        title = next(p.title for p in self.panes if p.id == pane.id)
        self.push_screen(HelpScreen(f"Keys · {title} pane", self.key_rows(pane, title)))

    def key_rows(self, pane: Pane, title: str) -> list[KeyRow]:
        """The pane's keys, then the global ones, with the keymap applied (hidden keys left out)."""
        rows: list[KeyRow] = []
        for node, section in ((pane, title), (self, "global")):
            bindings = BindingsMap.from_keys({k: list(v) for k, v in node._bindings.key_to_bindings.items()})
            if self._keymap:
                bindings.apply_keymap(self._keymap)
            by_id: dict[str, tuple[list[str], Binding]] = {}
            for key_bindings in bindings.key_to_bindings.values():
                for b in key_bindings:
                    if b.id and node.check_action(b.action, ()) is not False:
                        by_id.setdefault(b.id, ([], b))[0].append(self.get_key_display(b))
            rows += [
                KeyRow(section, ", ".join(keys), b.tooltip or b.description, binding_id)
                for binding_id, (keys, b) in by_id.items()
            ]
        return rows
