"""A stand-in for ``LiveTrader`` at the AppContext seam (``ctx.trader_factory``): the trader's methods,
answering with the domain's own objects and recording what was asked. Not a mock of ccxt: the real
trader is tested against the loopback exchange; this one lets the UI's keyboard flows be driven."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from perptui.config.settings import Settings
from perptui.domain.errors import UsageError
from perptui.domain.live.book import OpenOrder, protection_of
from perptui.domain.live.plan import LiveOrder, OrderPlan, plan_orders
from perptui.domain.paper import OrderRequest
from perptui.domain.types import Market, Position
from perptui.services.trading.trader import KillOutcome, LiveBook, PlaceOutcome, Sent
from tests.conftest import FROZEN_NOW_MS

BTC = "BTCDEMO/USDT:USDT"


def live_settings(base_url: str, **extra: Any) -> Settings:
    return Settings.model_validate(
        {
            "account": "exchange",
            "exchange": "binanceusdm",
            "api_base_url": base_url,
            "api_key": "loopback-key-live-ui",
            "api_secret": "loopback-secret-live-ui",
            "network": {"max_retries": 0, "timeout_ms": 60_000, "backoff_s": 0.01},
            "ui": {"refresh_s": 600},
            "trading": {"live": True},
            **extra,
        }
    )


def sample_book() -> LiveBook:
    """A long BTC protected by its stop and a take-profit (one ours, one not), and a short ETH with none."""
    btc = Position(BTC, "long", 0.01, 100_000.0, mark_price=101_000.0, unrealized_pnl=10.0)
    eth = Position("ETHDEMO/USDT:USDT", "short", 0.5, 2_500.0, mark_price=2_480.0, unrealized_pnl=10.0)
    stop = OpenOrder("11", "pt0123456789ab-s", BTC, "sell", "stop_market", 0.01, None, 98_000.0, True, True)
    tp = OpenOrder("12", "manual-tp", BTC, "sell", "take_profit_market", 0.01, None, 105_000.0, True, True)
    orders = (stop, tp)
    positions = (btc, eth)
    return LiveBook(positions, orders, tuple(protection_of(p, list(orders)) for p in positions))


def empty_book() -> LiveBook:
    return LiveBook((), (), ())


@dataclass
class FakeTrader:
    """``naked``: the stop of every placed ticket is rejected (the entry stays in without it)."""

    naked: bool = False
    books: list[LiveBook] = field(default_factory=lambda: [sample_book()])
    breaker: str = ""
    route: Any = field(default_factory=lambda: SimpleNamespace(attach_stop=False))
    placed: list[OrderPlan] = field(default_factory=list)
    sent: list[LiveOrder] = field(default_factory=list)
    closed: list[Position] = field(default_factory=list)
    cancelled: list[OpenOrder] = field(default_factory=list)
    moved: list[tuple[str, float]] = field(default_factory=list)
    kills: int = 0

    def plan(self, req: OrderRequest, market: Market) -> OrderPlan:
        """As the trader plans: the domain's own plan (the fake stands in only for the exchange)."""
        return plan_orders(req, market, confirmed_at=FROZEN_NOW_MS, attach_stop=self.route.attach_stop)

    def check_breaker(self) -> None:
        if self.breaker:
            raise UsageError(self.breaker)

    async def place(self, plan: OrderPlan) -> PlaceOutcome:
        self.placed.append(plan)
        entry = Sent(plan.entry, "ok", {"id": "900", "status": "closed"})
        protective = tuple(
            Sent(o, "rejected", error="ReduceOnly Order is rejected")
            if self.naked and o.leg == "stop"
            else Sent(o, "ok", {"id": f"9{i}"})
            for i, o in enumerate(plan.protective, start=1)
        )
        return PlaceOutcome(plan, entry, protective, naked=self.naked)

    async def reconcile(self) -> list[str]:
        return []  # nothing lost to look up

    async def book(self, symbols: list[str] | None = None) -> LiveBook:
        return self.books[0] if len(self.books) == 1 else self.books.pop(0)

    async def send(self, order: LiveOrder) -> Sent:
        self.sent.append(order)
        return Sent(order, "ok", {"id": "950"})

    async def close(self, position: Position, qty: float | None = None) -> Sent:
        self.closed.append(position)
        order = LiveOrder("close", "close", "ptffffffffffff-c", position.symbol, "X", "sell", "market", 1, 1)
        return Sent(order, "ok", {"id": "960"})

    async def cancel(self, order: OpenOrder) -> dict[str, Any]:
        self.cancelled.append(order)
        return {"id": order.id}

    async def move(self, order: OpenOrder, trigger: float, position: Position) -> Sent:
        self.moved.append((order.id, trigger))
        live = LiveOrder(
            "stop", "stop", "pt0123456789ab-sr2", order.symbol, "X", order.side, "stop_market", 1, 1
        )
        return Sent(live, "ok", {"id": "970"})

    async def move_position_stop(self, position: Position, trigger: float) -> None:
        self.moved.append((position.symbol, trigger))

    async def kill(self) -> KillOutcome:
        self.kills += 1
        return KillOutcome((BTC,), (), empty_book())
