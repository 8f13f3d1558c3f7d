"""Monte Carlo of a strategy's daily returns, and scenarios replaying the worst history on today's book.

**Bootstrap** (``monte_carlo``): the stationary block bootstrap of Politis & Romano (1994). Each path is
built from blocks of consecutive days of the strategy's own daily returns, each block starting at a
uniformly random day and running for a geometric number of days with mean ``block_days`` (a new block
starts on any day with probability 1 / ``block_days``), wrapping from the last day to the first. Blocks
keep the volatility clustering and funding regimes of neighbouring days that an i.i.d. resample would
break; the random lengths keep the resampled series stationary, and the wrap-around gives every day the
same chance to be drawn, so a path's expected mean daily return is the sample's. The random numbers come
from ``numpy.random.Generator(PCG64(seed))``: the same inputs and seed give the same paths on any
machine. Paths are drawn in chunks of whole paths (vectorised, no Python loop per path).

Each path compounds from ``capital``; a daily return of -100% ruins it (equity stays at 0). Reported:
percentiles of the final equity and of the path's max drawdown (a fraction of the running peak, the
start included), the share of paths whose drawdown reaches the configured limit, the share ending below
the capital, and a fan: the percentiles of the equity on each day (at most ``fan_points`` days, evenly
spaced, for a chart).

**Scenarios** (``scenario_replay``): today's signed notionals held (fixed quantities) through history:
the named stress windows and the worst N-day windows of that book's own historical P&L, each with its
P&L path and drawdown. A held symbol without a return on a day of a window (not listed yet, missing
data) counts as flat that day and is named in the scenario's ``missing``: nothing is filled silently.
Pure (numpy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from perptui.domain.backtest.metrics import daily_returns, drawdown_path
from perptui.domain.backtest.stress import StressWindow
from perptui.domain.backtest.types import BacktestResult
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, iso_utc

PERCENTILES: tuple[float, ...] = (5, 25, 50, 75, 95)
#: The default mean block length: two weeks of daily returns keep funding regimes and volatility bursts.
BLOCK_DAYS = 10.0
#: Cells (paths x days) drawn at once: bounds the memory of a large run (~16 MB per array).
_CHUNK_CELLS = 2_000_000


def bootstrap_indices(
    n_days: int, n_paths: int, horizon: int, block_days: float, rng: np.random.Generator
) -> np.ndarray:
    """(n_paths, horizon) indices into a sample of ``n_days``: stationary bootstrap blocks (see module)."""
    new_block = rng.random((n_paths, horizon)) < 1.0 / block_days
    new_block[:, 0] = True
    starts = rng.integers(0, n_days, size=(n_paths, horizon))
    day = np.arange(horizon)
    block_start = np.maximum.accumulate(np.where(new_block, day, 0), axis=1)
    first = np.take_along_axis(starts, block_start, axis=1)
    return (first + (day - block_start)) % n_days


def _check(returns: np.ndarray, n_paths: int, horizon: int, block_days: float) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or len(r) < 2:
        raise UsageError(f"Monte Carlo needs at least 2 daily returns (the run gives {r.size})")
    if not np.all(np.isfinite(r)) or np.any(r < -1):
        raise UsageError("Monte Carlo needs finite daily returns of at least -100%")
    if n_paths < 1:
        raise UsageError(f"Monte Carlo paths must be at least 1 (got {n_paths})")
    if horizon < 1:
        raise UsageError(f"Monte Carlo horizon must be at least 1 day (got {horizon})")
    if not block_days >= 1:
        raise UsageError(f"Monte Carlo mean block length must be at least 1 day (got {block_days})")
    return r


def resample_returns(
    returns: np.ndarray, *, n_paths: int, horizon_days: int, block_days: float = BLOCK_DAYS, seed: int = 0
) -> np.ndarray:
    """(n_paths, horizon_days) bootstrapped daily returns (one chunk; for inspection and tests)."""
    r = _check(returns, n_paths, horizon_days, block_days)
    rng = np.random.Generator(np.random.PCG64(seed))
    return r[bootstrap_indices(len(r), n_paths, horizon_days, block_days, rng)]


@dataclass(frozen=True, slots=True, eq=False)
class MonteCarloResult:
    n_paths: int
    horizon_days: int
    block_days: float
    seed: int
    capital: float
    percentiles: tuple[float, ...]
    final_equity: np.ndarray
    """(P,) the final equity at each percentile."""
    max_drawdown: np.ndarray
    """(P,) the path's max drawdown (fraction) at each percentile."""
    drawdown_limit: float | None
    prob_drawdown_limit: float | None
    """Share of paths with a max drawdown >= ``drawdown_limit`` (None without a limit)."""
    prob_loss: float
    """Share of paths ending below ``capital``."""
    fan_days: np.ndarray
    """(F,) days from the start (0 = the start, ``horizon_days`` the end)."""
    fan: np.ndarray
    """(P, F) the equity at each percentile on each fan day."""

    def as_dict(self) -> dict[str, object]:
        keys = [f"p{q:g}" for q in self.percentiles]
        return {
            "paths": self.n_paths,
            "horizon_days": self.horizon_days,
            "block_days": self.block_days,
            "seed": self.seed,
            "capital": self.capital,
            "final_equity": dict(zip(keys, self.final_equity.tolist(), strict=True)),
            "max_drawdown": dict(zip(keys, self.max_drawdown.tolist(), strict=True)),
            "drawdown_limit": self.drawdown_limit,
            "prob_drawdown_limit": self.prob_drawdown_limit,
            "prob_loss": self.prob_loss,
            "fan": {"days": self.fan_days.tolist(), **dict(zip(keys, self.fan.tolist(), strict=True))},
        }


