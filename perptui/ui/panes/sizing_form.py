"""The sizing pane's Trade card: symbol, side, entry, stop, risk, leverage, margin mode and targets.

One line per field (compact inputs). Each field's unit shows its mode (stop as a price, a % distance or
an ATR multiple; risk as a % of equity or an amount); a blank field shows its default as a placeholder
(the mark, the account's risk per trade, auto leverage). A field the calculator rejects gets ``-error``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from perptui.ui.panes.sizing_model import FormState

FIELDS = ("entry", "stop", "risk", "leverage", "targets")
LABELS = {
    "symbol": "Symbol",
    "side": "Side",
    "entry": "Entry",
    "stop": "Stop",
    "risk": "Risk",
    "leverage": "Leverage",
    "margin": "Margin",
    "targets": "Targets",
}
STOP_UNITS = {"price": "price", "pct": "% away", "atr": "× ATR"}
STOP_HINTS = {"price": "a price", "pct": "e.g. 2", "atr": "e.g. 1.5"}


class SizingForm(Vertical):
    """The form's widgets; the pane owns the state and tells the form what to show."""

    def compose(self) -> ComposeResult:
        for name in ("symbol", "side", *FIELDS[:4], "margin", "targets"):
            with Horizontal(classes="form-row", id=f"row-{name}"):
                yield Label(LABELS[name], classes="form-label")
                if name in FIELDS:
                    yield Input(id=f"size-{name}", compact=True, select_on_focus=True, classes="form-input")
                else:
                    yield Static("", id=f"size-{name}", classes="form-value", markup=False)
                yield Static("", id=f"unit-{name}", classes="form-unit", markup=False)
                yield Static("", id=f"key-{name}", classes="form-key", markup=False)
        yield Static("", id="size-atr", classes="form-info", markup=False)
        yield Static("", id="size-account", classes="form-info", markup=False)
        yield Static("", id="size-keys", classes="form-info", markup=False)

    def input(self, name: str) -> Input:
        return self.query_one(f"#size-{name}", Input)

    def texts(self) -> dict[str, str]:
        return {name: self.input(name).value for name in FIELDS}

    def set_text(self, name: str, text: str) -> None:
        field = self.input(name)
        if field.value != text:
            field.value = text
            field.cursor_position = len(text)

    def set_keys(self, keys: dict[str, str]) -> None:
        """The key that changes each row (after the user's keymap), shown at the end of the row."""
        for name, key in keys.items():
            self.query_one(f"#key-{name}", Static).update(key)

    def show(
        self,
        form: FormState,
        *,
        symbol: str,
        mark: str | None,
        risk_default: str,
        currency: str,
    ) -> None:
        self.query_one("#size-symbol", Static).update(symbol or "—")
        side = self.query_one("#size-side", Static)
        side.update("▲ LONG" if form.side == "long" else "▼ SHORT")
        side.set_class(form.side == "long", "-long")
        side.set_class(form.side == "short", "-short")
        self.query_one("#size-margin", Static).update(form.margin_mode)
        entry = self.input("entry")
        following = not form.entry.strip()
        entry.placeholder = mark or "waiting for the mark"
        entry.set_class(following, "-follow")
        self._unit("entry", "= mark" if following else "fixed", following)
        self._unit("stop", STOP_UNITS[form.stop_mode])
        self.input("stop").placeholder = STOP_HINTS[form.stop_mode]
        self._unit("risk", "% equity" if form.risk_mode == "pct" else currency)
        self.input("risk").placeholder = risk_default
        self._unit("leverage", "×")
        self.input("leverage").placeholder = "auto"
        self._unit("targets", "R")
        self.input("targets").placeholder = "none, e.g. 1,2,3"

    def _unit(self, name: str, text: str, accent: bool = False) -> None:
        unit = self.query_one(f"#unit-{name}", Static)
        unit.update(text)
        unit.set_class(accent, "-accent")

    def mark_error(self, name: str | None) -> None:
        for field in FIELDS:
            self.input(field).set_class(field == name, "-error")

    def info(self, *, atr: str, account: str, keys: str) -> None:
        self.query_one("#size-atr", Static).update(atr)
        self.query_one("#size-account", Static).update(account)
        self.query_one("#size-keys", Static).update(keys)

    def focused_field(self) -> str | None:
        focused = self.screen.focused
        if isinstance(focused, Input) and focused.id and focused.id.startswith("size-"):
            name = focused.id.removeprefix("size-")
            return name if name in FIELDS else None
        return None
