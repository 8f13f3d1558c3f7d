"""The demo market's list: names that say DEMO, spot markets, steps, fees, tiers, symbol resolution, and
an import that stays light."""

from __future__ import annotations

import asyncio
import itertools
import math
import subprocess
import sys

import pytest

from perptui.domain.errors import AuthenticationError, UnknownSymbol
from perptui.domain.symbols import resolve_symbol, unified_perp
from perptui.domain.types import Market
from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.services.demo.universe import POL_INTERVAL_CHANGE_MS
from perptui.services.marketdata import MarketData
from tests.conftest import FROZEN_NOW_MS

run = asyncio.run


@pytest.fixture(scope="module")
def demo() -> DemoExchange:
    return DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS))


@pytest.fixture(scope="module")
def markets(demo: DemoExchange) -> dict[str, Market]:
    return {m.symbol: m for m in run(demo.load_markets())}


def test_is_a_marketdata_source_named_demo(demo: DemoExchange) -> None:
    assert isinstance(demo, MarketData)
    assert demo.name == "demo" and demo.is_demo is True
    assert run(demo.close()) is None


def test_at_least_30_usdt_perps_all_named_demo_each_with_spot(markets: dict[str, Market]) -> None:
    assert len(markets) >= 30
    for symbol, m in markets.items():
        assert "DEMO" in m.symbol and "DEMO" in m.base and "DEMO" in m.id
        assert (m.quote, m.settle, m.contract_size, m.exchange) == ("USDT", "USDT", 1.0, "demo")
        assert symbol == f"{m.base}/USDT:USDT" and m.id == f"{m.base}USDT"
        assert unified_perp(m.id) == symbol  # exchange ids read back the way real ones do
        assert m.spot_symbol == f"{m.base}/USDT"
        assert m.active and not m.tiers_approximate
    assert unified_perp("BTCDEMOUSDT") == "BTCDEMO/USDT:USDT" and "BTCDEMO/USDT:USDT" in markets


def test_steps_ticks_fees_and_minimums_look_like_binance(
    demo: DemoExchange, markets: dict[str, Market]
) -> None:
    tickers = run(demo.fetch_tickers())
    for symbol, m in markets.items():
        assert m.price_tick is not None and m.amount_step is not None and m.max_qty is not None
        price = tickers[symbol].last
        assert price is not None
        assert math.isclose(10 ** round(math.log10(m.price_tick)), m.price_tick)  # 0.1, 0.01, 1e-5 ...
        assert 1e-7 < m.price_tick / price < 2e-3, symbol  # a tick is a small fraction of the price
        assert m.min_qty == m.amount_step
        assert m.amount_step * price < 250, symbol  # the smallest order suits a small account
        assert m.max_qty * price > 1e5, symbol  # far above any small account's order
        assert m.taker_fee in (0.0004, 0.00045, 0.0005) and m.maker_fee in (0.0, 0.0002), symbol
        assert m.min_notional in (5.0, 10.0, 20.0)
    notionals = [m.min_notional for m in markets.values()]
    assert notionals.count(5.0) > len(notionals) / 2
    assert {m.taker_fee for m in markets.values()} != {0.0005}  # a few differ, as on real exchanges
    assert markets["BTCDEMO/USDT:USDT"].max_leverage == 125
    assert min(m.max_leverage or 0 for m in markets.values()) == 20


def test_tiers_are_contiguous_brackets_with_binance_cum(markets: dict[str, Market]) -> None:
    for symbol, m in markets.items():
        tiers = m.tiers
        assert tiers[0].min_notional == 0 and tiers[0].maint_amount == 0
        assert tiers[0].max_leverage == m.max_leverage
        for prev, tier in itertools.pairwise(tiers):
            assert tier.min_notional == prev.max_notional, symbol  # no gaps, no overlaps
            assert tier.mmr > prev.mmr and tier.max_leverage < prev.max_leverage
            assert tier.maint_amount == pytest.approx(
                prev.maint_amount + tier.min_notional * (tier.mmr - prev.mmr), abs=1e-6
            )
        for tier in tiers:
            assert tier.max_notional > tier.min_notional
            assert tier.mmr < 1 / tier.max_leverage  # maintenance below initial margin
        assert tiers[-1].mmr == 0.5 and tiers[-1].max_leverage == 1
    btc = markets["BTCDEMO/USDT:USDT"].tiers
    assert 8 <= len(btc) <= 12 and (btc[0].mmr, btc[0].max_leverage) == (0.004, 125)
    small = markets["1000BONKDEMO/USDT:USDT"].tiers
    assert len(small) < len(btc) and small[0].max_leverage == 20


