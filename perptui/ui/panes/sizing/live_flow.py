"""Sending the sizing pane's ticket to the exchange (live trading on): the orders of the ticket
(``plan_orders``), refused at once while the circuit breaker is tripped, shown every one in a typed
confirmation (``LiveOrderDialog``: the symbol typed, or y; never a bare Enter), then placed, and what
became of each order said. An entry left without its stop raises the alarm (``NakedDialog``): close it
now, retry the stop, or keep it. Run from the pane's dialog worker; nothing here blocks the UI (the
trader's calls are awaited, its store reads go to threads)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.presentation.live_orders import plan_lines
from perptui.services.trading.report import outcome_lines, outcome_severity, sent_line
from perptui.ui.live import banner
from perptui.ui.panes.sizing.order import order_warnings
from perptui.ui.widgets.live_dialogs import LiveOrderDialog, NakedDialog

if TYPE_CHECKING:
    from textual.app import App

    from perptui.domain.live.plan import OrderPlan
    from perptui.domain.paper import OrderRequest
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market
    from perptui.services.trading.trader import LiveTrader, PlaceOutcome
    from perptui.ui.context import AppContext


async def send_live_order(
    app: App[object],
    ctx: AppContext,
    result: SizingResult,
    market: Market,
    request: OrderRequest,
    typed: Sequence[str],
) -> None:
    """``typed``: the typed prices far from the mark (``model.typed_price_warnings``)."""
    try:
        trader = await asyncio.to_thread(ctx.live_trader)
        plan = trader.plan(request, market)
        await asyncio.to_thread(trader.check_breaker)
    except UsageError as exc:
        app.notify(f"live order refused: {exc}", severity="error", timeout=10)
        return
    dialog = order_dialog(plan, market, banner(ctx), order_warnings(result, typed, ()))
    if not await app.push_screen_wait(dialog):
        app.notify("nothing sent", timeout=3)
        return
    try:
        outcome = await trader.place(plan)
    except UsageError as exc:
        app.notify(f"live order refused: {exc}", severity="error", timeout=10)
        return
    except Exception as exc:  # the trader says what it can; anything else is said here, not swallowed
        app.notify(f"live order failed: {exc}", severity="error", timeout=12)
        return
    say_outcome(app, outcome)
    if outcome.naked:
        await handle_naked(app, ctx, trader, outcome)


def order_dialog(plan: OrderPlan, market: Market, banner: str, warnings: Sequence[str]) -> LiveOrderDialog:
    """Every order of ``plan`` as it will be sent; the base, the exchange's symbol or y sends them."""
    return LiveOrderDialog(
        f"Send these {len(plan.orders)} orders to {plan.exchange}?",
        plan_lines(plan, market),
        words=(market.base, market.id),
        allow_y=True,
        banner=banner,
        warnings=warnings,
        action="send them",
    )


def say_outcome(app: App[object], outcome: PlaceOutcome) -> None:
    severity = outcome_severity(outcome)
    app.notify(
        "\n".join(outcome_lines(outcome)),
        title=f"live {outcome.plan.symbol}",
        severity=severity,  # type: ignore[arg-type]  # "information" or "error"
        timeout=15 if severity == "error" else 8,
    )


async def handle_naked(app: App[object], ctx: AppContext, trader: LiveTrader, outcome: PlaceOutcome) -> None:
    """The entry is in and no stop protects it: ask, and act, until the stop is in, the position is
    closed, or the trader keeps it."""
    plan = outcome.plan
    stop = outcome.stop
    lines = [
        f"The {plan.side} {plan.symbol} entry is on the exchange; its stop at {plan.stop.trigger:g} is not.",
        sent_line(stop) if stop is not None else "the stop was not sent",
        "The risk pane flags the position until a stop covers it.",
    ]
    while True:
        app.bell()
        choice = await app.push_screen_wait(NakedDialog(plan.symbol, lines, banner=banner(ctx)))
        if choice == "keep":
            app.notify(f"{plan.symbol} kept WITHOUT A STOP", severity="error", timeout=15)
            return
        try:
            if choice == "close":
                await close_now(app, trader, plan)
                return
            if await retry_stop(app, trader, plan):
                return
        except Exception as exc:  # UsageError or a network failure: said, then asked again
            app.notify(str(exc) or type(exc).__name__, severity="error", timeout=12)
        lines = [*lines[:1], "the last try failed: see the notification"]


async def close_now(app: App[object], trader: LiveTrader, plan: OrderPlan) -> None:
    book = await trader.book()
    position = next((p for p in book.positions if p.symbol == plan.symbol), None)
    if position is None:
        app.notify(f"no open position on {plan.symbol}: nothing to close", severity="warning", timeout=8)
        return
    sent = await trader.close(position)
    app.notify(sent_line(sent), severity="information" if sent.placed else "error", timeout=12)


async def retry_stop(app: App[object], trader: LiveTrader, plan: OrderPlan) -> bool:
    """Send the stop again (or set the position's stop where the venue keeps it there). True: it is in."""
    stop = plan.stop
    if stop.attached and stop.trigger is not None:
        book = await trader.book()
        position = next((p for p in book.positions if p.symbol == plan.symbol), None)
        if position is None:
            app.notify(f"no open position on {plan.symbol}: no stop needed", severity="warning", timeout=8)
            return True
        await trader.move_position_stop(position, stop.trigger)
        app.notify(f"stop {stop.trigger:g} set on the {plan.symbol} position", timeout=8)
        return True
    sent = await trader.send(stop)
    app.notify(sent_line(sent), severity="information" if sent.placed else "error", timeout=12)
    return sent.placed
