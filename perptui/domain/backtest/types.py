"""What a backtest is given (costs, a layer's targets, the rebalancing schedule) and what it produces
(ledgers and per-layer results). Pure data; every array is numpy.

Signs: quantities and exposures are signed (+ long, - short). A weight is an exposure (notional) as a
fraction of its layer's equity at the decision. Amounts are in the quote/settle currency (USDT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

LEG_PERP, LEG_SPOT = 0, 1
LEG_NAMES: tuple[str, str] = ("perp", "spot")
KIND_TRADE, KIND_LIQUIDATION, KIND_CLOSE = 0, 1, 2
"""Why a fill happened: a rebalance trade, a liquidation, or a close because the market stopped."""


@dataclass(frozen=True, slots=True)
class Costs:
    """Trading costs, fractions: fees on traded notional, slippage moves every fill's price against it."""

    perp_taker: float = 0.0005
    spot_taker: float = 0.001
    slippage: float = 0.0005


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a layer trades back to its targets.

    ``every_bars``: every N bars from the first decision (None: never again after the first entry).
    ``drift``: also when any position's weight strays from its target by more than this (a fraction of
    the layer's equity), checked at every bar close. A symbol whose market stops is closed at its last
    close whatever the schedule."""

    every_bars: int | None = None
    drift: float | None = None


@dataclass(frozen=True, slots=True, eq=False)
class LayerTargets:
    """A layer's wanted book, fractions of its equity at the decision: ``perp`` and ``spot`` signed
    exposures per symbol (0 = none), ``leverage`` of each perp position (isolated margin = notional /
    leverage; 1 where there is none)."""

    perp: np.ndarray
    spot: np.ndarray
    leverage: np.ndarray
    hedge: np.ndarray | None = None
    """Per symbol, True where the spot leg hedges the perp at equal and opposite quantity (a carry
    pair: long Q spot + short Q perp): the spot quantity is then minus the perp's, whatever the spot
    weight says (its sign and size only matter for the margin check)."""


class LayerStrategy(Protocol):
    """One layer's decisions. ``prepare`` sees the whole history once (for vectorised, causal
    precomputation); ``targets(k)`` must use only bars before k and prints at or before ``times[k]``
    (``MarketHistory.until(k)``): the no-look-ahead test changes later data and expects the same
    decisions. None: no view yet (not enough history): stay as is.

    Optional ``margin_mode``: ``"isolated"`` (the default when the attribute is absent: each perp
    position on its own margin, liquidated at its own price) or ``"cross"`` (the layer is one
    account with every leg, spot included, as collateral, liquidated as a whole when its equity at
    a bar close falls to its maintenance margin: what a cash-and-carry book needs). See
    ``margin.MARGIN_MODES`` and the engine's docstring."""

    name: str

    def prepare(self, history: object) -> None: ...

    def targets(self, k: int) -> LayerTargets | None: ...


@dataclass(frozen=True, slots=True, eq=False)
class FillLedger:
    """Every fill, oldest first (columns of equal length)."""

    time: np.ndarray  # int64 ms
    symbol: np.ndarray  # int64 column in MarketHistory.symbols
    leg: np.ndarray  # int8: LEG_PERP / LEG_SPOT
    qty: np.ndarray  # signed: + buy, - sell
    price: np.ndarray  # after slippage
    fee: np.ndarray  # >= 0
    layer: np.ndarray  # int8 index into BacktestResult.layers
    kind: np.ndarray  # int8: KIND_TRADE / KIND_LIQUIDATION / KIND_CLOSE


@dataclass(frozen=True, slots=True, eq=False)
class FundingLedger:
    """Every funding cash flow: amount = -qty x mark x rate (a short earns positive funding)."""

    time: np.ndarray
    symbol: np.ndarray
    qty: np.ndarray  # signed perp quantity held at the print
    mark: np.ndarray
    rate: np.ndarray
    amount: np.ndarray
    layer: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class LayerResult:
    """One layer's path. ``equity[0]`` is its capital at ``BacktestResult.times[0]``; ``equity[j]`` for
    j >= 1 its equity at the close of the j-th bar run."""

    name: str
    capital: float
    equity: np.ndarray  # (K + 1,)
    gross: np.ndarray  # (K,) gross perp + spot exposure held over each bar (notional at its close)
    traded: np.ndarray  # (K,) notional traded at each bar (all legs)
    price_pnl: float
    funding_pnl: float
    fees: float
    liquidations: int


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    strategy: Literal["carry", "trend", "hybrid"] | str
    timeframe: str
    symbols: tuple[str, ...]
    times: np.ndarray
    """(K + 1,) int64: the start (the first bar's open), then each bar's close."""
    layers: tuple[LayerResult, ...]
    fills: FillLedger
    funding: FundingLedger
    notes: tuple[str, ...] = field(default=())

    @property
    def capital(self) -> float:
        return sum(layer.capital for layer in self.layers)

    @property
    def equity(self) -> np.ndarray:
        return np.sum([layer.equity for layer in self.layers], axis=0)

    @property
    def price_pnl(self) -> float:
        return sum(layer.price_pnl for layer in self.layers)

    @property
    def funding_pnl(self) -> float:
        return sum(layer.funding_pnl for layer in self.layers)

    @property
    def fees(self) -> float:
        return sum(layer.fees for layer in self.layers)
