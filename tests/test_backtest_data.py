"""The backtest's history: coarser bars from finer ones, the cache read into one grid (late listings
and gaps left as NaN, never filled), and the demo market fetched online then read offline."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from perptui.domain.errors import UsageError
from perptui.domain.resample import resample
from perptui.domain.timeframes import HOUR_MS, parse_utc
from perptui.domain.types import Candle
from perptui.services.backtest_data import (
    HistoryRequest,
    busiest_cached,
    fetch_history,
    history_from_store,
    resolve_symbols,
)
from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.services.importers import import_funding, import_ohlcv
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS

BTC, ARB = "BTC/USDT:USDT", "ARB/USDT:USDT"


def hourly(start: int, closes: list[float]) -> list[Candle]:
    return [Candle(start + i * HOUR_MS, c - 0.5, c + 1, c - 1, c, 2.0) for i, c in enumerate(closes)]


def test_four_hour_bars_from_hourly_take_first_open_last_close_and_the_extremes() -> None:
    bars = hourly(0, [10, 12, 9, 11, 20, 21, 22, 23])
    four = resample(bars, "1h", "4h")
    assert [(b.time, b.open, b.high, b.low, b.close, b.volume) for b in four] == [
        (0, 9.5, 13, 8, 11, 8.0),
        (4 * HOUR_MS, 19.5, 24, 19, 23, 8.0),
    ]


def test_a_group_with_a_missing_hour_makes_no_bar_rather_than_a_guessed_one() -> None:
    bars = hourly(0, [10, 12, 9, 11, 20, 21, 22, 23])
    del bars[5]
    assert [b.time for b in resample(bars, "1h", "4h")] == [0]


def test_bars_are_aligned_to_their_own_length_from_the_epoch() -> None:
    bars = hourly(2 * HOUR_MS, [1, 2, 3, 4, 5, 6, 7, 8])  # 02:00 .. 09:00
    assert [b.time for b in resample(bars, "1h", "4h")] == [4 * HOUR_MS]  # 04:00-08:00 only


@pytest.fixture
def real_store(binance_data: Path, tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "cache.db")
    for base in ("BTC", "ARB"):
        name = f"{base}USDT.csv"
        import_funding(store, "binanceusdm", binance_data / "funding" / name)
        import_ohlcv(store, "binanceusdm", binance_data / "ohlcv_8h_perp" / name, "8h")
        import_ohlcv(store, "binanceusdm", binance_data / "ohlcv_8h_spot" / name, "8h", spot=True)
    return store


def test_real_history_leaves_a_late_listing_empty_before_its_first_bar(real_store: Store) -> None:
    req = HistoryRequest("binanceusdm", (BTC, ARB), "8h", parse_utc("2023-01-01"), parse_utc("2023-06-01"))
    h = history_from_store(real_store, req)
    assert h.symbols == (BTC, ARB)
    first_arb = np.flatnonzero(~np.isnan(h.open[:, 1]))[0]
    assert h.times[first_arb] >= parse_utc("2023-03-01")  # ARB perps listed in March 2023
    assert np.isnan(h.close[:first_arb, 1]).all() and not np.isnan(h.open[:, 0]).any()
    assert not np.isnan(h.spot_open[:, 0]).any()
    # every BTC print of the span is there, on its symbol's column, in time order
    btc = h.funding_time[h.funding_symbol == 0]
    assert len(btc) == 151 * 3 and np.all(np.diff(h.funding_time) >= 0)
    assert set(btc % (8 * HOUR_MS)) == {0}


def test_daily_history_is_built_from_8h_bars_when_no_daily_bars_are_cached(real_store: Store) -> None:
    req = HistoryRequest("binanceusdm", (BTC,), "1d", parse_utc("2022-11-01"), parse_utc("2022-12-01"))
    h8 = history_from_store(real_store, dataclasses.replace(req, timeframe="8h"))
    h = history_from_store(real_store, req)
    assert len(h.times) == 30 and any("built from 8h" in n for n in h.notes)
    assert h.open[0, 0] == h8.open[0, 0] and h.close[0, 0] == h8.close[2, 0]
    assert h.high[0, 0] == h8.high[:3, 0].max() and h.low[0, 0] == h8.low[:3, 0].min()


def test_an_uncached_span_says_what_to_do(real_store: Store) -> None:
    req = HistoryRequest("binanceusdm", (BTC,), "8h", parse_utc("2015-01-01"), parse_utc("2015-02-01"))
    with pytest.raises(UsageError, match="fetch them"):
        history_from_store(real_store, req)


def test_demo_history_is_fetched_once_then_read_from_the_cache(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "cache.db")
    clock = FrozenClock(FROZEN_NOW_MS)
    symbols = ("BTCDEMO/USDT:USDT", "ETHDEMO/USDT:USDT")
    req = HistoryRequest("demo", symbols, "8h", FROZEN_NOW_MS - 60 * 86_400_000, FROZEN_NOW_MS)
    notes = asyncio.run(fetch_history(DemoExchange(7, clock), store, req, clock))
    h = history_from_store(store, req, notes)
    assert len(h.times) == 180 and not np.isnan(h.open).any() and not np.isnan(h.spot_open).any()
    assert len(h.funding_time) >= 2 * 180  # prints every 8h or more often
    again = asyncio.run(fetch_history(DemoExchange(7, clock), store, req, clock))
    assert again == notes and np.array_equal(history_from_store(store, req).close, h.close)
    # the cached markets' order rules go with the history (the backtester's fills follow them)
    assert [(r.step, r.min_notional) for r in h.rules if r is not None] == [(0.001, 20.0), (0.001, 20.0)]


def test_default_universe_is_the_busiest_cached_perps_with_usable_bars(real_store: Store) -> None:
    assert busiest_cached(real_store, "binanceusdm", "1d", 5) == [BTC, ARB]  # 1d from the 8h bars
    assert busiest_cached(real_store, "binanceusdm", "8h", 1) == [BTC]
    assert busiest_cached(real_store, "binanceusdm", "1h", 5) == []  # nothing finer than 8h cached


def test_symbols_resolve_leniently_and_an_unknown_one_gets_suggestions() -> None:
    known = [BTC, ARB, "ETH/USDT:USDT"]
    assert resolve_symbols(["btc", "ARBUSDT", "BTC/USDT:USDT"], known, "the cache") == (BTC, ARB)
    with pytest.raises(UsageError, match="ETH/USDT:USDT"):
        resolve_symbols(["ETHH"], known, "the cache")
