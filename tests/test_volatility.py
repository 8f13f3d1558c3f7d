"""True range and Wilder's ATR, by hand on a few candles and against pandas on real Binance bars."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from perptui.domain.types import Candle
from perptui.domain.volatility import atr, true_ranges

H = 3_600_000


def bars(*ohlc: tuple[float, float, float, float]) -> list[Candle]:
    return [Candle(i * H, o, h, low, c, 1.0) for i, (o, h, low, c) in enumerate(ohlc)]


#: open, high, low, close; the true range of each bar after the first is worked out beside it
CANDLES = bars(
    (100, 105, 95, 102),
    (102, 108, 101, 107),  # high - low = 7, |108 - 102| = 6, |101 - 102| = 1       -> 7
    (107, 107, 98, 99),  # 9, |107 - 107| = 0, |98 - 107| = 9                      -> 9
    (99, 100, 90, 92),  # 10, 1, 9                                                  -> 10
    (92, 99, 91, 97),  # 8, 7, 1                                                     -> 8
    (110, 115, 110, 112),  # a gap up: 5, |115 - 97| = 18, |110 - 97| = 13         -> 18
)


def test_true_range_counts_the_gap_from_the_previous_close() -> None:
    assert true_ranges(CANDLES) == [7, 9, 10, 8, 18]
    assert true_ranges(CANDLES[:1]) == [] and true_ranges([]) == []


def test_wilder_atr_by_hand() -> None:
    """ATR(3): seeded with the mean of the first three ranges (7 + 9 + 10) / 3 = 26/3, then
    (ATR x 2 + TR) / 3: (52/3 + 8) / 3 = 76/9, then (152/9 + 18) / 3 = 314/27 = 11.63."""
    assert atr(CANDLES[:4], 3) == pytest.approx(26 / 3)
    assert atr(CANDLES[:5], 3) == pytest.approx(76 / 9)
    assert atr(CANDLES, 3) == pytest.approx(314 / 27)
    assert atr(CANDLES, 1) == 18  # a one-bar ATR is the last true range
    assert atr(CANDLES, 5) == pytest.approx((7 + 9 + 10 + 8 + 18) / 5)


def test_too_few_candles_give_none_not_a_guess() -> None:
    """ATR(n) needs n + 1 candles (each true range needs the previous close)."""
    assert atr(CANDLES[:3], 3) is None
    assert atr(CANDLES, 6) is None
    assert atr([], 14) is None
    with pytest.raises(ValueError, match="at least 1"):
        atr(CANDLES, 0)


def test_atr_of_real_btc_bars_matches_pandas_wilder_smoothing(binance_data: Path) -> None:
    """On 300 real 8-hour BTCUSDT bars, ATR(14) equals an independent Wilder smoothing in pandas
    (the 14-bar mean, then an exponential average with alpha = 1/14), and is a plausible share of price."""
    import pandas as pd

    with (binance_data / "ohlcv_8h_perp" / "BTCUSDT.csv").open() as f:
        rows = list(csv.DictReader(f))[-300:]
    candles = [
        Candle(
            int(r["openTime"]), float(r["open"]), float(r["high"]), float(r["low"]), float(r["close"]), 0.0
        )
        for r in rows
    ]
    df = pd.DataFrame([(c.high, c.low, c.close) for c in candles], columns=["high", "low", "close"])
    prev = df["close"].shift()
    tr = pd.concat([df["high"] - df["low"], (df["high"] - prev).abs(), (df["low"] - prev).abs()], axis=1)
    tr = tr.max(axis=1, skipna=False).iloc[1:].reset_index(drop=True)
    n = 14
    seeded = pd.concat([pd.Series([tr.iloc[:n].mean()]), tr.iloc[n:]], ignore_index=True)
    expected = seeded.ewm(alpha=1 / n, adjust=False).mean().iloc[-1]
    value = atr(candles, n)
    assert value == pytest.approx(expected, rel=1e-9)
    assert 0.002 < value / candles[-1].close < 0.1
