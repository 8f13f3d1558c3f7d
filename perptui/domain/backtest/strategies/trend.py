"""The directional layer over history: the allocation plan's trend layer at every decision.

At a decision for bar k (the close of bar k - 1, ``MarketHistory.until(k)``):

1. Universe: the symbols with a close at bar k - 1, the signals' minimum number of closes, the last
   ``cov_lookback_days`` of bar returns all known (a symbol listed late joins once it has them; a gap
   in its bars keeps it out until the gap leaves the window: missing data is never filled) and a
   funding history covering ``lookback_days``. Every other symbol gets weight 0.
2. As the plan (``plan.directional``): the combined signal s (``signals_vec``, equal to
   ``plan.signals`` at every bar), the yearly volatility sigma from the covariance
   (``estimators.covariance``, Ledoit-Wolf by default) of the window's returns, expected return
   = s x ``signal_ic`` x sigma - mean funding APR, shrunk by ``shrinkage``
   (``estimators.perp_expected_returns``); the plan's optimisation problem (objective, per-asset cap
   ``max_weight`` x ``leverage_cap``, gross cap ``leverage_cap``, volatility cap ``vol_target``),
   warm-started from the previous decision's solution when the universe is the same.
3. The regime filter (``plan.regime``) on the equal-weight basket of the universe's daily returns
   (days ending at bar closes up to bar k - 1, on the days every member has a close) scales every
   weight.
   With ``sizing=signal`` steps 2 and 3 are replaced by a rule with no estimate in it: each weight is
   the combined signal x ``max_weight`` x ``leverage_cap``, all scaled down when their gross exceeds
   ``leverage_cap`` (no optimiser, no regime filter; the universe is the same).
4. Isolated margin: every perp at leverage max(1, the book's gross exposure) (at most ``leverage_cap``
   by the optimiser's gross cap), lowered to the symbol's highest bracket leverage, so the margins
   add up to the layer's equity and each position is as far from liquidation as the equity allows.
   (The plan posts notional / ``leverage_cap``, leaving the rest of the layer's capital idle; over
   years of history that idle cash is what keeps a position alive through a wick.)

The signals, returns, funding means and daily closes are computed once for all bars in ``prepare``;
a decision reads row k - 1. Before any symbol qualifies the layer has no view (None); afterwards an
empty universe or an unsolvable problem targets an empty book.
"""

from __future__ import annotations

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.params import BacktestParams
from perptui.domain.backtest.signals_vec import signal_grid
from perptui.domain.backtest.types import LayerTargets
from perptui.domain.errors import UsageError
from perptui.domain.estimators import bars_per_year, covariance, perp_expected_returns
from perptui.domain.optimize import OptimizeResult, WarmStart, optimize
from perptui.domain.plan.config import PlanConfig
from perptui.domain.plan.directional import problem
from perptui.domain.plan.regime import RegimeState

from .funding import trailing_apr
from .regime import BasketRegime

#: The covariance needs at least this many returns (the plan's rule).
MIN_COV_BARS = 3


def plan_config(params: BacktestParams, timeframe: str) -> PlanConfig:
    """The plan settings the trend layer shares with the allocation pane (for ``directional.problem``)."""
    p = params
    return PlanConfig(
        capital=1.0,
        objective=p.objective,
        risk_aversion=p.risk_aversion,
        leverage_cap=p.leverage_cap,
        max_weight=p.max_weight,
        vol_target=p.vol_target,
        target_return=p.target_return,
        timeframe=timeframe,
        covariance=p.covariance,
        regime_k=p.regime_k,
        regime_zero_at=p.regime_zero_at,
        regime_window_days=p.regime_window_days,
        regime_history_days=p.regime_history_days,
        ma_fast=p.ma_fast,
        ma_slow=p.ma_slow,
        donchian_bars=p.donchian_bars,
        momentum_bars=p.momentum_bars,
        signal_ic=p.signal_ic,
        shrinkage=p.shrinkage,
    )


def cov_bars(params: BacktestParams, timeframe: str) -> int:
    """Returns in the covariance window: the plan's ``lookback_bars`` for any number of days."""
    bars = round(params.cov_lookback_days * bars_per_year(timeframe) / 365)
    if bars < MIN_COV_BARS:
        raise UsageError(
            f"parameter cov_lookback_days={params.cov_lookback_days:g} is {bars} {timeframe} bar(s): "
            f"the covariance needs at least {MIN_COV_BARS}"
        )
    return bars


def bracket_leverage(history: MarketHistory) -> np.ndarray:
    """Per symbol: its highest bracket leverage, at least 1 (infinite where brackets are unknown)."""
    out = np.full(len(history.symbols), np.inf)
    for i, tiers in enumerate(history.tiers):
        top = max((t.max_leverage for t in tiers if t.max_leverage), default=None)
        if top is not None:
            out[i] = max(1.0, top)
    return out


