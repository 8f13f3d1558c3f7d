"""What the hybrid plan is asked for (``PlanConfig``), what it is built from (``PlanInputs``) and the
positions it starts from (``CurrentPosition``). Pure data with checks; percents in ``neutral_pct`` only,
every other share a fraction (0.05 = 5%)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Literal

from perptui.domain.carry import DEFAULT_BORROW_APR, DEFAULT_HOLD_DAYS
from perptui.domain.errors import UsageError
from perptui.domain.estimators import BAR_TIMEFRAMES, COVARIANCE_METHODS, LOOKBACK_DAYS
from perptui.domain.optimize import OBJECTIVES
from perptui.domain.types import FundingRate, Market, Side

Series = list[tuple[int, float]]


@dataclass(frozen=True, slots=True)
class PlanConfig:
    """The plan's settings. Invalid values raise a one-line UsageError naming the field."""

    capital: float
    neutral_pct: float = 70.0
    """Share of capital for the neutral funding base, in percent; the directional layer gets the rest."""
    universe_size: int = 10
    """Directional layer: the N most liquid perps (24h volume) with enough history."""
    neutral_count: int = 5
    """Neutral base: at most this many spot + perp carry pairs."""
    min_carry_apr: float = 0.05
    """A carry pair must net at least this APR (after fees and slippage over ``hold_days``)."""
    objective: str = "max_utility"
    risk_aversion: float = 2.0
    leverage_cap: float = 3.0
    """Gross exposure cap of the directional layer, as a multiple of its capital."""
    max_weight: float = 0.5
    """Per-asset cap of the directional layer, as a share of its leverage budget:
    |w_i| <= max_weight x leverage_cap (weights relative to the layer's capital)."""
    vol_target: float = 0.30
    """Yearly volatility cap of the directional layer (and the target of efficient_risk)."""
    target_return: float = 0.20
    """Yearly return the efficient_return objective aims at (directional layer)."""
    lookback_days: int = 30
    timeframe: str = "1d"
    covariance: str = "ledoit_wolf"
    regime_k: float = 2.0
    regime_zero_at: float = 3.0
    regime_window_days: int = 30
    """Realised volatility window of the regime filter (daily returns)."""
    regime_history_days: int = 365
    """Long-run window whose median of rolling realised volatilities is the regime's reference."""
    ma_fast: int = 10
    ma_slow: int = 30
    donchian_bars: int = 20
    momentum_bars: int = 30
    signal_ic: float = 0.1
    """Expected yearly drift = signal x signal_ic x the asset's yearly volatility (an information
    coefficient)."""
    shrinkage: float = 0.5
    """How far the directional expected returns (drift - funding) are shrunk towards zero, 0..1."""
    hold_days: float = DEFAULT_HOLD_DAYS
    """Holding period over which the carry's round-trip costs are amortised."""
    spot_taker: float = 0.001
    slippage: float = 0.001
    """All four fills of a carry round trip together, a fraction of notional."""
    borrow_apr: float = DEFAULT_BORROW_APR
    allow_spot_short: bool = False
    """Negative funding carries (long perp + short spot) need a spot borrow: off by default (skipped
    with a note), on = included, charged ``borrow_apr``."""
    neutral_leverage: float = 1.0
    """Leverage of the neutral base's perp legs: its margin = notional / this (1x: no liquidation risk
    short of a doubling)."""
    neutral_max_weight: float = 0.5
    """Per-pair cap within the neutral base (raised to 1 / pairs when fewer pairs qualify)."""
    frontier_points: int = 15

    def __post_init__(self) -> None:
        _check(self)

    def with_(self, **changes: object) -> PlanConfig:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # __post_init__ checks each value


def _bad(name: str, value: object, want: str) -> UsageError:
    return UsageError(f"plan {name} must be {want}, not {value!r}")


def _check(c: PlanConfig) -> None:
    def number(name: str, *, lo: float | None = None, hi: float | None = None, open_lo: bool = False) -> None:
        v = getattr(c, name)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _bad(name, v, "a finite number")
        if lo is not None and (v < lo or (open_lo and v == lo)):
            raise _bad(name, v, f"{'above' if open_lo else 'at least'} {lo:g}")
        if hi is not None and v > hi:
            raise _bad(name, v, f"at most {hi:g}")

    def whole(name: str, lo: int) -> None:
        v = getattr(c, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise _bad(name, v, f"a whole number of at least {lo}")

    number("capital", lo=0, open_lo=True)
    number("neutral_pct", lo=0, hi=100)
    whole("universe_size", 1)
    whole("neutral_count", 0)
    number("min_carry_apr")
    if c.objective not in OBJECTIVES:
        raise _bad("objective", c.objective, f"one of {', '.join(OBJECTIVES)}")
    number("risk_aversion", lo=0, open_lo=True)
    number("leverage_cap", lo=0, open_lo=True)
    number("max_weight", lo=0, hi=1, open_lo=True)
    number("vol_target", lo=0, open_lo=True)
    number("target_return")
    if c.lookback_days not in LOOKBACK_DAYS:
        raise _bad("lookback_days", c.lookback_days, f"one of {', '.join(map(str, LOOKBACK_DAYS))}")
    if c.timeframe not in BAR_TIMEFRAMES:
        raise _bad("timeframe", c.timeframe, f"one of {', '.join(BAR_TIMEFRAMES)}")
    if c.covariance not in COVARIANCE_METHODS or c.covariance == "ewma":
        raise _bad("covariance", c.covariance, "sample or ledoit_wolf")
    number("regime_k", lo=0, open_lo=True)
    number("regime_zero_at", lo=c.regime_k, open_lo=True)
    whole("regime_window_days", 2)
    whole("regime_history_days", c.regime_window_days)
    whole("ma_fast", 1)
    whole("ma_slow", c.ma_fast + 1)
    whole("donchian_bars", 2)
    whole("momentum_bars", 1)
    number("signal_ic", lo=0)
    number("shrinkage", lo=0, hi=1)
    number("hold_days", lo=0, open_lo=True)
    number("spot_taker", lo=0)
    number("slippage", lo=0)
    number("borrow_apr", lo=0)
    number("neutral_leverage", lo=1)
    number("neutral_max_weight", lo=0, hi=1, open_lo=True)
    whole("frontier_points", 0)


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything the plan needs, already fetched. Series are oldest first; ``notes`` say what is
    missing and why."""

    markets: dict[str, Market]
    closes: dict[str, Series]
    """Perp closes per symbol on ``config.timeframe`` bars (closed bars only)."""
    funding: dict[str, Series]
    """Settled funding prints (time, rate) per symbol."""
    intervals_h: dict[str, float | None]
    current_rates: dict[str, FundingRate]
    marks: dict[str, float]
    spot_available: set[str]
    """Perp symbols whose spot twin exists (a carry is possible)."""
    volume_usd: dict[str, float]
    now: int
    notes: tuple[str, ...] = ()
    daily_closes: dict[str, Series] = field(default_factory=dict)
    """Daily closes for the regime filter (a year and more); empty = ``closes`` when they are daily."""


@dataclass(frozen=True, slots=True)
class CurrentPosition:
    """A position held now (the paper engine's, or spot holdings with ``leg = "spot"``)."""

    symbol: str
    side: Side
    qty: float
    leg: Literal["perp", "spot"] = "perp"
