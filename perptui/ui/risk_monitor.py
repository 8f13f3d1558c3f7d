"""The risk monitor's poll, off the UI thread: the account's marks, funding and candles, then the report.
No Textual here; the risk pane runs ``RiskMonitor.poll`` in a worker, one poll after another.

The first poll opens the account: the paper engine (shared with the sizing pane's orders) on the
exchange's markets, with the start-up catch-up (the funding prints and stops that fell due while the
app was closed, settled from the fetched and cached history in time order); or, read-only, the
exchange's account. Every poll then brings marks and funding (the paper engine fills stops, liquidates
and settles funding on them) and builds the report, which logs new alerts and may trip the breaker.
While the pane is hidden and the account holds nothing, a poll does no more than look.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perptui.domain.errors import PerptuiError
from perptui.ui.reads import on_source, read_markets, source_of

if TYPE_CHECKING:
    from perptui.services.marketdata import MarketData
    from perptui.services.paper.events import PaperEvent
    from perptui.services.risk import RiskContext, RiskReport
    from perptui.ui.context import AppContext


@dataclass(frozen=True, slots=True)
class Levels:
    """What the report does not carry of a position: its orders and leverage (None = not known)."""

    stop: float | None
    take_profits: tuple[tuple[float, float], ...]  # (price, qty) of each level
    leverage: float | None


@dataclass(frozen=True, slots=True)
class Polled:
    report: RiskReport | None  # None: skipped (hidden, nothing held) or failed (``error``)
    events: tuple[PaperEvent, ...]  # fills, liquidations and funding the paper engine settled
    error: str | None = None
    caught_up: bool = False  # this poll ran the start-up catch-up (its events say what fell due)
    levels: dict[str, Levels] = field(default_factory=dict)  # by symbol


class RiskMonitor:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.risk: RiskContext | None = None

    async def poll(self, *, visible: bool) -> Polled:
        ctx = self.ctx
        source = await source_of(ctx)
        events: list[PaperEvent] = []
        caught_up = False
        try:
            if self.risk is None:
                self.risk, events = await self._open(source)
                caught_up = True
            risk = self.risk
            if not visible and not await asyncio.to_thread(_holds_anything, risk):
                return Polled(None, tuple(events), caught_up=caught_up)
            if source is None:
                from perptui.services.risk import refresh_inputs

                await refresh_inputs(risk, None)
            else:
                events += await on_source(source, lambda: _refresh(risk, source))
            from perptui.services.risk import build_report

            report = await asyncio.to_thread(build_report, risk)
            levels = await asyncio.to_thread(_levels, risk)
        except PerptuiError as exc:
            return Polled(None, tuple(events), str(exc), caught_up)
        return Polled(report, tuple(events), caught_up=caught_up, levels=levels)

    async def _open(self, source: MarketData | None) -> tuple[RiskContext, list[PaperEvent]]:
        from perptui.services.risk import open_context

        ctx = self.ctx
        store = await asyncio.to_thread(ctx.store)
        if ctx.account_mode == "exchange":
            return await asyncio.to_thread(open_context, ctx.settings, store, ctx.clock), []
        engine = await asyncio.to_thread(ctx.paper_engine)
        markets, _, _ = await read_markets(ctx, source, ctx.exchange_name)
        engine.book.use(markets)
        now = ctx.clock.now_ms()
        if source is not None:
            from perptui.services.paper.live import fetch_history

            await on_source(source, lambda: fetch_history(engine, source, now))
        events = await asyncio.to_thread(engine.catch_up, now)
        risk = await asyncio.to_thread(open_context, ctx.settings, store, ctx.clock, engine=engine)
        return risk, events


async def _refresh(risk: RiskContext, source: MarketData) -> list[PaperEvent]:
    from perptui.services.risk import refresh_inputs

    return await refresh_inputs(risk, source)


def _holds_anything(risk: RiskContext) -> bool:
    """Open positions or resting orders (paper), or positions at the last read (exchange)."""
    if risk.engine is not None:
        return bool(risk.engine.watched_symbols())
    return risk.read is None or bool(risk.read.positions)


def _levels(risk: RiskContext) -> dict[str, Levels]:
    if risk.engine is not None:
        return {
            p.symbol: Levels(p.stop, tuple((t.price, t.qty) for t in p.take_profits), p.leverage)
            for p in risk.engine.positions()
        }
    held = risk.read.positions if risk.read is not None else ()
    return {p.symbol: Levels(None, (), p.leverage) for p in held}
