"""Carry pairs: long spot + short perp of the same quantity, opened, resized and closed as one.

Both legs are written in ONE store transaction: the spot leg first, then the perp leg through the same
path as any perp order (market rules, breaker, margin, brackets). If the second leg is refused the
transaction rolls back, so the first is undone, and the refusal says which leg and why; a kill anywhere
in between leaves both legs or neither. The reverse pair (long perp + short spot) needs borrowed spot,
which the paper account does not model: it is refused with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.domain.market_rules import OrderSpec, check_order
from perptui.domain.paper import OrderRequest
from perptui.domain.paper_spot import NO_SPOT_SHORT, CarryPair, spot_rules
from perptui.presentation.numbers import market_qty
from perptui.services.paper import orders, spot
from perptui.services.store import paper_spot

if TYPE_CHECKING:
    from perptui.domain.types import Market
    from perptui.services.paper.ledger import Ledger


@dataclass(frozen=True, slots=True)
class PairResult:
    pair: CarryPair | None
    message: str


class PairRefused(UsageError):
    """A pair that was not opened (or changed): nothing of it was written."""


def check_pair(perp: Market, qty: float, mark: float, spot_price: float) -> str | None:
    """Why the market rules refuse either leg of a pair of ``qty`` (None: both would be taken)."""
    for leg, rules, price in (("spot", spot_rules(perp), spot_price), ("perp", perp, mark)):
        refused = check_order(rules, OrderSpec("short" if leg == "perp" else "long", qty, mark=price))
        if refused is not None:
            return f"{leg} leg: {refused.message}"
    return None


def open_pair(
    ledger: Ledger,
    perp: Market,
    qty: float,
    mark: float,
    spot_price: float,
    now: int,
    *,
    reverse: bool = False,
    leverage: float | None = None,
) -> PairResult:
    """Open a pair of ``qty`` on ``perp`` (or add ``qty`` to the open one)."""
    if reverse:
        raise PairRefused(f"a long perp + short spot pair on {perp.symbol} is refused: {NO_SPOT_SHORT}")
    assert perp.spot_symbol is not None
    exchange, symbol = ledger.exchange, perp.symbol
    with ledger.store.writing() as conn:
        st = ledger.state(conn)
        pair = st.pair(exchange, symbol)
        pos = st.position(exchange, symbol)
        held = pos.qty if pos is not None and pos.side == "short" else 0.0
        if pos is not None and (pos.side != "short" or pair is None or held > pair.qty * (1 + 1e-9)):
            raise PairRefused(
                f"a {pos.side} {symbol} perp position is open outside a pair: close it first "
                "(a pair's perp leg is its own short)"
            )
        spot_leg = spot.order_in(ledger, conn, st, perp, "buy", qty, spot_price, now, reason="pair_open")
        try:
            req = OrderRequest(symbol, "short", qty, mark=mark, leverage=leverage)
            result = orders.place(ledger, req, perp, mark, now, pair_leg=True)
        except UsageError as exc:
            raise PairRefused(
                f"pair not opened: the perp leg (short {market_qty(qty, perp)} {symbol}) was refused: {exc}; "
                "the spot leg was undone"
            ) from exc
        total = qty + (pair.qty if pair is not None else 0.0)
        new = CarryPair(exchange, symbol, perp.spot_symbol, round(total, 10), pair.opened_at if pair else now)
        paper_spot.save_pair(conn, st.account, exchange, symbol, new)
    verb = "added to" if pair is not None else "opened"
    return PairResult(new, f"carry pair {verb}: {spot_leg.message}; {result.message}")


def close_pair(
    ledger: Ledger, perp: Market, qty: float | None, mark: float, spot_price: float, now: int
) -> PairResult:
    """Close the pair (or ``qty`` of it): sell the spot leg and buy back the perp short, one transaction.
    A perp leg already liquidated leaves only the spot to sell."""
    exchange, symbol = ledger.exchange, perp.symbol
    with ledger.store.writing() as conn:
        st = ledger.state(conn)
        pair = st.pair(exchange, symbol)
        if pair is None:
            raise UsageError(f"there is no carry pair on {symbol}")
        if qty is not None and qty > pair.qty * (1 + 1e-12):
            raise UsageError(f"the {symbol} pair holds {market_qty(pair.qty, perp)}: close at most that")
        amount = pair.qty if qty is None else qty
        held = st.holding(exchange, pair.spot_symbol)
        sell = min(amount, held.qty) if held is not None else 0.0
        messages = []
        if sell > 0:
            messages.append(
                spot.order_in(
                    ledger, conn, st, perp, "sell", sell, spot_price, now, reason="pair_close"
                ).message
            )
        pos = st.position(exchange, symbol)
        if pos is not None and pos.side == "short":
            buy = min(amount, pos.qty)
            req = OrderRequest(symbol, "long", buy, reduce_only=True, mark=mark)
            messages.append(orders.place(ledger, req, perp, mark, now, pair_leg=True).message)
        left = round(pair.qty - amount, 10)
        new = None if left <= 0 else CarryPair(exchange, symbol, pair.spot_symbol, left, pair.opened_at)
        paper_spot.save_pair(conn, st.account, exchange, symbol, new)
    head = "carry pair closed" if new is None else f"carry pair reduced to {market_qty(left, perp)}"
    return PairResult(new, head + ": " + "; ".join(messages))
