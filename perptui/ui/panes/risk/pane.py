"""The risk monitor pane (key 5): every open position with its distance to liquidation, the portfolio
with VaR and the limits as bars, the alerts and the circuit breaker, equity and drawdown charts.

Keys act on the position under the cursor of the paper account: close it or reduce it (after a
confirmation), move its stop, or open it in the sizing pane; a tripped circuit breaker can be reset
(after a confirmation). The exchange's own account is read-only here.

The poll: one after another (``ui.refresh_s``, 2 s by default), never two at once. It keeps running
while the pane is hidden, so stops, liquidations, funding and the limits are watched whichever pane is
shown (it only looks when nothing is held), but a hidden pane draws nothing: the last report waits and
is drawn when the pane is shown. New alerts and what the paper engine did (a stop filled, a liquidation)
are notified on any pane, with the terminal bell.

Layout: the positions table takes the height its rows need, the alerts sit right under it, then the
portfolio and the limits, then the charts. Under 120 columns the portfolio and the limits stack
(``-narrow``: side by side they need about 119); under 30 rows (``-short``) the portfolio and the
limits shrink to one line a figure, scroll when they still do not fit, and the charts fold (``v``
brings them back, or hides them on a taller terminal).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widget import Widget

from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.ui.keymap import binding
from perptui.ui.panes.base import Pane, PaneCommand
from perptui.ui.panes.risk import edits
from perptui.ui.panes.risk.alerts import RiskAlerts
from perptui.ui.panes.risk.heading import RiskHeading
from perptui.ui.panes.risk.limits import RiskLimits
from perptui.ui.panes.risk.messages import PollFinished, StopsChecked
from perptui.ui.panes.risk.no_stop import RiskNoStop
from perptui.ui.panes.risk.notes import Note, alert_notes, event_notes, rule_notes
from perptui.ui.panes.risk.portfolio import RiskPortfolio
from perptui.ui.panes.risk.positions import RiskPositions
from perptui.ui.risk_monitor import Levels, Polled, RiskMonitor
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from perptui.ui.widgets.live_table import LiveTable
from perptui.ui.widgets.risk_chart import RiskChart

if TYPE_CHECKING:
    from perptui.domain.risk_position import PositionRisk
    from perptui.services.risk import RiskReport
    from perptui.ui.context import AppContext

#: Actions on a paper position (the exchange's account is read-only).
_POSITION_ACTIONS = {"close_position", "reduce_position", "move_stop"}
#: Under this many columns the portfolio and the limits stack; under this many rows the panels go compact.
NARROW_WIDTH = 120
SHORT_HEIGHT = 30
#: Live trading: the exchange's stops are read back at most this often (each read is two requests).
LIVE_STOPS_EVERY_S = 10.0


class RiskPane(Pane):
    TITLE = "Risk"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding(
            "risk_live_orders",
            "O",
            "live_orders",
            "Live orders",
            "Positions and orders on the exchange: cancel, move, close, kill switch (live trading only)",
        ),
        binding("risk_close", "c", "close_position", "Close", "Close the position (after a confirmation)"),
        binding("risk_reduce", "r", "reduce_position", "Reduce", "Close part of the position (qty or %)"),
        binding("risk_stop", "s", "move_stop", "Stop", "Move the position's stop-loss (blank removes it)"),
        binding("risk_size", "enter", "size_selected", "Size it", "Open the sizing pane on this symbol"),
        binding("risk_reset", "b", "reset_breaker", "Reset breaker", "Reset the tripped circuit breaker"),
        binding("risk_alerts", "a", "alert_rules", "Alerts", "The alert rules: add, edit, mute, delete"),
        binding(
            "risk_charts",
            "v",
            "toggle_charts",
            "Charts",
            "Show or hide the equity and drawdown charts (folded under 30 rows)",
        ),
    ]

    def __init__(self, ctx: AppContext, *, id: str) -> None:
        super().__init__(ctx, id=id)
        self.monitor = RiskMonitor(ctx)
        self.report: RiskReport | None = None
        self.levels: dict[str, Levels] = {}
        self.error: str | None = None
        self.polling = False
        self.again = False  # poll again as soon as the running one ends (it may have skipped the report)
        self.charts_flipped = False  # v: the charts shown although folded for the height, or hidden
        self.naked: list[tuple[str, str]] = []  # live positions without a stop (symbol, protection)
        self.stops_checked_at: float | None = None  # monotonic seconds of the last live book read

    def compose(self) -> ComposeResult:
        yield RiskHeading(id="risk-heading")
        yield RiskNoStop("", id="risk-no-stop")
        yield RiskPositions(id="risk-positions")
        yield RiskAlerts("", id="risk-alerts")
        with Horizontal(id="risk-panels"):
            yield RiskPortfolio("", id="risk-portfolio")
            yield RiskLimits("", id="risk-limits")
        yield RiskChart(id="risk-chart")

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _: self.redraw(), init=False)
        self.call_after_refresh(self.refresh_data)  # the start-up catch-up, after the first frame

    @property
    def table(self) -> LiveTable:
        return self.query_one(RiskPositions).table

    def focus_target(self) -> Widget:
        return self.table

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        paper = self.ctx.account_mode == "paper"
        if action == "live_orders":
            return self.ctx.live
        if action in _POSITION_ACTIONS:
            return paper
        if action == "reset_breaker":
            return paper and self.report is not None and self.report.breaker.tripped
        return True

    def commands(self) -> list[PaneCommand]:
        return [PaneCommand("Reset the circuit breaker", "After a confirmation", self.action_reset_breaker)]

    @work(exclusive=True, group="risk-live-orders")
    async def action_live_orders(self) -> None:
        from perptui.ui.live import open_live_orders

        await open_live_orders(self.app, self.ctx)

    def action_alert_rules(self) -> None:
        self.app.action_alert_rules()  # type: ignore[attr-defined]  # textual's Widget.app is App; action_alert_rules() is PerptuiApp's

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

    # --- the poll ----------------------------------------------------------------------------------

    def activated(self) -> None:
        self.active = True
        self.redraw()
        self.refresh_data(soon=True)

    def deactivated(self) -> None:
        self.active = False  # keep polling: the monitor watches from any pane

    def refresh_data(self, soon: bool = False) -> None:
        """Start a poll, unless one is running: then, with ``soon``, start the next as it ends."""
        if self.polling:
            self.again = self.again or soon
            return
        self.polling = True
        self.poll(self.active)

    def schedule_next(self, delay_s: float | None = None) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
        delay = self.ctx.settings.ui.refresh_s if delay_s is None else delay_s
        self._poll_timer = self.set_timer(delay, self.refresh_data, name="risk poll")

    @work(exclusive=True, group="risk-poll", exit_on_error=False)
    async def poll(self, visible: bool) -> None:
        polled: Polled | None = None
        error: str | None = None
        try:
            polled = await self.monitor.poll(visible=visible)
        except Exception as exc:  # said in the heading; the next poll runs all the same
            error = f"could not read the risk: {exc}"
        finally:  # also when cancelled, so a poll never stays marked as running
            self.post_message(PollFinished(polled, error))

    def on_poll_finished(self, message: PollFinished) -> None:
        self.polling = False
        self.check_live_stops()
        if message.polled is not None:
            self.apply(message.polled)
        elif message.error is not None:
            self.error = message.error
            self.redraw()
        if self.again:
            self.again = False
            self.refresh_data()
        else:
            self.schedule_next()

    def check_live_stops(self) -> None:
        """Live trading: read the exchange's positions and orders back (at most every
        ``LIVE_STOPS_EVERY_S``) to flag any position without a stop."""
        if not self.ctx.live:
            return
        now = time.monotonic()
        if self.stops_checked_at is not None and now - self.stops_checked_at < LIVE_STOPS_EVERY_S:
            return
        self.stops_checked_at = now
        self.read_live_stops()

    @work(exclusive=True, group="risk-live-stops", exit_on_error=False)
    async def read_live_stops(self) -> None:
        try:
            trader = await asyncio.to_thread(self.ctx.live_trader)
            book = await trader.book([])  # the positions' own symbols: a light read every 10 s
        except Exception as exc:  # said under the heading; the next poll tries again
            self.post_message(StopsChecked(self.naked, str(exc) or type(exc).__name__))
            return
        self.post_message(StopsChecked([(p.symbol, p.describe()) for p in book.unprotected]))

    def on_stops_checked(self, message: StopsChecked) -> None:
        new = {s for s, _ in message.naked} - {s for s, _ in self.naked}
        self.naked = message.naked
        self.query_one(RiskNoStop).show(message.naked, message.error)
        for symbol, described in message.naked:
            if symbol in new:
                self.notify(f"LIVE {symbol}: {described}", title="NO STOP", severity="error", timeout=15)
        if new:
            self.app.bell()

    def apply(self, polled: Polled) -> None:
        self.tell(event_notes(polled.events, caught_up=polled.caught_up))
        self.error = polled.error
        if polled.report is not None:
            self.report, self.levels = polled.report, polled.levels
            self.tell(alert_notes(polled.report) + rule_notes(polled.alerts, polled.told_elsewhere))
        self.redraw()

    def tell(self, notes: list[Note]) -> None:
        """Notify each note, on any pane; one bell when any of them is loud."""
        for note in notes:
            self.notify(note.message, title=note.title, severity=note.severity, timeout=note.timeout)
        if any(note.loud for note in notes):
            self.app.bell()

    def redraw(self) -> None:
        """Hand the last report to every panel (only while shown)."""
        if not self.active or not self.is_mounted:
            return
        report, private = self.report, bool(getattr(self.app, "privacy", False))
        self.query_one(RiskHeading).show(report, self.error)
        if report is None:
            return
        compact = self.short
        self.query_one(RiskPositions).show(report, self.levels, private=private)
        self.query_one(RiskPortfolio).show(report, private=private, compact=compact)
        self.query_one(RiskLimits).show(report, compact=compact)
        self.query_one(RiskAlerts).show(report)
        self.query_one(RiskChart).show(report.equity_history, report.drawdown_history, private=private)

    # --- the position under the cursor ------------------------------------------------------------

    def position(self, symbol: str | None) -> PositionRisk | None:
        report = self.report
        return next((p for p in report.positions if p.symbol == symbol), None) if report else None

    def selected(self) -> PositionRisk | None:
        """The PositionRisk under the cursor, or None (with a notification) when there is none."""
        key = self.table.cursor_key
        if key is not None and key.startswith("pair:"):
            coin = key.removeprefix("pair:").split("/", 1)[0]
            self.notify(
                f"a carry pair: its legs go together, 'perptui paper carry close {coin}'", severity="warning"
            )
            return None
        found = self.position(key)
        if found is None:
            self.notify("no position selected: the table is empty", severity="warning", timeout=3)
        return found

    def on_live_table_selected(self, event: LiveTable.Selected) -> None:
        event.stop()
        self.action_size_selected()

    def action_size_selected(self) -> None:
        p = self.selected()
        if p is not None:
            self.app.show_pane("sizing")  # type: ignore[attr-defined]  # textual's Widget.app is App; show_pane() is PerptuiApp's
            self.app.pane("sizing").open_symbol(p.symbol)  # type: ignore[attr-defined]  # PerptuiApp.pane(); the sizing pane's own method

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

    def action_reset_breaker(self) -> None:
        self.reset_breaker()

    # --- dialogs and the engine (workers) ---------------------------------------------------------

    def _precision(self, symbol: str) -> tuple[float | None, float | None]:
        """The market's (price tick, amount step) of an open position, None where unknown."""
        p = self.position(symbol)
        return (p.price_tick, p.amount_step) if p is not None else (None, None)

    @work(exclusive=True, group="risk-dialog")
    async def reduce_position(self, symbol: str, open_qty: float) -> None:
        step = self._precision(symbol)[1]
        dialog = FormDialog(
            f"Reduce {symbol}",
            [("Close", "50%")],
            lambda texts: edits.parse_reduce(texts[0], open_qty, step),
            hint=edits.reduce_hint(open_qty, step),
        )
        qty = await self.app.push_screen_wait(dialog)
        if qty is not None:
            await self._close(symbol, qty)

    @work(exclusive=True, group="risk-dialog")
    async def close_position(self, symbol: str, qty: float | None) -> None:
        await self._close(symbol, qty)

    async def _close(self, symbol: str, qty: float | None) -> None:
        p = self.position(symbol)
        if p is None:
            return
        engine = await asyncio.to_thread(self.ctx.paper_engine)
        try:  # what the engine would refuse is said now, not after the confirmation
            rehearsed = await asyncio.to_thread(engine.rehearse, lambda: engine.close(symbol, qty))
        except UsageError as exc:
            self.notify(f"not closed: {exc}", severity="error", timeout=8)
            return
        lines = edits.close_lines(p, qty)
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
        # The calculator's wording: imported on first use, not before the first frame.
        from perptui.ui.panes.risk import stop as stops

        tick = self._precision(symbol)[0]
        initial = "" if stop is None else fmt.price_input(stop, tick)
        answer = await self.app.push_screen_wait(
            FormDialog(
                f"Stop-loss of {symbol}",
                [("Stop price", initial)],
                lambda texts: edits.parse_stop(texts[0], side, mark, tick),
                hint=edits.stop_hint(mark, tick),
            )
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
        market = await asyncio.to_thread(engine.book.get, symbol)  # its tick, as the engine knows it
        max_risk = self.ctx.settings.risk.max_risk_pct / 100 or None
        market_tick = market.price_tick if market is not None else None
        change = stops.change_of(self.report, symbol, stop, price, tick=market_tick, max_risk=max_risk)
        if change is None:
            self.notify(f"{symbol} is no longer open", severity="warning", timeout=4)
            return
        dialog = ConfirmDialog(
            stops.title(change),
            stops.lines(change),
            warnings=[*stops.warnings(change), *flagged],
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

    @work(exclusive=True, group="risk-dialog")
    async def reset_breaker(self) -> None:
        report = self.report
        if report is None or not report.breaker.tripped:
            self.notify("the circuit breaker is not tripped", timeout=3)
            return
        warnings = edits.reset_warnings(report.breaker)
        dialog = ConfirmDialog(
            "Reset the circuit breaker?", edits.RESET_LINES, warnings=warnings, action="reset it"
        )
        if not await self.app.push_screen_wait(dialog):
            self.notify("the circuit breaker stays tripped", timeout=3)
            return
        engine = await asyncio.to_thread(self.ctx.paper_engine)
        await asyncio.to_thread(engine.reset_breaker)
        self.notify("circuit breaker reset: armed again against new losses from now", timeout=5)
        self.refresh_data(soon=True)
