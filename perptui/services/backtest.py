"""One backtest from request to report, shared by ``perptui backtest`` and the results view.

``run_report(history, request)`` (blocking: numpy, and processes for sweeps): the strategy's run, its
reconciliation, metrics per layer and for the whole, the stress windows, and on request a parameter
sweep or a walk-forward over ``grid`` and a Monte Carlo of the daily returns. ``BacktestReport.as_dict``
is ``perptui backtest --json``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from perptui.domain.backtest.grid import expand_grid, grid_label, parse_grid
from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.metrics import METRIC_KEYS, Metrics, layer_metrics, metrics_of, total_metrics
from perptui.domain.backtest.montecarlo import (
    DailyReturns,
    MonteCarloResult,
    Scenario,
    monte_carlo_of,
    scenario_replay,
)
from perptui.domain.backtest.params import BacktestParams, parse_params
from perptui.domain.backtest.reconcile import reconcile
from perptui.domain.backtest.run import run_strategy
from perptui.domain.backtest.stress import (
    NAMED_WINDOWS,
    StressRow,
    StressWindow,
    parse_window,
    stress_metrics,
)
from perptui.domain.backtest.types import BacktestResult
from perptui.domain.backtest.walkforward import WalkForwardResult, walk_forward
from perptui.domain.errors import PerptuiError
from perptui.domain.timeframes import iso_utc

#: Reconciliation tolerance: the identity must hold to float rounding (relative to the capital).
RECONCILE_TOLERANCE = 1e-9

Progress = Callable[[int, int, str], None]
"""(done, total, what)."""


class ReconciliationError(PerptuiError):
    """The ledgers do not add up to the equity: a bug, never a market condition."""


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    strategy: str
    capital: float
    params: BacktestParams = field(default_factory=BacktestParams)
    start_ms: int | None = None
    end_ms: int | None = None
    grid: tuple[str, ...] = ()
    """``KEY=V1,V2`` items: a sweep over the whole run, or with ``walk_forward`` the sets to re-choose."""
    walk_forward: bool = False
    in_sample_days: int = 365
    out_of_sample_days: int = 90
    monte_carlo: int | None = None
    seed: int = 7
    stress: tuple[str, ...] = ()
    """Extra stress windows (``FROM:TO``) beside the named ones."""
    drawdown_limit: float | None = None
    """The risk limit the Monte Carlo's drawdown probability is measured against (a fraction)."""
    workers: int | None = None
    scenarios: bool = False
    """Replay the stress windows and the worst historical weeks on ``book`` (default: the run's final
    book)."""
    book: Mapping[str, float] | None = None
    """Today's positions as signed notional per symbol (the paper account's), for the scenarios."""
    book_source: str = "the paper account's positions"
    book_equity: float | None = None
    """The equity behind ``book`` (the drawdowns in % are on it)."""


@dataclass(frozen=True, slots=True)
class SweepRow:
    params: dict[str, str]
    metrics: Metrics

    def as_dict(self) -> dict[str, object]:
        label = grid_label(self.params)
        return {"params": self.params, "label": label, "metrics": _metric_dict(self.metrics)}


@dataclass(frozen=True, slots=True, eq=False)
class BacktestReport:
    request: BacktestRequest
    history: MarketHistory
    result: BacktestResult
    metrics: Metrics
    layers: dict[str, Metrics]
    stress: list[StressRow]
    monte_carlo: MonteCarloResult | None
    walk_forward: WalkForwardResult | None
    sweep: list[SweepRow] | None
    reconcile_error: float
    elapsed_s: float
    scenarios: list[Scenario] | None = None
    scenario_book: dict[str, float] | None = None
    scenario_source: str | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.history.notes, *self.result.notes)))

    def as_dict(self) -> dict[str, object]:
        r = self.result
        out: dict[str, object] = {
            "strategy": r.strategy,
            "timeframe": r.timeframe,
            "from": iso_utc(int(r.times[0])),
            "to": iso_utc(int(r.times[-1])),
            "symbols": list(r.symbols),
            "capital": r.capital,
            "final_equity": float(r.equity[-1]),
            "metrics": _metric_dict(self.metrics),
            "layers": {name: _metric_dict(m) for name, m in self.layers.items()},
            "details": {
                "total": _extra(self.metrics),
                **{name: _extra(m) for name, m in self.layers.items()},
            },
            "stress": [row.as_dict() for row in self.stress],
        }
        if self.monte_carlo is not None:
            out["monte_carlo"] = self.monte_carlo.as_dict()
        if self.walk_forward is not None:
            out["walk_forward"] = self.walk_forward.as_dict()
        if self.sweep is not None:
            out["sweep"] = [row.as_dict() for row in self.sweep]
        if self.scenarios is not None:
            out["scenarios"] = {
                "book": self.scenario_book,
                "book_source": self.scenario_source,
                "windows": [s.as_dict() for s in self.scenarios],
            }
        out["equity_curve"] = [[iso_utc(int(t)), float(e)] for t, e in zip(r.times, r.equity, strict=True)]
        out["trades"] = len(r.fills.time)
        out["liquidations"] = sum(layer.liquidations for layer in r.layers)
        out["reconciliation_error"] = self.reconcile_error
        out["params"] = self.request.params.as_dict()
        out["notes"] = list(self.notes)
        out["elapsed_s"] = self.elapsed_s
        return out


