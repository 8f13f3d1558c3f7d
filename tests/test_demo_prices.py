"""Demo market prices: determinism, prefix stability, years of hourly bars that behave like real ones,
timeframes, paging, spot markets and live ticks that follow the clock."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from perptui.domain.errors import ExchangeError
from perptui.domain.types import Candle
from perptui.services.clock import FrozenClock
from perptui.services.demo import ORIGIN_MS, DemoExchange
from tests.conftest import FROZEN_NOW_MS

run = asyncio.run
HOUR = 3_600_000
DAY = 24 * HOUR
BTC = "BTCDEMO/USDT:USDT"
SMALL_CAPS = ("WIFDEMO/USDT:USDT", "1000PEPEDEMO/USDT:USDT", "1000BONKDEMO/USDT:USDT", "ENADEMO/USDT:USDT")


def history(ex: DemoExchange, symbol: str, timeframe: str = "1h", since: int = ORIGIN_MS) -> list[Candle]:
    """Every bar from ``since`` to the clock's now, paging like a client of a real exchange."""
    out: list[Candle] = []
    while True:
        page = run(ex.fetch_ohlcv(symbol, timeframe, since))
        if not page:
            return out
        out.extend(page)
        since = page[-1].time + 1


def closes(bars: list[Candle]) -> np.ndarray:
    return np.array([b.close for b in bars])


@pytest.fixture(scope="module")
def demo() -> DemoExchange:
    return DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS))


@pytest.fixture(scope="module")
def btc_hours(demo: DemoExchange) -> list[Candle]:
    return history(demo, BTC)


def test_same_seed_and_clock_give_identical_data() -> None:
    a = DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS + 1234))
    b = DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS + 1234))
    symbols = [BTC, "SOLDEMO/USDT:USDT"]
    assert run(a.load_markets()) == run(b.load_markets())
    assert run(a.fetch_tickers(symbols)) == run(b.fetch_tickers(symbols))
    assert run(a.fetch_funding_rates(symbols)) == run(b.fetch_funding_rates(symbols))
    for s in symbols:
        assert run(a.fetch_funding_history(s, 0)) == run(b.fetch_funding_history(s, 0))
        for tf in ("1h", "4h", "1d", "5m"):
            since = FROZEN_NOW_MS - 300 * DAY
            assert run(a.fetch_ohlcv(s, tf, since)) == run(b.fetch_ohlcv(s, tf, since))


def test_a_different_seed_gives_a_different_market() -> None:
    a = DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS))
    b = DemoExchange(seed=8, clock=FrozenClock(FROZEN_NOW_MS))
    since = FROZEN_NOW_MS - 10 * DAY
    assert run(a.fetch_ohlcv(BTC, "1h", since)) != run(b.fetch_ohlcv(BTC, "1h", since))
    assert run(a.fetch_funding_history(BTC, since)) != run(b.fetch_funding_history(BTC, since))


@pytest.mark.parametrize("symbol", [BTC, "WIFDEMO/USDT:USDT", "BTCDEMO/USDT"])
def test_advancing_the_clock_never_changes_the_past(symbol: str) -> None:
    """Prefix stability: the bar at t is the same whatever "now" is, across generation blocks too."""
    clock = FrozenClock(FROZEN_NOW_MS)
    ex = DemoExchange(seed=7, clock=clock)
    since = FROZEN_NOW_MS - 20 * DAY
    bars = run(ex.fetch_ohlcv(symbol, "1h", since))
    prints = run(ex.fetch_funding_history(symbol, since))
    clock.advance(200 * DAY + 1234)  # several generation blocks later, same instance
    later = run(ex.fetch_ohlcv(symbol, "1h", since, until=FROZEN_NOW_MS))
    assert later == bars[:-1]  # every completed bar is unchanged; the last one was still open
    assert run(ex.fetch_funding_history(symbol, since, until=FROZEN_NOW_MS + 1)) == prints
    fresh = DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS + 400 * DAY))  # a new process, a year on
    assert run(fresh.fetch_ohlcv(symbol, "1h", since, until=FROZEN_NOW_MS)) == bars[:-1]
    assert run(fresh.fetch_funding_history(symbol, since, until=FROZEN_NOW_MS + 1)) == prints


