"""The three strategies as engine layers, and the run's schedule and costs from the parameters. Pure.

- ``carry``: the carry base on the whole capital;
- ``trend``: the directional layer on the whole capital;
- ``hybrid``: the carry base on ``neutral_pct`` % of the capital and the directional layer on the rest
  (a layer whose share is 0 is left out).
"""

from __future__ import annotations

from collections.abc import Iterable

from perptui.domain.backtest.params import NEVER, BacktestParams
from perptui.domain.backtest.types import Costs, LayerStrategy, Schedule
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import timeframe_ms

from .carry import CarryLayer
from .trend import TrendLayer

STRATEGIES: tuple[str, ...] = ("carry", "trend", "hybrid")


def build_layers(
    strategy: str, params: BacktestParams, capital: float, symbols_filter: Iterable[str] | None = None
) -> list[tuple[LayerStrategy, float]]:
    """``[(layer, capital), ...]`` for ``run_backtest``; ``symbols_filter`` limits every layer's universe."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    if not capital > 0:
        raise UsageError(f"capital {capital!r}: use a positive amount")
    allowed = frozenset(symbols_filter) if symbols_filter is not None else None
    if strategy == "carry":
        return [(CarryLayer(params, allowed), float(capital))]
    if strategy == "trend":
        return [(TrendLayer(params, allowed), float(capital))]
    neutral = capital * params.neutral_pct / 100.0
    layers: list[tuple[LayerStrategy, float]] = []
    if neutral > 0:
        layers.append((CarryLayer(params, allowed), neutral))
    if capital - neutral > 0:
        layers.append((TrendLayer(params, allowed), capital - neutral))
    return layers


def schedule_of(params: BacktestParams, timeframe: str) -> Schedule:
    """``rebalance`` in bars of ``timeframe`` (a duration must be a whole number of bars), and ``drift``."""
    r = params.rebalance
    if r == NEVER:
        every = None
    elif isinstance(r, int):
        every = r
    else:
        span, bar = timeframe_ms(r), timeframe_ms(timeframe)
        if span % bar:
            raise UsageError(
                f"parameter rebalance={r} is not a whole number of {timeframe} bars: "
                f"use a multiple of {timeframe}"
            )
        every = span // bar
    return Schedule(every_bars=every, drift=params.drift)


def costs_of(params: BacktestParams) -> Costs:
    return Costs(perp_taker=params.perp_taker, spot_taker=params.spot_taker, slippage=params.slippage)
