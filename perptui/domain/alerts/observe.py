"""``Observation``: one look at the account, the funding and the data, as the alert rules read it. Pure.

The engine (``services.alerts``) builds one per poll from the risk service, the scanner and the feed.
Unknown is None, never a guess: a rule whose value is unknown neither fires nor clears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from perptui.domain.types import Side

FillKind = Literal["stop", "take_profit"]


@dataclass(frozen=True, slots=True)
class PositionObs:
    """An open position. ``liq_distance_pct``: the mark's distance to liquidation in percent (4.2 = 4.2%);
    ``liq_distance_sigma``: the same in daily sigmas; ``margin_ratio``: maintenance margin / margin
    balance as a fraction (0.5 = 50%, 1 = liquidation, as ``domain.risk_position``); ``has_stop``: None
    when not known (an exchange's own stop orders are not read)."""

    symbol: str
    side: Side
    mark: float | None = None
    liq_distance_pct: float | None = None
    liq_distance_sigma: float | None = None
    margin_ratio: float | None = None
    has_stop: bool | None = None


@dataclass(frozen=True, slots=True)
class FillObs:
    """A stop or take-profit that filled since the last observation (a one-shot event)."""

    symbol: str
    kind: FillKind
    price: float
    qty: float
    time: int  # epoch ms


@dataclass(frozen=True, slots=True)
class FundingObs:
    """A watched perp's funding: the current (next) rate and the last print's, as fractions per
    interval; ``apr_pct`` yearly in percent; ``z`` the current rate's z-score against its history."""

    symbol: str
    rate: float | None = None
    apr_pct: float | None = None
    z: float | None = None
    predicted_rate: float | None = None
    previous_rate: float | None = None


@dataclass(frozen=True, slots=True)
class CarryObs:
    """An open carry pair: its net APR after costs and the APR it needs to break even, in percent; the
    predicted next funding rate; ``perp_side``: the perp leg's side ("short" for the usual spot long +
    perp short, which earns positive funding)."""

    symbol: str
    net_apr_pct: float | None = None
    breakeven_apr_pct: float | None = None
    predicted_rate: float | None = None
    perp_side: Side = "short"


@dataclass(frozen=True, slots=True)
class PriceObs:
    """The mark of a watched perp without a position (price rules on markets not held)."""

    symbol: str
    mark: float | None


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything the rules read at ``now`` (epoch ms). ``reachable`` False: the exchange could not be
    read, so the positions listed may be incomplete (a position rule's condition on a market no longer
    listed clears only while ``reachable``). ``data_age_ms``: the age of the newest market data."""

    now: int
    positions: tuple[PositionObs, ...] = ()
    fills: tuple[FillObs, ...] = ()
    daily_loss_pct: float | None = None
    drawdown_pct: float | None = None
    breaker_tripped: bool | None = None
    funding: tuple[FundingObs, ...] = ()
    carries: tuple[CarryObs, ...] = ()
    data_age_ms: int | None = None
    reachable: bool = True
    prices: tuple[PriceObs, ...] = ()
