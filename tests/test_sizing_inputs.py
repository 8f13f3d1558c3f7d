"""What the calculator reads from the market: ATR from closed cached bars (backfilled from the source
first), and mark and funding live or from the cache, with unknowns left unknown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from perptui.domain.types import FundingPrint, FundingRate, Market, Ticker
from perptui.domain.volatility import atr
from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.services.sizing_inputs import cached_snapshot, closed_candles, live_snapshot, read_atr
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS

run = asyncio.run
H = 3_600_000
BTC = "BTCDEMO/USDT:USDT"
NOW = FROZEN_NOW_MS + 20 * 60_000  # 20 minutes into the 00:00 UTC hourly bar


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def demo(clock: FrozenClock) -> DemoExchange:
    return DemoExchange(seed=7, clock=clock)


@pytest.fixture
def market(demo: DemoExchange) -> Market:
    return next(m for m in run(demo.load_markets()) if m.symbol == BTC)


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store.open(":memory:")
    yield s
    s.close()


# --- ATR ---------------------------------------------------------------------------------------------


def test_read_atr_backfills_the_cache_and_leaves_out_the_forming_bar(
    store: Store, demo: DemoExchange, clock: FrozenClock
) -> None:
    """ATR(14) on 1h bars 20 minutes into an hour: the bars are fetched into the cache (the forming
    00:00 bar too, for the app), but the ATR uses closed bars only: the newest closes at 00:00."""
    assert store.load_ohlcv("demo", BTC, "1h") == []
    reading = run(read_atr(store, "demo", BTC, "1h", 14, NOW, source=demo, clock=clock))
    stored = store.load_ohlcv("demo", BTC, "1h")
    assert stored and stored[-1].time == FROZEN_NOW_MS  # the forming bar is cached ...
    closed = [c for c in stored if c.time + H <= NOW]
    assert len(closed) == len(stored) - 1
    assert reading.last_close_time == FROZEN_NOW_MS  # ... but not used
    assert reading.bars == len(closed) >= 3 * 14 + 1
    assert (reading.timeframe, reading.period) == ("1h", 14)
    assert reading.value is not None and reading.value == pytest.approx(atr(closed, 14))
    assert reading.value != pytest.approx(atr(stored, 14))
    # the same as the source's own closed bars of that window
    since = NOW - (3 * 14 + 2) * H
    source_bars = [c for c in run(demo.fetch_ohlcv(BTC, "1h", since, None, None)) if c.time + H <= NOW]
    assert reading.value == pytest.approx(atr(source_bars, 14))
    # a plausible hourly range for BTC: 0.05% .. 3% of the price
    assert 0.0005 < reading.value / closed[-1].close < 0.03


def test_read_atr_offline_uses_the_cache_alone(store: Store, demo: DemoExchange, clock: FrozenClock) -> None:
    """Without a source the cache is read as it is: the same reading once it holds the bars; with an
    empty cache the ATR is unknown (None), never a guess."""
    empty = run(read_atr(store, "demo", BTC, "1h", 14, NOW))
    assert (empty.value, empty.bars, empty.last_close_time) == (None, 0, None)
    online = run(read_atr(store, "demo", BTC, "1h", 14, NOW, source=demo, clock=clock))
    offline = run(read_atr(store, "demo", BTC, "1h", 14, NOW))
    assert offline == online
    few = run(read_atr(store, "demo", BTC, "1h", 500, NOW))  # far more bars than cached
    assert few.value is None and few.bars > 0


def test_closed_candles_keeps_a_bar_whose_close_is_now(store: Store, demo: DemoExchange) -> None:
    bars = run(demo.fetch_ohlcv(BTC, "1h", FROZEN_NOW_MS - 3 * H, None, None))
    at_close = closed_candles(bars, "1h", FROZEN_NOW_MS)  # the 23:00 bar closes exactly now
    assert at_close[-1].time == FROZEN_NOW_MS - H
    assert closed_candles(bars, "1h", FROZEN_NOW_MS - 1)[-1].time == FROZEN_NOW_MS - 2 * H


# --- mark and funding ---------------------------------------------------------------------------------


def test_live_snapshot_from_the_demo_market_has_mark_and_funding(demo: DemoExchange, market: Market) -> None:
    snap = run(live_snapshot(demo, market, NOW))
    fr = run(demo.fetch_funding_rates([BTC]))[BTC]
    assert snap.mark is not None and snap.mark == fr.mark and snap.mark > 0
    assert snap.funding_rate is not None and snap.funding_rate == fr.rate
    assert snap.funding_interval_hours == 8.0
    assert snap.next_funding_time is not None and snap.next_funding_time > NOW
    assert snap.as_of == fr.timestamp and not snap.cached and snap.market is market


class _Source:
    """A source whose funding feed lacks the mark (as some exchanges' do) or that knows nothing."""

    name = "stub"

    def __init__(self, rates: dict[str, FundingRate], tickers: dict[str, Ticker]) -> None:
        self.rates, self.tickers, self.ticker_calls = rates, tickers, 0

    async def fetch_funding_rates(self, symbols: list[str] | None = None) -> dict[str, FundingRate]:
        return self.rates

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        self.ticker_calls += 1
        return self.tickers


def test_live_snapshot_takes_the_mark_from_tickers_when_funding_lacks_it(market: Market) -> None:
    src = _Source(
        {BTC: FundingRate(BTC, NOW - 5, 0.0001, next_funding_time=NOW + H, interval_hours=4.0)},
        {BTC: Ticker(BTC, NOW - 3, last=60_010.0, mark=60_000.0)},
    )
    snap = run(live_snapshot(src, market, NOW))  # type: ignore[arg-type]
    assert (snap.mark, snap.funding_rate, snap.funding_interval_hours) == (60_000.0, 0.0001, 4.0)
    assert src.ticker_calls == 1 and snap.as_of == NOW - 5


def test_live_snapshot_of_a_source_that_knows_nothing_is_unknown(market: Market) -> None:
    snap = run(live_snapshot(_Source({}, {}), market, NOW))  # type: ignore[arg-type]
    assert (snap.mark, snap.funding_rate, snap.next_funding_time) == (None, None, None)
    assert snap.funding_interval_hours == market.funding_interval_hours  # the market's own listing
    assert snap.as_of == NOW


def test_cached_snapshot_with_an_empty_cache_is_unknown_not_guessed(store: Store, market: Market) -> None:
    snap = cached_snapshot(store, "demo", market, NOW)
    assert snap.mark is None and snap.funding_rate is None and snap.next_funding_time is None
    assert snap.cached and snap.as_of == NOW
    assert snap.funding_interval_hours == market.funding_interval_hours
    no_interval = Market("demo", BTC, "BTCDEMOUSDT", "BTCDEMO", "USDT", "USDT")
    assert cached_snapshot(store, "demo", no_interval, NOW).funding_interval_hours is None


def test_cached_snapshot_reads_the_latest_ticker_and_settled_rate(store: Store, market: Market) -> None:
    t0 = FROZEN_NOW_MS - 16 * H
    store.insert_tickers(
        "demo",
        [
            Ticker(BTC, t0, last=59_000.0, mark=59_010.0),
            Ticker(BTC, t0 + H, last=60_000.0, mark=60_020.0),
            Ticker("ETHDEMO/USDT:USDT", t0 + 2 * H, last=2_500.0, mark=2_501.0),
        ],
    )
    store.upsert_funding("demo", [FundingPrint(BTC, t0, 0.0001), FundingPrint(BTC, t0 + 8 * H, -0.0002)])
    store.upsert_funding("demo", [FundingPrint("ETHDEMO/USDT:USDT", t0 + 9 * H, 0.003)])
    snap = cached_snapshot(store, "demo", market, NOW)
    assert (snap.mark, snap.funding_rate, snap.as_of) == (60_020.0, -0.0002, t0 + H)
    assert snap.cached and snap.next_funding_time is None
    assert cached_snapshot(store, "binanceusdm", market, NOW).mark is None  # another exchange's cache
