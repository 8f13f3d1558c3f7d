"""EWMA (RiskMetrics) volatility, covariance and correlation of daily returns; realised volatility. Pure.

    s2_(t+1) = lambda x s2_t + (1 - lambda) x r_t^2        (zero mean, lambda = 0.94 for daily data)

Seeded with the first squared return (as pandas' ``ewm(alpha=1 - lambda, adjust=False)``); the value
returned is the forecast for the day after the last return. The seed's weight is lambda^(n-1): below
1e-4 after 150 days, so the seed hardly matters with a year of data. Returns are simple daily returns,
oldest first, as fractions; volatilities are daily fractions (``annualised`` scales by sqrt(365)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

RISKMETRICS_LAMBDA = 0.94
#: Fewer returns than this give no EWMA estimate (None): the seed would still weigh too much.
MIN_EWMA_OBS = 20
REALISED_WINDOW = 30
DAYS_PER_YEAR = 365


def simple_returns(closes: Sequence[float] | np.ndarray) -> np.ndarray:
    """close_t / close_(t-1) - 1 for consecutive closes."""
    c = np.asarray(closes, dtype=float)
    return c[1:] / c[:-1] - 1.0


def _weights(n: int, lam: float) -> np.ndarray:
    """Weight of each of ``n`` observations (oldest first) in the forecast: (1 - lambda) x lambda^age, the
    seed (oldest) lambda^(n-1). They sum to 1."""
    if not 0 < lam < 1:
        raise ValueError(f"EWMA lambda must be in (0, 1), not {lam!r}")
    ages = np.arange(n - 1, -1, -1, dtype=float)
    w = (1.0 - lam) * lam**ages
    w[0] = lam ** (n - 1)
    return w


def _checked(returns: Sequence[float] | np.ndarray, ndim: int) -> np.ndarray:
    r = np.asarray(returns, dtype=float)
    if r.ndim != ndim:
        raise ValueError(f"expected {ndim}-d returns, got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("returns hold NaN or infinity")
    return r


def ewma_variance(
    returns: Sequence[float] | np.ndarray, lam: float = RISKMETRICS_LAMBDA, min_obs: int = MIN_EWMA_OBS
) -> float | None:
    """The EWMA variance forecast for the next day; None with fewer than ``min_obs`` returns."""
    r = _checked(returns, 1)
    if len(r) < max(1, min_obs):
        return None
    return float(np.dot(_weights(len(r), lam), r * r))


def ewma_volatility(
    returns: Sequence[float] | np.ndarray, lam: float = RISKMETRICS_LAMBDA, min_obs: int = MIN_EWMA_OBS
) -> float | None:
    var = ewma_variance(returns, lam, min_obs)
    return math.sqrt(var) if var is not None else None


def ewma_covariance(
    returns: np.ndarray, lam: float = RISKMETRICS_LAMBDA, min_obs: int = MIN_EWMA_OBS
) -> np.ndarray | None:
    """The EWMA covariance forecast (N x N) of a T x N matrix of returns (rows are days, oldest first):
    Sigma_(t+1) = lambda x Sigma_t + (1 - lambda) x r_t r_t'. Its diagonal is ``ewma_variance`` of each
    column. None with fewer than ``min_obs`` rows."""
    r = _checked(returns, 2)
    if r.shape[0] < max(1, min_obs):
        return None
    w = _weights(r.shape[0], lam)
    return (r * w[:, None]).T @ r


def correlation(cov: np.ndarray) -> np.ndarray:
    """Correlation matrix of a covariance matrix; NaN in the rows and columns of a zero variance."""
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(sd, sd)
    corr = np.where(np.outer(sd, sd) > 0, corr, np.nan)
    np.fill_diagonal(corr, np.where(sd > 0, 1.0, np.nan))
    return np.clip(corr, -1.0, 1.0)


def realised_volatility(returns: Sequence[float] | np.ndarray, window: int = REALISED_WINDOW) -> float | None:
    """Daily volatility realised over the last ``window`` returns: sqrt(mean r^2) (zero mean, as the EWMA
    forecast, so the two compare). None with fewer returns than the window."""
    r = _checked(returns, 1)
    if window < 1 or len(r) < window:
        return None
    tail = r[-window:]
    return math.sqrt(float(np.mean(tail * tail)))


def annualised(daily_vol: float | None) -> float | None:
    """Daily volatility x sqrt(365) (crypto trades every day)."""
    return daily_vol * math.sqrt(DAYS_PER_YEAR) if daily_vol is not None else None
