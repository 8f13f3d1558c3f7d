"""Writing one event to the ledger: a fill, a liquidation, a funding settlement.

Each function runs inside the caller's ``Store.writing()`` transaction and writes everything the event
changes (fill row, position, cash flows, risk log, equity snapshot), so a kill leaves all or nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace

from perptui.domain.account import from_units
from perptui.domain.paper import FillReason, FundingPayment, Liquidity, PaperFill, PaperPosition, money
from perptui.domain.paper_fills import FillOutcome, funding_amount
from perptui.domain.paper_margin import liquidation_loss
from perptui.domain.types import Side
from perptui.presentation import numbers as fmt
from perptui.services.paper.state import BookState
from perptui.services.store import paper_book, risk_events
from perptui.services.store import snapshots as _snap


@dataclass(frozen=True, slots=True)
class Booked:
    """What an event wrote: its fills (with ids) and the state after it."""

    fills: tuple[PaperFill, ...]
    state: BookState


def snapshot(conn: sqlite3.Connection, state: BookState, time: int) -> None:
    """An equity snapshot at the event: wallet + unrealised PnL at the positions' last marks."""
    upnl = sum(p.upnl(p.last_mark or p.entry) for p in state.positions)
    upnl += sum(h.upnl() for h in state.spot)
    _snap.record_equity(conn, state.account, time, state.wallet + upnl, state.wallet)


def book_fill(
    conn: sqlite3.Connection,
    state: BookState,
    outcome: FillOutcome,
    *,
    exchange: str,
    symbol: str,
    side: Side,
    qty: float,
    price: float,
    mark: float | None,
    time: int,
    liquidity: Liquidity,
    reason: FillReason,
    order_id: int | None = None,
) -> Booked:
    """Record a fill that ``apply_fill`` produced: the fill row, realised PnL and fee as cash flows, the
    position after it, and an equity snapshot."""
    account = state.account
    fill = paper_book.insert_fill(
        conn,
        account,
        PaperFill(
            0, order_id, exchange, symbol, time, side, qty, price, mark,
            outcome.fee, outcome.realized_pnl, liquidity, reason,
        ),
    )  # fmt: skip
    paper_book.add_trade_flow(conn, account, time, "realized_pnl", outcome.realized_pnl)
    units = paper_book.add_trade_flow(conn, account, time, "fee", -outcome.fee)
    if outcome.position is None:
        paper_book.delete_position(conn, account, exchange, symbol)
    else:
        paper_book.save_position(conn, account, outcome.position)
    after = state.with_position(exchange, symbol, outcome.position)
    after = replace(after, wallet=from_units(units))
    snapshot(conn, after, time)
    return Booked((fill,), after)


def book_liquidation(
    conn: sqlite3.Connection,
    state: BookState,
    closes: list[tuple[PaperPosition, float]],
    backing_wallet: float,
    time: int,
    how: str,
) -> Booked:
    """Close ``closes`` (position, liquidation fill price) and hand what is left of ``backing_wallet``
    (the isolated margin, or the cross wallet) to the insurance fund: see ``liquidation_loss``. The
    whole loss is booked on the first fill. Logs one critical risk event per position."""
    account = state.account
    realized = [money(p.sign * p.qty * (price - p.entry)) for p, price in closes]
    loss = money(liquidation_loss(backing_wallet, sum(realized)))
    fills: list[PaperFill] = []
    after = state
    for i, ((p, price), pnl) in enumerate(zip(closes, realized, strict=True)):
        side: Side = "short" if p.side == "long" else "long"
        fill = PaperFill(
            0, None, p.exchange, p.symbol, time, side, p.qty, price, p.last_mark, 0.0, pnl, None,
            "liquidation", loss if i == 0 else 0.0,
        )  # fmt: skip
        fills.append(paper_book.insert_fill(conn, account, fill))
        paper_book.add_trade_flow(conn, account, time, "realized_pnl", pnl)
        paper_book.delete_position(conn, account, p.exchange, p.symbol)
        after = after.with_position(p.exchange, p.symbol, None)
        risk_events.log_event(
            conn,
            account,
            time,
            risk_events.LIQUIDATION,
            "critical",
            f"{p.symbol} {p.side} {fmt.qty(p.qty, None)} liquidated at {fmt.price(price, None)} ({how}): "
            f"realised {pnl:+,.2f}",
            p.symbol,
        )
    units = paper_book.add_trade_flow(conn, account, time, "liquidation", loss)
    after = replace(after, wallet=from_units(units))
    snapshot(conn, after, time)
    return Booked(tuple(fills), after)


def book_funding(
    conn: sqlite3.Connection, state: BookState, position: PaperPosition, time: int, rate: float, mark: float
) -> tuple[FundingPayment, BookState] | None:
    """Settle one funding time on ``position``; None when that time was already settled."""
    amount = funding_amount(position.side, position.qty, mark, rate)
    payment = FundingPayment(
        position.exchange, position.symbol, time, position.side, position.qty, mark, rate, amount
    )
    if not paper_book.insert_funding(conn, state.account, payment):
        return None
    units = paper_book.add_trade_flow(conn, state.account, time, "funding", amount)
    isolated = position.isolated_margin + amount if position.margin_mode == "isolated" else 0.0
    updated = position.with_(
        funding_until=time, funding=money(position.funding + amount), isolated_margin=money(isolated)
    )
    paper_book.save_position(conn, state.account, updated)
    after = state.with_position(position.exchange, position.symbol, updated)
    after = replace(after, wallet=from_units(units))
    snapshot(conn, after, time)
    return payment, after
