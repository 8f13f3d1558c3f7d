"""The orders a sized ticket becomes on the exchange, exactly as they will be sent.

One ticket gives: the entry (market, or limit at the typed entry), a reduce-only stop-market for the
whole position at the stop, and a reduce-only take-profit-market per target, each its share of the
position rounded down to the step, the last taking the rest (``domain.paper.split_targets``: the paper
engine's own split, so paper and live agree). Amounts are in the exchange's unit (contracts, see
``market_rules.in_contracts``); prices are the ticket's, already on the tick (``domain.sized_order``).

Where the venue attaches a stop to the entry itself (Bybit's ``stopLoss``), the stop rides on the entry
(``attached``) and is not sent on its own: the position is never without it, even for a moment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from perptui.domain.errors import UsageError
from perptui.domain.live.client_ids import client_order_id, ticket_id, ticket_of
from perptui.domain.market_rules import OrderRefused, check_order, in_contracts, rules_of
from perptui.domain.paper import OrderRequest, split_targets
from perptui.domain.paper_orders import check_request, check_stop, check_take_profit
from perptui.domain.sized_order import request_spec
from perptui.domain.types import MarginMode, Market, Side

OrderSide = Literal["buy", "sell"]
LiveOrderType = Literal["market", "limit", "stop_market", "take_profit_market"]
Leg = Literal["entry", "stop", "take_profit", "close"]


def order_side(side: Side, *, closing: bool = False) -> OrderSide:
    """The exchange side of an order that opens ``side`` (or, ``closing``, that closes it)."""
    opens_long = side == "long"
    return "sell" if opens_long == closing else "buy"


@dataclass(frozen=True, slots=True)
class LiveOrder:
    """One order as sent. ``qty`` is in base units (what the trader reads), ``amount`` in the exchange's
    unit (what is sent); ``price`` is a limit's, ``trigger`` a stop's or a take-profit's."""

    leg: Leg
    label: str  # "entry", "stop", "TP1" ...: what the confirmation and the log call it
    client_id: str
    symbol: str  # unified (ccxt)
    exchange_symbol: str  # the exchange's own id, e.g. BTCUSDT
    side: OrderSide
    type: LiveOrderType
    qty: float
    amount: float
    price: float | None = None
    trigger: float | None = None
    reduce_only: bool = False
    #: A stop the entry carries (``attached_stop``) instead of a stop order of its own.
    attached_stop: float | None = None
    #: This stop rides on the entry (``attached_stop`` there) and is not sent by itself.
    attached: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "leg": self.leg,
            "label": self.label,
            "client_id": self.client_id,
            "symbol": self.symbol,
            "exchange_symbol": self.exchange_symbol,
            "side": self.side,
            "type": self.type,
            "qty": self.qty,
            "amount": self.amount,
            "price": self.price,
            "trigger": self.trigger,
            "reduce_only": self.reduce_only,
            "attached_stop": self.attached_stop,
            "attached": self.attached,
        }


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """A ticket's orders, in the order they are sent (the entry first)."""

    ticket: str
    exchange: str
    symbol: str
    side: Side
    leverage: float | None
    margin_mode: MarginMode | None
    orders: tuple[LiveOrder, ...]

    @property
    def entry(self) -> LiveOrder:
        return self.orders[0]

    @property
    def stop(self) -> LiveOrder:
        return next(o for o in self.orders if o.leg == "stop")

    @property
    def take_profits(self) -> tuple[LiveOrder, ...]:
        return tuple(o for o in self.orders if o.leg == "take_profit")

    @property
    def protective(self) -> tuple[LiveOrder, ...]:
        """The stop (unless attached) and the take-profits: sent once the entry is in."""
        return tuple(o for o in self.orders[1:] if not o.attached)

    def as_dict(self) -> dict[str, object]:
        return {
            "ticket": self.ticket,
            "exchange": self.exchange,
            "symbol": self.symbol,
            "side": self.side,
            "leverage": self.leverage,
            "margin_mode": self.margin_mode,
            "orders": [o.as_dict() for o in self.orders],
        }


