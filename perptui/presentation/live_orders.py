"""Live orders in words: each order of a plan exactly as it will be sent (the confirmation), and the
typed answer that confirms it. Shared by ``perptui order`` and the sizing pane's live confirmation."""

from __future__ import annotations

from perptui.domain.live.plan import LiveOrder, OrderPlan
from perptui.domain.types import Market
from perptui.presentation.numbers import market_price, market_qty

_TYPES = {
    "market": "MARKET",
    "limit": "LIMIT",
    "stop_market": "STOP-MARKET",
    "take_profit_market": "TAKE-PROFIT-MARKET",
}


def amount_text(order: LiveOrder, market: Market) -> str:
    """The amount sent, in the exchange's unit, and in base units when they differ (contracts)."""
    base = f"{market_qty(order.qty, market)} {market.base}"
    if market.contract_size == 1:
        return base
    return f"{order.amount:g} contracts ({base})"


def order_line(order: LiveOrder, market: Market) -> str:
    """``entry  BUY BTCUSDT 0.013 BTC MARKET  id pt…-e``: side, exchange symbol, amount, type, price."""
    parts = [f"{order.label:<6}", order.side.upper(), order.exchange_symbol, amount_text(order, market)]
    parts.append(_TYPES.get(order.type, order.type.upper()))
    if order.price is not None:
        parts.append(f"at {market_price(order.price, market)}")
    if order.trigger is not None:
        parts.append(f"trigger {market_price(order.trigger, market)}")
    if order.reduce_only:
        parts.append("reduce-only")
    if order.attached_stop is not None:
        parts.append(f"+ stop-loss {market_price(order.attached_stop, market)} attached")
    if order.attached:
        parts.append("(rides on the entry)")
    return " ".join(parts) + f"  id {order.client_id}"


def plan_lines(plan: OrderPlan, market: Market, *, testnet: bool) -> list[str]:
    """The confirmation: where it goes, the terms set first, then every order in the order it is sent."""
    where = f"{plan.exchange} TESTNET" if testnet else f"{plan.exchange} LIVE (real money)"
    lines = [f"{plan.side.upper()} {plan.symbol} on {where}: ticket {plan.ticket}"]
    terms = []
    if plan.margin_mode:
        terms.append(f"{plan.margin_mode} margin")
    if plan.leverage:
        terms.append(f"{plan.leverage:g}x leverage")
    if terms:
        lines.append("set first: " + ", ".join(terms))
    lines += [order_line(o, market) for o in plan.orders]
    return lines


def confirmation_accepts(answer: str, plan: OrderPlan) -> bool:
    """The typed answers that send a live order: ``y``, the symbol's base (``BTC``), the exchange's id
    (``BTCUSDT``) or the unified symbol, in any case. An empty answer (a bare Enter) never does."""
    text = answer.strip().lower()
    if not text:
        return False
    accepted = {
        "y",
        "yes",
        plan.symbol.lower(),
        plan.symbol.split("/")[0].lower(),
        plan.entry.exchange_symbol.lower(),
    }
    return text in accepted
