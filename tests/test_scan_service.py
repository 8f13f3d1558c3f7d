"""The scanner service on the demo market (deterministic, frozen clock): live rows for every perp, the
history backfilled recent-first and resumed, rows as of a past time from the cache, ticker snapshots
throttled, and the all-series statistics equal to the per-series reference bit for bit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from perptui.domain.carry import carry
from perptui.domain.errors import ExchangeUnavailable
from perptui.domain.funding import apr
from perptui.domain.funding_stats import history_stats, history_stats_many
from perptui.domain.scanner import CarryCosts
from perptui.domain.timeframes import DAY_MS, HOUR_MS, MINUTE_MS
from perptui.domain.types import FundingPrint, Market
from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.services.scan import (
    HISTORY_DAYS,
    backfill_history,
    cached_scan,
    history_stats_of,
    linear_perps,
    live_scan,
)
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS

NOW = FROZEN_NOW_MS  # 2025-06-01T00:00Z, a settlement time of every interval
EX = "demo"


class RecordingDemo(DemoExchange):
    """The demo market, recording every funding history request (symbol, since, until)."""

    def __init__(self, clock: FrozenClock, fail_after: int | None = None) -> None:
        super().__init__(seed=7, clock=clock)
        self.history_calls: list[tuple[str, int, int | None]] = []
        self.fail_after = fail_after

    async def fetch_funding_history(
        self, symbol: str, since: int, until: int | None = None, limit: int | None = None
    ) -> list[FundingPrint]:
        if self.fail_after is not None and len(self.history_calls) >= self.fail_after:
            raise ExchangeUnavailable("demo: connection refused (test)")
        self.history_calls.append((symbol, since, until))
        return await super().fetch_funding_history(symbol, since, until, limit)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


def run(coro):
    return asyncio.run(coro)


def perps_of(source: DemoExchange) -> list[Market]:
    return linear_perps(run(source.load_markets()))


def backfill(source: DemoExchange, store: Store, markets: list[Market], now: int):
    return run(backfill_history(source, store, [m.symbol for m in markets], now))


def served(symbol: str, since: int, until: int, clock: FrozenClock | None = None) -> list[tuple[int, float]]:
    """Every print the demo market serves in [since, until), page after page (a fresh source)."""
    source = DemoExchange(seed=7, clock=clock or FrozenClock(NOW))
    out: list[tuple[int, float]] = []
    while True:
        page = run(source.fetch_funding_history(symbol, since, until))
        out += [(p.time, p.rate) for p in page]
        if not page:
            return out
        since = page[-1].time + 1


def prints_upto(store: Store, symbol: str, asof: int) -> tuple[list[int], list[float]]:
    """The cached prints of (asof - 91 days, asof], read one series at a time (not the bulk loader)."""
    rows = store.load_funding(EX, symbol, since=asof - (HISTORY_DAYS + 1) * DAY_MS, until=asof + 1)
    return [p.time for p in rows], [p.rate for p in rows]


# --- live rows --------------------------------------------------------------------------------------


def test_live_scan_has_a_row_per_demo_perp_with_its_live_rate_and_its_history(
    store: Store, clock: FrozenClock
) -> None:
    source = RecordingDemo(clock)
    markets = run(source.load_markets())
    perps = linear_perps(markets)
    assert len(perps) == len(markets) >= 30  # every demo market is a linear perp
    report = backfill(source, store, perps, NOW)
    assert report.skipped == {} and report.added > 0 and report.done == report.total == 3 * len(perps)
    costs = CarryCosts(spot_taker=0.001, slippage=0.001, hold_days=30, borrow_apr=0.10)
    scan = run(live_scan(source, store, markets, NOW, costs))
    rates = run(source.fetch_funding_rates())
    tickers = run(source.fetch_tickers())

    assert scan.live and scan.cached_reason is None and scan.asof == NOW
    assert [r.symbol for r in scan.rows] == [m.symbol for m in perps]
    for row, m in zip(scan.rows, perps, strict=True):
        fr, t = rates[m.symbol], tickers[m.symbol]
        assert row.exchange == EX and row.key == f"demo:{m.symbol}"
        assert (row.funding_rate, row.interval_hours, row.predicted_rate) == (
            fr.rate, fr.interval_hours, fr.predicted_rate,
        )  # fmt: skip
        assert row.interval_hours in (1, 2, 4, 8) and not row.interval_inferred
        assert row.apr == pytest.approx(fr.rate * 24 / fr.interval_hours * 365)
        assert row.next_funding_time == fr.next_funding_time > NOW
        assert (row.volume_24h_usd, row.open_interest_usd) == (t.quote_volume_24h, t.open_interest_usd)
        assert row.basis == pytest.approx((row.mark - row.index) / row.index)

        # The history: 90 days were fetched, so every window counts; means by hand from the cache.
        times, rates_ = prints_upto(store, m.symbol, NOW)
        assert times[0] <= NOW - HISTORY_DAYS * DAY_MS + 8 * HOUR_MS and times[-1] == NOW
        for days, mean in ((7, row.mean_apr_7d), (30, row.mean_apr_30d), (90, row.mean_apr_90d)):
            in_window = [r for t_, r in zip(times, rates_, strict=True) if t_ > NOW - days * DAY_MS]
            assert mean == pytest.approx(sum(in_window) * 365 / days, rel=1e-12, abs=1e-15)
        # The z-score weighs the live rate (not the last print) against the 30-day prints.
        live_apr = apr(fr.rate, fr.interval_hours)  # the row's own APR figure
        assert live_apr == row.apr
        reference = history_stats(
            times, rates_, NOW, current_apr=live_apr, fallback_interval_h=m.funding_interval_hours
        )
        assert row.zscore_30d == reference.zscore_30d and row.std_apr_30d == reference.std_apr_30d
        assert row.pct_positive_30d == reference.pct_positive_30d
        expected = carry(row.mean_apr_30d, spot_taker=0.001, perp_taker=m.taker_fee, slippage=0.001)
        assert expected is not None
        assert (row.carry_direction, row.carry_net_apr, row.breakeven_days) == (
            expected.direction, expected.net_apr, expected.breakeven_days,
        )  # fmt: skip


def test_backfill_fetches_every_perps_recent_prints_before_anyones_older_ones(
    store: Store, clock: FrozenClock
) -> None:
    source = RecordingDemo(clock)
    perps = perps_of(source)
    backfill(source, store, perps, NOW)
    week, month, quarter = NOW - 7 * DAY_MS, NOW - 30 * DAY_MS, NOW - 90 * DAY_MS

    def stage(call: tuple[str, int, int | None]) -> int:
        _, since, until = call
        if since >= week:
            assert until == NOW + 1  # the recent slice runs up to now
            return 1
        if since >= month:
            assert until == week
            return 2
        assert since >= quarter and until == month  # never older than 90 days
        return 3

    stages = [stage(call) for call in source.history_calls]
    assert stages == sorted(stages)  # every 7-day request before any 30-day one, before any 90-day one
    for n in (1, 2, 3):
        firsts = list(
            dict.fromkeys(c[0] for c, s in zip(source.history_calls, stages, strict=True) if s == n)
        )
        assert firsts == [m.symbol for m in perps]  # each stage walks every perp in order
    # The store holds exactly the source's prints of the last 90 days.
    for m in perps:
        cached = store.load_funding(EX, m.symbol)
        assert [(p.time, p.rate) for p in cached] == served(m.symbol, quarter, NOW + 1)


def test_a_second_backfill_fetches_only_the_new_prints(store: Store, clock: FrozenClock) -> None:
    first = RecordingDemo(clock)
    perps = perps_of(first)
    backfill(first, store, perps, NOW)
    newest = {m.symbol: store.funding_bounds(EX, m.symbol)[1] for m in perps}

    # A minute later no period has settled since: nothing is asked at all.
    clock.set(NOW + MINUTE_MS)
    idle = RecordingDemo(clock)
    assert backfill(idle, store, perps, NOW + MINUTE_MS).added == 0
    assert idle.history_calls == []

    # Eight hours later every perp has new prints; only those are fetched.
    later = NOW + 8 * HOUR_MS + MINUTE_MS
    clock.set(later)
    again = RecordingDemo(clock)
    report = backfill(again, store, perps, later)
    expected_new = sum(len(served(m.symbol, NOW + 1, later + 1, clock)) for m in perps)
    assert report.added == expected_new >= len(perps)
    assert {call[0] for call in again.history_calls} == {m.symbol for m in perps}
    for symbol, since, until in again.history_calls:
        assert until == later + 1 and since > newest[symbol]  # after the newest cached print, up to now


def test_an_unreachable_exchange_stops_the_backfill_and_a_refusal_skips_the_symbol(
    store: Store, clock: FrozenClock
) -> None:
    perps = perps_of(DemoExchange(clock=clock))[:4]
    source = RecordingDemo(clock, fail_after=3)
    with pytest.raises(ExchangeUnavailable):
        backfill(source, store, perps, NOW)
    kept = store.funding_bounds(EX, perps[0].symbol)
    assert kept is not None and kept[1] == NOW  # what was fetched before the failure stays

    resumed = RecordingDemo(clock)
    report = run(backfill_history(resumed, store, [perps[0].symbol, "NOPEDEMO/USDT:USDT"], NOW))
    assert (
        list(report.skipped) == ["NOPEDEMO/USDT:USDT"]
        and "unknown symbol" in report.skipped["NOPEDEMO/USDT:USDT"]
    )
    assert all(call[1] < NOW - 7 * DAY_MS for call in resumed.history_calls if call[0] == perps[0].symbol)


# --- the cache as of a past time, snapshots ---------------------------------------------------------


def test_cached_scan_as_of_a_past_time_uses_the_last_print_before_it(
    store: Store, clock: FrozenClock
) -> None:
    source = RecordingDemo(clock)
    markets = run(source.load_markets())
    perps = linear_perps(markets)
    backfill(source, store, perps, NOW)
    run(live_scan(source, store, markets, NOW))  # caches a ticker snapshot at NOW, after the as-of time
    asof = NOW - 10 * DAY_MS + 3 * HOUR_MS + 17 * MINUTE_MS
    scan = cached_scan(store, EX, markets, asof, "as of test")
    assert not scan.live and scan.cached_reason == "as of test" and scan.asof == asof
    assert scan.cached_as_of is None  # no ticker was cached before the as-of time
    for row, m in zip(scan.rows, perps, strict=True):
        times, rates = prints_upto(store, m.symbol, asof)
        assert times[-1] <= asof < times[-1] + 8 * HOUR_MS
        assert row.funding_rate == rates[-1]
        assert row.interval_hours == round((times[-1] - times[-2]) / HOUR_MS) and row.interval_inferred
        assert row.next_funding_time is None and row.predicted_rate is None
        assert (row.mark, row.basis, row.volume_24h_usd) == (None, None, None)  # unknown, not guessed
        # The cache starts 90 days before NOW: it reaches 30 days back from asof, not 90.
        assert row.mean_apr_30d is not None and row.mean_apr_90d is None
        reference = history_stats(times, rates, asof, fallback_interval_h=m.funding_interval_hours)
        assert (row.mean_apr_7d, row.mean_apr_30d, row.zscore_30d) == (
            reference.mean_apr[7], reference.mean_apr[30], reference.zscore_30d,
        )  # fmt: skip


def test_a_cache_that_stops_before_the_as_of_time_gives_no_window_statistics(
    store: Store, clock: FrozenClock
) -> None:
    source = RecordingDemo(clock)
    markets = run(source.load_markets())
    backfill(source, store, linear_perps(markets), NOW)
    soon = cached_scan(store, EX, markets, NOW + 30 * MINUTE_MS, "offline")
    stale = cached_scan(store, EX, markets, NOW + 3 * DAY_MS, "offline")
    assert all(r.mean_apr_7d is not None and r.carry_net_apr is not None for r in soon.rows)
    for row in stale.rows:  # three days of prints are missing: a 7-day mean would be made up
        assert (row.mean_apr_7d, row.mean_apr_30d, row.mean_apr_90d, row.zscore_30d) == (None,) * 4
        assert row.carry_net_apr is None
        assert row.funding_rate is not None  # the last print is still shown (the note says how old)


def test_ticker_snapshots_are_cached_at_most_every_ten_minutes(store: Store, clock: FrozenClock) -> None:
    source = RecordingDemo(clock)
    markets = run(source.load_markets())

    def snapshot_times() -> set[int]:
        return {t.timestamp for t in store.latest_tickers(EX).values()}

    run(live_scan(source, store, markets, NOW))
    assert snapshot_times() == {NOW} and len(store.latest_tickers(EX)) == len(markets)
    clock.set(NOW + 9 * MINUTE_MS)
    run(live_scan(source, store, markets, NOW + 9 * MINUTE_MS))
    assert snapshot_times() == {NOW}  # too soon: not stored
    clock.set(NOW + 10 * MINUTE_MS)
    run(live_scan(source, store, markets, NOW + 10 * MINUTE_MS))
    assert snapshot_times() == {NOW + 10 * MINUTE_MS}


# --- the all-series statistics equal the per-series reference ---------------------------------------


def test_history_stats_of_equals_history_stats_per_series_exactly(store: Store, clock: FrozenClock) -> None:
    source = RecordingDemo(clock)
    markets = run(source.load_markets())
    backfill(source, store, linear_perps(markets), NOW)
    asofs = [
        NOW,  # on a settlement time
        NOW - 37 * MINUTE_MS,  # between prints
        NOW - 45 * DAY_MS - 5 * HOUR_MS,  # the 90-day window reaches before the cache
        NOW - 89 * DAY_MS,  # only the 7-day window (barely) counts
        NOW - 100 * DAY_MS,  # before the cache: nothing
        NOW + 2 * HOUR_MS + MINUTE_MS,  # over an hour past the 1h perps' next print: stale for them only
        NOW + 9 * HOUR_MS + 30 * MINUTE_MS,  # stale for everyone
    ]
    for asof in asofs:
        fast = history_stats_of(store, EX, markets, asof)
        few = history_stats_of(store, EX, markets[:3], asof)  # read series by series: the same numbers
        assert few == {m.symbol: fast[m.symbol] for m in markets[:3]}
        for m in markets:
            times, rates = prints_upto(store, m.symbol, asof)
            assert fast[m.symbol] == history_stats(
                times, rates, asof, fallback_interval_h=m.funding_interval_hours
            )
    counted = [
        s.mean_apr[7] is not None
        for s in history_stats_of(store, EX, markets, NOW + 2 * HOUR_MS + MINUTE_MS).values()
    ]
    assert any(counted) and not all(counted)


def test_history_stats_many_takes_symbols_without_history_and_unsorted_input_order() -> None:
    t = [NOW - (120 - i) * 8 * HOUR_MS for i in range(121)]  # 40 days of 8h prints
    r = [(-1) ** (i // 3) * 1e-4 * (1 + i % 5) for i in range(121)]
    series = {"B": (t, r), "A": (t[60:], r[60:])}
    many = history_stats_many(series, NOW, symbols=["Z", "B", "A"], current_apr={"B": 0.5})
    assert list(many) == ["Z", "B", "A"]
    assert many["Z"] == history_stats([], [], NOW)
    assert many["B"] == history_stats(t, r, NOW, current_apr=0.5)
    assert many["A"] == history_stats(t[60:], r[60:], NOW)
    assert many["B"].longest_run_30d == 3 and many["B"].longest_run_sign_30d == -1  # ties: the latest run
    assert many["A"].mean_apr[7] is not None and many["A"].mean_apr[30] is None  # A has 20 days


def test_a_single_ticker_stored_by_another_command_does_not_hold_back_the_scanners_snapshot(
    store: Store, clock: FrozenClock
) -> None:
    """'perptui size' caches one market's ticker and marks the tickers as fetched; the scanner's snapshot
    of every market is still taken."""
    source = RecordingDemo(clock)
    markets = run(source.load_markets())
    one = run(source.fetch_tickers([markets[0].symbol]))
    store.insert_tickers(EX, list(one.values()))
    store.mark_fetched(EX, "tickers", NOW)
    run(live_scan(source, store, markets, NOW + MINUTE_MS))
    assert len(store.latest_tickers(EX)) == len(markets)
