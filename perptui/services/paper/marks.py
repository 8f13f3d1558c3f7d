"""New marks against the book: what they reach (``domain.paper_triggers``), executed one event at a time.

A poll that reaches nothing costs one read transaction; only an event takes the write lock, and it
re-checks the trigger inside its transaction (another process may have changed the book meanwhile).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.domain.paper import PaperOrder, PaperPosition, opposite
from perptui.domain.paper_fills import taker_price
from perptui.domain.paper_margin import liquidation_reached
from perptui.domain.paper_trail import trailed_stop
from perptui.domain.paper_triggers import Trigger, first_trigger
from perptui.domain.risk_breaker import is_reducing
from perptui.presentation.numbers import market_price, market_qty
from perptui.services.paper.events import PaperEvent
from perptui.services.paper.execute import book_liquidation
from perptui.services.paper.orders import execute_fill, pair_leg_problem, position_text
from perptui.services.paper.state import BookState
from perptui.services.store import paper_book

if TYPE_CHECKING:
    from perptui.services.paper.ledger import Ledger

#: Events one mark can set off on one symbol (a limit that opens, then its stop ...): a guard, never hit.
MAX_EVENTS = 20


def scan(
    ledger: Ledger,
    st: BookState,
    symbol: str,
    p0: float | None,
    p1: float,
    now: int,
    history: bool,
    tripped: bool = False,
) -> Trigger | None:
    """The first event the move sets off on ``symbol``. With ``history`` (catch-up), a position or order
    only sees marks after it was last checked / created. While the breaker is ``tripped`` a resting
    limit that would open or add does not fill (held; a trip cancels them unless set to hold)."""
    pos = st.position(ledger.exchange, symbol)
    orders = st.orders_of(ledger.exchange, symbol)
    if tripped:
        orders = [o for o in orders if not _opens(o, pos)]
    if history:
        pos = pos if pos is not None and pos.checked_at < now else None
        orders = [o for o in orders if o.created_at < now]
    liq = st.liq_price(pos, ledger.tiers_of(st.positions)) if pos is not None else None
    return first_trigger(pos, orders, liq, p0, p1)


def process(
    ledger: Ledger,
    marks: Mapping[str, float],
    now: int,
    *,
    history: bool = False,
    state: BookState | None = None,
) -> tuple[list[PaperEvent], BookState]:
    """Apply ``marks`` at ``now``; returns the events and the book after them."""
    prev = {s: ledger.marks.get(s) for s in marks}
    ledger.note_marks(marks, now)
    st = state.with_marks(ledger.exchange, marks) if state else ledger.read_state()
    events: list[PaperEvent] = []
    tripped = any(not o.reduce_only for o in st.orders) and ledger.tripped(now)
    for symbol in sorted(marks):
        p1 = ledger.marks.get(symbol)
        if p1 is None:
            continue
        pos = st.position(ledger.exchange, symbol)
        p0 = prev.get(symbol) or (pos.last_mark if pos else None)
        for _ in range(MAX_EVENTS):
            trigger = scan(ledger, st, symbol, p0, p1, now, history, tripped)
            if trigger is None:
                break
            if trigger.kind == "limit" and not tripped and _opens(_order(st, trigger), pos):
                # a limit about to open or add: the limits first (a loss may trip the breaker)
                tripped = ledger.breaker(now).tripped
            with ledger.store.writing() as conn:
                st = ledger.state(conn)
                trigger = scan(ledger, st, symbol, p0, p1, now, history, tripped)
                if trigger is None:
                    break
                event, st = execute(ledger, conn, st, symbol, trigger, p1, now)
            events.append(event)
            p0 = trigger.level
            pos = st.position(ledger.exchange, symbol)
        st = _trail(ledger, st, symbol, p1)
    return events, st


def _trail(ledger: Ledger, st: BookState, symbol: str, mark: float) -> BookState:
    """Move a trailing stop toward profit after the mark's events (one write, only when it moves)."""
    pos = st.position(ledger.exchange, symbol)
    if pos is None or pos.trail is None or trailed_stop(pos, mark, ledger.book.rules(symbol)) is None:
        return st
    with ledger.store.writing() as conn:
        st = ledger.state(conn)
        pos = st.position(ledger.exchange, symbol)
        stop = None if pos is None else trailed_stop(pos, mark, ledger.book.rules(symbol))
        if pos is None or stop is None:
            return st
        moved = pos.with_(stop=stop)
        paper_book.save_position(conn, st.account, moved)
        return st.with_position(ledger.exchange, symbol, moved)


def _order(st: BookState, trigger: Trigger) -> PaperOrder:
    return next(o for o in st.orders if o.id == trigger.order_id)


def _opens(order: PaperOrder, pos: PaperPosition | None) -> bool:
    """The limit would open or add (not reduce-only, and not only reducing the open position)."""
    held = (pos.side, pos.qty) if pos is not None else None
    return not order.reduce_only and not is_reducing(order.side, order.qty, held)


