"""The sizing pane's Position card: the figures of the sized position. Prices and quantities are written
by ``perptui.presentation`` so the pane and the copied ticket agree; money honours privacy mode; unknown
figures say ``unknown``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical

from perptui.presentation import numbers as fmt
from perptui.presentation.ticket import contract_count
from perptui.ui.panes.sizing.figure import Figure
from perptui.ui.widgets.stat import Stat

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market

#: (id, label, short label); "interval" becomes the market's funding interval.
ROWS = (
    ("quantity", "Quantity", "Quantity"),
    ("notional", "Notional", "Notional"),
    ("margin", "Initial margin", "Margin"),
    ("leverage", "Leverage", "Leverage"),
    ("risk", "Risk at stop", "Risk at stop"),
    ("risk-pct", "Risk % of equity", "Risk % equity"),
    ("fees", "Fees (entry + stop)", "Fees"),
    ("liq", "Liquidation", "Liquidation"),
    ("gap", "Stop → liquidation", "Stop → liq"),
    ("breakeven", "Break-even", "Break-even"),
    ("funding", "Funding per interval", "Funding/interval"),
    ("funding-day", "Funding per day", "Funding/day"),
)

#: Under this content width the Position card uses its short labels.
COMPACT_BELOW = 36


class PositionCard(Vertical):
    """The figures of the sized position. Money is formatted here (masked in privacy mode, ``unknown``
    when not known), so the card is redrawn, not re-masked, when privacy changes. Narrow, the labels
    are the short ones."""

    last: tuple[SizingResult, Market] | None = None
    interval = "interval"

    def compose(self) -> ComposeResult:
        for name, label, _ in ROWS:
            yield Figure(label, "pct" if name == "risk-pct" else "text", id=f"res-{name}")

    def on_resize(self, event: events.Resize) -> None:
        self._label()

    def _label(self) -> None:
        compact = self.content_size.width < COMPACT_BELOW
        for name, label, short in ROWS:
            text = short if compact else label
            self.stat(name).label = text.replace("interval", self.interval)
            self.stat(name).refresh()

    def stat(self, name: str) -> Stat:
        return self.query_one(f"#res-{name}", Stat)

    def show(self, r: SizingResult, m: Market, private: bool) -> None:
        self.last = (r, m)
        self.set_class(False, "-invalid")
        tick, step = m.price_tick, m.amount_step

        def money(value: float | None, *, signed: bool = False) -> str:
            if value is None:
                return fmt.UNKNOWN
            return fmt.money(value, m.settle, private=private, signed=signed)

        qty = f"{fmt.qty(r.quantity, step)} {m.base}"
        if m.contract_size != 1 and m.contract_size > 0:  # as the exchange's order box takes it
            qty += f" · {contract_count(r.quantity, step, m.contract_size)} ct"
        self._set("quantity", qty if r.tradable else f"{qty} (too small)", bad=not r.tradable)
        self._set("notional", money(r.notional))
        self._set("margin", money(r.initial_margin))
        self._set("leverage", f"{r.leverage:g}x{' auto' if r.leverage_auto else ''} · {r.margin_mode}")
        self._set("risk", money(r.risk_usd))
        self.stat("risk-pct").value = r.risk_pct
        self._set("fees", money(r.fees_usd))
        if r.never_liquidated:
            liq = "none: margin covers 0"
        elif r.liquidation_price is None:
            liq = fmt.UNKNOWN
        else:
            liq = fmt.price(r.liquidation_price, tick) + (" (approx.)" if r.tiers_approximate else "")
        self._set("liq", liq)
        gap = r.stop_liquidation_gap
        if gap is None:
            self._set("gap", "no liquidation" if r.never_liquidated else fmt.UNKNOWN)
        elif gap <= 0:
            self._set("gap", f"BEYOND by {fmt.pct(-gap)}", bad=True)
        else:
            self._set("gap", f"{fmt.pct(gap)} of entry")
        self._set("breakeven", fmt.price(r.breakeven_price, tick))
        self.interval = f"{r.funding_interval_hours:g}h" if r.funding_interval_hours else "interval"
        self._label()
        per, day = (None, None) if r.funding_rate is None else (r.funding_per_interval, r.funding_per_day)
        self._set("funding", money(per, signed=True), sign=per)
        self._set("funding-day", money(day, signed=True), sign=day)

    def _set(self, name: str, text: str, *, bad: bool = False, sign: float | None = None) -> None:
        stat = self.stat(name)
        stat.value = text
        stat.set_class(bad, "-bad")
        for cls in ("-positive", "-negative"):
            stat.set_class(cls == fmt.sign_class(sign), cls)
        stat.refresh()

    def invalidate(self, private: bool) -> None:
        """The form is not valid: the last figures stay, dimmed, and no longer count."""
        if self.last is not None:
            self.show(*self.last, private)
        self.set_class(True, "-invalid")
