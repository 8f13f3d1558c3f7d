"""The trader's actions on the book: place an order, fill it, cancel it, move a stop or take-profit."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Literal, cast

from perptui.domain.errors import UsageError
from perptui.domain.liquidation import tier_allowing
from perptui.domain.market_rules import (
    OrderRefused,
    OrderSpec,
    check_leverage,
    check_price,
    level_rounding,
    refuse,
    round_leverage,
    round_price,
)
from perptui.domain.paper import (
    FillReason,
    Liquidity,
    OrderRequest,
    PaperOrder,
    PaperPosition,
    TakeProfitTarget,
    Trail,
    check_shares,
    opposite,
    split_targets,
)
from perptui.domain.paper_fills import apply_fill, taker_price
from perptui.domain.paper_margin import auto_leverage, liquidation_reached
from perptui.domain.paper_orders import check_same_terms, check_stop, check_take_profit
from perptui.domain.paper_trail import trailed_stop
from perptui.domain.paper_triggers import limit_marketable
from perptui.domain.risk_breaker import is_reducing, order_allowed
from perptui.domain.types import MarginMode, Market, Side
from perptui.presentation.numbers import market_price, market_qty
from perptui.services.paper.breaker import state_in
from perptui.services.paper.events import OrderResult
from perptui.services.paper.execute import Booked, book_fill
from perptui.services.paper.state import BookState
from perptui.services.store import paper_book

if TYPE_CHECKING:
    from perptui.services.paper.ledger import Ledger

Level = Literal["stop", "take_profit"]


def _terms(
    ledger: Ledger, req: OrderRequest, pos: PaperPosition | None, st: BookState, notional: float
) -> tuple[float, MarginMode]:
    """Leverage and margin mode of what the order opens: an add keeps the position's; otherwise the
    order's, the configured default, or auto (the lowest whole leverage the free margin allows)."""
    if pos is not None and pos.side == req.side:
        return pos.leverage, pos.margin_mode
    mode: MarginMode = req.margin_mode or (pos.margin_mode if pos else ledger.config.margin_mode)
    leverage = req.leverage
    if leverage is None and ledger.config.leverage is not None:  # the default: to what the venue takes
        leverage = round_leverage(ledger.book.rules(req.symbol), ledger.config.leverage, notional)
    if leverage is None:
        free = st.margin(ledger.tiers_of(st.positions)).free_margin
        bracket = tier_allowing(ledger.book.tiers(req.symbol), notional)
        limits = [x for x in (ledger.max_leverage(req.symbol), bracket and bracket.max_leverage) if x]
        leverage = auto_leverage(notional, free, ledger.fees(req.symbol)[0], min(limits) if limits else None)
    return float(leverage), mode


def _check_rules(
    ledger: Ledger, req: OrderRequest, pos: PaperPosition | None, mark: float, reducing: bool
) -> None:
    """The market's rules (``domain.market_rules``): step, minimums, maximum, tick, leverage; an order
    that breaks one is refused (OrderRefused, one line with the nearest valid value)."""
    adds = pos is not None and pos.side == req.side
    after = req.qty + pos.qty if adds and pos is not None else req.qty - (pos.qty if pos else 0.0)
    refuse(
        ledger.book.rules(req.symbol),
        OrderSpec(
            req.side,
            req.qty,
            price=req.price,
            mark=mark,
            leverage=None if adds or reducing else req.leverage,
            stop=req.stop,
            take_profits=tuple(t.price for t in req.take_profits),
            reducing=reducing,
            closes_all=reducing and pos is not None and abs(req.qty - pos.qty) <= pos.qty * 1e-12,
            position_notional=abs(after) * (req.price or mark),
        ),
    )


