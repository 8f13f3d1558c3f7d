"""The regime filter: scale the directional layer down when volatility spikes. Pure (numpy).

Realised volatility = the standard deviation of the last ``window`` daily returns of the basket (the
equal-weight average of its assets' daily returns) x sqrt(365). Its reference is the median of the
same rolling realised volatility over the last ``history`` days. With ratio = realised / median, the
scale is 1 up to ``k`` x, falls linearly to 0 at ``zero_at`` x and stays 0 beyond: calm (1), elevated
(between) or off (0). Too few days for the reference: state unknown, scale 1, and the reason says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .legs import as_dict

DAYS_PER_YEAR = 365
#: The reference needs at least this many rolling windows (else the median says little).
MIN_WINDOWS = 60

RegimeName = Literal["calm", "elevated", "off", "unknown"]


@dataclass(frozen=True, slots=True)
class RegimeState:
    state: RegimeName
    scale: float  # 0..1, applied to the directional layer's weights
    realised_vol: float | None  # yearly
    median_vol: float | None  # yearly
    reason: str

    def as_dict(self) -> dict[str, object]:
        return as_dict(self)


def regime_scale(ratio: float, k: float, zero_at: float) -> float:
    """1 at or below k, linear to 0 at zero_at, 0 beyond."""
    if ratio <= k:
        return 1.0
    if ratio >= zero_at:
        return 0.0
    return (zero_at - ratio) / (zero_at - k)


def basket_returns(daily: Mapping[str, list[tuple[int, float]]]) -> np.ndarray:
    """Equal-weight daily returns of the assets, on the days every one of them has a close (and the day
    before)."""
    series = [dict(s) for s in daily.values() if len(s) >= 2]
    if not series:
        return np.zeros(0)
    days = sorted(set.intersection(*(set(s) for s in series)))
    if len(days) < 2:
        return np.zeros(0)
    prices = np.array([[s[d] for d in days] for s in series], dtype=float)
    rets = prices[:, 1:] / prices[:, :-1] - 1.0
    return rets.mean(axis=0)


def rolling_vol(returns: np.ndarray, window: int) -> np.ndarray:
    """Yearly realised volatility of every ``window``-day run of ``returns`` (oldest first)."""
    if len(returns) < window:
        return np.zeros(0)
    runs = np.lib.stride_tricks.sliding_window_view(returns, window)
    return runs.std(axis=1, ddof=1) * np.sqrt(DAYS_PER_YEAR)


def regime(
    returns: np.ndarray, *, k: float, zero_at: float, window: int = 30, history: int = 365
) -> RegimeState:
    """The regime of a daily return series (oldest first)."""
    r = np.asarray(returns, dtype=float)[-history:]
    vols = rolling_vol(r, window)
    if len(vols) < MIN_WINDOWS:
        return RegimeState(
            "unknown",
            1.0,
            float(vols[-1]) if len(vols) else None,
            None,
            f"{len(r)} days of returns: the {history}-day median of {window}-day volatility needs at least "
            f"{window + MIN_WINDOWS - 1}; the directional layer is not scaled",
        )
    now, median = float(vols[-1]), float(np.median(vols))
    if median <= 0:
        return RegimeState("unknown", 1.0, now, median, "the long-run volatility is zero: not scaled")
    ratio = now / median
    scale = regime_scale(ratio, k, zero_at)
    state: RegimeName = "calm" if scale == 1.0 else "off" if scale == 0.0 else "elevated"
    reason = (
        f"{window}-day volatility {now:.1%} is {ratio:.2f}x its {history}-day median {median:.1%} "
        f"(scaled from {k:g}x, off at {zero_at:g}x): directional layer at {scale:.0%}"
    )
    return RegimeState(state, scale, now, median, reason)
