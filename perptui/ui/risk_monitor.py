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
    from perptui.config.settings import Settings
    from perptui.domain.alerts.state import Alert
    from perptui.services.alerts.engine import AlertEngine
    from perptui.services.alerts.notify import Notifier
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
    alerts: tuple[Alert, ...] = ()  # what the alert rules fired or cleared this poll (held ones included)
    #: Rules whose alerts the pane already tells another way (a risk limit, a paper event): delivered to
    #: the targets, not toasted twice.
    told_elsewhere: frozenset[str] = frozenset()


#: How often a poll asks the exchange for the funding and marks of the perps the alert rules watch
#: (the positions' own marks come every poll); between, those figures are unknown to the rules, which
#: then neither fire nor clear on them.
FUNDING_EVERY_MS = 30_000
#: Rule kinds the pane already tells on screen: the risk limits of the same meaning (with the [risk]
#: thresholds) and the paper engine's fills. Their rules still deliver to the phone.
TOLD_ELSEWHERE = frozenset({"no_stop", "liq_distance_pct", "margin_ratio", "daily_loss_pct", "drawdown_pct",
                            "stop_filled", "take_profit_filled"})  # fmt: skip


class RiskMonitor:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.risk: RiskContext | None = None
        self.alert_engine: AlertEngine | None = None
        self.alert_error: str | None = None  # why the alert rules cannot run (a bad target URL ...)
        self._funding_at: int | None = None
        self._stops_at: int | None = None
        #: Live trading: whether a stop covers each exchange position (read back every 30 s).
        self._stops: dict[str, bool] | None = None
        self._deliveries: set[asyncio.Task[object]] = set()

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
            alerts, told = await self._alerts(risk, report, events, source)
        except PerptuiError as exc:
            return Polled(None, tuple(events), str(exc), caught_up)
        return Polled(
            report, tuple(events), caught_up=caught_up, levels=levels, alerts=alerts, told_elsewhere=told
        )

    async def _alerts(
        self, risk: RiskContext, report: RiskReport, events: list[PaperEvent], source: MarketData | None
    ) -> tuple[tuple[Alert, ...], frozenset[str]]:
        """The alert rules on this poll: stepped and recorded now, delivered in the background (a slow
        target never holds up the next poll)."""
        from perptui.services.alerts.engine import AlertEngine
        from perptui.services.alerts.observe import observe

        if self.alert_engine is None:
            if self.alert_error is not None:
                return (), frozenset()
            store = await asyncio.to_thread(self.ctx.store)
            try:
                notifier = await asyncio.to_thread(_notifier, self.ctx.settings)
            except PerptuiError as exc:
                self.alert_error = str(exc)
                return (), frozenset()
            self.alert_engine = AlertEngine(self.ctx.settings, store, notifier)
        engine = self.alert_engine
        rules = await asyncio.to_thread(engine.rules)
        told = frozenset(r.id for r in rules if r.kind in TOLD_ELSEWHERE)
        now = report.as_of
        ask = self._funding_at is None or now - self._funding_at >= FUNDING_EVERY_MS
        if ask and source is not None:
            self._funding_at = now
        if self.ctx.live and (self._stops_at is None or now - self._stops_at >= FUNDING_EVERY_MS):
            self._stops_at = now
            self._stops = await self._live_stops()
        obs = await observe(risk, report, events, source if ask else None, rules, self._stops)
        recorded = await asyncio.to_thread(engine.evaluate, obs)
        if recorded:
            task = asyncio.ensure_future(engine.deliver(recorded))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        return tuple(alert for _, alert in recorded), told

    async def _live_stops(self) -> dict[str, bool] | None:
        """Which live positions a stop covers, for the no-stop rule; None when it cannot be read now."""
        try:
            trader = await asyncio.to_thread(self.ctx.live_trader)
            return await trader.stops()
        except PerptuiError:
            return None

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


def _notifier(settings: Settings) -> Notifier:
    """The [alerts] targets (importing Apprise only when there is one); a bad URL raises naming its key."""
    from perptui.services.alerts.notify import Notifier

    return Notifier.from_settings(settings)


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