def place(
    ledger: Ledger, req: OrderRequest, market: Market, mark: float, now: int, *, pair_leg: bool = False
) -> OrderResult:
    """``pair_leg``: the order is a carry pair's own perp leg (``services.paper.carry``); any other order
    may not reduce a pair's perp short below the pair (that would leave its spot leg unhedged)."""
    symbol = market.symbol
    req = replace(req, symbol=symbol)
    with ledger.store.writing() as conn:
        st = ledger.state(conn)
        pos = st.position(ledger.exchange, symbol)
        if not pair_leg:
            check_pair_leg(st, ledger.exchange, req, pos)
            if req.take_profits:
                check_no_pair_levels(st, ledger.exchange, symbol)
        reducing = is_reducing(req.side, req.qty, (pos.side, pos.qty) if pos else None)
        if req.reduce_only and not reducing:
            raise UsageError(
                f"a close must be on the other side of the open {symbol} position and not larger"
            )
        allowed, why = order_allowed(state_in(conn, ledger.account.name, now), reducing)
        if not allowed:
            raise UsageError(why)
        if reducing and (req.stop is not None or req.take_profits):
            raise UsageError("--stop and --tp belong to what an order opens; this one only reduces")
        if pos is not None:
            check_same_terms(pos, req)
        opened = req.qty if pos is None or pos.side == req.side else max(0.0, req.qty - pos.qty)
        _check_rules(ledger, req, pos, mark, reducing)
        leverage, mode = _terms(ledger, req, pos, st, opened * (req.price or mark))
        taker = ledger.fees(symbol)[0]
        resting = req.price is not None and not limit_marketable(req.side, req.price, mark)
        slippage, tick = ledger.config.slippage, market.price_tick
        # resting: a limit order, so req.price is set
        price = cast(float, req.price) if resting else taker_price(mark, req.side, slippage, tick)
        if req.price is not None and not resting:  # a marketable limit takes, never worse than its price
            price = min(price, req.price) if req.side == "long" else max(price, req.price)
        assert price is not None
        what = "the limit price" if resting else "the fill price"
        if req.stop is not None:
            check_stop(req.side, req.stop, price, what)
        for tp in req.take_profits:
            check_take_profit(req.side, tp.price, price, what)
        order = PaperOrder(
            0, ledger.exchange, symbol, req.side, req.kind, req.qty, req.price, leverage, mode,
            req.reduce_only, req.stop, req.take_profits, "open" if resting else "filled", now, now,
        )  # fmt: skip
        if resting:
            if not reducing:
                _check_reserve(ledger, st, order, market, mark)
            order = paper_book.insert_order(conn, ledger.account.name, order)
            message = (
                f"limit {req.side} {market_qty(req.qty, market)} {symbol} at {market_price(price, market)} "
                f"rests (mark {market_price(mark, market)}); order #{order.id}"
            )
            return OrderResult(order, (), pos, message)
        order = paper_book.insert_order(conn, ledger.account.name, order)
        reason: FillReason = "close" if req.reduce_only else "order"
        booked = execute_fill(
            ledger, conn, st, market, pos, order, price, mark, taker, "taker", reason, now, reducing
        )
    fill = booked.fills[0]
    after = booked.state.position(ledger.exchange, symbol)
    message = (
        f"{req.side} {market_qty(req.qty, market)} {symbol} filled at {market_price(fill.price, market)}, "
        f"fee {fill.fee:,.2f}"
    )
    if fill.realized_pnl:
        message += f", realised {fill.realized_pnl:+,.2f}"
    message += "; " + (position_text(after, market) if after else "position closed")
    return OrderResult(order, booked.fills, after, message, stop_warnings(ledger, booked.state, after))


def pair_leg_problem(
    st: BookState, exchange: str, symbol: str, side: str, qty: float, pos: PaperPosition | None
) -> str | None:
    """Why an order of ``side`` ``qty`` may not fill on ``symbol``: it would take a carry pair's perp
    short below the pair's quantity (or, the leg gone after a liquidation, open against it), leaving the
    pair's spot leg unhedged. None when it may."""
    pair = st.pair(exchange, symbol)
    if pair is None or side == "short":
        return None
    short = pos.qty if pos is not None and pos.side == "short" else 0.0
    if short - qty >= pair.qty - 1e-12:
        return None
    return (
        f"{symbol}'s short is the perp leg of a carry pair ({pair.qty:g}): close or resize the pair with "
        f"'perptui paper carry close' (this order would leave its spot leg unhedged)"
    )


def check_pair_leg(st: BookState, exchange: str, req: OrderRequest, pos: PaperPosition | None) -> None:
    """Refuse an order that would take a carry pair's perp short below the pair's quantity."""
    problem = pair_leg_problem(st, exchange, req.symbol, req.side, req.qty, pos)
    if problem is not None:
        raise UsageError(problem)


def check_no_pair_levels(st: BookState, exchange: str, symbol: str) -> None:
    """Refuse take-profit levels on a carry pair's perp leg: a level closes part of the short, which
    would leave the pair's spot leg partly unhedged."""
    pair = st.pair(exchange, symbol)
    if pair is not None:
        raise UsageError(
            f"{symbol}'s short is the perp leg of a carry pair ({pair.qty:g}): take-profit levels would "
            "close part of it and leave the spot leg unhedged; close or resize the pair with "
            "'perptui paper carry close'"
        )


