"""The market history a backtest runs on: perp and spot bars on one regular time grid, and the
funding prints, as numpy arrays. Pure.

Conventions every part of the backtest shares:

- ``times[k]`` is the open time of bar k (epoch ms, UTC); bars are ``timeframe`` apart with no holes
  in the grid. A symbol without a bar at k (not listed yet, delisted, or a gap in the data) has NaN
  in every price array at row k: nothing is filled in.
- A decision for bar k is taken at the close of bar k - 1 from ``until(k)`` (bars 0..k-1 and the
  prints at or before ``times[k]``) and filled at ``open[k]``.
- A funding print at time t belongs to bar ``k = bar_of(t)`` (the bar whose span [times[k],
  times[k + 1]) holds t). A print exactly at a bar's open is paid by the position held before that
  open's trades (the exchange charges the positions held at the funding time; an order filled at the
  same instant comes after it). Its mark is ``open[k]``, the last price known at the print.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from perptui.domain.market_rules import MarketRules
from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import LeverageTier


@dataclass(frozen=True, slots=True, eq=False)
class MarketHistory:
    timeframe: str
    times: np.ndarray
    """(T,) int64 bar open times, ascending, ``timeframe`` apart."""
    symbols: tuple[str, ...]
    """(N,) unified perp symbols (``BTC/USDT:USDT``); columns of every (T, N) array."""
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    """(T, N) float64 perp bars (last price), NaN where the symbol has no bar."""
    spot_open: np.ndarray
    spot_close: np.ndarray
    """(T, N) float64 bars of each perp's spot twin, NaN where there is none."""
    funding_time: np.ndarray
    """(P,) int64 print times, ascending."""
    funding_symbol: np.ndarray
    """(P,) int64 column of each print's symbol."""
    funding_rate: np.ndarray
    """(P,) float64 rate per interval (a fraction: 0.0001 = 0.01%)."""
    tiers: tuple[tuple[LeverageTier, ...], ...] = ()
    """Per symbol, the maintenance-margin brackets (empty: unknown, no liquidation price)."""
    notes: tuple[str, ...] = field(default=())
    """What is missing or was derived, said by whoever built the history (the loader)."""
    rules: tuple[MarketRules | None, ...] = ()
    """Per symbol, the perp market's order rules (``domain.market_rules``: step, minimums); empty or
    None: not known, quantities are not rounded."""

    def __post_init__(self) -> None:
        t, n = len(self.times), len(self.symbols)
        for name in ("open", "high", "low", "close", "spot_open", "spot_close"):
            shape = getattr(self, name).shape
            if shape != (t, n):
                raise ValueError(f"MarketHistory.{name} has shape {shape}, not ({t}, {n})")
        p = len(self.funding_time)
        if len(self.funding_symbol) != p or len(self.funding_rate) != p:
            raise ValueError("MarketHistory funding arrays differ in length")
        if self.tiers and len(self.tiers) != n:
            raise ValueError(f"MarketHistory.tiers has {len(self.tiers)} entries for {n} symbols")
        if self.rules and len(self.rules) != n:
            raise ValueError(f"MarketHistory.rules has {len(self.rules)} entries for {n} symbols")

    @property
    def bar_ms(self) -> int:
        return timeframe_ms(self.timeframe)

    @property
    def n_bars(self) -> int:
        return len(self.times)

    def bar_of(self, time_ms: int | np.ndarray) -> int | np.ndarray:
        """The bar whose span holds ``time_ms`` (-1 before the first bar)."""
        return np.searchsorted(self.times, time_ms, side="right") - 1

    def until(self, k: int) -> MarketHistory:
        """What a decision filled at ``open[k]`` may see: bars 0..k-1 and the prints at or before
        ``times[k]`` (views, no copies of the bars)."""
        cut = int(self.times[k]) if k < len(self.times) else np.iinfo(np.int64).max
        p = int(np.searchsorted(self.funding_time, cut, side="right"))
        return MarketHistory(
            timeframe=self.timeframe,
            times=self.times[:k],
            symbols=self.symbols,
            open=self.open[:k],
            high=self.high[:k],
            low=self.low[:k],
            close=self.close[:k],
            spot_open=self.spot_open[:k],
            spot_close=self.spot_close[:k],
            funding_time=self.funding_time[:p],
            funding_symbol=self.funding_symbol[:p],
            funding_rate=self.funding_rate[:p],
            tiers=self.tiers,
            notes=self.notes,
            rules=self.rules,
        )