def execute(
    ledger: Ledger,
    conn: sqlite3.Connection,
    st: BookState,
    symbol: str,
    t: Trigger,
    mark: float,
    now: int,
) -> tuple[PaperEvent, BookState]:
    pos = st.position(ledger.exchange, symbol)
    if t.kind == "limit":
        order = next(o for o in st.orders if o.id == t.order_id)
        return _fill_limit(ledger, conn, st, pos, order, t.price, mark, now)
    assert pos is not None
    if t.kind == "liquidation":
        return _liquidate(ledger, conn, st, pos, t.price, now)
    side = opposite(pos.side)
    market = ledger.book.get(symbol)
    price = taker_price(t.price, side, ledger.config.slippage, market.price_tick if market else None)
    qty = pos.qty
    if t.kind == "take_profit" and t.qty is not None:  # one level: its quantity, the level removed
        qty = min(t.qty, pos.qty)
        hit = next(i for i, tp in enumerate(pos.take_profits) if tp.price == t.level and tp.qty == t.qty)
        pos = pos.with_(take_profits=pos.take_profits[:hit] + pos.take_profits[hit + 1 :])
    order = PaperOrder(
        0, ledger.exchange, symbol, side, "market", qty, None, pos.leverage, pos.margin_mode, True,
        None, (), "filled", now, now, f"{t.kind.replace('_', '-')} at {market_price(t.level, market)}",
    )  # fmt: skip
    order = paper_book.insert_order(conn, st.account, order)
    booked = execute_fill(
        ledger, conn, st, market, pos, order, price, mark, ledger.fees(symbol)[0], "taker", t.kind, now, True,
    )  # fmt: skip
    fill = booked.fills[0]
    what = "stop-loss" if t.kind == "stop" else "take-profit"
    message = (
        f"{symbol} {what} {market_price(t.level, market)} hit: {pos.side} {market_qty(qty, market)} "
        f"closed at {market_price(fill.price, market)}, realised {fill.realized_pnl:+,.2f}, "
        f"fee {fill.fee:,.2f}"
    )
    return PaperEvent(now, t.kind, symbol, message, booked.fills), booked.state


def _fill_limit(
    ledger: Ledger,
    conn: sqlite3.Connection,
    st: BookState,
    pos: PaperPosition | None,
    order: PaperOrder,
    price: float,
    mark: float,
    now: int,
) -> tuple[PaperEvent, BookState]:
    """A resting limit reached: fill it as a maker at its price; cancel it (with the reason) when it can
    no longer fill (a reduce-only with nothing left to reduce, not enough margin, ...)."""
    qty = order.qty
    if order.reduce_only:
        if pos is None or pos.side == order.side:
            return _cancel(conn, st, order, now, "nothing left to reduce")
        qty = min(qty, pos.qty)
    # A limit placed before a carry pair was opened on its symbol must not unhedge the pair when it fills.
    unhedges = pair_leg_problem(st, ledger.exchange, order.symbol, order.side, qty, pos)
    if unhedges is not None:
        return _cancel(conn, st, order, now, unhedges)
    if pos is not None and pos.side == order.side:
        order = replace(order, leverage=pos.leverage, margin_mode=pos.margin_mode)
    order = replace(order, qty=qty)
    reducing = is_reducing(order.side, qty, (pos.side, pos.qty) if pos else None)
    market = ledger.book.get(order.symbol)
    try:
        booked = execute_fill(
            ledger, conn, st, market, pos, order, price, mark,
            ledger.fees(order.symbol)[1], "maker", "limit", now, reducing,
        )  # fmt: skip
    except UsageError as exc:
        return _cancel(conn, st, order, now, str(exc))
    after = booked.state.position(ledger.exchange, order.symbol)
    message = (
        f"limit {order.side} {market_qty(qty, market)} {order.symbol} filled at "
        f"{market_price(price, market)} "
        f"(order #{order.id}); " + (position_text(after, market) if after else "position closed")
    )
    return PaperEvent(now, "limit", order.symbol, message, booked.fills), booked.state


def _cancel(
    conn: sqlite3.Connection, st: BookState, order: PaperOrder, now: int, why: str
) -> tuple[PaperEvent, BookState]:
    paper_book.set_order_status(conn, st.account, order.id, "cancelled", now, why)
    orders = tuple(o for o in st.orders if o.id != order.id)
    message = f"limit order #{order.id} on {order.symbol} cancelled when its price was reached: {why}"
    return PaperEvent(now, "cancel", order.symbol, message), replace(st, orders=orders)


def _liquidate(
    ledger: Ledger, conn: sqlite3.Connection, st: BookState, pos: PaperPosition, price: float, now: int
) -> tuple[PaperEvent, BookState]:
    """Isolated: this position, at its liquidation price, losing its isolated margin. Cross: every cross
    position, each at its liquidation price when the mark reached it (else at its mark), losing the
    cross wallet."""
    if pos.margin_mode == "isolated":
        closes = [(pos, price)]
        backing, how = pos.isolated_margin, "isolated"
    else:
        tiers_of = ledger.tiers_of(st.positions)
        risks = st.risks(tiers_of)
        closes = []
        for p, risk in zip(st.positions, risks, strict=True):
            if p.margin_mode != "cross":
                continue
            if p is pos:
                closes.append((p, price))
            elif liquidation_reached(risk) and risk.liq_price is not None:
                closes.append((p, risk.liq_price))
            else:
                closes.append((p, p.last_mark or p.entry))
        backing = st.wallet - sum(p.isolated_margin for p in st.positions if p.margin_mode == "isolated")
        how = "cross"
    booked = book_liquidation(conn, st, closes, backing, now, how)
    lost = -sum(f.realized_pnl + f.liquidation_loss for f in booked.fills)
    names = ", ".join(
        f"{p.symbol} {p.side} {market_qty(p.qty, ledger.book.get(p.symbol))} at "
        f"{market_price(px, ledger.book.get(p.symbol))}"
        for p, px in closes
    )
    message = f"LIQUIDATED ({how}): {names}; {lost:,.2f} lost"
    return PaperEvent(now, "liquidation", pos.symbol, message, booked.fills), booked.state
