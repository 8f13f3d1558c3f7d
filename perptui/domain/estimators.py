"""Inputs of the mean-variance optimiser: expected returns and covariances, per year. Pure (numpy).

Returns are simple returns per bar (1h, 4h, 8h or 1d bars, oldest first, rows = bars, columns = assets).
Crypto trades every day, so a year is 365 days: 8,760 hourly bars, 2,190 4-hourly, 1,095 8-hourly, 365
daily. Covariances scale by the bars per year; the lookback (7, 30 or 90 days) takes the last
days x bars-per-day rows.

Expected return of a perp, per unit of signed weight (+ long, - short): the price drift forecast minus
the expected funding APR (a long pays positive funding, a short earns it), so a position of side s earns
s x drift - s x funding. Both forecasts are noisy, so the total is shrunk towards zero: by a fixed factor,
or by the positive-part James-Stein factor (p - 2) x mean(se^2) / sum(mu^2) when the standard errors of
the estimates are known (p >= 3 assets), which shrinks more when the estimates are small against their
noise.

Covariance estimators: the sample covariance (ddof 1); EWMA with a half-life in bars (RiskMetrics, zero
mean: ``perptui.domain.ewma`` with lambda = 0.5 ** (1 / half-life)); Ledoit-Wolf shrinkage towards the
scaled identity (mean variance x I) with the optimal intensity of Ledoit and Wolf (2004), as
scikit-learn's ``LedoitWolf`` computes it (means removed, maximum-likelihood scatter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perptui.domain.errors import UsageError
from perptui.domain.ewma import ewma_covariance
from perptui.domain.timeframes import DAY_MS, timeframe_ms

DAYS_PER_YEAR = 365
LOOKBACK_DAYS: tuple[int, ...] = (7, 30, 90)
BAR_TIMEFRAMES: tuple[str, ...] = ("1h", "4h", "8h", "1d")
COVARIANCE_METHODS: tuple[str, ...] = ("sample", "ewma", "ledoit_wolf")


def bars_per_year(timeframe: str) -> float:
    """1h -> 8760, 4h -> 2190, 8h -> 1095, 1d -> 365."""
    if timeframe not in BAR_TIMEFRAMES:
        raise UsageError(f"bars of {timeframe!r} are not supported: use one of {', '.join(BAR_TIMEFRAMES)}")
    return DAYS_PER_YEAR * DAY_MS / timeframe_ms(timeframe)


def lookback_rows(returns: np.ndarray, timeframe: str, days: int) -> np.ndarray:
    """The last ``days`` (7, 30 or 90) of bars; all of them when there are fewer."""
    if days not in LOOKBACK_DAYS:
        raise UsageError(
            f"lookback {days!r} days is not offered: use one of {', '.join(map(str, LOOKBACK_DAYS))}"
        )
    bars = round(days * bars_per_year(timeframe) / DAYS_PER_YEAR)
    r = _matrix(returns)
    return r[-bars:]


def _matrix(returns: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    r = np.asarray(returns, dtype=float)
    if r.ndim != 2 or r.shape[0] < 2:
        raise ValueError(f"returns must be a bars x assets matrix with at least 2 rows, not shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("returns hold NaN or infinity")
    return r


def sample_covariance(returns: np.ndarray, timeframe: str) -> np.ndarray:
    """Sample covariance (means removed, ddof 1) per year."""
    r = _matrix(returns)
    return np.atleast_2d(np.cov(r, rowvar=False, ddof=1)) * bars_per_year(timeframe)


def ewma_half_life_covariance(returns: np.ndarray, timeframe: str, half_life_bars: float) -> np.ndarray:
    """EWMA covariance per year; an observation ``half_life_bars`` old weighs half the newest."""
    if not half_life_bars > 0:
        raise UsageError(f"EWMA half-life must be above 0 bars, not {half_life_bars!r}")
    lam = 0.5 ** (1.0 / half_life_bars)
    cov = ewma_covariance(_matrix(returns), lam, min_obs=2)
    assert cov is not None  # at least 2 rows
    return cov * bars_per_year(timeframe)


@dataclass(frozen=True, slots=True)
class ShrunkCovariance:
    cov: np.ndarray  # per year
    shrinkage: float  # weight of the target, 0..1


def ledoit_wolf(returns: np.ndarray, timeframe: str) -> ShrunkCovariance:
    """Ledoit-Wolf covariance per year, shrunk towards mean-variance x I (scikit-learn's estimator)."""
    x = _matrix(returns)
    n, p = x.shape
    x = x - x.mean(axis=0)
    emp = x.T @ x / n
    x2 = x * x
    trace_terms = x2.sum(axis=0) / n
    mu = float(trace_terms.sum()) / p
    beta_ = float(np.sum(x2.T @ x2))
    delta_ = float(np.sum(emp * emp))  # sum((X'X)^2) / n^2
    beta = (beta_ / n - delta_) / (p * n)
    delta = (delta_ - 2.0 * mu * float(trace_terms.sum()) + p * mu * mu) / p
    beta = min(beta, delta)
    shrinkage = 0.0 if beta == 0 else beta / delta
    cov = (1.0 - shrinkage) * emp
    cov[np.diag_indices(p)] += shrinkage * mu
    return ShrunkCovariance(cov * bars_per_year(timeframe), shrinkage)


def covariance(
    returns: np.ndarray, timeframe: str, method: str = "ledoit_wolf", half_life_bars: float = 0.0
) -> np.ndarray:
    """The covariance per year by ``method`` (sample, ewma with ``half_life_bars``, ledoit_wolf)."""
    if method == "sample":
        return sample_covariance(returns, timeframe)
    if method == "ewma":
        return ewma_half_life_covariance(returns, timeframe, half_life_bars)
    if method == "ledoit_wolf":
        return ledoit_wolf(returns, timeframe).cov
    raise UsageError(f"unknown covariance method {method!r}: use one of {', '.join(COVARIANCE_METHODS)}")


def drift(returns: np.ndarray, timeframe: str) -> tuple[np.ndarray, np.ndarray]:
    """(mean return per year, its standard error per year) of each column: the naive drift forecast."""
    r = _matrix(returns)
    per_year = bars_per_year(timeframe)
    return r.mean(axis=0) * per_year, r.std(axis=0, ddof=1) / np.sqrt(r.shape[0]) * per_year


def james_stein_factor(means: np.ndarray, std_errors: np.ndarray) -> float:
    """Positive-part James-Stein shrinkage towards zero, min(1, (p - 2) mean(se^2) / sum(means^2)); 0 with
    fewer than 3 estimates (the estimator only dominates from 3 on)."""
    m, se = np.asarray(means, dtype=float), np.asarray(std_errors, dtype=float)
    p = m.size
    if p < 3:
        return 0.0
    energy = float(m @ m)
    if energy == 0.0:
        return 1.0
    return float(min(1.0, (p - 2) * float(np.mean(se * se)) / energy))


@dataclass(frozen=True, slots=True)
class ExpectedReturns:
    mu: np.ndarray  # per year, per unit of signed weight, after shrinkage
    raw: np.ndarray  # before shrinkage
    shrinkage: float  # 0: none, 1: all the way to zero


def perp_expected_returns(
    funding_apr: Sequence[float] | np.ndarray,
    drift_apr: Sequence[float] | np.ndarray | None = None,
    *,
    shrinkage: float | None = None,
    std_errors: Sequence[float] | np.ndarray | None = None,
) -> ExpectedReturns:
    """mu = drift - funding APR per asset, shrunk towards zero by ``shrinkage`` (0..1) or, when it is None
    and ``std_errors`` of the estimates are given, by the James-Stein factor; else not shrunk."""
    f = np.asarray(funding_apr, dtype=float)
    d = np.zeros_like(f) if drift_apr is None else np.asarray(drift_apr, dtype=float)
    if f.shape != d.shape or f.ndim != 1:
        raise ValueError(f"funding {f.shape} and drift {d.shape} must be one number per asset")
    raw = d - f
    if shrinkage is None:
        factor = (
            james_stein_factor(raw, np.asarray(std_errors, dtype=float)) if std_errors is not None else 0.0
        )
    else:
        if not 0.0 <= shrinkage <= 1.0:
            raise UsageError(f"shrinkage must be between 0 and 1, not {shrinkage!r}")
        factor = float(shrinkage)
    return ExpectedReturns((1.0 - factor) * raw, raw, factor)