def plan_ticket_id(req: OrderRequest, exchange: str, confirmed_at: int) -> str:
    return ticket_id(
        {
            "exchange": exchange,
            "symbol": req.symbol,
            "side": req.side,
            "qty": req.qty,
            "price": req.price,
            "stop": req.stop,
            "tps": [(t.price, t.share) for t in req.take_profits],
            "at": confirmed_at,
        }
    )


def plan_orders(
    req: OrderRequest,
    market: Market,
    *,
    confirmed_at: int,
    attach_stop: bool = False,
) -> OrderPlan:
    """The orders of ``req`` (a rounded ticket: ``sized_order``) on ``market``. Raises a one-line
    UsageError for what no live order may be: without a stop, a stop or target on the wrong side, or
    what the market's rules refuse (``OrderRefused``: below the minimum, off the tick, over the bracket)."""
    check_request(req)
    if req.reduce_only:
        raise UsageError("a live ticket opens a position; close one with perptui orders close")
    if req.stop is None:
        raise UsageError("a live order needs a stop (--stop): perptui never opens a position without one")
    reference = req.price if req.price is not None else req.mark
    if reference is None:
        raise UsageError(
            "a live market order needs the mark price (none is known): wait for it, or give a limit"
        )
    what = "the entry" if req.price is not None else "the mark"
    check_stop(req.side, req.stop, reference, what)
    for target in req.take_profits:
        check_take_profit(req.side, target.price, reference, what)
    refusal = check_order(rules_of(market), request_spec(req))
    if refusal is not None:  # the exchange would refuse it: said before any confirmation, as on paper
        raise OrderRefused(refusal)
    ticket = plan_ticket_id(req, market.exchange, confirmed_at)

    def order(leg: Leg, label: str, tag: str, **fields: object) -> LiveOrder:
        qty = float(fields.pop("qty"))  # type: ignore[arg-type]  # always given below
        return LiveOrder(
            leg=leg,
            label=label,
            client_id=client_order_id(ticket, tag),
            symbol=market.symbol,
            exchange_symbol=market.id,
            qty=qty,
            amount=in_contracts(qty, market),
            **fields,  # type: ignore[arg-type]  # LiveOrder's own fields, by name
        )

    opening, closing = order_side(req.side), order_side(req.side, closing=True)
    entry = order(
        "entry",
        "entry",
        "e",
        side=opening,
        type="market" if req.price is None else "limit",
        qty=req.qty,
        price=req.price,
        attached_stop=req.stop if attach_stop else None,
    )
    stop = order(
        "stop",
        "stop",
        "s",
        side=closing,
        type="stop_market",
        qty=req.qty,
        trigger=req.stop,
        reduce_only=True,
        attached=attach_stop,
    )
    levels = split_targets(req.take_profits, req.qty, rules_of(market).step)
    targets = [
        order(
            "take_profit",
            f"TP{i}",
            f"t{i}",
            side=closing,
            type="take_profit_market",
            qty=level.qty,
            trigger=level.price,
            reduce_only=True,
        )
        for i, level in enumerate(levels, start=1)
    ]
    return OrderPlan(
        ticket=ticket,
        exchange=market.exchange,
        symbol=market.symbol,
        side=req.side,
        leverage=req.leverage,
        margin_mode=req.margin_mode,
        orders=(entry, stop, *targets),
    )


def replacement(
    order: LiveOrder,
    number: int,
    *,
    trigger: float | None = None,
    qty: float | None = None,
    amount: float | None = None,
) -> LiveOrder:
    """``order`` moved (a new ``trigger``) or resized (``qty`` base units, ``amount`` in the exchange's
    unit), under the id of its ``number``-th version: the stop ``s`` becomes ``sr2``, ``sr3`` ...; a
    target ``t1`` becomes ``t1r2``. The new order is sent before the old one is cancelled."""
    if number < 2:
        raise ValueError("a replacement is version 2 or later")
    ticket = ticket_of(order.client_id)
    if ticket is None:
        raise ValueError(f"not one of our orders: {order.client_id!r}")
    base = order.client_id.rsplit("-", 1)[1].split("r", 1)[0]
    return replace(
        order,
        client_id=client_order_id(ticket, f"{base}r{number}"),
        trigger=order.trigger if trigger is None else trigger,
        qty=order.qty if qty is None else qty,
        amount=order.amount if amount is None else amount,
        attached=False,
    )
