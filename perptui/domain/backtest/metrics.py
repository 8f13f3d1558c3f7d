"""Performance metrics of a backtest's equity path, per layer and for the whole book. Pure (numpy).

Definitions (every metric that cannot be known is None, never a made-up number):

- **Daily points**: the start point first, then the equity at each UTC day's last point. Days are cut
  on 00:00 UTC boundaries and a point exactly at 00:00 closes the day before (a daily bar opened at
  00:00 closes at the next 00:00: that close is the day's end). A start in the middle of a day makes
  the first daily return cover only the rest of that day.
- **Daily return**: ``e[d] / e[d - 1] - 1``. Equity at or below zero is ruin: the day into it returns
  -100% (never less) and the days after it have no return (nothing is left to earn or lose on).
- **Year**: 365 days. ``days`` is the elapsed calendar time from the first point to the last.
- ``total_return`` = final equity / capital - 1; ``cagr`` = (final / capital) ^ (365 / days) - 1
  (-1 after ruin; None for a run of no length, or when a short run's gain compounds beyond a float).
- ``volatility`` = std(daily, ddof=1) x sqrt(365); ``sharpe`` = mean(daily) / std(daily) x sqrt(365),
  no risk-free rate; ``sortino`` = mean(daily) / sqrt(mean(min(r, 0)^2)) x sqrt(365). All three need
  at least 2 daily returns; a zero denominator (no variation, no losing day) gives None: such a ratio
  is not a number a trader can compare (and JSON cannot carry infinity). A daily std under 1e-12 is
  float round-off of a riskless path and counts as zero.
- ``max_drawdown``: the largest fall from a running peak, a positive fraction in [0, 1], on every
  point of the path (not only the daily ones). ``max_drawdown_days``: that drawdown's duration from
  its peak to the first point back at the peak, or to the end of the run when it never recovered
  (0 without a drawdown).
- ``calmar`` = cagr / max_drawdown (None without a drawdown).
- ``turnover`` = traded notional / mean equity (every point) per 365 days.
- ``time_in_market`` = share of bars holding any exposure (gross > 0).
- ``worst_day`` = the lowest daily return, ``worst_day_time`` the end of that day (epoch ms).
- ``funding_pnl``, ``fees``, ``price_pnl``: the run's own totals, passed through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from perptui.domain.backtest.types import BacktestResult
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, iso_utc

YEAR_DAYS = 365
#: The keys of ``perptui backtest --json``'s ``metrics`` (and each layer's), in that order.
METRIC_KEYS: tuple[str, ...] = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "funding_pnl",
    "fees",
    "price_pnl",
    "turnover",
)
_FLAT_STD = 1e-12


@dataclass(frozen=True, slots=True)
class Metrics:
    total_return: float | None
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float | None
    calmar: float | None
    funding_pnl: float | None
    fees: float | None
    price_pnl: float | None
    turnover: float | None
    max_drawdown_days: float | None
    time_in_market: float | None
    worst_day: float | None
    worst_day_time: int | None
    final_equity: float
    days: float

    def as_dict(self) -> dict[str, float | str | None]:
        """The CLI's JSON: ``METRIC_KEYS`` first, then the rest; ``worst_day_time`` in ISO 8601 UTC."""
        out: dict[str, float | str | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "worst_day_time":
                out[f.name] = iso_utc(value)
            else:
                out[f.name] = None if value is None else float(value)
        return out


def daily_points(times: np.ndarray, equity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The start point, then each UTC day's last point (a point at exactly 00:00 closes the day before)."""
    t = np.asarray(times, dtype=np.int64)
    e = np.asarray(equity, dtype=np.float64)
    if len(t) != len(e):
        raise ValueError(f"times ({len(t)}) and equity ({len(e)}) differ in length")
    if len(t) <= 1:
        return t.copy(), e.copy()
    day = (t[1:] - 1) // DAY_MS
    last = np.append(np.flatnonzero(np.diff(day) != 0), len(day) - 1) + 1
    return np.append(t[:1], t[last]), np.append(e[:1], e[last])


def returns_of(points: np.ndarray) -> np.ndarray:
    """Simple returns between consecutive points; ruin (<= 0) returns -100% and ends the series."""
    e = np.asarray(points, dtype=np.float64)
    if len(e) < 2:
        return np.empty(0)
    prev, cur = e[:-1], e[1:]
    alive = prev > 0
    stop = len(prev) if alive.all() else int(np.argmin(alive))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cur[:stop] / prev[:stop] - 1.0
    return np.maximum(r, -1.0)


def daily_returns(times: np.ndarray, equity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(end of each day in ms, that day's return); see ``daily_points`` and ``returns_of``."""
    t, e = daily_points(times, equity)
    r = returns_of(e)
    return t[1 : 1 + len(r)], r


def drawdown_path(equity: np.ndarray) -> np.ndarray:
    """Fall from the running peak at each point, a fraction in [0, 1] (1 at or below zero equity).
    The path must start above zero."""
    e = np.asarray(equity, dtype=np.float64)
    if len(e) == 0:
        return np.empty(0)
    if not e[0] > 0:
        raise ValueError("a drawdown needs a path that starts above zero")
    peak = np.maximum.accumulate(e)
    return np.clip(1.0 - e / peak, 0.0, 1.0)


def max_drawdown_of(times: np.ndarray, equity: np.ndarray) -> tuple[float, float]:
    """(max drawdown fraction, its duration in days from the peak to recovery or to the end)."""
    t = np.asarray(times, dtype=np.int64)
    e = np.asarray(equity, dtype=np.float64)
    dd = drawdown_path(e)
    if len(dd) == 0 or dd.max() <= 0:
        return 0.0, 0.0
    trough = int(np.argmax(dd))
    peak_value = e[: trough + 1].max()
    peak_at = int(np.flatnonzero(e[: trough + 1] == peak_value)[-1])
    back = np.flatnonzero(e[trough:] >= peak_value)
    end = t[trough + int(back[0])] if len(back) else t[-1]
    return float(dd[trough]), float(end - t[peak_at]) / DAY_MS


def _ratios(r: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """(volatility, sharpe, sortino) of daily returns ``r``; see the module's definitions."""
    if len(r) < 2:
        return None, None, None
    mean = float(r.mean())
    std = float(r.std(ddof=1))
    if std < _FLAT_STD:
        std = 0.0
    root = math.sqrt(YEAR_DAYS)
    sharpe = mean / std * root if std > 0 else None
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    sortino = mean / downside * root if downside > _FLAT_STD else None
    return std * root, sharpe, sortino


def metrics_of(
    times: np.ndarray,
    equity: np.ndarray,
    *,
    funding_pnl: float | None = None,
    fees: float | None = None,
    price_pnl: float | None = None,
    traded: np.ndarray | None = None,
    gross: np.ndarray | None = None,
    capital: float | None = None,
) -> Metrics:
    """The metrics of one equity path (``times`` and ``equity`` of K + 1 points, ``traded`` and ``gross``
    of K bars). ``capital`` defaults to the first point; a path without capital (<= 0, e.g. a layer
    given none of the split) has no return-based metric. Omitted totals and bar arrays give None."""
    t = np.asarray(times, dtype=np.int64)
    e = np.asarray(equity, dtype=np.float64)
    if len(t) == 0 or len(t) != len(e):
        raise ValueError(f"metrics need equal, non-empty times and equity (got {len(t)} and {len(e)})")
    if not np.all(np.diff(t) > 0):
        raise ValueError("metrics need strictly increasing times")
    if not np.all(np.isfinite(e)):
        raise UsageError("the equity path has missing (NaN) or infinite points: no metrics from it")
    for name, bars in (("traded", traded), ("gross", gross)):
        if bars is not None and len(bars) != len(t) - 1:
            raise ValueError(f"{name} has {len(bars)} bars for {len(t)} equity points")
    base = float(e[0]) if capital is None else float(capital)
    days = float(t[-1] - t[0]) / DAY_MS
    final = float(e[-1])
    time_in_market = float(np.mean(np.asarray(gross) > 0)) if gross is not None and len(gross) else None
    passed = {
        "funding_pnl": None if funding_pnl is None else float(funding_pnl),
        "fees": None if fees is None else float(fees),
        "price_pnl": None if price_pnl is None else float(price_pnl),
    }
    if not base > 0 or not e[0] > 0:
        return Metrics(
            total_return=None,
            cagr=None,
            volatility=None,
            sharpe=None,
            sortino=None,
            max_drawdown=None,
            calmar=None,
            turnover=None,
            max_drawdown_days=None,
            time_in_market=time_in_market,
            worst_day=None,
            worst_day_time=None,
            final_equity=final,
            days=days,
            **passed,
        )
    growth = final / base
    if days <= 0:
        cagr = None
    elif growth <= 0:
        cagr = -1.0
    else:
        try:
            cagr = growth ** (YEAR_DAYS / days) - 1.0
        except OverflowError:  # a short run's gain compounded over a year: beyond any float
            cagr = None
    day_t, r = daily_returns(t, e)
    volatility, sharpe, sortino = _ratios(r)
    mdd, mdd_days = max_drawdown_of(t, e)
    calmar = cagr / mdd if cagr is not None and mdd > 0 else None
    mean_equity = float(e.mean())
    turnover = None
    if traded is not None and days > 0 and mean_equity > 0:
        turnover = float(np.sum(traded)) / mean_equity / (days / YEAR_DAYS)
    worst = int(np.argmin(r)) if len(r) else None
    return Metrics(
        total_return=growth - 1.0,
        cagr=cagr,
        volatility=volatility,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=mdd,
        calmar=calmar,
        turnover=turnover,
        max_drawdown_days=mdd_days,
        time_in_market=time_in_market,
        worst_day=None if worst is None else float(r[worst]),
        worst_day_time=None if worst is None else int(day_t[worst]),
        final_equity=final,
        days=days,
        **passed,
    )


def layer_metrics(result: BacktestResult) -> dict[str, Metrics]:
    """Each layer's metrics, by layer name, in the run's order."""
    return {
        layer.name: metrics_of(
            result.times,
            layer.equity,
            funding_pnl=layer.funding_pnl,
            fees=layer.fees,
            price_pnl=layer.price_pnl,
            traded=layer.traded,
            gross=layer.gross,
            capital=layer.capital,
        )
        for layer in result.layers
    }


def total_metrics(result: BacktestResult) -> Metrics:
    """The whole book's metrics: the layers' equity, bars and totals summed."""
    if not result.layers:
        raise ValueError("a backtest result without layers has no metrics")
    return metrics_of(
        result.times,
        result.equity,
        funding_pnl=result.funding_pnl,
        fees=result.fees,
        price_pnl=result.price_pnl,
        traded=np.sum([layer.traded for layer in result.layers], axis=0),
        gross=np.sum([layer.gross for layer in result.layers], axis=0),
        capital=result.capital,
    )
