"""The statistics of the held assets from their daily closes: each asset's EWMA daily volatility (for the
liquidation distance in sigmas), realised against forecast volatility, VaR/CVaR of the current
exposures (historical and parametric) and the positions' correlation. numpy lives here, off the
start-up path; every function is pure given the closes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from perptui.domain.ewma import correlation, ewma_covariance, ewma_volatility, realised_volatility
from perptui.domain.risk_volatility import GarchForecast
from perptui.domain.var import (
    HISTORY_DAYS,
    ReturnPanel,
    VarResult,
    aligned_daily_returns,
    historical_var,
    parametric_var,
)
from perptui.services.risk.garch_cache import cached_garch
from perptui.services.risk.report import Correlation, VarFigures, VolatilityRow

Closes = Mapping[str, Sequence[tuple[int, float]]]


def own_returns(closes: Closes, symbol: str) -> np.ndarray:
    """The symbol's daily returns over its own closes (consecutive days only), oldest first."""
    panel = aligned_daily_returns({symbol: closes.get(symbol, ())}, HISTORY_DAYS)
    return panel.column(symbol)


def daily_vols(closes: Closes) -> dict[str, float | None]:
    """Each symbol's EWMA daily volatility (None with fewer than 20 returns)."""
    return {s: ewma_volatility(own_returns(closes, s)) for s in closes}


def volatility_rows(exchange: str, closes: Closes, garch: bool) -> tuple[VolatilityRow, ...]:
    rows = []
    for symbol, series in sorted(closes.items()):
        r = own_returns(closes, symbol)
        if garch and series:
            fit = cached_garch(exchange, symbol, int(series[-1][0]), r)
        else:
            fit = GarchForecast(None, int(r.size), reason="GARCH not requested")
        rows.append(
            VolatilityRow(
                symbol, realised_volatility(r), ewma_volatility(r), fit.sigma, fit.reason, int(r.size)
            )
        )
    return tuple(rows)


def _figures(result: VarResult) -> VarFigures:
    return VarFigures(
        result.method,
        result.var(0.95),
        result.cvar(0.95),
        result.var(0.99),
        result.cvar(0.99),
        result.observations,
        result.reason,
    )


def value_at_risk(
    exposures: Mapping[str, float] | None, closes: Closes
) -> tuple[VarFigures, VarFigures, ReturnPanel | None]:
    """(historical, parametric, the panel used): the exposures replayed over the last 365 days the held
    assets have in common, and the normal VaR with their EWMA covariance."""
    if exposures is None:
        why = "a position has no mark"
        return (
            VarFigures("historical", None, None, None, None, 0, why),
            VarFigures("parametric", None, None, None, None, 0, why),
            None,
        )
    held = {s: x for s, x in exposures.items() if x != 0}
    panel = aligned_daily_returns({s: closes.get(s, ()) for s in held}, HISTORY_DAYS)
    return _figures(historical_var(held, panel)), _figures(parametric_var(held, panel)), panel


def correlation_of(panel: ReturnPanel | None) -> Correlation | None:
    """The EWMA correlation of the panel's assets; None with fewer than two or too few days."""
    if panel is None or len(panel.symbols) < 2:
        return None
    cov = ewma_covariance(panel.returns)
    if cov is None:
        return None
    corr = correlation(cov)
    matrix = tuple(tuple(None if np.isnan(v) else float(v) for v in row) for row in corr)
    return Correlation(panel.symbols, matrix)
