"""The neutral carry base over history: long spot + short perp on the perps with the best net carry.

At a decision for bar k (taken at the close of bar k - 1, from ``MarketHistory.until(k)``):

1. Candidates: perps with a spot twin, both priced at the close of bar k - 1, and a funding history
   covering the lookback. Each is priced as the plan prices a carry (``domain.carry``): the mean
   funding APR over ``lookback_days`` (prints in (t - lookback, t], sum x 365 / days), less the round
   trip 2 x (spot + perp taker) + 4 x slippage (four fills) amortised over ``hold_days``.
2. Only positive funding (short perp + long spot): a negative-funding carry (long perp + short spot)
   needs a spot borrow that the backtest does not model, so it is skipped. Those netting at least
   ``min_carry_apr``, best first (ties by symbol), at most ``top_n``.
3. Weights within the layer: equal, or (``weighting=optimizer``) the plan's: max utility on the net
   APRs and the covariance of the pairs' daily funding income over the lookback, long only, summing
   to 1, each at most ``neutral_max_weight`` (raised to 1 / pairs when fewer qualify), warm-started
   from the last solve with as many pairs (picks come best first, so the active set carries over).
   When the optimiser cannot weight them (a lookback under two days gives no covariance) they are
   weighted equally.
4. Pair i ties up spot notional N + perp margin N / L (L = ``neutral_leverage``), so its exposures
   are N = w_i / (1 + 1 / L) of the layer's equity: -N perp, and the spot leg ``hedge``d at the
   perp's quantity (long Q spot + short Q perp, domain.md: the basis at the fill leaves no residual
   exposure); the book uses the whole equity.

Before any perp has ever qualified the layer has no view (None: nothing to hold yet, so
``rebalance=never`` enters at the first carry worth taking and holds it); from then on a decision with
nothing qualifying targets an empty book.
"""

from __future__ import annotations

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.params import BacktestParams
from perptui.domain.backtest.types import LayerTargets
from perptui.domain.carry import round_trip_cost
from perptui.domain.errors import UsageError
from perptui.domain.estimators import covariance
from perptui.domain.optimize import PortfolioProblem, WarmStart, optimize

from .funding import Prints, daily_income, prints_by_symbol, trailing_apr


class CarryLayer:
    """The carry base as a ``LayerStrategy``; ``allowed`` (per symbol of the history, by name) limits
    its universe.

    Cross margin (the engine's ``margin_mode``): the spot legs are the perp shorts' collateral, as on
    a portfolio-margin account, so a rally that doubles the price does not liquidate a hedged short
    on its own isolated wallet while the spot leg holds the gain."""

    margin_mode = "cross"

    def __init__(self, params: BacktestParams, allowed: frozenset[str] | None = None, name: str = "carry"):
        self.name = name
        self.params = params
        self.allowed = allowed
        self._h: MarketHistory | None = None

    def prepare(self, history: object) -> None:
        if not isinstance(history, MarketHistory):
            raise TypeError(f"CarryLayer needs a MarketHistory, not {type(history).__name__}")
        p = self.params
        self._h = history
        self._prints: list[Prints] = prints_by_symbol(history)
        self.funding = trailing_apr(history, p.lookback_days, self._prints)
        cost = round_trip_cost(p.spot_taker, p.perp_taker, 4 * p.slippage)
        with np.errstate(invalid="ignore"):
            self.net = self.funding - cost * 365 / p.hold_days  # carry()'s net APR of a positive funding
            priced = np.isfinite(history.close) & np.isfinite(history.spot_close)
            self.qualifies = priced & (self.funding > 0) & (self.net >= p.min_carry_apr)
        if self.allowed is not None:
            self.qualifies &= np.array([s in self.allowed for s in history.symbols])
        any_row = np.flatnonzero(self.qualifies.any(axis=1)) if p.top_n > 0 else np.zeros(0, int)
        self.first_row = int(any_row[0]) if any_row.size else None
        self._order_key = np.argsort(np.argsort(np.array(history.symbols)))  # rank of each name
        self._warm: dict[int, WarmStart | None] = {}

    def picks(self, k: int) -> np.ndarray:
        """Columns of the carries taken at the decision for bar k, best net APR first."""
        r = k - 1
        cols = np.flatnonzero(self.qualifies[r])
        order = np.lexsort((self._order_key[cols], -self.net[r, cols]))
        return cols[order][: self.params.top_n]

    def targets(self, k: int) -> LayerTargets | None:
        h = self._h
        if h is None:
            raise RuntimeError("CarryLayer.targets before prepare")
        if self.first_row is None or k - 1 < self.first_row:
            return None
        n = len(h.symbols)
        perp, spot, lev = np.zeros(n), np.zeros(n), np.ones(n)
        cols = self.picks(k)
        if cols.size == 0:
            return LayerTargets(perp, spot, lev)
        w = self.weights(k, cols)
        size = w / (1.0 + 1.0 / self.params.neutral_leverage)
        spot[cols], perp[cols], lev[cols] = size, -size, self.params.neutral_leverage
        return LayerTargets(perp, spot, lev, hedge=perp != 0)  # long Q spot + short Q perp

    def weights(self, k: int, cols: np.ndarray) -> np.ndarray:
        """Within the layer, summing to 1 (see the module docstring, 3)."""
        p, m = self.params, len(cols)
        equal = np.full(m, 1.0 / m)
        if p.weighting == "equal" or m == 1:
            return equal
        now = int(self._h.times[k])  # type: ignore[union-attr]  # _h is set by prepare()
        income = np.column_stack([daily_income(self._prints[i], now, p.lookback_days) for i in cols])
        if income.shape[0] < 2:
            return equal
        try:
            cov = covariance(income, "1d", p.covariance)
            result = optimize(
                PortfolioProblem(
                    mu=self.net[k - 1, cols],
                    cov=cov,
                    objective="max_utility",
                    risk_aversion=p.risk_aversion,
                    bounds=(0.0, max(p.neutral_max_weight, 1.0 / m)),
                    net_min=1.0,
                    net_max=1.0,
                ),
                self._warm.get(m),
            )
        except (UsageError, ValueError, np.linalg.LinAlgError):
            return equal
        self._warm[m] = result.warm
        w = np.clip(result.weights, 0.0, None)
        total = float(w.sum())
        return w / total if total > 0 else equal
