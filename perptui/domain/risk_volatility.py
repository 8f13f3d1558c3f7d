"""Realised volatility against its forecasts: EWMA and GARCH(1,1). Pure.

GARCH(1,1) is fitted by the ``arch`` library (maximum likelihood, zero mean, normal errors) rather than
by hand: a well-kept fit handles the constraints, starting values and convergence checks a hand-written
one gets wrong. It is imported only when a fit runs (it pulls in pandas and statsmodels) and only with
at least ``MIN_GARCH_OBS`` daily returns; otherwise, or when the fit fails, the forecast is None with a
one-line reason. Returns are scaled to percent for the fit (what arch expects for stable optimisation)
and the forecast scaled back to a daily fraction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perptui.domain.ewma import (
    MIN_EWMA_OBS,
    REALISED_WINDOW,
    RISKMETRICS_LAMBDA,
    ewma_volatility,
    realised_volatility,
)

#: About a year of daily returns: fewer make the three GARCH parameters too loose to trust.
MIN_GARCH_OBS = 250
_SCALE = 100.0  # fractions -> percent for the fit


@dataclass(frozen=True, slots=True)
class GarchForecast:
    """The next day's volatility from a GARCH(1,1) fit, or None with the reason."""

    sigma: float | None  # daily, a fraction
    observations: int
    omega: float | None = None  # in the fit's units: percent squared
    alpha: float | None = None
    beta: float | None = None
    reason: str | None = None

    @property
    def persistence(self) -> float | None:
        """alpha + beta: how slowly a shock to volatility fades (>= 1: no long-run level)."""
        return self.alpha + self.beta if self.alpha is not None and self.beta is not None else None


def garch_forecast(returns: Sequence[float] | np.ndarray, min_obs: int = MIN_GARCH_OBS) -> GarchForecast:
    """One-day-ahead GARCH(1,1) volatility of daily simple returns (oldest first)."""
    r = np.asarray(returns, dtype=float)
    n = int(r.size)
    if r.ndim != 1 or not np.all(np.isfinite(r)):
        return GarchForecast(None, n, reason="returns must be one finite series")
    if n < min_obs:
        return GarchForecast(None, n, reason=f"only {n} daily returns (GARCH needs {min_obs})")
    if float(np.max(np.abs(r))) == 0.0:
        return GarchForecast(None, n, reason="returns are all zero")
    try:
        from arch import arch_model  # lazy: heavy, and only needed here
    except ImportError:  # pragma: no cover - arch is a dependency
        return GarchForecast(None, n, reason="the arch library is not installed")
    try:
        model = arch_model(r * _SCALE, mean="Zero", vol="GARCH", p=1, q=1, dist="normal", rescale=False)
        fit = model.fit(disp="off", show_warning=False)
        variance = float(fit.forecast(horizon=1, reindex=False).variance.iloc[-1, 0])
    except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
        return GarchForecast(None, n, reason=f"GARCH fit failed: {exc}".splitlines()[0])
    if fit.convergence_flag != 0:
        return GarchForecast(None, n, reason="GARCH fit did not converge")
    if not math.isfinite(variance) or variance < 0:
        return GarchForecast(None, n, reason="GARCH forecast is not a finite variance")
    params = fit.params
    return GarchForecast(
        sigma=math.sqrt(variance) / _SCALE,
        observations=n,
        omega=float(params["omega"]),
        alpha=float(params["alpha[1]"]),
        beta=float(params["beta[1]"]),
    )


@dataclass(frozen=True, slots=True)
class VolatilityReport:
    """Daily volatility of one asset: realised over the last ``window`` days against the forecasts."""

    realised: float | None
    window: int
    ewma: float | None
    garch: GarchForecast
    observations: int

    @property
    def ewma_ratio(self) -> float | None:
        """realised / EWMA forecast: above 1, the market moves more than the forecast said."""
        return self.realised / self.ewma if self.realised is not None and self.ewma else None


def volatility_report(
    returns: Sequence[float] | np.ndarray,
    window: int = REALISED_WINDOW,
    lam: float = RISKMETRICS_LAMBDA,
    fit_garch: bool = True,
) -> VolatilityReport:
    """Realised volatility, the EWMA forecast and (``fit_garch``) the GARCH(1,1) forecast of one asset.

    The GARCH fit takes ~20 ms, and the first one ~1.5 s more to import arch: run it in a worker, and
    callers refreshing every few seconds should cache it per daily bar."""
    r = np.asarray(returns, dtype=float)
    garch = garch_forecast(r) if fit_garch else GarchForecast(None, int(r.size), reason="GARCH not requested")
    return VolatilityReport(
        realised=realised_volatility(r, window),
        window=window,
        ewma=ewma_volatility(r, lam, MIN_EWMA_OBS),
        garch=garch,
        observations=int(r.size),
    )