def monte_carlo(
    returns: np.ndarray,
    *,
    capital: float,
    n_paths: int = 1000,
    horizon_days: int | None = None,
    block_days: float = BLOCK_DAYS,
    seed: int = 0,
    drawdown_limit: float | None = None,
    percentiles: Sequence[float] = PERCENTILES,
    fan_points: int = 250,
) -> MonteCarloResult:
    """Bootstrap ``returns`` (daily, oldest first) into ``n_paths`` paths of ``horizon_days`` (default:
    as many days as the sample) from ``capital``. ``drawdown_limit``: a fraction in (0, 1] (the
    config's max drawdown), or None."""
    horizon = len(np.asarray(returns)) if horizon_days is None else int(horizon_days)
    r = _check(returns, n_paths, horizon, block_days)
    if not capital > 0:
        raise UsageError(f"Monte Carlo needs a capital above zero (got {capital})")
    if drawdown_limit is not None and not 0 < drawdown_limit <= 1:
        raise UsageError(f"max drawdown limit must be a fraction in (0, 1] (got {drawdown_limit})")
    qs = tuple(float(q) for q in percentiles)
    if not qs or any(not 0 <= q <= 100 for q in qs):
        raise UsageError(f"percentiles must be within 0..100 (got {list(percentiles)})")
    fan_days = np.unique(
        np.linspace(0, horizon, min(max(fan_points, 2), horizon + 1)).round().astype(np.int64)
    )
    rng = np.random.Generator(np.random.PCG64(seed))
    growth_at = np.empty((n_paths, len(fan_days)))
    final = np.empty(n_paths)
    worst = np.empty(n_paths)
    chunk = max(1, _CHUNK_CELLS // horizon)
    for lo in range(0, n_paths, chunk):
        hi = min(lo + chunk, n_paths)
        growth = np.cumprod(1.0 + r[bootstrap_indices(len(r), hi - lo, horizon, block_days, rng)], axis=1)
        growth = np.concatenate([np.ones((hi - lo, 1)), growth], axis=1)
        peak = np.maximum.accumulate(growth, axis=1)
        worst[lo:hi] = np.max(1.0 - growth / peak, axis=1)
        final[lo:hi] = growth[:, -1]
        growth_at[lo:hi] = growth[:, fan_days]
    return MonteCarloResult(
        n_paths=n_paths,
        horizon_days=horizon,
        block_days=float(block_days),
        seed=seed,
        capital=float(capital),
        percentiles=qs,
        final_equity=capital * np.percentile(final, qs),
        max_drawdown=np.percentile(worst, qs),
        drawdown_limit=drawdown_limit,
        prob_drawdown_limit=None if drawdown_limit is None else float(np.mean(worst >= drawdown_limit)),
        prob_loss=float(np.mean(final < 1.0)),
        fan_days=fan_days,
        fan=capital * np.percentile(growth_at, qs, axis=0),
    )


def monte_carlo_of(
    result: BacktestResult, *, capital: float | None = None, **options: Any
) -> MonteCarloResult:
    """``monte_carlo`` of the whole book's daily returns (see ``metrics.daily_returns``), from the run's
    capital unless given; ``options`` are ``monte_carlo``'s."""
    _, r = daily_returns(result.times, result.equity)
    return monte_carlo(r, capital=result.capital if capital is None else capital, **options)


# --- scenarios on today's positions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class DailyReturns:
    """Each symbol's daily return: ``times`` (D,) the end of each day (epoch ms), ``returns`` (D, N),
    NaN where the symbol has no return that day."""

    times: np.ndarray
    symbols: tuple[str, ...]
    returns: np.ndarray

    def __post_init__(self) -> None:
        if self.returns.shape != (len(self.times), len(self.symbols)):
            raise ValueError(
                f"returns shape {self.returns.shape} != ({len(self.times)}, {len(self.symbols)})"
            )

    @classmethod
    def from_closes(cls, close_times: np.ndarray, symbols: Sequence[str], closes: np.ndarray) -> DailyReturns:
        """From bars: ``close_times`` (T,) each bar's close, ``closes`` (T, N) prices (NaN: no bar). Each
        UTC day's last bar gives its close (a close at 00:00 ends the day before); a day whose last bar
        is missing has no close, so it and the next day have no return."""
        t = np.asarray(close_times, dtype=np.int64)
        c = np.asarray(closes, dtype=np.float64)
        if len(t) == 0:
            return cls(np.empty(0, np.int64), tuple(symbols), np.empty((0, len(symbols))))
        day = (t - 1) // DAY_MS
        last = np.append(np.flatnonzero(np.diff(day) != 0), len(t) - 1)
        daily = c[last]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = daily[1:] / daily[:-1] - 1.0
        return cls((day[last[1:]] + 1) * DAY_MS, tuple(symbols), r)


@dataclass(frozen=True, slots=True, eq=False)
class Scenario:
    """Today's book through one historical window. ``pnl_path`` (days + 1,) starts at 0 before the
    first day; ``drawdown`` is the deepest peak-to-trough fall of that P&L (money, >= 0) and
    ``drawdown_pct`` the same on ``equity + pnl`` as a fraction (None without an equity)."""

    name: str
    start_ms: int | None
    end_ms: int | None
    pnl: float | None
    drawdown: float | None
    drawdown_pct: float | None
    pnl_path: np.ndarray
    missing: tuple[str, ...] = ()
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "from": iso_utc(self.start_ms),
            "to": iso_utc(self.end_ms),
            "pnl": self.pnl,
            "drawdown": self.drawdown,
            "drawdown_pct": self.drawdown_pct,
            "missing": list(self.missing),
            "note": self.note,
        }


