"""``SymbolPicker``: a modal that finds a market by fuzzy search as you type (``textual.fuzzy.Matcher``).

Recently used symbols come first; up/down move, Enter picks, Escape closes without a change. The result
is the picked symbol, or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from perptui.ui.keymap import binding


@dataclass(frozen=True, slots=True)
class SymbolChoice:
    symbol: str  # unified, e.g. BTC/USDT:USDT
    base: str
    detail: str = ""  # e.g. "125x · 8h funding"


def ranked(choices: Sequence[SymbolChoice], query: str, recent: Sequence[str]) -> list[SymbolChoice]:
    """Choices matching ``query`` (all without one), best first; recent symbols first among equals."""
    order = {s: i for i, s in enumerate(recent)}
    if not query.strip():
        return sorted(choices, key=lambda c: (order.get(c.symbol, len(order)), c.base, c.symbol))
    matcher = Matcher(query.strip())
    scored = [(matcher.match(c.symbol), c) for c in choices]
    return [
        c
        for score, c in sorted(
            ((s, c) for s, c in scored if s > 0),
            key=lambda sc: (-sc[0], order.get(sc[1].symbol, len(order)), sc[1].symbol),
        )
    ]


class SymbolPicker(ModalScreen[str | None]):
    DEFAULT_CSS = """
    SymbolPicker { align: center middle; background: $background 60%; }
    SymbolPicker > Vertical {
        width: 64; height: 24; padding: 0 1;
        border: round $primary; background: $surface;
    }
    SymbolPicker #picker-title { text-style: bold; color: $text-primary; padding: 0 1; }
    SymbolPicker Input { margin: 1 0; }
    SymbolPicker OptionList { height: 1fr; border: none; padding: 0; background: $surface; }
    SymbolPicker #picker-keys { color: $text-muted; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("cancel", "escape", "cancel", "Cancel", "Close without changing anything"),
        binding("down", "down", "move(1)", "Down", "Next symbol", show=False),
        binding("up", "up", "move(-1)", "Up", "Previous symbol", show=False),
        binding("page_down", "pagedown", "move(10)", "Page down", "Ten symbols down", show=False),
        binding("page_up", "pageup", "move(-10)", "Page up", "Ten symbols up", show=False),
    ]

    def __init__(self, choices: Sequence[SymbolChoice], recent: Sequence[str], current: str = "") -> None:
        super().__init__()
        self.choices = list(choices)
        self.recent = list(recent)
        self.current = current
        self.shown: list[SymbolChoice] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Pick a market", id="picker-title")
            yield Input(placeholder="type to search, e.g. eth or btc", id="picker-query", compact=True)
            yield OptionList(id="picker-list")
            yield Static("↑↓ move · enter pick · esc cancel · ★ recently used", id="picker-keys")

    def on_mount(self) -> None:
        self.refilter("")
        self.query_one(Input).focus()

    def refilter(self, query: str) -> None:
        self.shown = ranked(self.choices, query, self.recent)
        matcher = Matcher(query.strip()) if query.strip() else None
        recent = set(self.recent)
        options = []
        for c in self.shown:
            name = matcher.highlight(c.symbol) if matcher else Content(c.symbol)
            mark = "★ " if c.symbol in recent else "  "
            line = Content.assemble(
                mark, name.pad_right(max(0, 24 - len(c.symbol))), " ", (c.detail, "$text-muted")
            )
            options.append(Option(line, id=c.symbol))
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        if options:
            start = 0
            if not query.strip() and self.current in [c.symbol for c in self.shown]:
                start = [c.symbol for c in self.shown].index(self.current)
            option_list.highlighted = start

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refilter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        option = self.query_one(OptionList).highlighted_option
        if option is not None:
            self.dismiss(option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        option_list = self.query_one(OptionList)
        if option_list.option_count:
            current = option_list.highlighted or 0
            option_list.highlighted = max(0, min(option_list.option_count - 1, current + step))

    def action_cancel(self) -> None:
        self.dismiss(None)
