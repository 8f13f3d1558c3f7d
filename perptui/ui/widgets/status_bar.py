"""The header: app name, pane tabs, exchange, the account badge, connection state, UTC clock.

The badge: DEMO, PAPER, EXCHANGE (the exchange's account, read only) in neutral colours; LIVE or LIVE
TESTNET in red, only when live orders can be sent. Below ``NARROW`` columns (80x24) the app's name (the
terminal's title has it) gives way and the clock shows the time only, so the clock is never cut."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from perptui.ui.connection import LinkState

NARROW = 100


class StatusBar(Horizontal):
    DEFAULT_CSS = """
    StatusBar { height: 1; dock: top; background: $panel; }
    StatusBar > Static { width: auto; padding: 0 1; }
    StatusBar #name { text-style: bold; color: $text-primary; }
    StatusBar .tab { color: $text-muted; }
    StatusBar .tab.-active { color: $text; background: $primary 40%; text-style: bold; }
    StatusBar #spacer { width: 1fr; }
    StatusBar #badge { text-style: bold; color: $text; }
    StatusBar #badge.-DEMO { background: $warning 60%; }
    StatusBar #badge.-PAPER { background: $accent 60%; }
    StatusBar #badge.-EXCHANGE { background: $secondary 50%; }
    StatusBar #badge.-LIVE { background: $error; color: $text; }
    StatusBar #link.-live { color: $text-success; }
    StatusBar #link.-connecting { color: $text-muted; }
    StatusBar #link.-reconnecting { color: $text-warning; }
    StatusBar #link.-offline { color: $text-error; }
    StatusBar #clock { color: $text-muted; }
    StatusBar.-narrow #name { display: none; }
    """

    link_state: reactive[LinkState] = reactive(LinkState.CONNECTING)
    link_text: reactive[str] = reactive("connecting")
    clock_text: reactive[str] = reactive("")
    active_tab: reactive[str] = reactive("")

    def __init__(self, exchange: str, badge: str, tabs: Sequence[tuple[str, str, str]]) -> None:
        """``tabs``: (pane id, key, title) of every built pane."""
        super().__init__()
        self.exchange = exchange
        self.badge = badge
        self.tabs = list(tabs)

    def compose(self) -> ComposeResult:
        yield Static("perptui", id="name")
        for pane_id, key, title in self.tabs:
            yield Static(f"{key} {title}", id=f"tab-{pane_id}", classes="tab", markup=False)
        yield Static(id="spacer")
        yield Static(self.exchange, id="exchange", markup=False)
        kind = self.badge.split()[0] if self.badge else ""
        yield Static(f" {self.badge} ", id="badge", classes=f"-{kind}", markup=False)
        yield Static(f"● {self.link_text}", id="link", classes=f"-{self.link_state.value}", markup=False)
        yield Static(self.clock_text, id="clock")

    def watch_link_text(self, text: str) -> None:
        if self.is_mounted:
            self.query_one("#link", Static).update(f"● {text}")

    def watch_link_state(self, old: LinkState, new: LinkState) -> None:
        if self.is_mounted:
            link = self.query_one("#link", Static)
            link.remove_class(f"-{old.value}")
            link.add_class(f"-{new.value}")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(self.app.size.width < NARROW, "-narrow")
        self.watch_clock_text(self.clock_text)

    def watch_clock_text(self, text: str) -> None:
        # "2025-06-01 00:00:00 UTC"; narrow: "00:00:00 UTC"
        shown = text[11:] if self.has_class("-narrow") and len(text) > 11 else text
        # The clock ticks every second; during shutdown it can tick after the children are gone.
        for clock in self.query("#clock").results(Static):
            clock.update(shown)

    def watch_active_tab(self, pane_id: str) -> None:
        if self.is_mounted:
            for tab in self.query(".tab"):
                tab.set_class(tab.id == f"tab-{pane_id}", "-active")
