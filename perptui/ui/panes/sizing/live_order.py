"""The sizing ticket as live orders, in words: each order of the plan exactly as it will be sent, and what
became of each once sent. No Textual here (the dialog is ``widgets.live_dialogs``).

Each order shows its label, side, type, the exchange's symbol, the amount in the exchange's unit
(contracts where a contract is not one base unit) and in base units, its price or trigger at the
market's tick, reduce-only, and its client order id (what to look for on the exchange)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.market_rules import contract_lot
from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.live.plan import LiveOrder, OrderPlan
    from perptui.domain.types import Market
    from perptui.services.trading.trader import PlaceOutcome, Sent

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


def sent_line(sent: Sent) -> str:
    """What became of one order, in words."""
    what = f"{sent.order.label} ({sent.order.client_id})"
    if sent.outcome == "ok":
        return f"{what}: accepted" + (f", exchange id {sent.exchange_id}" if sent.exchange_id else "")
    if sent.outcome == "found":
        return f"{what}: found on the exchange after a lost answer (not sent twice)"
    if sent.outcome == "rejected":
        return f"{what}: REJECTED: {sent.error}"
    if sent.outcome == "failed":
        return f"{what}: NOT PLACED: {sent.error}"
    return f"{what}: UNKNOWN: {sent.error}"


def outcome_lines(outcome: PlaceOutcome) -> list[str]:
    lines = [sent_line(outcome.entry), *(sent_line(s) for s in outcome.protective), *outcome.notes]
    if not outcome.entry.placed:
        lines.append("nothing else was sent: the entry is not on the exchange")
    return lines


def outcome_severity(outcome: PlaceOutcome) -> str:
    """information when every order is in, else error."""
    every = [outcome.entry, *outcome.protective]
    return "information" if all(s.placed for s in every) else "error"
