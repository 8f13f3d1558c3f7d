"""The plan's regime filter (``plan.regime``) at every decision of a backtest, from daily closes.

The basket is the equal-weight average of the universe's daily returns on the days every member has
a close (members: the universe's symbols with at least two daily closes so far), exactly as
``regime.basket_returns`` builds it; the state is ``regime.regime`` of its last ``history`` returns. A
day's close is the close of its last bar, known from that bar's close on.

Per member set the basket's returns and every rolling ``window``-day volatility (``regime.rolling_vol``)
are computed once for the whole history; a decision then slices the days completed so far. Each
window's volatility is the same numpy reduction over the same numbers as the plan's, so the states
and scales agree exactly.
"""

from __future__ import annotations

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.plan.regime import MIN_WINDOWS, RegimeName, RegimeState, regime_scale, rolling_vol
from perptui.domain.timeframes import DAY_MS


class BasketRegime:
    def __init__(self, history: MarketHistory, *, k: float, zero_at: float, window: int, history_days: int):
        self.k, self.zero_at, self.window, self.history = k, zero_at, window, history_days
        self.day_rows = np.flatnonzero((history.times.astype(np.int64) + history.bar_ms) % DAY_MS == 0)
        self.daily = history.close[self.day_rows]
        self.closes_by_day = np.cumsum(np.isfinite(self.daily), axis=0)
        self._cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}

    def _basket(self, members: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(day index of each basket day, rolling volatility of each window of basket returns)."""
        hit = self._cache.get(members)
        if hit is None:
            prices = self.daily[:, list(members)]
            days = np.flatnonzero(np.isfinite(prices).all(axis=1))
            by_asset = np.ascontiguousarray(prices[days].T)
            returns = (by_asset[:, 1:] / by_asset[:, :-1] - 1.0).mean(axis=0)
            hit = self._cache[members] = (days, rolling_vol(returns, self.window))
        return hit

    def at(self, r: int, cols: np.ndarray) -> RegimeState:
        """The regime of the universe ``cols`` from the days completed by the close of bar r."""
        done = int(np.searchsorted(self.day_rows, r, side="right"))
        if done == 0:
            return self._state(np.zeros(0), 0)
        members = tuple(int(c) for c in cols[self.closes_by_day[done - 1, cols] >= 2])
        if not members:
            return self._state(np.zeros(0), 0)
        days, vols = self._basket(members)
        returns = max(0, int(np.searchsorted(days, done - 1, side="right")) - 1)  # basket returns known
        first = max(0, returns - self.history)
        last = returns - self.window + 1  # windows inside the last ``history`` returns
        return self._state(vols[first:last] if last > first else np.zeros(0), returns - first)

    def _state(self, vols: np.ndarray, count: int) -> RegimeState:
        """``regime.regime`` from the windows' volatilities (``count``: the returns they come from)."""
        if len(vols) < MIN_WINDOWS:
            return RegimeState(
                "unknown", 1.0, float(vols[-1]) if len(vols) else None, None,
                f"{count} days of returns: the {self.history}-day median of {self.window}-day volatility "
                f"needs at least {self.window + MIN_WINDOWS - 1}; the directional layer is not scaled",
            )  # fmt: skip
        now, median = float(vols[-1]), float(np.median(vols))
        if median <= 0:
            return RegimeState("unknown", 1.0, now, median, "the long-run volatility is zero: not scaled")
        ratio = now / median
        scale = regime_scale(ratio, self.k, self.zero_at)
        state: RegimeName = "calm" if scale == 1.0 else "off" if scale == 0.0 else "elevated"
        reason = (
            f"{self.window}-day volatility {now:.1%} is {ratio:.2f}x its {self.history}-day median "
            f"{median:.1%} (scaled from {self.k:g}x, off at {self.zero_at:g}x): "
            f"directional layer at {scale:.0%}"
        )
        return RegimeState(state, scale, now, median, reason)
