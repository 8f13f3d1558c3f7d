"""Catch-up after a restart: due funding and stops settled from CACHED history, in time order."""

from __future__ import annotations

from pathlib import Path

import pytest

from perptui.domain.paper import TakeProfitTarget
from perptui.domain.types import Candle, FundingPrint
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, ETH, EX, make_engine, market

HOUR = 3_600_000
T0 = FROZEN_NOW_MS


def flat_bar(i: int, price: float) -> Candle:
    return Candle(T0 + i * HOUR, price, price + 50, price - 50, price, 10.0)


def cache_history(store: Store, symbol: str, bars: list[Candle], prints: list[tuple[int, float]]) -> None:
    store.upsert_ohlcv(EX, symbol, "1h", bars)
    store.upsert_funding(EX, [FundingPrint(symbol, T0 + h * HOUR, rate) for h, rate in prints])


def test_funding_and_a_stop_settle_in_time_order_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    clock = FrozenClock(T0)
    with Store.open(path) as store:
        store.upsert_markets(EX, [market(BTC), market(ETH)], T0)
        engine = make_engine(store, clock, slippage=0.0)
        engine.place_order(OrderRequest(BTC, "long", 0.1, leverage=10, stop=38_000, mark=40_000))
    # perptui is closed for 30 hours; the cache learns what happened meanwhile.
    with Store.open(path) as store:
        bars = [flat_bar(i, 40_000 + i) for i in range(30)]
        bars[20] = Candle(T0 + 20 * HOUR, 40_020, 40_070, 37_500, 38_100, 10.0)  # down bar through the stop
        prints = [(0, 0.0005), (8, 0.0001), (16, 0.0002), (24, 0.0003)]  # 00:00 is not due: opened then
        cache_history(store, BTC, bars, prints)
        clock.set(T0 + 30 * HOUR)
        engine = make_engine(store, clock, slippage=0.0)  # a new process: nothing in memory
        events = engine.catch_up()
        assert [(e.kind, (e.time - T0) / HOUR) for e in events] == [
            ("funding", 8.0),
            ("funding", 16.0),
            ("stop", 20 + 2 / 3),  # the low of the down bar: open -> high -> low -> close
        ]
        # Funding at the mark of the path point before it: the previous bar's close.
        assert events[0].funding is not None and events[0].funding.amount == pytest.approx(
            -0.1 * 40_007 * 0.0001
        )
        assert events[1].funding is not None and events[1].funding.amount == pytest.approx(
            -0.1 * 40_015 * 0.0002
        )
        stop = events[2].fills[0]
        assert stop.price == 38_000 and stop.realized_pnl == pytest.approx(-200.0) and stop.reason == "stop"
        assert engine.positions() == [] and len(engine.funding_payments()) == 2  # 24:00 came after the stop
        flows = engine.account.cash_flows()
        assert [f.kind for f in flows] == ["opening", "fee", "funding", "funding", "realized_pnl", "fee"]
        assert [f.time for f in flows] == sorted(f.time for f in flows)  # the ledger in time order
        assert engine.catch_up() == []  # nothing is settled twice


def test_catch_up_resumes_where_the_live_session_stopped(tmp_path: Path) -> None:
    """Marks applied live are checkpointed: catch-up only replays history after them."""
    clock = FrozenClock(T0)
    with Store.open(tmp_path / "cache.db") as store:
        store.upsert_markets(EX, [market(BTC)], T0)
        engine = make_engine(store, clock, slippage=0.0)
        engine.place_order(
            OrderRequest(
                BTC, "short", 0.1, leverage=10, take_profits=(TakeProfitTarget(39_000),), mark=40_000
            )
        )
        # A wick below the take-profit at 02:00, before the live session's last mark at 03:00 (which
        # saw 40,100): already in the past for the book, so not replayed.
        bars = [flat_bar(i, 40_100) for i in range(8)]
        bars[2] = Candle(T0 + 2 * HOUR, 40_100, 40_150, 38_900, 40_100, 1.0)
        bars[5] = Candle(T0 + 5 * HOUR, 40_100, 40_150, 38_950, 39_000, 1.0)  # after: replayed
        cache_history(store, BTC, bars, [])
        clock.set(T0 + 3 * HOUR)
        engine.on_marks({BTC: 40_100})
        clock.set(T0 + 8 * HOUR)
        events = make_engine(store, clock, slippage=0.0).catch_up()
        assert [(e.kind, (e.time - T0) // HOUR) for e in events] == [("take_profit", 5)]
        assert events[0].fills[0].price == 39_000


def test_catch_up_fills_resting_limits_and_liquidates_from_history(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    with Store.open(tmp_path / "cache.db") as store:
        store.upsert_markets(EX, [market(BTC), market(ETH)], T0)
        engine = make_engine(store, clock, slippage=0.0)
        engine.place_order(OrderRequest(ETH, "long", 1, price=1_900, leverage=20, mark=2_000))
        cache_history(
            store, ETH, [flat_bar(i, p) for i, p in enumerate([2_000, 1_940, 1_890, 1_700, 1_700])], []
        )
        clock.set(T0 + 5 * HOUR)
        events = make_engine(store, clock, slippage=0.0).catch_up()
        kinds = [e.kind for e in events]
        assert kinds == ["limit", "liquidation"]
        assert events[0].fills[0].price == 1_900 and events[0].fills[0].liquidity == "maker"
        lp = (1_900 / 20 - 1_900) / (0.004 - 1)  # isolated long at 20x, cum 0
        assert events[1].fills[0].price == pytest.approx(lp)
        assert events[0].time < events[1].time


def test_catch_up_falls_back_to_the_finest_cached_timeframe(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    with Store.open(tmp_path / "cache.db") as store:
        store.upsert_markets(EX, [market(BTC)], T0)
        engine = make_engine(store, clock, slippage=0.0)  # configured 5m; only 1h and 15m cached
        engine.place_order(OrderRequest(BTC, "long", 0.1, leverage=10, stop=39_000, mark=40_000))
        store.upsert_ohlcv(EX, BTC, "1h", [Candle(T0, 40_000, 40_000, 38_000, 38_500, 1)])
        q = 15 * 60_000
        store.upsert_ohlcv(
            EX,
            BTC,
            "15m",
            [Candle(T0 + i * q, 40_000, 40_000, 40_000 - i * 400, 40_000 - i * 400, 1) for i in range(4)],
        )
        clock.set(T0 + HOUR)
        (event,) = make_engine(store, clock, slippage=0.0).catch_up()
        assert event.kind == "stop" and event.time == T0 + 3 * q + 2 * (q // 3)  # found on the 15m bars