def test_more_than_two_years_of_hourly_bars_at_the_frozen_time(btc_hours: list[Candle]) -> None:
    times = np.array([b.time for b in btc_hours])
    assert times[0] == ORIGIN_MS  # 2022-01-01T00:00Z
    assert len(btc_hours) >= 2 * 8760
    assert np.all(np.diff(times) == HOUR)  # no gaps, no duplicates
    assert times[-1] == FROZEN_NOW_MS  # the bar opening at "now" exists (just opened), nothing later


def test_ohlc_are_consistent_and_bars_chain(demo: DemoExchange) -> None:
    for symbol in (BTC, "1000PEPEDEMO/USDT:USDT", "POLDEMO/USDT:USDT", "BTCDEMO/USDT"):
        bars = run(demo.fetch_ohlcv(symbol, "1h", FROZEN_NOW_MS - 60 * DAY))
        o, h, lo, c, v = (
            np.array([getattr(b, f) for b in bars]) for f in ("open", "high", "low", "close", "volume")
        )
        assert np.all(lo > 0) and np.all(v >= 0)
        assert np.all(lo <= np.minimum(o, c)) and np.all(h >= np.maximum(o, c))
        assert np.all(o[1:] == c[:-1]), symbol  # each bar opens where the last closed
        assert np.mean(h > np.maximum(o, c)) > 0.8  # real wicks, not just open/close


def test_small_caps_swing_about_three_times_as_hard_as_btc(
    demo: DemoExchange, btc_hours: list[Candle]
) -> None:
    btc_vol = np.diff(np.log(closes(btc_hours))).std()
    annual = btc_vol * np.sqrt(8760)
    assert 0.35 < annual < 0.9  # BTC-like: roughly 40-80% a year
    ratios = [np.diff(np.log(closes(history(demo, s)))).std() / btc_vol for s in SMALL_CAPS]
    assert 2.3 < float(np.mean(ratios)) < 3.8, ratios
    eth = np.diff(np.log(closes(history(demo, "ETHDEMO/USDT:USDT")))).std() / btc_vol
    assert 1.0 < eth < 1.6


def test_coins_share_a_market_factor(demo: DemoExchange, btc_hours: list[Candle]) -> None:
    btc = np.diff(np.log(closes(btc_hours)))
    for symbol, lowest in (
        ("ETHDEMO/USDT:USDT", 0.6),
        ("SOLDEMO/USDT:USDT", 0.4),
        ("WIFDEMO/USDT:USDT", 0.2),
    ):
        other = np.diff(np.log(closes(history(demo, symbol))))
        assert np.corrcoef(btc, other)[0, 1] > lowest, symbol


def test_volatility_clusters_and_tails_are_fat(btc_hours: list[Candle]) -> None:
    r = np.diff(np.log(closes(btc_hours)))
    a = np.abs(r - r.mean())

    def autocorr(x: np.ndarray, lag: int) -> float:
        return float(np.corrcoef(x[lag:], x[:-lag])[0, 1])

    assert autocorr(a, 1) > 0.1 and autocorr(a, 24) > 0.05  # big moves follow big moves, for days
    shuffled = np.random.default_rng(0).permutation(a)
    assert abs(autocorr(shuffled, 1)) < 0.03  # the clustering is in the order, not the distribution
    kurtosis = float(np.mean((r - r.mean()) ** 4) / r.var() ** 2)
    assert kurtosis > 6  # a normal distribution has 3
    assert np.max(np.abs(r)) > 8 * r.std()  # jumps: moves a normal model would call impossible


def test_volume_is_in_base_units_and_rises_with_volatility(btc_hours: list[Candle]) -> None:
    c = closes(btc_hours)
    usd = np.array([b.volume for b in btc_hours]) * c
    assert 1e9 < usd[:-1].mean() * 24 < 5e10  # a BTC-like day trades billions of USDT
    move = np.abs(np.diff(np.log(c)))
    assert np.corrcoef(move, usd[1:])[0, 1] > 0.2


def aggregate(bars: list[Candle]) -> tuple[float, float, float, float, float]:
    return (
        bars[0].open,
        max(b.high for b in bars),
        min(b.low for b in bars),
        bars[-1].close,
        sum(b.volume for b in bars),
    )