def _metric_dict(m: Metrics) -> dict[str, object]:
    d = m.as_dict()
    return {k: d[k] for k in METRIC_KEYS}


def _extra(m: Metrics) -> dict[str, object]:
    return {k: v for k, v in m.as_dict().items() if k not in METRIC_KEYS}


def stress_windows(extra: Sequence[str]) -> tuple[StressWindow, ...]:
    return (*NAMED_WINDOWS.values(), *(parse_window(text) for text in extra))


def bar_span(history: MarketHistory, start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    """[start, end) bar indices of the history inside [start_ms, end_ms)."""
    start = 0 if start_ms is None else int(np.searchsorted(history.times, start_ms, side="left"))
    end = len(history.times) if end_ms is None else int(np.searchsorted(history.times, end_ms, side="left"))
    return start, end


def run_once(
    history: MarketHistory,
    strategy: str,
    params: BacktestParams,
    capital: float,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> BacktestResult:
    start, end = bar_span(history, start_ms, end_ms)
    return run_strategy(history, strategy, params, capital, start=start, end=end)


def checked(result: BacktestResult, history: MarketHistory) -> float:
    """The reconciliation error; raises ReconciliationError when the ledgers do not add up."""
    error = reconcile(result, history)
    if not error <= RECONCILE_TOLERANCE * max(result.capital, 1.0):
        raise ReconciliationError(
            f"the ledgers do not reconcile with the equity (off by {error:.3g}): a bug, please report it"
        )
    return error


# --- sweeps and walk-forward across processes -----------------------------------------------------


def _path_job(
    history: MarketHistory,
    strategy: str,
    base: BacktestParams,
    capital: float,
    job: tuple[Mapping[str, Any], int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """One (params, start_ms, end_ms) job of a walk-forward: the run's (times, equity). Module-level so
    worker processes can run it."""
    params, start_ms, end_ms = job
    result = run_once(history, strategy, _with(base, params), capital, start_ms, end_ms)
    return result.times, result.equity


def _metrics_job(
    history: MarketHistory,
    strategy: str,
    base: BacktestParams,
    capital: float,
    window: tuple[int | None, int | None],
    params: Mapping[str, Any],
) -> Metrics:
    result = run_once(history, strategy, _with(base, params), capital, *window)
    return total_metrics(result)


def _with(base: BacktestParams, params: Mapping[str, Any]) -> BacktestParams:
    return parse_params([f"{k}={v}" for k, v in params.items()], base)


def _mapper(workers: int | None, progress: Progress | None, what: str) -> Callable[[Callable, list], list]:
    from perptui.services.backtest_sweep import sweep

    def run(fn: Callable, items: list) -> list:
        tick = None if progress is None else (lambda done, total: progress(done, total, what))
        return sweep(fn, items, workers=workers, progress=tick)

    return run


def run_report(
    history: MarketHistory, request: BacktestRequest, progress: Progress | None = None
) -> BacktestReport:
    """The whole report (blocking). Bad settings raise UsageError before anything runs."""
    began = time.perf_counter()
    grid = expand_grid(parse_grid(list(request.grid))) if request.grid else []
    for params in grid:  # every set parses before any run starts
        _with(request.params, params)
    windows = stress_windows(request.stress)
    result = run_once(
        history, request.strategy, request.params, request.capital, request.start_ms, request.end_ms
    )
    error = checked(result, history)
    if progress is not None:
        progress(1, 1, "backtest")
    wf: WalkForwardResult | None = None
    sweep_rows: list[SweepRow] | None = None
    if grid and request.walk_forward:
        job = partial(_path_job, history, request.strategy, request.params, request.capital)
        mapper = _mapper(request.workers, progress, "walk-forward")
        wf = walk_forward(
            lambda params, lo, hi: job((params, lo, hi)),
            grid,
            start_ms=int(result.times[0]),
            end_ms=int(result.times[-1]),
            in_sample_days=request.in_sample_days,
            out_of_sample_days=request.out_of_sample_days,
            capital=request.capital,
            map_jobs=lambda jobs: mapper(job, jobs),
        )
    elif grid:
        window = (request.start_ms, request.end_ms)
        sweep_job = partial(_metrics_job, history, request.strategy, request.params, request.capital, window)
        found = _mapper(request.workers, progress, "sweep")(sweep_job, grid)
        pairs = zip(grid, found, strict=True)
        sweep_rows = [SweepRow({k: str(v) for k, v in p.items()}, m) for p, m in pairs]
    scenarios = book = source = None
    if request.scenarios:
        scenarios, book, source = _scenarios(history, result, request, windows)
    mc = None
    if request.monte_carlo:
        mc = monte_carlo_of(
            result, n_paths=request.monte_carlo, seed=request.seed, drawdown_limit=request.drawdown_limit
        )
    return BacktestReport(
        request=request,
        history=history,
        result=result,
        metrics=total_metrics(result),
        layers=layer_metrics(result),
        stress=stress_metrics(result, windows),
        monte_carlo=mc,
        walk_forward=wf,
        sweep=sweep_rows,
        reconcile_error=error,
        elapsed_s=time.perf_counter() - began,
        scenarios=scenarios,
        scenario_book=book,
        scenario_source=source,
    )


def final_book(result: BacktestResult, history: MarketHistory) -> dict[str, float]:
    """The run's positions at its end as signed notional per symbol (perp and spot legs netted, each at
    its last price): what the book is exposed to when prices move together."""
    end = len(result.times) - 1
    f = result.fills
    book: dict[str, float] = {}
    for leg, closes in ((0, history.close), (1, history.spot_close)):
        for j, symbol in enumerate(result.symbols):
            q = float(f.qty[(f.symbol == j) & (f.leg == leg)].sum())
            column = closes[:end, j]
            known = column[np.isfinite(column)]
            if abs(q) > 1e-12 and len(known):
                book[symbol] = book.get(symbol, 0.0) + q * float(known[-1])
    return {s: x for s, x in book.items() if abs(x) > 1e-9}


def _scenarios(
    history: MarketHistory, result: BacktestResult, request: BacktestRequest, windows: Sequence[StressWindow]
) -> tuple[list[Scenario], dict[str, float], str]:
    """Today's book (the request's, else the run's final one) through the windows and the worst weeks."""
    if request.book is not None:
        book, source, equity = dict(request.book), request.book_source, request.book_equity
    else:
        book, source = final_book(result, history), "the backtest's final book"
        equity = float(result.equity[-1]) if result.equity[-1] > 0 else None
    known = set(history.symbols)
    outside = sorted(s for s in book if s not in known)
    if outside:
        source += f" (without {', '.join(outside)}: not in the backtest's history)"
    book = {s: x for s, x in book.items() if s in known}
    daily = DailyReturns.from_closes(history.times + history.bar_ms, history.symbols, history.close)
    return scenario_replay(book, daily, windows, equity=equity), book, source


def walk_forward_needs_grid(request: BacktestRequest) -> str | None:
    """A one-line reason when the request's walk-forward cannot run, else None."""
    if request.walk_forward and not request.grid:
        return "--walk-forward needs --grid KEY=V1,V2 (the parameter sets it re-chooses between)"
    return None


__all__ = [
    "BacktestReport",
    "BacktestRequest",
    "ReconciliationError",
    "SweepRow",
    "metrics_of",
    "run_report",
]
