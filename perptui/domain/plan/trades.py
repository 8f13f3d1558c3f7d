"""The orders from the current positions to the target. Pure.

Targets are netted per (symbol, leg): one-way perp accounts hold one position per symbol, so a
neutral short and a directional long of the same perp make one net position. Per (symbol, leg), with
q the current and t the target signed quantity (+ long, - short):

- t = 0: close q (reduce-only);
- same side, |t| < |q|: reduce by the difference (reduce-only); |t| > |q|: add the difference;
- opposite sides: close q (reduce-only), then open t (a flip is two orders);
- nothing held: open t.

Differences within half a step are no trade. Reduce-only orders come first (they free margin).
``trade_refusal`` is what the market rules (``domain.market_rules``) refuse of a perp trade, to list
beside it before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from perptui.domain.market_rules import OrderSpec, Refusal, check_order
from perptui.domain.types import Market

from .config import CurrentPosition
from .legs import LegKind, PlanLeg, PlanTrade
from .rounding import nearest, qty_step


def signed_targets(legs: Iterable[PlanLeg]) -> dict[tuple[str, LegKind], float]:
    out: dict[tuple[str, LegKind], float] = {}
    for leg in legs:
        key = (leg.symbol, leg.leg)
        out[key] = out.get(key, 0.0) + (leg.qty if leg.side == "long" else -leg.qty)
    return out


def trades_to(
    legs: Iterable[PlanLeg],
    current: Sequence[CurrentPosition],
    marks: Mapping[str, float],
    markets: Mapping[str, Market],
) -> tuple[PlanTrade, ...]:
    target = signed_targets(legs)
    held: dict[tuple[str, LegKind], float] = {}
    for p in current:
        key = (p.symbol, p.leg)
        held[key] = held.get(key, 0.0) + (p.qty if p.side == "long" else -p.qty)
    reducing: list[PlanTrade] = []
    adding: list[PlanTrade] = []
    for key in sorted(set(target) | set(held)):
        symbol, leg = key
        market = markets.get(symbol)
        step = qty_step(market) if market is not None else None
        q, t = held.get(key, 0.0), target.get(key, 0.0)
        tol = step / 2 if step else 1e-12
        if abs(t - q) <= tol:
            continue
        mark = marks.get(symbol)
        for qty, long, reduce in _orders(q, t, tol):
            qty = nearest(abs(qty), step)
            if qty > 0:
                notional = qty * mark if mark is not None else None
                trade = PlanTrade(symbol, leg, "long" if long else "short", qty, notional, reduce)
                (reducing if reduce else adding).append(trade)
    return tuple(reducing + adding)


def _orders(q: float, t: float, tol: float) -> list[tuple[float, bool, bool]]:
    """(quantity, long?, reduce-only?) from held ``q`` to target ``t`` (signed)."""
    if q != 0 and (abs(t) <= tol or (q > 0) != (t > 0)):
        close = (q, q < 0, True)
        return [close, (t, t > 0, False)] if abs(t) > tol else [close]
    if q != 0 and abs(t) < abs(q):
        return [(q - t, q < 0, True)]
    return [(t - q, t > q, False)]


def trade_refusal(trade: PlanTrade, market: Market | None, mark: float | None) -> Refusal | None:
    """The rule of ``market`` a perp trade breaks at ``mark`` (its quantity: step, minimum and maximum
    quantity, minimum notional unless it only reduces); None when the exchange would take it, or when
    there is no market or mark to check it against."""
    if market is None or mark is None or not mark > 0 or trade.leg != "perp":
        return None
    return check_order(market, OrderSpec(trade.side, trade.qty, mark=mark, reducing=trade.reduce_only))
