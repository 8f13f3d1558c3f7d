"""Volatility measures from candles. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from perptui.domain.types import Candle


def true_ranges(candles: Sequence[Candle]) -> list[float]:
    """True range of each candle after the first: the largest of high - low, |high - previous close| and
    |low - previous close|."""
    return [
        max(c.high - c.low, abs(c.high - prev.close), abs(c.low - prev.close))
        for prev, c in pairwise(candles)
    ]


def atr(candles: Sequence[Candle], n: int = 14) -> float | None:
    """Wilder's average true range over ``n`` bars, smoothed through every candle given (oldest first).

    Seeded with the mean of the first ``n`` true ranges, then ``ATR = (ATR x (n - 1) + TR) / n``. Needs
    ``n + 1`` candles (each true range needs the previous close); None with fewer."""
    if n < 1:
        raise ValueError("ATR period must be at least 1")
    ranges = true_ranges(candles)
    if len(ranges) < n:
        return None
    value = sum(ranges[:n]) / n
    for tr in ranges[n:]:
        value = (value * (n - 1) + tr) / n
    return value
