"""The paper trading book: positions, orders, fills, funding payments, and the engine's cash flows.

Functions take a connection inside the caller's transaction (``Store.writing()``), so an event's fill,
position and cash flows commit together. Money is stored in integer units of 1e-8 like ``ledger.py``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from perptui.domain.account import from_units, to_units
from perptui.domain.paper import (
    TRADE_FLOW_KINDS,
    FundingPayment,
    PaperFill,
    PaperOrder,
    PaperPosition,
    TakeProfitLevel,
    TakeProfitTarget,
    Trail,
)

_POSITION_COLUMNS = (
    "exchange, symbol, side, qty, entry, leverage, margin_mode, isolated_e8, opened_at, stop, take_profits, "
    "last_mark, checked_at, funding_until, funding_e8, trail"
)
_ORDER_COLUMNS = (
    "id, exchange, symbol, side, kind, qty, price, leverage, margin_mode, reduce_only, stop, take_profits, "
    "status, created_at, updated_at, note"
)
_FILL_COLUMNS = (
    "id, order_id, exchange, symbol, time, side, qty, price, mark, fee_e8, realized_e8, liquidity, reason, "
    "liquidation_e8"
)


# --- positions --------------------------------------------------------------------------------------


def _levels_json(levels: Sequence[TakeProfitLevel] | Sequence[TakeProfitTarget]) -> str:
    return json.dumps([[t.price, t.qty if isinstance(t, TakeProfitLevel) else t.share] for t in levels])


def _trail(text: str | None) -> Trail | None:
    if text is None:
        return None
    d = json.loads(text)
    return Trail(d["kind"], float(d["value"]), str(d["label"]))


def _position(row: Sequence) -> PaperPosition:
    (ex, sym, side, qty, entry, lev, mode, iso, opened, stop, tps, mark, checked, until, funding, trail) = row
    levels = tuple(TakeProfitLevel(float(p), float(q)) for p, q in json.loads(tps))
    return PaperPosition(
        ex, sym, side, qty, entry, lev, mode, from_units(iso), opened, stop, levels, mark, checked, until,
        from_units(funding), _trail(trail),
    )  # fmt: skip


def load_positions(
    conn: sqlite3.Connection, account: str, exchange: str | None = None
) -> list[PaperPosition]:
    """Open positions (of one exchange when given), by symbol."""
    sql = f"SELECT {_POSITION_COLUMNS} FROM paper_positions WHERE account = ?"
    args: list[object] = [account]
    if exchange is not None:
        sql += " AND exchange = ?"
        args.append(exchange)
    return [_position(r) for r in conn.execute(sql + " ORDER BY exchange, symbol", args)]


def save_position(conn: sqlite3.Connection, account: str, p: PaperPosition) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO paper_positions (account, {_POSITION_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            account, p.exchange, p.symbol, p.side, p.qty, p.entry, p.leverage, p.margin_mode,
            to_units(p.isolated_margin), p.opened_at, p.stop, _levels_json(p.take_profits), p.last_mark,
            p.checked_at, p.funding_until, to_units(p.funding),
            None if p.trail is None else json.dumps(p.trail.as_dict()),
        ),
    )  # fmt: skip


def delete_position(conn: sqlite3.Connection, account: str, exchange: str, symbol: str) -> None:
    conn.execute(
        "DELETE FROM paper_positions WHERE account = ? AND exchange = ? AND symbol = ?",
        (account, exchange, symbol),
    )


def checkpoint(
    conn: sqlite3.Connection, account: str, exchange: str, marks: dict[str, float], time: int
) -> None:
    """Marks applied up to ``time``: the positions of ``exchange`` remember it (and their mark)."""
    for symbol, mark in marks.items():
        conn.execute(
            "UPDATE paper_positions SET last_mark = ?, checked_at = max(checked_at, ?) "
            "WHERE account = ? AND exchange = ? AND symbol = ?",
            (mark, time, account, exchange, symbol),
        )


# --- orders -----------------------------------------------------------------------------------------


def _order(row: Sequence) -> PaperOrder:
    (oid, ex, sym, side, kind, qty, price, lev, mode, reduce, stop, tp, status, created, updated, note) = row
    return PaperOrder(
        oid,
        ex,
        sym,
        side,
        kind,
        qty,
        price,
        lev,
        mode,
        bool(reduce),
        stop,
        tuple(TakeProfitTarget(float(p), float(share)) for p, share in json.loads(tp)),
        status,
        created,
        updated,
        note,
    )


def insert_order(conn: sqlite3.Connection, account: str, o: PaperOrder) -> PaperOrder:
    """Store a new order (its ``id`` is ignored); returns it with the id it got."""
    cur = conn.execute(
        f"INSERT INTO paper_orders (account, {_ORDER_COLUMNS.removeprefix('id, ')}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            account, o.exchange, o.symbol, o.side, o.kind, o.qty, o.price, o.leverage, o.margin_mode,
            int(o.reduce_only), o.stop, _levels_json(o.take_profits), o.status, o.created_at, o.updated_at,
            o.note,
        ),
    )  # fmt: skip
    oid = cur.lastrowid
    assert oid is not None
    return load_order(conn, account, oid)  # type: ignore[return-value]  # the row just inserted


def set_order_status(
    conn: sqlite3.Connection, account: str, order_id: int, status: str, time: int, note: str | None = None
) -> None:
    conn.execute(
        "UPDATE paper_orders SET status = ?, updated_at = ?, note = coalesce(?, note) "
        "WHERE account = ? AND id = ?",
        (status, time, note, account, order_id),
    )


def load_order(conn: sqlite3.Connection, account: str, order_id: int) -> PaperOrder | None:
    row = conn.execute(
        f"SELECT {_ORDER_COLUMNS} FROM paper_orders WHERE account = ? AND id = ?", (account, order_id)
    ).fetchone()
    return None if row is None else _order(row)


def load_orders(
    conn: sqlite3.Connection,
    account: str,
    exchange: str | None = None,
    *,
    open_only: bool = False,
    limit: int | None = None,
) -> list[PaperOrder]:
    """Orders, oldest first (the newest ``limit`` when given)."""
    sql = f"SELECT {_ORDER_COLUMNS} FROM paper_orders WHERE account = ?"
    args: list[object] = [account]
    if exchange is not None:
        sql += " AND exchange = ?"
        args.append(exchange)
    if open_only:
        sql += " AND status = 'open'"
    sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
    return [_order(r) for r in conn.execute(sql, args)][::-1]


# --- fills and funding ------------------------------------------------------------------------------


def _fill(row: Sequence) -> PaperFill:
    (fid, oid, ex, sym, time, side, qty, price, mark, fee, realized, liquidity, reason, liq) = row
    return PaperFill(
        fid, oid, ex, sym, time, side, qty, price, mark, from_units(fee), from_units(realized), liquidity,
        reason, from_units(liq),
    )  # fmt: skip


def insert_fill(conn: sqlite3.Connection, account: str, f: PaperFill) -> PaperFill:
    cur = conn.execute(
        f"INSERT INTO paper_fills (account, {_FILL_COLUMNS.removeprefix('id, ')}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            account, f.order_id, f.exchange, f.symbol, f.time, f.side, f.qty, f.price, f.mark,
            to_units(f.fee), to_units(f.realized_pnl), f.liquidity, f.reason, to_units(f.liquidation_loss),
        ),
    )  # fmt: skip
    fid = cur.lastrowid
    assert fid is not None
    row = conn.execute(f"SELECT {_FILL_COLUMNS} FROM paper_fills WHERE id = ?", (fid,)).fetchone()
    return _fill(row)


def load_fills(
    conn: sqlite3.Connection,
    account: str,
    exchange: str | None = None,
    *,
    since: int | None = None,
    limit: int | None = None,
) -> list[PaperFill]:
    """Fills in the order they happened (the newest ``limit`` when given)."""
    sql = f"SELECT {_FILL_COLUMNS} FROM paper_fills WHERE account = ?"
    args: list[object] = [account]
    if exchange is not None:
        sql += " AND exchange = ?"
        args.append(exchange)
    if since is not None:
        sql += " AND time >= ?"
        args.append(since)
    sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
    return [_fill(r) for r in conn.execute(sql, args)][::-1]


def insert_funding(conn: sqlite3.Connection, account: str, p: FundingPayment) -> bool:
    """Record a settlement; False (nothing written) when that time was already settled."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO paper_funding (account, exchange, symbol, time, side, qty, mark, rate, "
        "amount_e8) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (account, p.exchange, p.symbol, p.time, p.side, p.qty, p.mark, p.rate, to_units(p.amount)),
    )
    return cur.rowcount == 1


