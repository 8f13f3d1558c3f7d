"""Value types shared by every layer.

Conventions:
- times are integer milliseconds since the Unix epoch, UTC (as ccxt uses);
- symbols are ccxt unified symbols: ``BTC/USDT:USDT`` for a linear perp, ``BTC/USDT`` for spot;
- rates (funding, fees, maintenance margin) are fractions, never percents;
- quantities are in base units (contracts x contract size), prices in the quote currency;
- ``None`` means "not known": never replace it with a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Side = Literal["long", "short"]
MarginMode = Literal["isolated", "cross"]


@dataclass(frozen=True, slots=True)
class LeverageTier:
    """One maintenance-margin bracket, chosen by position notional in [min_notional, max_notional)."""

    min_notional: float
    max_notional: float  # math.inf for the open-ended last tier
    mmr: float  # maintenance margin rate, a fraction
    maint_amount: float  # Binance's `cum`: maintenance margin = notional x mmr - maint_amount
    max_leverage: float

    def as_dict(self) -> dict[str, float | None]:
        return {
            "min_notional": self.min_notional,
            "max_notional": None if math.isinf(self.max_notional) else self.max_notional,
            "mmr": self.mmr,
            "maint_amount": self.maint_amount,
            "max_leverage": self.max_leverage,
        }


@dataclass(frozen=True, slots=True)
class Market:
    """A linear (USDT- or USDC-margined) perpetual market."""

    exchange: str
    symbol: str  # unified, e.g. BTC/USDT:USDT
    id: str  # the exchange's own id, e.g. BTCUSDT
    base: str
    quote: str
    settle: str
    contract_size: float = 1.0
    amount_step: float | None = None
    price_tick: float | None = None
    min_qty: float | None = None
    max_qty: float | None = None
    min_notional: float | None = None
    taker_fee: float | None = None
    maker_fee: float | None = None
    max_leverage: float | None = None
    funding_interval_hours: float | None = None
    spot_symbol: str | None = None  # the matching spot market, when the exchange lists one
    active: bool = True
    tiers: tuple[LeverageTier, ...] = ()
    # True when `tiers` is a conservative default rather than the exchange's own brackets.
    tiers_approximate: bool = False
    #: Set by the tier check when the source's brackets were recomputed or replaced (see below).
    tiers_note: str | None = None

    def __post_init__(self) -> None:
        """Every market, from any source (exchange, file, cache), carries checked brackets: ``cum``
        recomputed where it contradicts them, the conservative default (approximate) where they are
        unusable, never a ladder that could call a position "never liquidated" (``domain.tier_check``)."""
        from perptui.domain.tier_check import market_tiers  # tier_check builds on these types

        checked = market_tiers(self.tiers, self.tiers_approximate, self.max_leverage)
        if checked.tiers != self.tiers or checked.approximate != self.tiers_approximate:
            object.__setattr__(self, "tiers", checked.tiers)
            object.__setattr__(self, "tiers_approximate", checked.approximate)
        if checked.note is not None:
            object.__setattr__(self, "tiers_note", checked.note)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of `perptui markets --json`."""
        return {
            "symbol": self.symbol,
            "base": self.base,
            "quote": self.quote,
            "settle": self.settle,
            "contract_size": self.contract_size,
            "amount_step": self.amount_step,
            "price_tick": self.price_tick,
            "min_qty": self.min_qty,
            "max_qty": self.max_qty,
            "min_notional": self.min_notional,
            "taker_fee": self.taker_fee,
            "maker_fee": self.maker_fee,
            "max_leverage": self.max_leverage,
            "funding_interval_hours": self.funding_interval_hours,
            "tiers": [t.as_dict() for t in self.tiers],
        }


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    timestamp: int
    last: float | None = None
    mark: float | None = None
    index: float | None = None
    quote_volume_24h: float | None = None
    open_interest: float | None = None  # base units
    open_interest_usd: float | None = None  # in the quote currency


@dataclass(frozen=True, slots=True)
class FundingRate:
    """The current funding state of one perp."""

    symbol: str
    timestamp: int
    rate: float | None  # the current period's rate, settled at next_funding_time
    next_funding_time: int | None = None
    predicted_rate: float | None = None  # the period after, where the exchange gives it
    interval_hours: float | None = None
    mark: float | None = None
    index: float | None = None


@dataclass(frozen=True, slots=True)
class FundingPrint:
    """A settled funding rate."""

    symbol: str
    time: int
    rate: float


@dataclass(frozen=True, slots=True)
class Candle:
    time: int  # open time
    open: float
    high: float
    low: float
    close: float
    volume: float  # base units


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    total: float | None
    free: float | None
    used: float | None


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    side: Side
    qty: float  # base units, >= 0
    entry_price: float | None
    mark_price: float | None = None
    leverage: float | None = None
    margin_mode: MarginMode | None = None
    unrealized_pnl: float | None = None
    liquidation_price: float | None = None
    initial_margin: float | None = None
    maintenance_margin: float | None = None
    extra: dict[str, object] = field(default_factory=dict)
