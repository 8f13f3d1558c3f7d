"""Trend signals of one asset from its closes (oldest first), each in [-1, 1]. Pure (numpy).

- Moving-average crossover: +1 when the fast simple average of the last ``fast`` closes is above the
  slow one (``slow`` closes), -1 below, 0 equal.
- Donchian breakout: a close above the highest of the ``window`` closes before it turns the signal to
  +1, below their lowest to -1; in between it holds the last breakout's sign (0 before any).
- Time-series momentum: the return over ``lookback`` bars divided by the volatility expected over
  that span (per-bar standard deviation of the log returns in it x sqrt(lookback)), clipped to [-1, 1].
- Combined: the average of the three.

Each needs a minimum number of closes (``min_closes``); with fewer the signal is None, never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def ma_crossover(closes: Sequence[float], fast: int, slow: int) -> float | None:
    c = np.asarray(closes, dtype=float)
    if len(c) < slow:
        return None
    return float(np.sign(c[-fast:].mean() - c[-slow:].mean()))


def donchian(closes: Sequence[float], window: int) -> float | None:
    c = np.asarray(closes, dtype=float)
    if len(c) < window + 1:
        return None
    state = 0.0
    for i in range(window, len(c)):
        prior = c[i - window : i]
        if c[i] > prior.max():
            state = 1.0
        elif c[i] < prior.min():
            state = -1.0
    return state


def momentum(closes: Sequence[float], lookback: int) -> float | None:
    c = np.asarray(closes, dtype=float)
    if len(c) < lookback + 1 or np.any(c[-lookback - 1 :] <= 0):
        return None
    span = c[-lookback - 1 :]
    ret = span[-1] / span[0] - 1.0
    logs = np.diff(np.log(span))
    sd = float(logs.std(ddof=1)) if len(logs) >= 2 else 0.0
    if sd == 0.0:
        return float(np.sign(ret))
    return float(np.clip(ret / (sd * np.sqrt(lookback)), -1.0, 1.0))


@dataclass(frozen=True, slots=True)
class Signals:
    ma: float
    donchian: float
    momentum: float

    @property
    def combined(self) -> float:
        return (self.ma + self.donchian + self.momentum) / 3.0


def min_closes(fast: int, slow: int, window: int, lookback: int) -> int:
    return max(slow, window + 1, lookback + 1)


def signals(closes: Sequence[float], fast: int, slow: int, window: int, lookback: int) -> Signals | None:
    """The three signals, or None when there are too few closes for any of them."""
    ma, dc, mo = ma_crossover(closes, fast, slow), donchian(closes, window), momentum(closes, lookback)
    if ma is None or dc is None or mo is None:
        return None
    return Signals(ma, dc, mo)