def execute_fill(
    ledger: Ledger,
    conn: sqlite3.Connection,
    st: BookState,
    market: Market | None,
    pos: PaperPosition | None,
    order: PaperOrder,
    price: float,
    mark: float,
    fee_rate: float,
    liquidity: Liquidity,
    reason: FillReason,
    now: int,
    reducing: bool,
) -> Booked:
    """Fill ``order`` (all of it) at ``price``; an order that opens or adds is checked first (margin,
    brackets, not liquidated at once): UsageError, nothing written."""
    symbol = order.symbol
    outcome = apply_fill(
        pos,
        exchange=ledger.exchange,
        symbol=symbol,
        side=order.side,
        qty=order.qty,
        price=price,
        fee_rate=fee_rate,
        leverage=order.leverage or 1.0,
        margin_mode=order.margin_mode or "isolated",
        time=now,
        stop=order.stop,
        take_profits=order.take_profits,
        mark=mark,
        step=market.amount_step if market else None,
    )
    if not reducing and outcome.position is not None:
        new = outcome.position
        _check_bracket(ledger, symbol, new.leverage, new.qty * mark)
        after = st.with_position(ledger.exchange, symbol, new)
        after = replace(after, wallet=st.wallet + outcome.realized_pnl - outcome.fee)
        tiers_of = ledger.tiers_of(after.positions)
        free = after.margin(tiers_of).free_margin
        if free < 0:
            was = st.margin(ledger.tiers_of(st.positions)).free_margin
            need = outcome.opened_qty * price / new.leverage + outcome.fee
            raise UsageError(
                f"not enough free margin: this needs {need:,.2f} (initial margin at {new.leverage:g}x + fee) "
                f"and {max(was, 0.0):,.2f} is free; lower the quantity or raise the leverage"
            )
        risk = after.risk_of(ledger.exchange, symbol, tiers_of)
        if risk is not None and liquidation_reached(risk):
            raise UsageError(
                f"at {new.leverage:g}x this {symbol} position would be liquidated at once (liquidation "
                f"price {market_price(risk.liq_price, market)}, mark {market_price(mark, market)}): "
                "lower the leverage"
            )
    booked = book_fill(
        conn, st, outcome, exchange=ledger.exchange, symbol=symbol, side=order.side, qty=order.qty,
        price=price, mark=mark, time=now, liquidity=liquidity, reason=reason, order_id=order.id,
    )  # fmt: skip
    paper_book.set_order_status(conn, st.account, order.id, "filled", now)
    return booked


def _check_reserve(ledger: Ledger, st: BookState, order: PaperOrder, market: Market, mark: float) -> None:
    assert order.price is not None and order.leverage is not None
    pos = st.position(ledger.exchange, order.symbol)
    qty_after = order.qty + (pos.qty if pos and pos.side == order.side else 0.0)
    _check_bracket(ledger, order.symbol, order.leverage, qty_after * order.price)
    free = st.margin(ledger.tiers_of(st.positions)).free_margin
    hold = order.qty * order.price * (1 / order.leverage + ledger.fees(order.symbol)[1])
    if hold > free:
        raise UsageError(
            f"not enough free margin: this limit needs {hold:,.2f} (initial margin at {order.leverage:g}x + "
            f"maker fee) and {max(free, 0.0):,.2f} is free; lower the quantity or raise the leverage"
        )


def _check_bracket(ledger: Ledger, symbol: str, leverage: float, notional: float) -> None:
    """The market's maximum and the bracket of the position's notional allow its leverage (a position
    keeps the leverage it opened with: the venue's step is checked when it opens)."""
    refused = check_leverage(ledger.book.rules(symbol), leverage, notional, on_step=False)
    if refused is not None:
        raise OrderRefused(refused)


def cancel(ledger: Ledger, order_id: int, now: int) -> PaperOrder:
    ledger.account.open()
    with ledger.store.writing() as conn:
        order = paper_book.load_order(conn, ledger.account.name, order_id)
        if order is None or order.exchange != ledger.exchange:
            raise UsageError(f"there is no paper order #{order_id}")
        if order.status != "open":
            raise UsageError(f"paper order #{order_id} is {order.status}: only open orders can be cancelled")
        paper_book.set_order_status(
            conn, ledger.account.name, order_id, "cancelled", now, "cancelled by the trader"
        )
        cancelled = paper_book.load_order(conn, ledger.account.name, order_id)
    assert cancelled is not None
    return cancelled


def _edit_position(
    ledger: Ledger,
    symbol: str,
    mark: float | None,
    now: int,
    edit: Callable[[PaperPosition], PaperPosition],
    check: Callable[[BookState], None] | None = None,
) -> tuple[PaperPosition, tuple[str, ...]]:
    """Change the open position with ``edit`` (which raises to refuse), in one transaction; ``check``
    refuses from the whole book (e.g. the position is a carry pair's leg)."""
    market = ledger.book.market(symbol)
    if mark is not None:
        ledger.note_marks({market.symbol: mark}, now)
    with ledger.store.writing() as conn:
        st = ledger.state(conn)
        pos = st.position(ledger.exchange, market.symbol)
        if pos is None:
            raise UsageError(f"there is no open paper position in {market.symbol}")
        if check is not None:
            check(st)
        updated = edit(pos)
        paper_book.save_position(conn, st.account, updated)
        after = st.with_position(ledger.exchange, market.symbol, updated)
    return updated, stop_warnings(ledger, after, updated)


