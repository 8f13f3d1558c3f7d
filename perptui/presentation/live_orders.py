"""Live orders in words: each order of a plan exactly as it will be sent (the sizing pane's live
confirmation and ``perptui order`` show the same lines), and the typed answer that confirms it.

Each order shows its label, side, type, the exchange's symbol, the amount in the exchange's unit
(contracts where a contract is not one base unit) and in base units, its price or trigger at the
market's tick, reduce-only, and its client order id (what to look for on the exchange)."""

from __future__ import annotations

from perptui.domain.live.plan import LiveOrder, OrderPlan
from perptui.domain.market_rules import contract_lot
from perptui.domain.types import Market
from perptui.presentation import numbers as fmt

_TYPES = {
    "market": "MARKET",
    "limit": "LIMIT",
    "stop_market": "STOP-MARKET",
    "take_profit_market": "TAKE-PROFIT-MARKET",
}


def amount_text(order: LiveOrder, market: Market) -> str:
    """``0.012 BTC`` (the amount sent is base units), or ``3.7 contracts (0.037 BTC)``."""
    base = f"{fmt.market_qty(order.qty, market)} {market.base}"
    if market.contract_size == 1 or not market.contract_size > 0:
        return base
    return f"{fmt.qty(order.amount, contract_lot(market))} contracts ({base})"


def level_text(order: LiveOrder, market: Market) -> str:
    """Where it fills: at the mark (market), at its limit price, or when the mark reaches its trigger."""
    if order.type == "market":
        return "at market"
    if order.type == "limit":
        return f"limit {fmt.market_price(order.price, market)}"
    return f"trigger {fmt.market_price(order.trigger, market)}"


def order_lines(order: LiveOrder, market: Market) -> list[str]:
    """Two lines an order: what it does, then its flags and client id."""
    head = (
        f"{order.label:<6} {order.side.upper():<4} {_TYPES.get(order.type, order.type.upper())} "
        f"{order.exchange_symbol} {amount_text(order, market)} {level_text(order, market)}"
    )
    flags = ["reduce-only" if order.reduce_only else "opens"]
    if order.attached_stop is not None:
        flags.append(f"carries the stop at {fmt.market_price(order.attached_stop, market)}")
    if order.attached:
        flags.append("rides on the entry (not sent by itself)")
    flags.append(f"id {order.client_id}")
    return [head, "  └ " + " · ".join(flags)]


def plan_lines(plan: OrderPlan, market: Market) -> list[str]:
    """The terms first (leverage, margin mode), then every order in the order it is sent."""
    terms = [f"{plan.side.upper()} {plan.symbol} on {plan.exchange}"]
    if plan.leverage:
        terms.append(f"leverage {plan.leverage:g}x")
    if plan.margin_mode:
        terms.append(f"{plan.margin_mode} margin")
    lines = [" · ".join(terms), f"ticket {plan.ticket} · {len(plan.orders)} orders:", ""]
    for order in plan.orders:
        lines.extend(order_lines(order, market))
    return lines


def confirmation_accepts(answer: str, plan: OrderPlan) -> bool:
    """The typed answers that send a live order: ``y``, the symbol's base (``BTC``), the exchange's id
    (``BTCUSDT``) or the unified symbol, in any case. An empty answer (a bare Enter) never does."""
    text = answer.strip().lower()
    if not text:
        return False
    base = plan.symbol.split("/")[0].lower()
    return text in {"y", "yes", plan.symbol.lower(), base, plan.entry.exchange_symbol.lower()}
