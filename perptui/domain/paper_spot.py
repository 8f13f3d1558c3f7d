"""Spot holdings and carry pairs of the paper account. Pure.

The wallet model (``domain.paper``) extends to spot without moving the notional: buying spot keeps the
quote in the wallet and ties up the holding's cost (quantity x average cost) as used margin, the way a
fully collateralised 1x long would; the holding's value over its cost is unrealised PnL, and selling
realises it. So equity = wallet + perp unrealised PnL + spot quantity x spot price - spot cost, and the
ledger identity (equity = deposits - withdrawals + realised + unrealised + funding - fees) holds with spot
included. The USDT the account could still spend is ``cash`` = wallet - spot cost (- perp margin).

A spot holding never goes short: the paper account models no spot borrowing (margin spot), so a sale
larger than the holding is refused. A carry pair is long spot + short perp of the same quantity on the
same coin; its legs are the spot holding and the perp position, and it is opened, resized and closed
as one (``services.paper.carry``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from perptui.domain.market_rules import MarketRules, rules_of
from perptui.domain.paper import QTY_DECIMALS, money
from perptui.domain.types import Market

SpotSide = Literal["buy", "sell"]

#: Said when an order would need borrowed spot (a short spot leg).
NO_SPOT_SHORT = (
    "the paper account holds no borrowed spot (margin spot is not modelled): a carry pair is long spot + "
    "short perp, and a spot sale must not exceed the holding"
)


@dataclass(frozen=True, slots=True)
class SpotHolding:
    """``qty`` of ``base`` bought on the spot market ``symbol`` at an average cost of ``entry``."""

    exchange: str
    symbol: str
    base: str
    qty: float
    entry: float
    opened_at: int
    last_mark: float | None = None

    @property
    def cost(self) -> float:
        return self.qty * self.entry

    def price(self) -> float:
        return self.last_mark if self.last_mark else self.entry

    def value(self) -> float:
        return self.qty * self.price()

    def upnl(self) -> float:
        return self.qty * (self.price() - self.entry)


@dataclass(frozen=True, slots=True)
class CarryPair:
    """A hedged pair: ``qty`` of spot ``spot_symbol`` held long against a short of the perp ``symbol``."""

    exchange: str
    symbol: str
    spot_symbol: str
    qty: float
    opened_at: int


@dataclass(frozen=True, slots=True)
class SpotOutcome:
    """A spot fill's effect: the holding after it (None: sold out), the fee and the realised PnL."""

    holding: SpotHolding | None
    fee: float
    realized_pnl: float


def spot_fill(
    holding: SpotHolding | None,
    *,
    exchange: str,
    symbol: str,
    base: str,
    side: SpotSide,
    qty: float,
    price: float,
    fee_rate: float,
    time: int,
) -> SpotOutcome:
    """Buy (average the cost up or down) or sell (realise against the average cost) ``qty`` at ``price``.
    A sale larger than the holding raises ValueError (the caller refuses it first)."""
    fee = money(qty * price * fee_rate)
    if side == "buy":
        if holding is None:
            return SpotOutcome(SpotHolding(exchange, symbol, base, qty, price, time, price), fee, 0.0)
        total = round(holding.qty + qty, QTY_DECIMALS)
        entry = (holding.cost + qty * price) / total
        return SpotOutcome(replace(holding, qty=total, entry=entry, last_mark=price), fee, 0.0)
    held = holding.qty if holding is not None else 0.0
    if holding is None or qty > held * (1 + 1e-12):
        raise ValueError(f"cannot sell {qty} of {symbol}: {held} held")
    realized = money(qty * (price - holding.entry))
    left = round(held - qty, QTY_DECIMALS)
    after = None if left <= 0 else replace(holding, qty=left, last_mark=price)
    return SpotOutcome(after, fee, realized)


def spot_rules(perp: Market) -> MarketRules:
    """The rules of the perp's spot twin: the same amount step, tick, minimum quantity and minimum notional
    (what the demo market and Binance's majors publish for both), no maximum or leverage."""
    rules = rules_of(perp)
    assert perp.spot_symbol is not None
    return replace(rules, symbol=perp.spot_symbol, max_qty=None, max_leverage=None, tiers=())


def spot_taker_price(spot: float, side: SpotSide, slippage: float) -> float:
    """A spot market order's fill: the spot price moved against the taker by ``slippage``."""
    return spot * (1 + slippage) if side == "buy" else spot * (1 - slippage)
