"""Hyperliquid through real ccxt against the Hyperliquid loopback (tests/loopback/venues/hyperliquid.py):
margin from the published rule with a worked liquidation, tickers stamped on receipt, perp contexts only,
funding history paged from startTime in answers of at most 500 rows, daily candles from candleSnapshot.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perptui.domain.liquidation import liquidation_price
from perptui.domain.timeframes import DAY_MS
from perptui.services.backfill import backfill_funding, backfill_ohlcv
from perptui.services.exchanges.ccxt_adapter import CcxtExchange
from perptui.services.exchanges.venues.hyperliquid import HyperliquidVenue
from perptui.services.store import Store
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues import common
from tests.loopback.venues.hyperliquid import FUNDING_MAX_ROWS, HyperliquidVenueApp
from tests.loopback.venues.okx_hl_shared import ccxt_fixture

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
BTC, ETH = "BTC/USDC:USDC", "ETH/USDC:USDC"


@pytest.fixture
def hl() -> Iterator[LoopbackExchange]:
    yield from serve(LoopbackExchange(HyperliquidVenueApp(None), mode="hyperliquid"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def exchange_on(server: LoopbackExchange) -> CcxtExchange:
    return CcxtExchange("hyperliquid", api_base_url=server.base_url, timeout_ms=60_000, backoff_base_s=0.01)


def info_types(server: LoopbackExchange) -> list[str]:
    return [r.body["type"] for r in server.requests_to("/info")]


# ------------------------------------------------------------------------------------------- margin


def test_maintenance_margin_is_half_the_initial_margin_at_max_leverage() -> None:
    venue = HyperliquidVenue()
    (tier,) = venue.published_tiers({"limits": {"leverage": {"max": 40}}, "info": {}}) or []
    assert tier.mmr == 0.0125 and tier.max_leverage == 40 and math.isinf(tier.max_notional)
    (tier,) = venue.published_tiers({"limits": {"leverage": {}}, "info": {"maxLeverage": "3"}}) or []
    assert tier.mmr == pytest.approx(1 / 6)
    assert venue.published_tiers({"limits": {}, "info": {}}) is None


@pytest.mark.parametrize(("side", "symbol"), [("long", BTC), ("short", BTC), ("long", ETH)])
def test_worked_liquidation_on_hyperliquids_published_rule(
    hl: LoopbackExchange, side: str, symbol: str
) -> None:
    """Hyperliquid's liquidation price (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations):

        liq_price = price - side x margin_available / position_size / (1 - l x side)

    with side 1 for a long and -1 for a short, ``l = 1 / MAINTENANCE_LEVERAGE`` where the maintenance
    margin is half the initial margin at max leverage (so MAINTENANCE_LEVERAGE = 2 x max leverage;
    max leverage from the asset's meta, https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margining),
    and for isolated margin ``margin_available = isolated_margin - maintenance_margin_required``.
    The fixture's BTC and ETH have maxLeverage 50: 1% maintenance margin.
    """

    async def scenario():
        async with exchange_on(hl) as ex:
            return {m.symbol: m for m in await ex.load_markets()}

    market = asyncio.run(scenario())[symbol]
    assert not market.tiers_approximate and market.max_leverage == 50
    (tier,) = market.tiers
    assert tier.mmr == 0.01

    price = float(ccxt_fixture("markets", "hyperliquid")[symbol]["info"]["markPx"])
    size = 0.5 if symbol == BTC else 8.0
    leverage = 10
    isolated_margin = size * price / leverage
    s = 1 if side == "long" else -1
    l_rate = 1 / (2 * 50)
    margin_available = isolated_margin - size * price * l_rate
    expected = price - s * margin_available / size / (1 - l_rate * s)

    result = liquidation_price(side, size, price, isolated_margin, market.tiers)
    assert result is not None and result.price == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------------------------------ tickers


def test_tickers_are_the_perp_contexts_stamped_on_receipt(hl: LoopbackExchange) -> None:
    app = hl.source

    async def scenario():
        async with exchange_on(hl) as ex:
            await ex.load_markets()
            hl.clear_requests()
            before = int(time.time() * 1000)
            tickers = await ex.fetch_tickers()
            return before, tickers, int(time.time() * 1000)

    before, tickers, after = asyncio.run(scenario())
    # Only the perps' contexts (no spot or HIP-3 reads), the request ccxt's fixture shows for swaps.
    assert set(info_types(hl)) == {"metaAndAssetCtxs"}
    fixture = next(
        e
        for e in ccxt_fixture("request", "hyperliquid")["methods"]["fetchTickers"]
        if e["input"][1] == {"type": "swap"}
    )
    assert hl.requests_to("/info")[0].body == json.loads(fixture["output"])

    assert set(tickers) == set(app.perps)
    for symbol, ticker in tickers.items():
        info = app.perps[symbol]
        assert before <= ticker.timestamp <= after  # Hyperliquid's contexts carry no time
        assert ticker.quote_volume_24h == float(info["dayNtlVlm"])
        assert ticker.mark == float(info["markPx"]) and ticker.index == float(info["oraclePx"])
        assert ticker.last == float(info["midPx"])


# ------------------------------------------------------------------------------------------ funding


def test_funding_history_is_paged_from_start_time_in_answers_of_500(
    hl: LoopbackExchange, store: Store
) -> None:
    app = hl.source
    until = app.now_ms + 1
    since = until - 365 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(hl) as ex:
            await ex.load_markets()
            hl.clear_requests()
            return await backfill_funding(ex, store, BTC, since, until)

    added = asyncio.run(scenario())
    served = [(t, r) for t, r in app.served_funding(BTC) if since <= t < until]
    assert len(served) == 365 * 24  # a year of hourly prints
    assert added == len(served)
    assert [(p.time, p.rate) for p in store.load_funding("hyperliquid", BTC)] == served

    bodies = [r.body for r in hl.requests_to("/info")]
    assert all(b["type"] == "fundingHistory" and b["coin"] == "BTC" for b in bodies)
    fixture_keys = {"type", "coin", "startTime", "endTime", "user"}
    assert all(set(b) <= fixture_keys for b in bodies)
    assert len(bodies) == math.ceil(len(served) / FUNDING_MAX_ROWS)  # the last print is at until - 1
    cursor = since
    for body in bodies:
        assert body["startTime"] == cursor and body["endTime"] == until - 1
        page = [t for t, _ in served if t >= cursor][:FUNDING_MAX_ROWS]
        cursor = page[-1] + 1 if page else cursor


def test_current_funding_rates_are_hourly(hl: LoopbackExchange) -> None:
    async def scenario():
        async with exchange_on(hl) as ex:
            return await ex.fetch_funding_rates([BTC, ETH])

    rates = asyncio.run(scenario())
    info = ccxt_fixture("markets", "hyperliquid")[BTC]["info"]
    assert rates[BTC].interval_hours == 1 and rates[BTC].rate == float(info["funding"])
    assert rates[BTC].mark == float(info["markPx"])


# ------------------------------------------------------------------------------------------- candles


def fixture_candle_request() -> dict:
    """ccxt's request fixture for fetchOHLCV with ``until`` (the body it POSTs to /info)."""
    entries = ccxt_fixture("request", "hyperliquid")["methods"]["fetchOHLCV"]
    return json.loads(next(e for e in entries if len(e["input"]) == 5)["output"])


def test_a_year_of_daily_bars_backfills_from_one_candle_snapshot(hl: LoopbackExchange, store: Store) -> None:
    app = hl.source
    until = app.now_ms - app.now_ms % DAY_MS
    since = until - 365 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(hl) as ex:
            await ex.load_markets()
            hl.clear_requests()
            return await backfill_ohlcv(ex, store, ETH, "1d", since, until)

    added = asyncio.run(scenario())
    served = [b for b in common.binance_bars("ETHUSDT", "1d") if since <= b[0] < until]
    assert len(served) == 365 and added == 365
    stored = [
        (c.time, c.open, c.high, c.low, c.close, c.volume) for c in store.load_ohlcv("hyperliquid", ETH, "1d")
    ]
    assert stored == served

    fixture = fixture_candle_request()
    bodies = [r.body for r in hl.requests_to("/info")]
    assert all(set(b) == set(fixture) and set(b["req"]) == set(fixture["req"]) for b in bodies)
    assert bodies[0] == {
        "type": "candleSnapshot",
        "req": {"coin": "ETH", "interval": "1d", "startTime": since, "endTime": until - 1},
    }
    # The year in one answer; the next asks from one past its last bar and finds nothing new.
    assert len(bodies) == 2 and bodies[1]["req"]["startTime"] == served[-1][0] + 1


def test_a_snapshot_starts_with_the_candle_holding_start_time(hl: LoopbackExchange) -> None:
    """As ccxt's response fixture shows: the candle open at startTime is answered, and ccxt keeps only
    candles from ``since``."""
    app = hl.source
    day = app.now_ms - app.now_ms % DAY_MS - 10 * DAY_MS
    since = day + 6 * 3_600_000

    async def scenario():
        async with exchange_on(hl) as ex:
            await ex.load_markets()
            return await ex.fetch_ohlcv(BTC, "1d", since, day + 3 * DAY_MS)

    candles = asyncio.run(scenario())
    raw = hl.requests_to("/info")[-1]
    assert raw.body["req"]["startTime"] == since
    answer = app.candle_snapshot(raw.body)
    assert [c["t"] for c in answer] == [day, day + DAY_MS, day + 2 * DAY_MS]
    assert all(c["T"] == c["t"] + DAY_MS - 1 and c["s"] == "BTC" and c["i"] == "1d" for c in answer)
    assert [c.time for c in candles] == [day + DAY_MS, day + 2 * DAY_MS]


def test_bad_candle_requests_answer_hyperliquids_422(hl: LoopbackExchange) -> None:
    import ccxt.async_support as ccxt

    async def scenario():
        async with exchange_on(hl) as ex:
            await ex.load_markets()
            req = {"coin": "BTC", "interval": "2d", "startTime": 0}
            with pytest.raises(ccxt.ExchangeError, match="unknown variant `2d`"):
                await ex.ex.public_post_info({"type": "candleSnapshot", "req": req})
            with pytest.raises(ccxt.ExchangeError, match="missing field `startTime`"):
                await ex.ex.public_post_info(
                    {"type": "candleSnapshot", "req": {"coin": "BTC", "interval": "1d"}}
                )

    asyncio.run(scenario())
