"""``Watcher``: the risk monitor and the alert rules without the terminal app (``perptui watch``).

Opened once (the paper account on the configured market, with the start-up catch-up of what fell due
while nothing ran; or, read-only, the exchange's account), then one ``tick`` per interval: marks and
funding (the paper engine fills stops, liquidates and settles funding on them), the risk report (which
logs limit alerts and trips the breaker, as the app's monitor does), the observation, the rules' step
and the delivery. Each tick's events go to ``emit`` as dicts, one JSON line each for ``watch``.

Time comes from the clock given, so a test drives an hour of ticks without waiting for one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from perptui.domain.errors import ExchangeUnavailable
from perptui.domain.timeframes import iso_utc
from perptui.services.alerts.engine import AlertEngine, Recorded
from perptui.services.alerts.observe import observe

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.alerts.notify import Notifier
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.paper.events import PaperEvent
    from perptui.services.risk import RiskContext
    from perptui.services.store import Store
    from perptui.services.trading.trader import LiveTrader

Emit = Callable[[dict[str, Any]], None]


class Watcher:
    def __init__(
        self, settings: Settings, store: Store, clock: Clock, notifier: Notifier | None, emit: Emit
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.engine = AlertEngine(settings, store, notifier)
        self.emit = emit
        self.source: MarketData | None = None
        self.ctx: RiskContext | None = None
        #: Live trading on: reads back the exchange's stops for the no-stop rule (never orders here).
        self.trader: LiveTrader | None = None

    async def open(self) -> None:
        """The account and the source; the paper account first settles what fell due since it last ran."""
        from perptui.services.risk import open_context
        from perptui.services.sources import open_market_data

        settings, store, clock = self.settings, self.store, self.clock
        self.source = None if settings.offline else open_market_data(settings, store, clock)
        if settings.account == "exchange":
            self.ctx = open_context(settings, store, clock)
            from perptui.services.trading.gate import is_live

            if is_live(settings) and self.source is not None:
                from perptui.services.trading.trader import LiveTrader

                self.trader = LiveTrader(settings, store, clock, self.source)  # type: ignore[arg-type]  # ccxt
                self._say("watching", f"the {settings.exchange_name} account (live trading: stops checked)")
                return
            self._say("watching", f"the {settings.exchange_name} account (read-only)")
            return
        from perptui.services.paper import live, open_engine

        markets = []
        if self.source is not None:
            try:
                markets = await self.source.load_markets()
                await asyncio.to_thread(store.upsert_markets, settings.exchange_name, markets, clock.now_ms())
            except ExchangeUnavailable as exc:
                self._say("unreachable", str(exc))
        engine = await asyncio.to_thread(open_engine, settings, store, clock, markets)
        self.ctx = open_context(settings, store, clock, engine=engine)
        if self.source is not None and markets:
            for event in await live.prepare(engine, self.source):
                self._event(event)
        self._say("watching", f"the paper account on {engine.exchange}")

    async def tick(self) -> list[Recorded]:
        """One poll: refresh, report, rules, delivery. Never raises for an unreachable exchange: the
        report then rests on the last known marks and the data rules see its age."""
        from perptui.services.risk import build_report, refresh_inputs

        assert self.ctx is not None, "open() first"
        ctx = self.ctx
        events = await refresh_inputs(ctx, self.source, history=False)
        for event in events:
            self._event(event)
        report = await asyncio.to_thread(build_report, ctx, garch=False)
        stops = await self._live_stops()
        rules = await asyncio.to_thread(self.engine.rules)
        obs = await observe(ctx, report, events, self.source, rules, stops)
        recorded = await self.engine.run(obs)
        for r in recorded:
            line = r.alert.notification.as_dict()
            line["held"] = r.alert.held
            line["delivered"] = [d.as_dict() for d in r.deliveries]
            self.emit(line)
        return recorded

    async def _live_stops(self) -> dict[str, bool] | None:
        """Live trading: which positions a stop covers, read back now; None when it cannot be read."""
        if self.trader is None:
            return None
        from perptui.domain.errors import PerptuiError

        try:
            return await self.trader.stops()
        except PerptuiError as exc:
            self._say("unreachable", f"the live stops could not be read: {exc}")
            return None

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        """Tick every ``interval_s`` until ``stop`` is set (SIGTERM, SIGINT); a tick in progress ends
        first, so nothing is left half-recorded."""
        while not stop.is_set():
            await self.tick()
            try:
                await asyncio.wait_for(stop.wait(), interval_s)
            except TimeoutError:
                continue

    async def close(self) -> None:
        if self.source is not None:
            await self.source.close()
            self.source = None
        self._say("stopped", "the watch ended")

    def _event(self, event: PaperEvent) -> None:
        self.emit({"time": iso_utc(event.time), "event": event.kind, "symbol": event.symbol,
                   "message": event.message})  # fmt: skip

    def _say(self, what: str, message: str) -> None:
        self.emit({"time": iso_utc(self.clock.now_ms()), "event": what, "message": message})
