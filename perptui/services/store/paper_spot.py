"""The paper book's spot side: holdings, spot orders and fills, carry pairs (schema version 5).

Functions take a connection inside the caller's transaction, so a pair's two legs commit together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from perptui.domain.account import from_units, to_units
from perptui.domain.paper_spot import CarryPair, SpotHolding


@dataclass(frozen=True, slots=True)
class SpotOrder:
    id: int
    exchange: str
    symbol: str
    side: str
    kind: str
    qty: float
    price: float | None
    status: str
    created_at: int
    updated_at: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SpotFill:
    id: int
    order_id: int | None
    exchange: str
    symbol: str
    time: int
    side: str
    qty: float
    price: float
    fee: float
    realized_pnl: float
    liquidity: str
    reason: str


_HOLDING = "exchange, symbol, base, qty, entry, opened_at, last_mark"
_ORDER = "id, exchange, symbol, side, kind, qty, price, status, created_at, updated_at, note"
_FILL = "id, order_id, exchange, symbol, time, side, qty, price, fee_e8, realized_e8, liquidity, reason"


def load_holdings(conn: sqlite3.Connection, account: str, exchange: str | None = None) -> list[SpotHolding]:
    sql = f"SELECT {_HOLDING} FROM paper_spot WHERE account = ?"
    args: list[object] = [account]
    if exchange is not None:
        sql += " AND exchange = ?"
        args.append(exchange)
    return [SpotHolding(*row) for row in conn.execute(sql + " ORDER BY exchange, symbol", args)]


def save_holding(
    conn: sqlite3.Connection, account: str, exchange: str, symbol: str, h: SpotHolding | None
) -> None:
    """Store the holding of ``symbol`` (None: sold out, the row goes)."""
    if h is None:
        conn.execute(
            "DELETE FROM paper_spot WHERE account = ? AND exchange = ? AND symbol = ?",
            (account, exchange, symbol),
        )
        return
    conn.execute(
        f"INSERT OR REPLACE INTO paper_spot (account, {_HOLDING}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (account, h.exchange, h.symbol, h.base, h.qty, h.entry, h.opened_at, h.last_mark),
    )


def insert_order(conn: sqlite3.Connection, account: str, o: SpotOrder) -> SpotOrder:
    cur = conn.execute(
        f"INSERT INTO paper_spot_orders (account, {_ORDER.removeprefix('id, ')}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (account, o.exchange, o.symbol, o.side, o.kind, o.qty, o.price, o.status, o.created_at,
         o.updated_at, o.note),
    )  # fmt: skip
    assert cur.lastrowid is not None
    row = conn.execute(f"SELECT {_ORDER} FROM paper_spot_orders WHERE id = ?", (cur.lastrowid,)).fetchone()
    return SpotOrder(*row)


def set_order_status(
    conn: sqlite3.Connection, account: str, order_id: int, status: str, time: int, note: str | None = None
) -> None:
    conn.execute(
        "UPDATE paper_spot_orders SET status = ?, updated_at = ?, note = coalesce(?, note) "
        "WHERE account = ? AND id = ?",
        (status, time, note, account, order_id),
    )


def load_orders(
    conn: sqlite3.Connection, account: str, exchange: str | None = None, *, open_only: bool = False
) -> list[SpotOrder]:
    sql = f"SELECT {_ORDER} FROM paper_spot_orders WHERE account = ?"
    args: list[object] = [account]
    if exchange is not None:
        sql += " AND exchange = ?"
        args.append(exchange)
    if open_only:
        sql += " AND status = 'open'"
    return [SpotOrder(*row) for row in conn.execute(sql + " ORDER BY id", args)]


def insert_fill(conn: sqlite3.Connection, account: str, f: SpotFill) -> SpotFill:
    cur = conn.execute(
        f"INSERT INTO paper_spot_fills (account, {_FILL.removeprefix('id, ')}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (account, f.order_id, f.exchange, f.symbol, f.time, f.side, f.qty, f.price, to_units(f.fee),
         to_units(f.realized_pnl), f.liquidity, f.reason),
    )  # fmt: skip
    assert cur.lastrowid is not None
    return load_fills(conn, account, fill_id=cur.lastrowid)[0]


def load_fills(
    conn: sqlite3.Connection, account: str, exchange: str | None = None, *, fill_id: int | None = None
) -> list[SpotFill]:
    sql = f"SELECT {_FILL} FROM paper_spot_fills WHERE account = ?"
    args: list[object] = [account]
    if exchange is not None:
        sql += " AND exchange = ?"
        args.append(exchange)
    if fill_id is not None:
        sql += " AND id = ?"
        args.append(fill_id)
    return [_fill(row) for row in conn.execute(sql + " ORDER BY id", args)]


def _fill(row: Sequence) -> SpotFill:
    fid, oid, ex, sym, time, side, qty, price, fee, realized, liquidity, reason = row
    return SpotFill(
        fid, oid, ex, sym, time, side, qty, price, from_units(fee), from_units(realized), liquidity, reason
    )


def load_pairs(conn: sqlite3.Connection, account: str, exchange: str | None = None) -> list[CarryPair]:
    sql = "SELECT exchange, symbol, spot_symbol, qty, opened_at FROM paper_pairs WHERE account = ?"
    args: list[object] = [account]
    if exchange is not None:
        sql += " AND exchange = ?"
        args.append(exchange)
    return [CarryPair(*row) for row in conn.execute(sql + " ORDER BY exchange, symbol", args)]


def save_pair(
    conn: sqlite3.Connection, account: str, exchange: str, symbol: str, pair: CarryPair | None
) -> None:
    if pair is None:
        conn.execute(
            "DELETE FROM paper_pairs WHERE account = ? AND exchange = ? AND symbol = ?",
            (account, exchange, symbol),
        )
        return
    conn.execute(
        "INSERT OR REPLACE INTO paper_pairs (account, exchange, symbol, spot_symbol, qty, opened_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (account, pair.exchange, pair.symbol, pair.spot_symbol, pair.qty, pair.opened_at),
    )
