"""The risk monitor pane (key 5): every open position with its distance to liquidation, the portfolio
with VaR and the limits as bars, the alerts and the circuit breaker, equity and drawdown charts.

Keys act on the position under the cursor of the paper account: close it or reduce it (after a
confirmation), move its stop, or open it in the sizing pane; a tripped circuit breaker can be reset
(after a confirmation). The exchange's own account is read-only here. ``risk_sync`` polls and draws.

Layout: the positions table takes the height its rows need, the alerts sit right under it, then the
portfolio and the limits, then the charts. Under 120 columns the portfolio and the limits stack
(``-narrow``: side by side they need about 119); under 30 rows (``-short``) the portfolio and the
limits shrink to one line a figure, scroll when they still do not fit, and the charts fold (``v``
brings them back, or hides them on a taller terminal).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.presentation import risk as rf
from perptui.presentation.parse import PERCENT, PRICE, QUANTITY, parse_number
from perptui.ui.keymap import binding
from perptui.ui.panes.base import PaneCommand
from perptui.ui.panes.risk_columns import SPECS
from perptui.ui.panes.risk_sync import RiskSync
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from perptui.ui.widgets.live_table import LiveTable
from perptui.ui.widgets.risk_chart import RiskChart

if TYPE_CHECKING:
    from perptui.domain.risk_position import PositionRisk
    from perptui.services.paper import PaperEngine
    from perptui.ui.panes import risk_stop

#: Actions on a paper position (the exchange's account is read-only).
_POSITION_ACTIONS = {"close_position", "reduce_position", "move_stop"}
#: Under this many columns the portfolio and the limits stack; under this many rows the panels go compact.
NARROW_WIDTH = 120
SHORT_HEIGHT = 30


class RiskPane(RiskSync):
    TITLE = "Risk"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("risk_close", "c", "close_position", "Close", "Close the position (after a confirmation)"),
        binding("risk_reduce", "r", "reduce_position", "Reduce", "Close part of the position (qty or %)"),
        binding("risk_stop", "s", "move_stop", "Stop", "Move the position's stop-loss (blank removes it)"),
        binding("risk_size", "enter", "size_selected", "Size it", "Open the sizing pane on this symbol"),
        binding("risk_reset", "b", "reset_breaker", "Reset breaker", "Reset the tripped circuit breaker"),
        binding(
            "risk_charts",
            "v",
            "toggle_charts",
            "Charts",
            "Show or hide the equity and drawdown charts (folded under 30 rows)",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Static("reading the account…", id="risk-heading", markup=False)
        with Vertical(id="risk-positions"):
            yield LiveTable(SPECS, id="risk-table")
            yield Static(
                "no open positions: size a trade (2) and press o to open one on the paper account",
                id="risk-empty",
            )
        yield Static("", id="risk-alerts")
        with Horizontal(id="risk-panels"):
            yield Static("", id="risk-portfolio")
            yield Static("", id="risk-limits")
        yield RiskChart(id="risk-chart")

    # --- the layout for the terminal's size -------------------------------------------------------

    @property
    def short(self) -> bool:
        return self.has_class("-short")

    def on_resize(self, event: events.Resize) -> None:
        width, height = self.app.size
        short = height < SHORT_HEIGHT
        if short != self.short:
            self.charts_flipped = False  # the charts follow the new height until v again
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.set_class(short, "-short")
        self.show_charts()
        self.redraw()  # the panels' compact or full wording

    def action_toggle_charts(self) -> None:
        self.charts_flipped = not self.charts_flipped
        self.show_charts()

    def show_charts(self) -> None:
        """Charts on a terminal of 30 rows or more, folded under; ``v`` flips that."""
        self.query_one(RiskChart).display = self.short == self.charts_flipped

    @property
    def table(self) -> LiveTable:  # type: ignore[override]
        return self.query_one("#risk-table", LiveTable)

    def focus_target(self) -> Widget:
        return self.table

    def activated(self) -> None:
        self.active = True
        self.redraw()
        self.refresh_data(soon=True)

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        paper = self.ctx.account_mode == "paper"
        if action in _POSITION_ACTIONS:
            return paper
        if action == "reset_breaker":
            return paper and self.report is not None and self.report.breaker.tripped
        return True

    def commands(self) -> list[PaneCommand]:
        return [PaneCommand("Reset the circuit breaker", "After a confirmation", self.action_reset_breaker)]

    # --- the position under the cursor ------------------------------------------------------------

    def selected(self) -> PositionRisk | None:
        """The PositionRisk under the cursor, or None (with a notification) when there is none."""
        key = self.table.cursor_key
        report = self.report
        found = next((p for p in report.positions if p.symbol == key), None) if report else None
        if found is None:
            self.notify("no position selected: the table is empty", severity="warning", timeout=3)
        return found

    def on_live_table_selected(self, event: LiveTable.Selected) -> None:
        event.stop()
        self.action_size_selected()

    def action_size_selected(self) -> None:
        p = self.selected()
        if p is not None:
            self.app.show_pane("sizing")  # type: ignore[attr-defined]
            self.app.pane("sizing").open_symbol(p.symbol)  # type: ignore[attr-defined]

    def action_close_position(self) -> None:
        p = self.selected()
        if p is not None:
            self.close_position(p.symbol, None)

    def action_reduce_position(self) -> None:
        p = self.selected()
        if p is not None:
            self.reduce_position(p.symbol, p.qty)

    def action_move_stop(self) -> None:
        p = self.selected()
        if p is not None:
            stop = self.levels[p.symbol].stop if p.symbol in self.levels else None
            self.move_stop(p.symbol, p.side, p.mark, stop)

    # --- dialogs and the engine (workers) ---------------------------------------------------------

    def _precision(self, symbol: str) -> tuple[float | None, float | None]:
        """The market's (price tick, amount step) of an open position, None where unknown."""
        p = next((x for x in self.report.positions if x.symbol == symbol), None) if self.report else None
        return (p.price_tick, p.amount_step) if p is not None else (None, None)

    @work(exclusive=True, group="risk-dialog")
    async def reduce_position(self, symbol: str, open_qty: float) -> None:
        def parse(texts: list[str]) -> float:
            return parse_reduce(texts[0], open_qty, step)

        step = self._precision(symbol)[1]
        hint = f"{fmt.qty(open_qty, step)} open: a quantity (0.01) or a share of it (50%)"
        dialog = FormDialog(f"Reduce {symbol}", [("Close", "50%")], parse, hint=hint)
        qty = await self.app.push_screen_wait(dialog)
        if qty is not None:
            await self._close(symbol, qty)

    @work(exclusive=True, group="risk-dialog")
    async def close_position(self, symbol: str, qty: float | None) -> None:
        await self._close(symbol, qty)

    async def _close(self, symbol: str, qty: float | None) -> None:
        p = next((x for x in self.report.positions if x.symbol == symbol), None) if self.report else None
        if p is None:
            return
        engine = await asyncio.to_thread(self.ctx.paper_engine)
        try:  # what the engine would refuse is said now, not after the confirmation
            rehearsed = await asyncio.to_thread(engine.rehearse, lambda: engine.close(symbol, qty))
        except UsageError as exc:
            self.notify(f"not closed: {exc}", severity="error", timeout=8)
            return
        closing = p.qty if qty is None else qty
        step = p.amount_step
        lines = [
            f"{'Close' if qty is None or qty >= p.qty else 'Reduce'} {p.side.upper()} {symbol}",
            f"quantity {fmt.qty(closing, step)} of {fmt.qty(p.qty, step)}, reduce-only MARKET order",
            f"fills at the mark ({fmt.price(p.mark, p.price_tick)}) plus slippage, taker fee",
            f"unrealised PnL now {fmt.money(p.upnl, signed=True)} on the whole position",
            "PAPER account only: nothing is sent to an exchange.",
        ]
        dialog = ConfirmDialog(f"Close {symbol}?", lines, warnings=rehearsed.warnings, action="close it")
        if not await self.app.push_screen_wait(dialog):
            self.notify("nothing closed", timeout=2)
            return
        try:
            result = await asyncio.to_thread(engine.close, symbol, qty)
        except UsageError as exc:
            self.notify(f"not closed: {exc}", severity="error", timeout=8)
            return
        self.notify(result.message, title="paper", timeout=6)
        self.refresh_data(soon=True)

    @work(exclusive=True, group="risk-dialog")
    async def move_stop(self, symbol: str, side: str, mark: float | None, stop: float | None) -> None:
        """Ask for the new stop, then confirm it with the loss at the old and the new stop (removing the
        stop, or a loss above the maximum per trade, defaults to No)."""
        from perptui.ui.panes import risk_stop  # the calculator's wording: not before the first frame

        tick = self._precision(symbol)[0]

        def parse(texts: list[str]) -> float | str:
            return parse_stop(texts[0], side, mark, tick)

        hint = f"mark {fmt.price(mark, tick)}: below it for a long, above for a short; blank removes the stop"
        initial = "" if stop is None else fmt.price_input(stop, tick)
        answer = await self.app.push_screen_wait(
            FormDialog(f"Stop-loss of {symbol}", [("Stop price", initial)], parse, hint=hint)
        )
        if answer is None:
            return
        price = None if isinstance(answer, str) else answer
        engine = await asyncio.to_thread(self.ctx.paper_engine)
        try:  # a stop the engine refuses is said now; its warnings go to the confirmation
            _, flagged = await asyncio.to_thread(engine.rehearse, lambda: engine.set_stop(symbol, price))
        except UsageError as exc:
            self.notify(f"stop not moved: {exc}", severity="error", timeout=8)
            return
        change = await asyncio.to_thread(self._stop_change, engine, symbol, stop, price)
        if change is None:
            self.notify(f"{symbol} is no longer open", severity="warning", timeout=4)
            return
        dialog = ConfirmDialog(
            risk_stop.title(change),
            risk_stop.lines(change),
            warnings=[*risk_stop.warnings(change), *flagged],
            action="remove it" if price is None else "move it",
        )
        if not await self.app.push_screen_wait(dialog):
            self.notify(f"{symbol}: stop unchanged", timeout=3)
            return
        try:
            _, warnings = await asyncio.to_thread(engine.set_stop, symbol, price)
        except UsageError as exc:
            self.notify(f"stop not moved: {exc}", severity="error", timeout=8)
            return
        shown = "removed" if price is None else f"at {fmt.price(price, change.tick)}"
        self.notify(f"{symbol}: stop {shown}", timeout=4)
        for warning in warnings:
            self.notify(warning, severity="warning", timeout=8)
        self.refresh_data(soon=True)

    def _stop_change(
        self, engine: PaperEngine, symbol: str, old: float | None, new: float | None
    ) -> risk_stop.StopChange | None:
        """The position as the report shows it, with the market's tick (from a worker thread)."""
        from perptui.ui.panes import risk_stop

        report = self.report
        p = next((x for x in report.positions if x.symbol == symbol), None) if report else None
        if p is None or report is None:
            return None
        market = engine.book.get(symbol)
        max_risk = self.ctx.settings.risk.max_risk_pct / 100 or None
        return risk_stop.StopChange(
            symbol=symbol,
            side=p.side,
            qty=p.qty,
            entry=p.entry,
            mark=p.mark,
            liq_price=None if p.never_liquidated else p.liq_price,
            old=old,
            new=new,
            equity=report.portfolio.equity,
            max_risk=max_risk,
            tick=market.price_tick if market is not None else None,
            currency=report.currency,
        )

    def action_reset_breaker(self) -> None:
        self.reset_breaker()

    @work(exclusive=True, group="risk-dialog")
    async def reset_breaker(self) -> None:
        report = self.report
        if report is None or not report.breaker.tripped:
            self.notify("the circuit breaker is not tripped", timeout=3)
            return
        lines = ["A reset allows new paper orders again now, and the breaker will not trip again today."]
        warnings = [f"{rf.breaker_text(report.breaker)}: reset only if the loss is understood and acceptable"]
        dialog = ConfirmDialog("Reset the circuit breaker?", lines, warnings=warnings, action="reset it")
        if not await self.app.push_screen_wait(dialog):
            self.notify("the circuit breaker stays tripped", timeout=3)
            return
        from perptui.services.paper import reset_breaker

        store = await asyncio.to_thread(self.ctx.store)
        await asyncio.to_thread(reset_breaker, store, report.account, self.ctx.clock.now_ms())
        self.notify("circuit breaker reset: new paper orders are allowed again", timeout=5)
        self.refresh_data(soon=True)


def parse_reduce(text: str, open_qty: float, step: float | None = None) -> float:
    """A quantity or a percentage of the open quantity (``50%``), in (0, open]."""
    raw = text.strip()
    if raw.endswith("%"):
        qty = open_qty * parse_number(raw, PERCENT.named("share to close")) / 100
    else:
        qty = parse_number(raw, QUANTITY)
    if qty > open_qty * (1 + 1e-12):
        raise UsageError(f"only {fmt.qty(open_qty, step)} is open: close at most that (or 100%)")
    return min(qty, open_qty)


def parse_stop(text: str, side: str, mark: float | None, tick: float | None = None) -> float | str:
    """A stop price on the losing side of the mark, or "" to remove the stop."""
    if not text.strip():
        return ""
    price = parse_number(text, PRICE)
    if mark is not None and (price >= mark if side == "long" else price <= mark):
        where = "below" if side == "long" else "above"
        raise UsageError(f"a {side}'s stop must be {where} the mark {fmt.price(mark, tick)}")
    return price
