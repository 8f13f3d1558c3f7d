"""Demo market funding: Binance's clamp to the interest-rate floor, a positive bias, negative regimes,
spikes to each market's cap, 8h/4h/1h intervals (one market switching mid-history), and the current rate."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from perptui.domain.types import FundingPrint
from perptui.services.clock import FrozenClock
from perptui.services.demo import ORIGIN_MS, UNIVERSE, DemoExchange
from perptui.services.demo.universe import POL_INTERVAL_CHANGE_MS
from tests.conftest import FROZEN_NOW_MS

run = asyncio.run
HOUR = 3_600_000
BTC = "BTCDEMO/USDT:USDT"
POL = "POLDEMO/USDT:USDT"
SPECS = {s.symbol: s for s in UNIVERSE}


def all_prints(ex: DemoExchange, symbol: str, since: int = 0) -> list[FundingPrint]:
    out: list[FundingPrint] = []
    while page := run(ex.fetch_funding_history(symbol, since)):
        out.extend(page)
        since = page[-1].time + 1
    return out


@pytest.fixture(scope="module")
def demo() -> DemoExchange:
    return DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS))


@pytest.fixture(scope="module")
def prints(demo: DemoExchange) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """symbol -> (times, rates) of every settled print up to the frozen now."""
    out = {}
    for spec in UNIVERSE:
        p = all_prints(demo, spec.symbol)
        out[spec.symbol] = (np.array([x.time for x in p]), np.array([x.rate for x in p]))
    return out


def test_intervals_mix_8h_4h_and_1h_and_prints_follow_them(
    demo: DemoExchange, prints: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    markets = run(demo.load_markets())
    intervals = {m.symbol: m.funding_interval_hours for m in markets}
    assert {8.0, 4.0, 1.0} <= set(intervals.values())
    for symbol, (times, _) in prints.items():
        spacing = np.diff(times[-200:]) // HOUR
        assert set(spacing.tolist()) == {intervals[symbol]}, symbol
        assert np.all(times % (int(intervals[symbol]) * HOUR) == 0)  # on the UTC grid: 00, 08, 16 ...
        assert times[-1] <= FROZEN_NOW_MS


def test_one_market_moves_from_8h_to_4h_mid_history(prints: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    times, _ = prints[POL]
    before = times[times <= POL_INTERVAL_CHANGE_MS]
    after = times[times >= POL_INTERVAL_CHANGE_MS]
    assert ORIGIN_MS < POL_INTERVAL_CHANGE_MS < FROZEN_NOW_MS
    assert set((np.diff(before) // HOUR).tolist()) == {8}
    assert set((np.diff(after) // HOUR).tolist()) == {4}
    assert len(before) > 100 and len(after) > 100


def test_funding_is_positive_on_average_with_many_prints_at_the_floor(
    prints: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    per_hour_means = []
    for symbol, (times, rates) in prints.items():
        k = np.diff(np.concatenate(([ORIGIN_MS], times))) // HOUR  # each print's interval
        floor = np.round(0.0001 * k / 8, 8)  # 0.01% per 8h, scaled to the interval
        assert 0.2 < np.mean(rates == floor) < 0.7, symbol  # exactly at the floor, as Binance's clamp does
        per_hour_means.append(float(np.mean(rates / k)))
    assert np.mean(per_hour_means) > 0
    assert np.mean(np.array(per_hour_means) > 0) >= 0.8  # longs pay shorts on most markets
    _, btc = prints[BTC]
    apr = btc.mean() * 3 * 365
    assert 0.005 < apr < 0.15  # BTC-like: a few percent a year


def test_rates_scale_with_the_interval(prints: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    def typical(hours: int) -> float:
        chosen = [r for s, (_, r) in prints.items() if SPECS[s].interval_h == hours and s != POL]
        return float(np.median(np.abs(np.concatenate(chosen))))

    assert typical(8) == pytest.approx(0.0001)
    assert typical(4) == pytest.approx(0.00005)
    assert typical(1) == pytest.approx(0.0000125)


def test_funding_turns_negative_for_days_at_a_time(prints: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    longest = {}
    for symbol, (_, rates) in prints.items():
        negative = rates < 0
        assert 0.03 < negative.mean() < 0.4, symbol
        run_length, best = 0, 0
        for flag in negative:
            run_length = run_length + 1 if flag else 0
            best = max(best, run_length)
        longest[symbol] = best
    assert longest[BTC] >= 9  # three days of 8h prints in a row


def test_spikes_hit_each_markets_cap_and_never_exceed_it(
    prints: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    capped_markets = 0
    for symbol, (times, rates) in prints.items():
        spec = SPECS[symbol]
        k = np.diff(np.concatenate(([ORIGIN_MS], times))) // HOUR
        cap = np.array([spec.funding_cap(int(h)) for h in k])
        assert np.all(np.abs(rates) <= cap + 1e-12), symbol
        hits = np.isclose(np.abs(rates), cap, rtol=0, atol=1e-12)
        capped_markets += bool(hits.any())
        if hits.any():
            assert hits.mean() < 0.01  # spikes, not a state
    assert capped_markets >= 5
    caps8 = {spec.params.funding_cap8 for spec in UNIVERSE}
    assert caps8 == {0.0075, 0.02}


def test_funding_is_persistent_and_follows_momentum(
    demo: DemoExchange, prints: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    times, rates = prints[BTC]
    assert np.corrcoef(rates[1:], rates[:-1])[0, 1] > 0.5
    bars = []
    since = ORIGIN_MS
    while page := run(demo.fetch_ohlcv(BTC, "8h", since)):
        bars.extend(page)
        since = page[-1].time + 1
    close = {b.time: b.close for b in bars}
    # the 2-day return up to each print's time against the rate
    t = times[(times - 48 * HOUR >= ORIGIN_MS) & (times < FROZEN_NOW_MS)]
    momentum = np.log([close[x - 8 * HOUR] / close[x - 56 * HOUR] for x in t[1:]])
    rate = rates[np.isin(times, t[1:])]
    assert np.corrcoef(momentum, rate)[0, 1] > 0.1


def test_current_funding_rates(demo: DemoExchange) -> None:
    now = FROZEN_NOW_MS + 5 * HOUR + 123_456
    ex = DemoExchange(seed=7, clock=FrozenClock(now))
    rates = run(ex.fetch_funding_rates())
    tickers = run(ex.fetch_tickers())
    markets = {m.symbol: m for m in run(ex.load_markets())}
    assert set(rates) == set(markets)
    for symbol, r in rates.items():
        k = markets[symbol].funding_interval_hours
        assert r.interval_hours == k and r.timestamp == now
        assert r.next_funding_time is not None and now < r.next_funding_time <= now + k * HOUR
        assert r.next_funding_time % (k * HOUR) == 0
        cap = SPECS[symbol].funding_cap(int(k))
        assert r.rate is not None and abs(r.rate) <= cap
        assert r.predicted_rate is not None and abs(r.predicted_rate) <= cap
        assert (r.mark, r.index) == (tickers[symbol].mark, tickers[symbol].index)


def test_the_accruing_rate_converges_to_the_print(demo: DemoExchange) -> None:
    """Just before a print, the current period's rate is (nearly) what then settles."""
    close_calls = 0
    clock = FrozenClock(FROZEN_NOW_MS)
    ex = DemoExchange(seed=7, clock=clock)
    for symbol in (BTC, "ETHDEMO/USDT:USDT", "SOLDEMO/USDT:USDT", "TIADEMO/USDT:USDT"):
        settled = run(demo.fetch_funding_history(symbol, FROZEN_NOW_MS - 30 * 24 * HOUR))
        for p in settled[-10:]:
            clock.set(p.time - 1)
            current = run(ex.fetch_funding_rates([symbol]))[symbol]
            assert current.next_funding_time == p.time
            assert current.rate is not None
            close_calls += abs(current.rate - p.rate) <= max(0.2 * abs(p.rate), 2e-5)
    assert close_calls >= 30


def test_funding_history_pages_like_an_exchange_api(prints: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    ex = DemoExchange(seed=7, clock=clock)
    times, _ = prints[BTC]
    assert len(run(ex.fetch_funding_history(BTC, 0))) == 1000  # the default page
    page = run(ex.fetch_funding_history(BTC, int(times[10]), limit=3))
    assert [p.time for p in page] == times[10:13].tolist()
    assert run(ex.fetch_funding_history(BTC, int(times[10]) + 1, limit=1))[0].time == times[11]
    window = run(ex.fetch_funding_history(BTC, int(times[10]), until=int(times[14])))
    assert [p.time for p in window] == times[10:14].tolist()  # until is exclusive
    assert run(ex.fetch_funding_history(BTC, FROZEN_NOW_MS))[-1].time == FROZEN_NOW_MS  # time <= now
    assert all(p.symbol == BTC for p in page)
    clock.advance(8 * HOUR)  # one more interval: exactly one more print, the older ones unchanged
    later = run(ex.fetch_funding_history(BTC, FROZEN_NOW_MS - 24 * HOUR))
    assert [p.time for p in later] == [FROZEN_NOW_MS + (k - 3) * 8 * HOUR for k in range(5)]
