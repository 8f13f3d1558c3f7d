"""The sizing pane's Trade card: symbol, side, entry, stop, risk, leverage, margin mode and targets.

One line per field (compact inputs). Each field's unit shows its mode (stop as a price, a % distance or
an ATR multiple; risk as a % of equity or an amount); a blank field shows its default as a placeholder
(the mark, the account's risk per trade, auto leverage). A field the calculator rejects gets ``-error``.
Under the fields: the stop in its other unit (or the ATR), the account, the form's keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from perptui.presentation import numbers as fmt
from perptui.presentation.numbers import price_input
from perptui.ui.panes.sizing.model import AtrState, Context, FormState

if TYPE_CHECKING:
    from perptui.domain.account import AccountSummary
    from perptui.domain.sizing import SizingResult

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
KEYS_HINT = "e stop · tab · ↑↓ nudge · esc done"


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
        ctx: Context | None,
        *,
        summary: AccountSummary | None,
        account_note: str,
        account_risk: float,
        private: bool,
    ) -> None:
        """The form's values and defaults, the units of its modes and the account line. ``ctx`` None: no
        market yet; ``account_risk``: the risk per trade a blank Risk means (a fraction of equity)."""
        m = ctx.market if ctx is not None else None
        currency = m.settle if m else "USDT"
        if form.risk_mode == "pct":
            risk_default = f"{account_risk * 100:g} (account)"
        else:
            budget = summary.equity * account_risk if summary and summary.equity is not None else None
            risk_default = f"{fmt.money(budget, private=private)} (account)"
        mark = ctx.mark if ctx else None
        self.query_one("#size-symbol", Static).update(form.symbol or "—")
        side = self.query_one("#size-side", Static)
        side.update("▲ LONG" if form.side == "long" else "▼ SHORT")
        side.set_class(form.side == "long", "-long")
        side.set_class(form.side == "short", "-short")
        self.query_one("#size-margin", Static).update(form.margin_mode)
        entry = self.input("entry")
        following = not form.entry.strip()
        mark_text = price_input(mark, m.price_tick) if mark is not None and m else None
        entry.placeholder = mark_text or "waiting for the mark"
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
        account = account_note or (
            f"equity {fmt.money(summary.equity, currency, private=private)} · free "
            f"{fmt.money(summary.free_margin, private=private)}"
            if summary
            else "reading the account…"
        )
        self.query_one("#size-account", Static).update(account)
        self.query_one("#size-keys", Static).update(KEYS_HINT)

    def show_stop(self, line: str) -> None:
        """The line under the fields about the stop (``stop_line``)."""
        self.query_one("#size-atr", Static).update(line)

    def _unit(self, name: str, text: str, accent: bool = False) -> None:
        unit = self.query_one(f"#unit-{name}", Static)
        unit.update(text)
        unit.set_class(accent, "-accent")

    def mark_error(self, name: str | None) -> None:
        for field in FIELDS:
            self.input(field).set_class(field == name, "-error")

    def focused_field(self) -> str | None:
        focused = self.screen.focused
        if isinstance(focused, Input) and focused.id and focused.id.startswith("size-"):
            name = focused.id.removeprefix("size-")
            return name if name in FIELDS else None
        return None


def stop_line(
    form: FormState, ctx: Context | None, result: SizingResult | None, atr: AtrState | None, atr_name: str
) -> str:
    """The stop in the other unit: the ATR and the stop it gives, the stop price of a % distance, or
    the % distance of a stop price ("" while there is nothing to say)."""
    if ctx is None:
        return ""
    tick = ctx.market.price_tick
    r = result
    if form.stop_mode == "atr":
        if atr is None or atr.symbol != ctx.market.symbol or (atr.reading is None and not atr.error):
            return f"{atr_name} loading…"
        if atr.reading is None or atr.reading.value is None:
            return f"{atr_name} unknown: {atr.error or 'too few candles'}"
        text = f"{atr_name} {fmt.price(atr.reading.value, tick)}"
        return text + (f" → stop {fmt.price(r.stop, tick)}" if r else "")
    if r is None:
        return ""
    if form.stop_mode == "pct":
        return f"stop at {fmt.price(r.stop, tick)}"
    return f"stop {abs(r.entry - r.stop) / r.entry * 100:.2f}% from the entry"
