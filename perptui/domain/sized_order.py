"""The sizing ticket as the order the exchange accepts: the calculator's figures through the market
rules (``domain.market_rules``) before a confirmation shows them. Pure.

The calculator's quantity is already whole steps and a stop it derived is on the tick; a typed entry,
a typed stop and take-profits derived from R multiples are not. ``sized_order`` rounds them the way
``market_rules.round_order`` does (a limit never worse for the trader, the stop and the target toward
the entry: never more loss at the stop); ``sized_order_refusal`` is what is still refused after that
(a quantity below the minimum, a leverage above the bracket ...), to show before any confirmation.
"""

from __future__ import annotations

from dataclasses import replace

from perptui.domain.market_rules import OrderSpec, Refusal, check_order, round_order, rules_of
from perptui.domain.paper import OrderRequest, TakeProfitTarget
from perptui.domain.sizing import SizingResult
from perptui.domain.types import Market


def _spec(result: SizingResult, *, limit: bool, mark: float | None) -> OrderSpec:
    return OrderSpec(
        result.side,
        result.quantity,
        price=result.entry if limit else None,
        mark=mark if mark is not None else result.entry,
        leverage=result.leverage,
        stop=result.stop,
        take_profits=tuple(tp.price for tp in result.take_profits),
    )


def sized_order(result: SizingResult, market: Market, *, limit: bool, mark: float | None) -> OrderRequest:
    """The paper order of the ticket, rounded to what ``market`` accepts: a limit at the (rounded)
    entry when ``limit``, else a market order at ``mark``; the stop and every target attached, each at
    its share (the engine rounds each level's quantity down to the step, the last takes the rest)."""
    spec = round_order(rules_of(market), _spec(result, limit=limit, mark=mark))
    return OrderRequest(
        symbol=result.symbol,
        side=result.side,
        qty=spec.qty,
        price=spec.price,
        leverage=spec.leverage,
        margin_mode=result.margin_mode,
        stop=spec.stop,
        take_profits=tuple(
            TakeProfitTarget(price, tp.share)
            for price, tp in zip(spec.take_profits, result.take_profits, strict=True)
        ),
        mark=mark,
    )


def sized_order_refusal(
    result: SizingResult, market: Market, *, limit: bool, mark: float | None
) -> Refusal | None:
    """The rule the rounded order still breaks (None: the exchange would take it)."""
    rules = rules_of(market)
    return check_order(rules, round_order(rules, _spec(result, limit=limit, mark=mark)))


def request_spec(req: OrderRequest) -> OrderSpec:
    """An order request as the market rules read it (``market_rules.check_order``, ``round_order``)."""
    return OrderSpec(
        req.side,
        req.qty,
        price=req.price,
        mark=req.mark,
        leverage=req.leverage,
        stop=req.stop,
        take_profits=tuple(t.price for t in req.take_profits),
    )


def rounded_request(req: OrderRequest, market: Market) -> OrderRequest:
    """``req`` rounded the way ``sized_order`` rounds a ticket (quantity down to the step, the limit never
    worse for the trader, the stop and the targets toward the entry); what is still refused is not."""
    spec = round_order(rules_of(market), request_spec(req))
    return replace(
        req,
        qty=spec.qty,
        price=spec.price,
        leverage=spec.leverage,
        stop=spec.stop,
        take_profits=tuple(
            TakeProfitTarget(price, t.share)
            for price, t in zip(spec.take_profits, req.take_profits, strict=True)
        ),
    )
