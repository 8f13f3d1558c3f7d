"""One backtest of a named strategy: its layers, schedule and costs from the parameters, run by the
engine. A module-level function, so a sweep can run it in other processes by name. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from perptui.domain.backtest.engine import run_backtest
from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.params import BacktestParams
from perptui.domain.backtest.strategies import build_layers, costs_of, schedule_of
from perptui.domain.backtest.types import BacktestResult


def run_strategy(
    history: MarketHistory,
    strategy: str,
    params: BacktestParams,
    capital: float,
    start: int | None = None,
    end: int | None = None,
    symbols: Iterable[str] | None = None,
) -> BacktestResult:
    """Run ``strategy`` (carry, trend or hybrid) on ``capital`` over bars ``start .. end - 1`` (default:
    all); ``symbols`` limits the universe. Decisions before ``start`` are not taken, but the signals of
    the first ones see the history before it."""
    layers = build_layers(strategy, params, capital, symbols)
    return run_backtest(
        history,
        layers,
        costs=costs_of(params),
        schedule=schedule_of(params, history.timeframe),
        start=0 if start is None else start,
        end=end,
        strategy=strategy,
    )
