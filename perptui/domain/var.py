"""1-day Value at Risk and CVaR (expected shortfall) of the current positions. Pure (numpy).

Exposures are signed notionals in the settle currency (+ long, - short) by symbol; a day's PnL is
sum(exposure_i x r_i) with r_i the asset's simple daily return. Losses are positive amounts.

- Historical: the current exposures replayed over the last ``days`` (365) daily returns the held assets
  have in common. With n losses and level a, k = ceil(n x (1 - a)): VaR is the k-th largest loss (the
  smallest loss not exceeded with probability a, the inverted empirical CDF) and CVaR the mean of the k
  largest losses, so CVaR >= VaR.
- Parametric: normal, zero mean, portfolio sigma = sqrt(w' Sigma w) with Sigma the EWMA covariance
  (``perptui.domain.ewma``): VaR = z_a x sigma, CVaR = sigma x phi(z_a) / (1 - a).

Both scale linearly with the exposures. A symbol without returns, or too few common days, gives None
figures and a one-line reason; no exposure at all gives 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from perptui.domain.ewma import MIN_EWMA_OBS, RISKMETRICS_LAMBDA, ewma_covariance
from perptui.domain.timeframes import DAY_MS

VAR_LEVELS: tuple[float, ...] = (0.95, 0.99)
HISTORY_DAYS = 365
#: Historical VaR at 99% needs at least 100 days to have one loss beyond it.
MIN_HISTORICAL_OBS = 100


@dataclass(frozen=True, slots=True)
class ReturnPanel:
    """Daily simple returns of several symbols on the days they all have. ``times[i]`` is the UTC day
    start of the day whose close ends return ``i`` (row i of ``returns``, columns in ``symbols`` order)."""

    symbols: tuple[str, ...]
    times: tuple[int, ...]
    returns: np.ndarray  # len(times) x len(symbols)

    def column(self, symbol: str) -> np.ndarray:
        return self.returns[:, self.symbols.index(symbol)]


def aligned_daily_returns(
    closes: Mapping[str, Iterable[tuple[int, float]]], days: int | None = HISTORY_DAYS
) -> ReturnPanel:
    """Daily returns on the days every symbol has a close and a close the day before, the last ``days``.

    ``closes[symbol]`` holds (time of the daily bar, close) in any order; times are taken to their UTC day.
    A return spans exactly one day: a gap in a series drops the day after it rather than merging days."""
    per_symbol: dict[str, dict[int, float]] = {}
    for symbol, rows in closes.items():
        by_day = {int(t) - int(t) % DAY_MS: float(c) for t, c in rows}
        per_symbol[symbol] = {
            d: c / by_day[d - DAY_MS] - 1.0
            for d, c in by_day.items()
            if d - DAY_MS in by_day and by_day[d - DAY_MS] > 0 and math.isfinite(c)
        }
    symbols = tuple(per_symbol)
    common = sorted(set.intersection(*(set(r) for r in per_symbol.values()))) if symbols else []
    if days is not None:
        common = common[-days:] if days > 0 else []
    matrix = np.array([[per_symbol[s][d] for s in symbols] for d in common], dtype=float)
    return ReturnPanel(symbols, tuple(common), matrix.reshape(len(common), len(symbols)))


@dataclass(frozen=True, slots=True)
class TailRisk:
    level: float
    var: float  # loss not exceeded with probability ``level``, positive = a loss
    cvar: float  # mean loss beyond it


@dataclass(frozen=True, slots=True)
class VarResult:
    method: str  # "historical" | "parametric"
    horizon_days: int
    tails: tuple[TailRisk, ...]  # empty when unknown (see reason)
    observations: int  # days of returns used
    reason: str | None = None  # why there are no figures

    def tail(self, level: float) -> TailRisk | None:
        return next((t for t in self.tails if abs(t.level - level) < 1e-12), None)

    def var(self, level: float) -> float | None:
        t = self.tail(level)
        return t.var if t else None

    def cvar(self, level: float) -> float | None:
        t = self.tail(level)
        return t.cvar if t else None


def _checked_levels(levels: Sequence[float]) -> tuple[float, ...]:
    for a in levels:
        if not 0 < a < 1:
            raise ValueError(f"VaR level must be in (0, 1), not {a!r}")
    return tuple(levels)


def _exposure_vector(
    method: str, exposures: Mapping[str, float], panel: ReturnPanel, levels: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray] | VarResult:
    """(weights, returns of those columns), or the result to give without computing."""
    held = {s: float(x) for s, x in exposures.items() if x != 0}
    if not held:
        return VarResult(method, 1, tuple(TailRisk(a, 0.0, 0.0) for a in levels), len(panel.times))
    missing = sorted(s for s in held if s not in panel.symbols)
    if missing:
        return VarResult(method, 1, (), 0, f"no daily returns for {', '.join(missing)}")
    cols = [panel.symbols.index(s) for s in held]
    return np.array(list(held.values())), panel.returns[:, cols]


def portfolio_pnl(exposures: Mapping[str, float], panel: ReturnPanel) -> np.ndarray:
    """Each day's PnL of the exposures replayed over the panel's returns (KeyError for a symbol the panel
    lacks)."""
    out = _exposure_vector("historical", exposures, panel, ())
    if isinstance(out, VarResult):
        if out.reason:
            raise KeyError(out.reason)
        return np.zeros(len(panel.times))
    w, r = out
    return r @ w


def historical_var(
    exposures: Mapping[str, float],
    panel: ReturnPanel,
    levels: Sequence[float] = VAR_LEVELS,
    days: int = HISTORY_DAYS,
    min_obs: int = MIN_HISTORICAL_OBS,
) -> VarResult:
    """Historical 1-day VaR and CVaR of the exposures over the last ``days`` rows of the panel."""
    levels = _checked_levels(levels)
    out = _exposure_vector("historical", exposures, panel, levels)
    if isinstance(out, VarResult):
        return out
    w, r = out
    r = r[-days:]
    n = r.shape[0]
    if n < min_obs:
        return VarResult("historical", 1, (), n, f"only {n} days of returns in common (need {min_obs})")
    losses = np.sort(-(r @ w))[::-1]  # largest first
    tails = []
    for a in levels:
        k = max(1, math.ceil(n * (1 - a) - 1e-9))
        tails.append(TailRisk(a, float(losses[k - 1]) + 0.0, float(np.mean(losses[:k])) + 0.0))
    return VarResult("historical", 1, tuple(tails), n)


def parametric_var(
    exposures: Mapping[str, float],
    panel: ReturnPanel,
    levels: Sequence[float] = VAR_LEVELS,
    lam: float = RISKMETRICS_LAMBDA,
    days: int = HISTORY_DAYS,
    min_obs: int = MIN_EWMA_OBS,
) -> VarResult:
    """Normal 1-day VaR and CVaR with the EWMA covariance of the last ``days`` rows, zero mean."""
    levels = _checked_levels(levels)
    out = _exposure_vector("parametric", exposures, panel, levels)
    if isinstance(out, VarResult):
        return out
    w, r = out
    r = r[-days:]
    cov = ewma_covariance(r, lam, min_obs)
    if cov is None:
        n = r.shape[0]
        return VarResult("parametric", 1, (), n, f"only {n} days of returns in common (need {min_obs})")
    sigma = math.sqrt(max(0.0, float(w @ cov @ w)))
    normal = NormalDist()
    tails = []
    for a in levels:
        z = normal.inv_cdf(a)
        tails.append(TailRisk(a, z * sigma, sigma * normal.pdf(z) / (1 - a)))
    return VarResult("parametric", 1, tuple(tails), r.shape[0])