def load_funding_payments(
    conn: sqlite3.Connection, account: str, exchange: str | None = None, since: int | None = None
) -> list[FundingPayment]:
    sql = (
        "SELECT exchange, symbol, time, side, qty, mark, rate, amount_e8 FROM paper_funding WHERE account = ?"
    )
    args: list[object] = [account]
    if exchange is not None:
        sql += " AND exchange = ?"
        args.append(exchange)
    if since is not None:
        sql += " AND time >= ?"
        args.append(since)
    return [
        FundingPayment(ex, sym, t, side, qty, mark, rate, from_units(amount))
        for ex, sym, t, side, qty, mark, rate, amount in conn.execute(sql + " ORDER BY time, symbol", args)
    ]


# --- the engine's cash flows ------------------------------------------------------------------------


def add_trade_flow(conn: sqlite3.Connection, account: str, time: int, kind: str, amount: float) -> int:
    """Append a signed trading flow (``TRADE_FLOW_KINDS``); nothing for an amount that rounds to 0.
    Returns the wallet balance after it, in 1e-8 units."""
    if kind not in TRADE_FLOW_KINDS:
        raise ValueError(f"unknown trading flow kind {kind!r}")
    row = conn.execute(
        "SELECT seq, balance_e8 FROM cash_flows WHERE account = ? ORDER BY seq DESC LIMIT 1", (account,)
    ).fetchone()
    if row is None:
        raise ValueError(f"there is no account {account!r} in the ledger")
    seq, balance = row
    units = to_units(amount)
    if units == 0:
        return balance
    conn.execute(
        "INSERT INTO cash_flows (account, seq, time, kind, amount_e8, balance_e8) VALUES (?, ?, ?, ?, ?, ?)",
        (account, seq + 1, time, kind, units, balance + units),
    )
    return balance + units


def flow_totals(conn: sqlite3.Connection, account: str) -> dict[str, float]:
    """The sum of the account's flows by kind (exact: summed in integer units)."""
    return {
        kind: from_units(total)
        for kind, total in conn.execute(
            "SELECT kind, sum(amount_e8) FROM cash_flows WHERE account = ? GROUP BY kind", (account,)
        )
    }


def latest_mark(conn: sqlite3.Connection, exchange: str, symbol: str) -> tuple[int, float] | None:
    """(time, mark) of the newest cached ticker of one symbol with a mark: the symbol's newest snapshot,
    else (an exchange that sent no mark in it) the newest with one in the day before it."""
    latest = conn.execute(
        "SELECT time, mark FROM ticker_latest WHERE exchange = ? AND symbol = ?", (exchange, symbol)
    ).fetchone()
    if latest is None or latest[1] is not None:
        return None if latest is None else (latest[0], latest[1])
    row = conn.execute(
        "SELECT time, mark FROM tickers WHERE exchange = ? AND time >= ? AND symbol = ? AND mark IS NOT NULL "
        "ORDER BY time DESC LIMIT 1",
        (exchange, latest[0] - 86_400_000, symbol),
    ).fetchone()
    return None if row is None else (row[0], row[1])