def _replay(
    name: str, rows: slice, daily: DailyReturns, held: np.ndarray, notional: np.ndarray, equity: float | None
) -> Scenario:
    r = daily.returns[rows][:, held]
    gaps = np.isnan(r)
    index = np.cumprod(1.0 + np.where(gaps, 0.0, r), axis=0)
    path = np.r_[0.0, (index - 1.0) @ notional]
    drawdown = float(np.max(np.maximum.accumulate(path) - path))
    pct = None
    if equity is not None:
        pct = float(drawdown_path(np.maximum(equity + path, 0.0)).max())
    missing = tuple(np.asarray(daily.symbols)[held][gaps.any(axis=0)].tolist())
    times = daily.times[rows]
    return Scenario(
        name=name,
        start_ms=int(times[0]) - DAY_MS,
        end_ms=int(times[-1]),
        pnl=float(path[-1]),
        drawdown=drawdown,
        drawdown_pct=pct,
        pnl_path=path,
        missing=missing,
        note=f"no returns for {', '.join(missing)} on some days: counted flat" if missing else None,
    )


def worst_windows(pnl_by_window: np.ndarray, count: int, length: int) -> list[int]:
    """Starts of the ``count`` lowest entries of ``pnl_by_window`` (NaN: not a candidate) whose
    ``length``-day windows do not overlap, worst first."""
    values = np.array(pnl_by_window, dtype=np.float64)
    picked: list[int] = []
    while len(picked) < count and not np.all(np.isnan(values)):
        start = int(np.nanargmin(values))
        picked.append(start)
        values[max(0, start - length + 1) : start + length] = np.nan
    return picked