def assert_same_bar(big: Candle, small: list[Candle]) -> None:
    o, h, lo, c, v = aggregate(small)
    assert (big.open, big.high, big.low, big.close) == (o, h, lo, c)
    assert big.volume == pytest.approx(v, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("symbol", [BTC, "BTCDEMO/USDT"])
def test_longer_timeframes_aggregate_hourly_bars_on_utc_boundaries(demo: DemoExchange, symbol: str) -> None:
    clock = FrozenClock(FROZEN_NOW_MS + 5 * HOUR + 17 * 60_000)  # mid-bar, so the last bars are partial
    ex = DemoExchange(seed=7, clock=clock)
    since = FROZEN_NOW_MS - 14 * DAY
    hours = run(ex.fetch_ohlcv(symbol, "1h", since))
    by_time = {b.time: i for i, b in enumerate(hours)}
    for tf, span in (("2h", 2), ("4h", 4), ("8h", 8), ("12h", 12), ("1d", 24)):
        bars = run(ex.fetch_ohlcv(symbol, tf, since))
        assert all(b.time % (span * HOUR) == 0 for b in bars)
        for bar in bars:
            i = by_time[bar.time]
            assert_same_bar(bar, hours[i : i + span])
    weeks = run(ex.fetch_ohlcv(symbol, "1w", FROZEN_NOW_MS - 60 * DAY))
    assert all((w.time // DAY + 3) % 7 == 0 for w in weeks)  # weeks open on Monday 00:00 UTC
    assert weeks[-1].close == hours[-1].close


@pytest.mark.parametrize("symbol", [BTC, "BTCDEMO/USDT"])
def test_sub_hour_bars_split_the_hour_exactly(demo: DemoExchange, symbol: str) -> None:
    since = FROZEN_NOW_MS - 6 * HOUR
    hours = run(demo.fetch_ohlcv(symbol, "1h", since, until=FROZEN_NOW_MS))
    for tf, per_hour in (("1m", 60), ("5m", 12), ("15m", 4), ("30m", 2)):
        bars = run(demo.fetch_ohlcv(symbol, tf, since, until=FROZEN_NOW_MS))
        assert len(bars) == per_hour * len(hours)
        for k, hour in enumerate(hours):
            assert_same_bar(hour, bars[k * per_hour : (k + 1) * per_hour])
        assert all(b.open == a.close for a, b in itertools.pairwise(bars))


def test_unsupported_timeframes_name_the_ones_offered(demo: DemoExchange) -> None:
    for tf in ("7m", "45m", "90m"):
        with pytest.raises(ExchangeError) as info:
            run(demo.fetch_ohlcv(BTC, tf, 0))
        assert "1h" in str(info.value) and "15m" in str(info.value)


def test_ohlcv_pages_like_an_exchange_api(demo: DemoExchange, btc_hours: list[Candle]) -> None:
    assert len(run(demo.fetch_ohlcv(BTC, "1h", ORIGIN_MS))) == 1500  # the default page
    page = run(demo.fetch_ohlcv(BTC, "1h", ORIGIN_MS + 10 * HOUR, limit=5))
    assert [b.time for b in page] == [ORIGIN_MS + k * HOUR for k in range(10, 15)]
    mid = run(demo.fetch_ohlcv(BTC, "1h", ORIGIN_MS + 10 * HOUR + 1, limit=1))  # since inside a bar
    assert mid[0].time == ORIGIN_MS + 11 * HOUR
    window = run(demo.fetch_ohlcv(BTC, "4h", ORIGIN_MS, until=ORIGIN_MS + DAY))
    assert [b.time for b in window] == [ORIGIN_MS + k * 4 * HOUR for k in range(6)]  # until is exclusive
    assert run(demo.fetch_ohlcv(BTC, "1h", FROZEN_NOW_MS + 1)) == []  # nothing after now
    assert run(demo.fetch_ohlcv(BTC, "1h", 0, until=ORIGIN_MS)) == []  # nothing before the origin
    assert btc_hours[:3] == run(demo.fetch_ohlcv(BTC, "1h", 0, limit=3))


def test_spot_market_tracks_the_perp_with_a_small_basis(demo: DemoExchange) -> None:
    since = ORIGIN_MS
    perp = history(demo, BTC, "1h", since)
    spot = history(demo, "BTCDEMO/USDT", "1h", since)
    assert [b.time for b in spot] == [b.time for b in perp]
    basis = closes(perp) / closes(spot) - 1
    assert abs(float(np.median(basis))) < 0.001 and float(np.max(np.abs(basis))) < 0.031
    assert np.std(basis) > 0  # not a copy
    spot_volume = sum(b.volume for b in spot)
    assert 0.1 < spot_volume / sum(b.volume for b in perp) < 0.8


def test_live_ticks_follow_the_clock_and_the_partial_bar_matches_them() -> None:
    start = FROZEN_NOW_MS + 3 * HOUR
    clock = FrozenClock(start)
    ex = DemoExchange(seed=7, clock=clock)
    lasts: list[float] = []
    seen_high, seen_low = -np.inf, np.inf
    for _ in range(40):
        clock.advance(89_000)  # about every 1.5 minutes through the hour
        ticker = run(ex.fetch_tickers([BTC]))[BTC]
        bar = run(ex.fetch_ohlcv(BTC, "1h", start))[-1]
        assert bar.time == start and ticker.timestamp == clock.now_ms()
        assert bar.close == ticker.last  # the current bar closes at the tick of "now"
        minute = run(ex.fetch_ohlcv(BTC, "1m", clock.now_ms() - 60_000))[-1]
        assert minute.close == ticker.last and minute.time == clock.now_ms() // 60_000 * 60_000
        assert bar.low <= ticker.last <= bar.high
        assert bar.high >= seen_high and bar.low <= seen_low  # extremes only widen as the hour goes on
        seen_high, seen_low = bar.high, bar.low
        assert ticker.mark is not None and ticker.index is not None and ticker.last is not None
        assert abs(ticker.mark / ticker.last - 1) < 1e-3
        assert abs(ticker.mark / ticker.index - 1) < 0.03
        lasts.append(ticker.last)
    assert len(set(lasts)) > 30  # the price moves as the clock does
    clock.set(start + HOUR)
    final = run(ex.fetch_ohlcv(BTC, "1h", start, limit=1))[0]
    assert final.high >= seen_high and final.low <= seen_low and final.open == bar.open


def test_tickers_carry_volume_and_open_interest(demo: DemoExchange) -> None:
    tickers = run(demo.fetch_tickers())
    assert len(tickers) >= 30
    for symbol, t in tickers.items():
        assert t.symbol == symbol and t.timestamp == FROZEN_NOW_MS
        assert t.quote_volume_24h is not None and t.quote_volume_24h > 1e6
        assert t.open_interest is not None and t.open_interest > 0
        assert t.open_interest_usd == pytest.approx(t.open_interest * (t.mark or 0), rel=1e-6)
    assert tickers[BTC].quote_volume_24h > 20 * tickers["1000BONKDEMO/USDT:USDT"].quote_volume_24h


def test_a_clock_before_the_history_starts_shows_no_history() -> None:
    ex = DemoExchange(seed=7, clock=FrozenClock(ORIGIN_MS - DAY))
    assert run(ex.fetch_ohlcv(BTC, "1h", 0)) == []
    assert run(ex.fetch_ohlcv("BTCDEMO/USDT", "1d", 0)) == []
    assert run(ex.fetch_funding_history(BTC, 0)) == []
    ticker = run(ex.fetch_tickers([BTC]))[BTC]
    markets = {m.symbol: m for m in run(ex.load_markets())}
    assert ticker.last is not None and ticker.last > 0 and markets[BTC].tiers


def test_a_page_needs_at_least_one_row(demo: DemoExchange) -> None:
    with pytest.raises(ExchangeError):
        run(demo.fetch_ohlcv(BTC, "1h", 0, limit=0))
    with pytest.raises(ExchangeError):
        run(demo.fetch_funding_history(BTC, 0, limit=-5))
    assert len(run(demo.fetch_ohlcv(BTC, "1h", 0, limit=10_000))) == 1500  # capped like Binance's API