def _checked_level(ledger: Ledger, pos: PaperPosition, which: Level, price: float) -> float:
    """``price`` as a stop or take-profit of ``pos``: on the tick (else refused, naming the nearest) and
    on the right side of the mark."""
    refused = check_price(ledger.book.rules(pos.symbol), price, which, level_rounding(pos.side, which))
    if refused is not None:
        raise OrderRefused(refused)
    (check_stop if which == "stop" else check_take_profit)(pos.side, price, pos.last_mark or pos.entry)
    return price


def set_stop(
    ledger: Ledger, symbol: str, price: float | Literal["breakeven"] | None, mark: float | None, now: int
) -> tuple[PaperPosition, tuple[str, ...]]:
    """Move the stop to ``price``, to the entry (``breakeven``: on the tick toward the mark) or remove it
    (None). A fixed stop replaces a trailing one."""

    def edit(pos: PaperPosition) -> PaperPosition:
        if price is None:
            return pos.with_(stop=None, trail=None)
        level = price
        if price == "breakeven":
            level = round_price(ledger.book.rules(pos.symbol), pos.entry, level_rounding(pos.side, "stop"))
        assert not isinstance(level, str)
        return pos.with_(stop=_checked_level(ledger, pos, "stop", level), trail=None)

    return _edit_position(ledger, symbol, mark, now, edit)


def set_take_profits(
    ledger: Ledger, symbol: str, targets: tuple[TakeProfitTarget, ...], mark: float | None, now: int
) -> tuple[PaperPosition, tuple[str, ...]]:
    """Replace the position's take-profits with ``targets`` split over its quantity (none: remove them)."""
    check_shares(targets)

    def edit(pos: PaperPosition) -> PaperPosition:
        for t in targets:
            _checked_level(ledger, pos, "take_profit", t.price)
        market = ledger.book.get(pos.symbol)
        step = market.amount_step if market else None
        return pos.with_(take_profits=split_targets(targets, pos.qty, step))

    def no_pair_leg(st: BookState) -> None:
        if targets:
            check_no_pair_levels(st, ledger.exchange, ledger.book.market(symbol).symbol)

    return _edit_position(ledger, symbol, mark, now, edit, no_pair_leg)


def set_trail(
    ledger: Ledger, symbol: str, trail: Trail | None, mark: float | None, now: int
) -> tuple[PaperPosition, tuple[str, ...]]:
    """Trail the stop (None: stop trailing, the stop stays where it is). The stop moves to the trail's
    level at once when that is better than the current one."""

    def edit(pos: PaperPosition) -> PaperPosition:
        if trail is None:
            return pos.with_(trail=None)
        level = pos.last_mark or pos.entry
        if trail.distance(level) <= 0 or trail.distance(level) >= level:
            raise UsageError(f"a trailing distance must be above 0 and below the mark, not {trail.label}")
        trailed = pos.with_(trail=trail)
        stop = trailed_stop(trailed, level, ledger.book.rules(pos.symbol))
        return trailed if stop is None else trailed.with_(stop=stop)

    return _edit_position(ledger, symbol, mark, now, edit)


def stop_warnings(ledger: Ledger, st: BookState, pos: PaperPosition | None) -> tuple[str, ...]:
    """A stop at or beyond the liquidation price can never fill: say so loudly."""
    if pos is None or pos.stop is None:
        return ()
    risk = st.risk_of(pos.exchange, pos.symbol, ledger.tiers_of(st.positions))
    if risk is None or risk.liq_price is None or (pos.stop - risk.liq_price) * pos.sign > 0:
        return ()
    market = ledger.book.get(pos.symbol)
    return (
        f"the stop {market_price(pos.stop, market)} lies beyond the liquidation price "
        f"{market_price(risk.liq_price, market)}: "
        "the position is liquidated before it can fill",
    )


def position_text(p: PaperPosition, market: Market | None) -> str:
    """The position in a message: prices at the market's tick, the quantity at its step."""
    text = f"position {p.side} {market_qty(p.qty, market)} @ {market_price(p.entry, market)}"
    text += f", {p.leverage:g}x {p.margin_mode}"
    if p.stop is not None:
        text += f", stop {market_price(p.stop, market)}"
    if p.trail is not None:
        text += f" (trailing {p.trail.label})"
    if p.take_profits:
        text += ", tp " + " / ".join(
            f"{market_qty(t.qty, market)} @ {market_price(t.price, market)}" for t in p.take_profits
        )
    return text


def closing_side(p: PaperPosition) -> Side:
    return opposite(p.side)
