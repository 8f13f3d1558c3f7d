"""The sizing pane's results: the Position card, the take-profit table, and what decided the size with
the warnings. Prices and quantities are written by ``perptui.presentation.ticket`` so the pane and the copied
ticket agree; money figures honour privacy mode; unknown figures say ``unknown``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from perptui.presentation import numbers as fmt
from perptui.ui.widgets.stat import Stat

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market

#: A typed price far from the mark (likely a typo: a second look before ordering).
FAR_FROM_MARK = "far_from_mark"
#: Warnings about a trade that cannot work as planned; the others are cautions.
SEVERE = {
    "stop_beyond_liquidation",
    "leverage_above_tier",
    "below_min_qty",
    "below_min_notional",
    FAR_FROM_MARK,
}
MAX_WARNINGS = 5
_MONEY = re.compile(r"\d[\d,]*\.\d{2}(?!\d|%)")


def masked(text: str, private: bool) -> str:
    """Money amounts in a sentence masked in privacy mode (percentages and other prices stay)."""
    return _MONEY.sub(fmt.MASK, text) if private else text


class Figure(Stat):
    """A Stat whose value is never cut: when the row is too narrow the label gives way (with an ellipsis)."""

    def render(self) -> Text:
        label_style = self.get_component_rich_style("stat--label")
        value_style = self.get_component_rich_style("stat--value")
        value, label, width = self.text, self.label, self.size.width
        room = width - cell_len(value) - 1
        if cell_len(label) > room:
            label = label[: room - 1] + "…" if room > 1 else ""
        gap = max(1 if label else 0, width - cell_len(label) - cell_len(value))
        return Text.assemble(
            (label, label_style), " " * gap, (value, value_style), no_wrap=True, overflow="ellipsis"
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


class TargetsCard(Vertical):
    last: tuple[SizingResult, Market] | None = None

    def compose(self) -> ComposeResult:
        yield Static("the targets appear once the trade is sized", id="targets-table")

    def show(self, r: SizingResult | None, m: Market | None, private: bool, *, valid: bool = True) -> None:
        table = self.query_one("#targets-table", Static)
        if r is None or m is None:
            return
        self.last = (r, m)
        self.set_class(not valid, "-invalid")
        if not r.take_profits:
            table.update(Content.styled("no targets: type R multiples in Targets, e.g. 1,2,3", "$text-muted"))
            return
        widths = (6, 13, 14, 19, 17)
        header = ("target", "price", "reward : risk", "closes", "PnL at target")
        lines = [
            Content.assemble(*(_cell(h, w, i) for i, (h, w) in enumerate(zip(header, widths, strict=True))))
        ]
        lines[0] = lines[0].stylize("bold")
        for n, tp in enumerate(r.take_profits, 1):
            pnl = fmt.money(tp.pnl, m.settle, private=private, signed=True)
            cells = (
                f"TP{n}",
                fmt.price(tp.price, m.price_tick),
                f"{tp.r:.2f} : 1",
                f"{fmt.qty(tp.qty, m.amount_step)} ({tp.share * 100:.0f}%)",
                pnl,
            )
            row = [_cell(c, w, i) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
            if valid:  # a stale table stays in the dimmed colour
                row[-1] = (row[-1], "$text-success" if tp.pnl > 0 else "$text-error")
            lines.append(Content.assemble(*row))
        table.update(Content("\n").join(lines))

    def invalidate(self, private: bool) -> None:
        if self.last is not None:
            self.show(*self.last, private, valid=False)
        self.set_class(True, "-invalid")


LIMIT_NAMES = {"risk": "risk", "margin": "margin", "tier": "tier", "max_qty": "max qty"}


def limits_line(r: SizingResult, m: Market) -> Content:
    """The largest quantity each constraint allows (on the amount step), the deciding one highlighted."""
    from perptui.domain.sizing import CONSTRAINTS, floor_to_step

    parts: list[str | tuple[str, str]] = [("Largest size by ", "$text-muted")]
    for name in CONSTRAINTS:
        limit = r.limits.get(name)
        if limit is None:
            continue
        if len(parts) > 1:
            parts.append(("  ·  ", "$text-muted"))
        text = (
            "no limit"
            if limit == float("inf")
            else fmt.qty(floor_to_step(limit, m.amount_step), m.amount_step)
        )
        style = "bold $text-accent" if name == r.binding_constraint else ""
        parts.append((f"{LIMIT_NAMES[name]} {text}", style))
    return Content.assemble(*parts)


def _cell(text: str, width: int, index: int) -> str:
    return f"{text:<{width}}" if index == 0 else f"{text:>{width}}"


class Verdict(Vertical):
    """What decided the size (highlighted), the warnings, each in its colour, then the largest size by each
    constraint; or the error."""

    def compose(self) -> ComposeResult:
        yield Static("", id="size-binding")
        for i in range(MAX_WARNINGS):
            yield Static("", id=f"size-warning-{i}", classes="size-warning", markup=False)
        yield Static("", id="size-limits", markup=False)

    def show(self, r: SizingResult, m: Market, private: bool, *, prices: Sequence[str] = ()) -> None:
        """``prices``: typed prices far from the mark (``typed_price_warnings``), shown first."""
        line = self.query_one("#size-binding", Static)
        word, _, rest = masked(r.binding_text, private).partition(": ")
        line.update(Content.assemble(("Sized by ", "$text-muted"), (word, "bold $text-accent"), f": {rest}"))
        line.set_class(False, "-error")
        line.set_class(False, "-hint")
        self.query_one("#size-limits", Static).update(limits_line(r, m))
        warnings = [*((FAR_FROM_MARK, p) for p in prices), *((w.code, w.message) for w in r.warnings)]
        self._warnings(warnings, private)

    def _warnings(self, warnings: Sequence[tuple[str, str]], private: bool = False) -> None:
        """(code, message) pairs, the severe ones first; money in them is masked in privacy mode."""
        shown = sorted(warnings, key=lambda w: w[0] not in SEVERE)
        for i, static in enumerate(self.query(".size-warning").results(Static)):
            w = shown[i] if i < len(shown) else None
            static.display = w is not None
            if w is not None:
                code, message = w
                static.update(f"{'✖' if code in SEVERE else '⚠'} {masked(message, private)}")
                static.set_class(code in SEVERE, "-error")
                static.set_class(code not in SEVERE, "-warning")

    def problem(self, text: str, private: bool, *, hint: bool = False, prices: Sequence[str] = ()) -> None:
        """No result: say why (an error in the error colour, a missing input as a muted hint)."""
        line = self.query_one("#size-binding", Static)
        line.update(masked(text, private))
        self.query_one("#size-limits", Static).update("")
        line.set_class(not hint, "-error")
        line.set_class(hint, "-hint")
        self._warnings([(FAR_FROM_MARK, p) for p in prices])
