"""The engine on real Binance history (../shared/data/binance, skipped when absent): a BTC carry's
funding against an independent pandas computation from the CSV files (held to the end in cross margin
with the real brackets), the liquidation of an isolated 1x short when BTC doubled, and the ledger
identity on a 15-symbol run with late listings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from perptui.domain.backtest.engine import run_backtest
from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.reconcile import reconcile
from perptui.domain.backtest.types import (
    KIND_LIQUIDATION,
    KIND_TRADE,
    LEG_PERP,
    Costs,
    LayerTargets,
    Schedule,
)
from perptui.domain.liquidation import liquidation_price
from perptui.domain.timeframes import parse_utc
from tests.backtest_data import FixedStrategy, always, binance_history, book
from tests.conftest import BINANCE_DATA

H8 = 8 * 3_600_000
START, END = parse_utc("2021-01-01"), parse_utc("2026-01-01")  # held through 2025-12-31's last bar
BASES = (
    "ADA",
    "ARB",
    "ATOM",
    "AVAX",
    "BNB",
    "BTC",
    "DOGE",
    "DOT",
    "ETH",
    "LINK",
    "LTC",
    "POL",
    "SOL",
    "UNI",
    "XRP",
)
SYMBOLS = [f"{b}/USDT:USDT" for b in BASES]


@pytest.fixture(scope="module")
def btc() -> MarketHistory:
    history = binance_history(["BTC/USDT:USDT"])
    if history is None:
        pytest.skip(f"real Binance data not present at {BINANCE_DATA} (only in the developers' checkout)")
    return history


def _span(h: MarketHistory) -> tuple[int, int]:
    return int(np.searchsorted(h.times, START)), int(np.searchsorted(h.times, END))


def _carry(h: MarketHistory, margin_mode: str | None = None) -> tuple:
    start, end = _span(h)
    carry = always(book([-0.5], [0.5], [1.0]), "carry", margin_mode)
    result = run_backtest(h, [(carry, 10_000.0)], start=start, end=end)
    assert reconcile(result, h) <= 1e-9 * 10_000
    return result, start, end


@pytest.mark.parametrize("margin", ["isolated without brackets", "cross with the real brackets"])
def test_a_held_carrys_funding_is_the_pandas_sum_over_the_prints(btc: MarketHistory, margin: str) -> None:
    """Short BTC perp + long BTC spot, 1x, from 2021-01-01 to the end of 2025, never rebalanced. An
    isolated 1x short with the real brackets would be liquidated when BTC doubled (next test), so it is
    run without brackets, or in cross margin with them, where the spot leg carries the perp's loss and
    the pair is never liquidated. The expected funding is computed from the CSV files alone: every
    print in (start, end), floored to the second, at the 8h perp open of the bar holding it, times the
    constant quantity."""
    cross = margin.startswith("cross")
    result, _, _ = _carry(btc, "cross") if cross else _carry(dataclasses.replace(btc, tiers=()))
    assert result.layers[0].liquidations == 0 and (result.fills.kind == KIND_TRADE).all()
    perp = result.fills.leg == LEG_PERP
    assert perp.sum() == 1  # one entry, held to the end
    qty = float(result.fills.qty[perp][0])
    assert qty < 0

    prints = pd.read_csv(BINANCE_DATA / "funding" / "BTCUSDT.csv", usecols=["fundingTime", "fundingRate"])
    prints["time"] = prints["fundingTime"] // 1000 * 1000
    prints = prints[(prints["time"] > START) & (prints["time"] < END)]
    bars = pd.read_csv(BINANCE_DATA / "ohlcv_8h_perp" / "BTCUSDT.csv", usecols=["openTime", "open"])
    prints["bar"] = prints["time"] // H8 * H8
    joined = prints.merge(bars, left_on="bar", right_on="openTime", how="left", validate="many_to_one")
    assert joined["open"].notna().all()
    expected = float((-qty * joined["open"] * joined["fundingRate"]).sum())

    # 1,826 days (2024 is a leap year) of 3 prints, less the one at the start (before the entry).
    assert len(result.funding.time) == len(joined) == 1826 * 3 - 1
    assert result.funding.time.tolist() == joined["time"].tolist()
    assert result.funding_pnl == pytest.approx(expected, rel=1e-9)
    assert result.layers[0].funding_pnl > 0  # the carry earned funding over 2021-2025


def test_an_isolated_1x_short_is_liquidated_when_btc_doubles(btc: MarketHistory) -> None:
    """With Binance's brackets the same carry's perp leg (isolated margin = its notional) is liquidated
    at the first 8h high at or above the formula's price, early in 2021, and loses exactly its margin;
    the spot leg stays."""
    result, start, end = _carry(btc)
    fills = result.fills
    perp = (fills.leg == LEG_PERP) & (fills.kind != KIND_LIQUIDATION)
    q, e = -float(fills.qty[perp][0]), float(fills.price[perp][0])
    lp = liquidation_price("short", q, e, q * e, btc.tiers[0]).price
    assert lp is not None
    highs = btc.high[start:end, 0]
    first = start + int(np.argmax(highs >= lp))
    liq = fills.kind == KIND_LIQUIDATION
    assert fills.time[liq].tolist() == [int(btc.times[first])]
    assert fills.price[liq].tolist() == [lp]
    assert parse_utc("2021-02-01") < fills.time[liq][0] < parse_utc("2021-03-01")
    loss = -q * (lp - e) - float(fills.fee[liq][0])
    assert loss == pytest.approx(-q * e, rel=1e-12)
    assert result.layers[0].liquidations == 1


def test_fifteen_symbols_reconcile_and_late_listings_join_cleanly() -> None:
    h = binance_history(SYMBOLS)
    if h is None:
        pytest.skip(f"real Binance data not present at {BINANCE_DATA} (only in the developers' checkout)")
    n = len(SYMBOLS)

    def targets(k: int) -> LayerTargets | None:
        """Long the 3 with the best 30-day return, short the 3 worst, 3x, among the listed symbols."""
        if k < 91:
            return None
        past = h.close[k - 91 : k]
        ret = past[-1] / past[0] - 1
        ok = np.isfinite(ret)
        order = np.argsort(np.where(ok, ret, 0.0))
        ranked = order[np.isin(order, np.flatnonzero(ok))]
        w = np.zeros(n)
        w[ranked[-3:]], w[ranked[:3]] = 0.15, -0.15
        return book(w, np.zeros(n), np.full(n, 3.0))

    costs = Costs(perp_taker=0.0005, spot_taker=0.001, slippage=0.0005)
    result = run_backtest(
        h, [(FixedStrategy(targets, "momentum"), 10_000.0)], costs=costs, schedule=Schedule(21, drift=0.1)
    )
    assert reconcile(result, h) <= 1e-9 * max(10_000.0, float(np.max(np.abs(result.equity))))
    for symbol in ("ARB/USDT:USDT", "POL/USDT:USDT"):
        col = SYMBOLS.index(symbol)
        listed = int(h.times[np.flatnonzero(np.isfinite(h.open[:, col]))[0]])
        traded = result.fills.time[result.fills.symbol == col]
        assert traded.size and traded.min() > listed
    assert result.layers[0].equity.shape == (h.n_bars + 1,)
