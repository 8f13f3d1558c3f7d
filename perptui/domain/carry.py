"""Cash-and-carry and cross-exchange funding spreads, net of costs (shared/docs/domain.md). Pure.

All rates are fractions; APRs are simple and yearly (365 days); costs are fractions of the notional.

- Carry direction: positive funding -> long spot + short perp (the short perp receives funding);
  negative -> long perp + short spot, which needs a spot borrow charged at ``borrow_apr``.
- Round-trip cost = 2 x (spot taker + perp taker) + slippage (four fills).
- Net carry APR over H days = |expected funding APR| - borrow - round-trip cost x 365 / H.
- Break-even days = round-trip cost / ((|funding APR| - borrow) / 365); None when it never breaks even.
- Cross-exchange: long the perp where funding per hour is lowest, short where it is highest; the two
  perps' four fills are the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from perptui.domain.funding import HOURS_PER_YEAR

CarryDirection = Literal["long_spot_short_perp", "long_perp_short_spot"]

DEFAULT_HOLD_DAYS = 30.0
DEFAULT_BORROW_APR = 0.10


@dataclass(frozen=True, slots=True)
class Carry:
    direction: CarryDirection
    funding_apr: float  # the expected funding APR it is based on (signed, as the perp's longs pay it)
    borrow_apr: float  # charged only when short spot
    round_trip_cost: float
    net_apr: float
    breakeven_days: float | None


def round_trip_cost(spot_taker: float, perp_taker: float, slippage: float = 0.0) -> float:
    return 2 * (spot_taker + perp_taker) + slippage


def breakeven_days(cost: float, earning_apr: float) -> float | None:
    """Days of earning ``earning_apr`` (a yearly fraction) that pay back ``cost``; None if never."""
    if earning_apr <= 0:
        return None
    return cost / (earning_apr / 365)


def carry(
    funding_apr: float | None,
    *,
    spot_taker: float | None,
    perp_taker: float | None,
    slippage: float = 0.0,
    hold_days: float = DEFAULT_HOLD_DAYS,
    borrow_apr: float = DEFAULT_BORROW_APR,
) -> Carry | None:
    """The cash-and-carry trade on an expected funding APR; None when the APR or a fee is unknown."""
    if funding_apr is None or spot_taker is None or perp_taker is None:
        return None
    if hold_days <= 0:
        raise ValueError("the holding period must be above 0 days")
    direction: CarryDirection = "long_spot_short_perp" if funding_apr >= 0 else "long_perp_short_spot"
    borrow = borrow_apr if direction == "long_perp_short_spot" else 0.0
    cost = round_trip_cost(spot_taker, perp_taker, slippage)
    earning = abs(funding_apr) - borrow
    return Carry(
        direction=direction,
        funding_apr=funding_apr,
        borrow_apr=borrow,
        round_trip_cost=cost,
        net_apr=earning - cost * 365 / hold_days,
        breakeven_days=breakeven_days(cost, earning),
    )


@dataclass(frozen=True, slots=True)
class FundingLeg:
    """One exchange's perp of a base asset, with its current funding normalised per hour."""

    exchange: str
    symbol: str
    rate_per_hour: float
    taker_fee: float | None


@dataclass(frozen=True, slots=True)
class Spread:
    base: str
    long: FundingLeg  # lowest funding: the long receives (or pays least)
    short: FundingLeg  # highest funding: the short receives
    spread_apr: float  # (short's - long's rate per hour) x 8760
    round_trip_cost: float | None
    net_apr: float | None
    breakeven_days: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "base": self.base,
            "long_exchange": self.long.exchange,
            "long_symbol": self.long.symbol,
            "short_exchange": self.short.exchange,
            "short_symbol": self.short.symbol,
            "long_rate_per_hour": self.long.rate_per_hour,
            "short_rate_per_hour": self.short.rate_per_hour,
            "spread_apr": self.spread_apr,
            "round_trip_cost": self.round_trip_cost,
            "net_apr": self.net_apr,
            "breakeven_days": self.breakeven_days,
        }


def cross_spread(
    base: str, legs: Sequence[FundingLeg], *, slippage: float = 0.0, hold_days: float = DEFAULT_HOLD_DAYS
) -> Spread | None:
    """The widest hourly funding spread of one base asset across exchanges; None with fewer than two."""
    if len({leg.exchange for leg in legs}) < 2:
        return None
    pairs = [(a, b) for a in legs for b in legs if a.exchange != b.exchange]
    low, high = max(pairs, key=lambda pair: pair[1].rate_per_hour - pair[0].rate_per_hour)
    spread = (high.rate_per_hour - low.rate_per_hour) * HOURS_PER_YEAR
    if low.taker_fee is None or high.taker_fee is None:
        cost = net = days = None
    else:
        cost = 2 * (low.taker_fee + high.taker_fee) + slippage
        net = spread - cost * 365 / hold_days
        days = breakeven_days(cost, spread)
    return Spread(base, low, high, spread, cost, net, days)