def test_maintenance_margin_is_continuous_across_brackets(markets: dict[str, Market]) -> None:
    """What the cum formula is for: notional x mmr - cum does not jump at a bracket edge."""
    for m in markets.values():
        for prev, tier in itertools.pairwise(m.tiers):
            edge = tier.min_notional
            below = edge * prev.mmr - prev.maint_amount
            above = edge * tier.mmr - tier.maint_amount
            assert above == pytest.approx(below, rel=1e-9)


def test_fetch_leverage_tiers_match_the_markets(demo: DemoExchange, markets: dict[str, Market]) -> None:
    everything = run(demo.fetch_leverage_tiers())
    assert set(everything) == set(markets)
    assert all(everything[s] == list(markets[s].tiers) for s in markets)
    assert list(run(demo.fetch_leverage_tiers(["ETHDEMO"]))) == ["ETHDEMO/USDT:USDT"]


def test_the_names_a_user_types_all_resolve(demo: DemoExchange) -> None:
    for name in ("BTCDEMO", "btcdemo", "BTCDEMOUSDT", "BTCDEMO-USDT", "BTCDEMO/USDT:USDT", "BTCDEMO/USDT"):
        assert list(run(demo.fetch_tickers([name]))) == ["BTCDEMO/USDT:USDT"], name


def test_real_names_mean_their_demo_twin(demo: DemoExchange) -> None:
    """A trader on the demo market types the names they know: BTC is BTCDEMO there."""
    for name in ("BTC", "btcusdt", "BTC/USDT:USDT"):
        assert list(run(demo.fetch_tickers([name]))) == ["BTCDEMO/USDT:USDT"], name


def test_unknown_symbols_suggest_the_demo_market(demo: DemoExchange) -> None:
    with pytest.raises(UnknownSymbol) as info:
        run(demo.fetch_funding_history("BTCDEM", 0))
    assert "BTCDEMO/USDT:USDT" in info.value.suggestions
    assert "demo" in str(info.value)
    with pytest.raises(UnknownSymbol) as info:
        run(demo.fetch_ohlcv("PEPE/USDT:USDT", "1h", 0))
    assert info.value.suggestions[0] == "1000PEPEDEMO/USDT:USDT"
    with pytest.raises(UnknownSymbol):
        run(demo.fetch_tickers(["NOPE"]))


def test_resolve_symbol_keeps_its_behaviour_for_real_symbols() -> None:
    real = ["BTC/USDT:USDT", "BTC/USDC:USDC", "ETH/USDT:USDT", "SOL/USDT:USDT"]
    assert resolve_symbol("BTCUSDT", real) == "BTC/USDT:USDT"
    assert resolve_symbol("btc/usdt:usdt", real) == "BTC/USDT:USDT"
    assert resolve_symbol("ETH-USDT", real) == "ETH/USDT:USDT"
    with pytest.raises(UnknownSymbol) as info:
        resolve_symbol("BTC/USTD:USDT", real, "binanceusdm")
    assert info.value.suggestions[0] == "BTC/USDT:USDT"
    with pytest.raises(UnknownSymbol) as info:  # a bare base with two markets stays ambiguous
        resolve_symbol("BTC", real)
    assert set(info.value.suggestions) == {"BTC/USDT:USDT", "BTC/USDC:USDC"}
    assert resolve_symbol("SOL", real) == "SOL/USDT:USDT"  # ... and resolves when it is unique
    with pytest.raises(UnknownSymbol) as info:
        resolve_symbol("ETHH", real)
    assert info.value.suggestions[0] == "ETH/USDT:USDT"


def test_the_demo_market_has_no_exchange_account(demo: DemoExchange) -> None:
    for call in (demo.fetch_balance, demo.fetch_positions):
        with pytest.raises(AuthenticationError) as info:
            run(call())
        message = str(info.value)
        assert "\n" not in message and "demo" in message and "paper account" in message


def test_funding_interval_of_a_market_is_the_one_in_force_at_the_clock() -> None:
    before = DemoExchange(seed=7, clock=FrozenClock(POL_INTERVAL_CHANGE_MS - 1))
    after = DemoExchange(seed=7, clock=FrozenClock(POL_INTERVAL_CHANGE_MS))
    pol = "POLDEMO/USDT:USDT"
    assert {m.symbol: m.funding_interval_hours for m in run(before.load_markets())}[pol] == 8
    assert {m.symbol: m.funding_interval_hours for m in run(after.load_markets())}[pol] == 4


def test_importing_the_demo_market_pulls_in_no_heavy_library() -> None:
    code = (
        "import sys, asyncio\n"
        "from perptui.services.demo import DemoExchange\n"
        "from perptui.services.clock import FrozenClock\n"
        "ex = DemoExchange(seed=7, clock=FrozenClock(1_748_736_000_000))\n"
        "asyncio.run(ex.fetch_tickers(['BTCDEMO']))\n"
        "heavy = [m for m in ('pandas', 'scipy', 'ccxt', 'textual') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "", f"imported: {done.stdout.strip()}"