class TrendLayer:
    """The directional layer as a ``LayerStrategy``; ``allowed`` limits its universe (symbol names).
    Each perp on its own isolated margin (the engine's ``margin_mode``)."""

    margin_mode = "isolated"

    def __init__(self, params: BacktestParams, allowed: frozenset[str] | None = None, name: str = "trend"):
        self.name = name
        self.params = params
        self.allowed = allowed
        self._h: MarketHistory | None = None
        self.last_regime: RegimeState | None = None

    def prepare(self, history: object) -> None:
        if not isinstance(history, MarketHistory):
            raise TypeError(f"TrendLayer needs a MarketHistory, not {type(history).__name__}")
        p, h = self.params, history
        self._h = h
        self.config = plan_config(p, h.timeframe)
        self.window = cov_bars(p, h.timeframe)
        close = h.close
        self.signal = signal_grid(close, p.ma_fast, p.ma_slow, p.donchian_bars, p.momentum_bars).combined
        self.returns = np.full(close.shape, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.returns[1:] = close[1:] / close[:-1] - 1.0
        known = np.cumsum(np.isfinite(self.returns), axis=0)
        full = np.zeros(close.shape, bool)
        full[self.window - 1 :] = (known[self.window - 1 :] - _shifted(known, self.window)) == self.window
        self.funding = trailing_apr(h, p.lookback_days)
        self.eligible = full & np.isfinite(self.signal) & np.isfinite(self.funding)
        if self.allowed is not None:
            self.eligible &= np.array([s in self.allowed for s in h.symbols])
        rows = np.flatnonzero(self.eligible.any(axis=1))
        self.first_row = int(rows[0]) if rows.size else None
        self.leverage = bracket_leverage(h)
        self.regime: BasketRegime | None = None  # sizing=signal has no regime filter
        if p.sizing == "optimizer":
            self.regime = BasketRegime(
                h, k=p.regime_k, zero_at=p.regime_zero_at, window=p.regime_window_days,
                history_days=p.regime_history_days,
            )  # fmt: skip
        self._warm: tuple[tuple[int, ...], WarmStart | None] | None = None

    def targets(self, k: int) -> LayerTargets | None:
        h = self._h
        if h is None:
            raise RuntimeError("TrendLayer.targets before prepare")
        r = k - 1
        if self.first_row is None or r < self.first_row:
            return None
        n = len(h.symbols)
        perp, spot = np.zeros(n), np.zeros(n)
        cols = np.flatnonzero(self.eligible[r])
        if cols.size == 0:
            return LayerTargets(perp, spot, np.ones(n))
        if self.params.sizing == "signal":
            perp[cols] = self.signal_weights(r, cols)
        elif (w := self.solve(r, cols)) is not None:
            state = self.regime_at(r, cols)
            self.last_regime = state
            perp[cols] = w * state.scale
        gross = float(np.abs(perp).sum())
        lev = np.minimum(self.leverage, max(1.0, gross))
        return LayerTargets(perp, spot, np.where(perp != 0, lev, 1.0))

    def signal_weights(self, r: int, cols: np.ndarray) -> np.ndarray:
        """``sizing=signal``: combined signal x max_weight x leverage_cap, gross at most leverage_cap."""
        p = self.params
        w = self.signal[r, cols] * p.max_weight * p.leverage_cap
        gross = float(np.abs(w).sum())
        return w * (p.leverage_cap / gross) if gross > p.leverage_cap else w

    def solve(self, r: int, cols: np.ndarray) -> np.ndarray | None:
        """The optimiser's weights for the universe ``cols`` at row r; None when it cannot solve."""
        p = self.params
        rows = self.returns[r - self.window + 1 : r + 1, cols]
        cov = covariance(rows, self._h.timeframe, p.covariance)  # type: ignore[union-attr]  # _h is set by prepare()
        vol = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        drift = self.signal[r, cols] * p.signal_ic * vol
        mu = perp_expected_returns(self.funding[r, cols], drift, shrinkage=p.shrinkage).mu
        key = tuple(int(c) for c in cols)
        warm = self._warm[1] if self._warm is not None and self._warm[0] == key else None
        try:
            assets = tuple(self._h.symbols[c] for c in cols)  # type: ignore[union-attr]  # _h is set by prepare()
            result: OptimizeResult = optimize(problem(self.config, mu, cov, assets), warm)
        except UsageError:
            self._warm = None
            return None
        self._warm = (key, result.warm)
        return result.weights

    def regime_at(self, r: int, cols: np.ndarray) -> RegimeState:
        """The plan's regime of the universe's basket from the days completed by the close of bar r."""
        if self.regime is None:
            raise RuntimeError("sizing=signal has no regime filter")
        return self.regime.at(r, cols)


def _shifted(x: np.ndarray, by: int) -> np.ndarray:
    """x[t - by] for rows t >= by - 1 (zero where t - by < 0), the rows ``full`` compares."""
    out = np.zeros_like(x[by - 1 :])
    out[1:] = x[: len(x) - by]
    return out