def scenario_replay(
    exposures: Mapping[str, float],
    daily: DailyReturns,
    windows: Sequence[StressWindow],
    *,
    equity: float | None = None,
    worst: int = 3,
    worst_days: int = 7,
) -> list[Scenario]:
    """Today's ``exposures`` (signed notional per symbol) replayed through each named window (days
    whose end falls in it), then through the ``worst`` non-overlapping ``worst_days``-day windows of the
    book's historical P&L (only windows where every held symbol has a return every day), worst first."""
    if equity is not None and not equity > 0:
        raise UsageError(f"scenario equity must be above zero (got {equity})")
    if worst < 0 or worst_days < 1:
        raise UsageError(
            f"worst windows: need a count >= 0 and a length >= 1 day (got {worst}, {worst_days})"
        )
    column = {symbol: j for j, symbol in enumerate(daily.symbols)}
    unknown = sorted(s for s, x in exposures.items() if x and s not in column)
    if unknown:
        raise UsageError(f"no price history for held {', '.join(unknown)}: cannot replay scenarios on it")
    pairs = [(column[s], float(x)) for s, x in exposures.items() if x]
    held = np.array([j for j, _ in pairs], dtype=np.int64)
    notional = np.array([x for _, x in pairs], dtype=np.float64)
    out: list[Scenario] = []
    for w in windows:
        rows = np.flatnonzero((daily.times > w.start_ms) & (daily.times <= w.end_ms))
        if len(rows) == 0:
            out.append(
                Scenario(w.name, None, None, None, None, None, np.zeros(1), note="outside the history")
            )
        else:
            out.append(_replay(w.name, slice(rows[0], rows[-1] + 1), daily, held, notional, equity))
    n_days = len(daily.times)
    if worst == 0 or n_days < worst_days:
        return out
    r = daily.returns[:, held]
    complete = ~np.isnan(r).any(axis=1)
    index = np.vstack(
        [np.ones((1, len(held))), np.cumprod(1.0 + np.where(complete[:, None], r, 0.0), axis=0)]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        window_pnl = (index[worst_days:] / index[:-worst_days] - 1.0) @ notional
    gaps = np.cumsum(np.r_[0, ~complete])
    window_pnl[(gaps[worst_days:] - gaps[:-worst_days]) > 0] = np.nan
    for rank, start in enumerate(worst_windows(window_pnl, worst, worst_days), 1):
        first, last = (iso_utc(int(daily.times[d]) - DAY_MS) or "" for d in (start, start + worst_days - 1))
        name = f"worst {worst_days}d #{rank} ({first[:10]} to {last[:10]})"
        out.append(_replay(name, slice(start, start + worst_days), daily, held, notional, equity))
    return out
