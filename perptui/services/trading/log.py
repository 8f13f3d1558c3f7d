"""The live order log (table ``order_log``, schema version 9): every request sent to an exchange's order
endpoints and its answer.

A row is written BEFORE its request is sent (outcome ``sending``) and completed with the answer, so a
crash in between leaves a row that says an order's fate is unknown, never a silent gap. What is logged
is the order as perptui built it and the exchange's answer: never an API key, a secret or a signature
(they live only inside ccxt's request headers and query signing, which are not logged).
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from typing import Any

from perptui.services.exchanges.ccxt_convert import num

Outcome = str  # 'sending', 'ok', 'rejected', 'lost', 'found', 'absent', 'failed'


@dataclass(frozen=True, slots=True)
class LogRow:
    id: int
    time: int
    exchange: str
    testnet: bool
    action: str
    symbol: str | None
    ticket: str | None
    client_id: str | None
    label: str | None
    request: dict[str, Any]
    outcome: str
    order_id: str | None
    status: str | None
    filled: float | None
    average: float | None
    fee: float | None
    fee_currency: str | None
    error: str | None
    answered_at: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "time": self.time,
            "exchange": self.exchange,
            "testnet": self.testnet,
            "action": self.action,
            "symbol": self.symbol,
            "ticket": self.ticket,
            "client_id": self.client_id,
            "label": self.label,
            "request": self.request,
            "outcome": self.outcome,
            "order_id": self.order_id,
            "status": self.status,
            "filled": self.filled,
            "average": self.average,
            "fee": self.fee,
            "fee_currency": self.fee_currency,
            "error": self.error,
            "answered_at": self.answered_at,
        }


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str, allow_nan=False, separators=(",", ":"))


def _clean(value: Any) -> Any:
    """``value`` as JSON can hold it: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def log_request(
    conn: sqlite3.Connection,
    *,
    time: int,
    exchange: str,
    testnet: bool,
    action: str,
    request: dict[str, Any],
    symbol: str | None = None,
    ticket: str | None = None,
    client_id: str | None = None,
    label: str | None = None,
) -> int:
    """The row of a request about to be sent (outcome ``sending``); returns its id."""
    cur = conn.execute(
        "INSERT INTO order_log (time, exchange, testnet, action, symbol, ticket, client_id, label, request, "
        "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending')",
        (time, exchange, int(testnet), action, symbol, ticket, client_id, label, _json(_clean(request))),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def log_answer(
    conn: sqlite3.Connection,
    row_id: int,
    *,
    time: int,
    outcome: Outcome,
    answer: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Complete row ``row_id`` with the exchange's answer (a ccxt order structure) or the error."""
    order = answer or {}
    fee = order.get("fee") if isinstance(order.get("fee"), dict) else {}
    conn.execute(
        "UPDATE order_log SET outcome = ?, order_id = ?, status = ?, filled = ?, average = ?, fee = ?, "
        "fee_currency = ?, answer = ?, error = ?, answered_at = ? WHERE id = ?",
        (
            outcome,
            None if order.get("id") in (None, "") else str(order.get("id")),
            order.get("status"),
            num(order.get("filled")),
            num(order.get("average")),
            num((fee or {}).get("cost")),
            (fee or {}).get("currency"),
            _json(_clean(order)) if answer is not None else None,
            error,
            time,
            row_id,
        ),
    )


def log_fills(conn: sqlite3.Connection, row_id: int, trades: list[dict[str, Any]]) -> None:
    """The fills of the order placed by row ``row_id`` (ccxt trade structures): their fees add up."""
    costs = [num((t.get("fee") or {}).get("cost")) for t in trades]
    currencies = {(t.get("fee") or {}).get("currency") for t in trades} - {None}
    fee = sum(c for c in costs if c is not None) if any(c is not None for c in costs) else None
    conn.execute(
        "UPDATE order_log SET fee = ?, fee_currency = ? WHERE id = ?",
        (fee, currencies.pop() if len(currencies) == 1 else None, row_id),
    )


_COLUMNS = (
    "id, time, exchange, testnet, action, symbol, ticket, client_id, label, request, outcome, order_id, "
    "status, filled, average, fee, fee_currency, error, answered_at"
)


def _row(values: tuple[Any, ...]) -> LogRow:
    (rid, time, exchange, testnet, action, symbol, ticket, cid, label, request, outcome, oid, status) = (
        values[:13]
    )
    filled, average, fee, fee_currency, error, answered_at = values[13:]
    return LogRow(
        rid,
        time,
        exchange,
        bool(testnet),
        action,
        symbol,
        ticket,
        cid,
        label,
        json.loads(request),
        outcome,
        oid,
        status,
        filled,
        average,
        fee,
        fee_currency,
        error,
        answered_at,
    )


def load_log(
    conn: sqlite3.Connection,
    *,
    exchange: str | None = None,
    since: int | None = None,
    limit: int = 200,
    ticket: str | None = None,
) -> list[LogRow]:
    """The newest ``limit`` rows (oldest first), of ``exchange`` / ``ticket`` / since ``since``."""
    where, args = [], []
    for clause, value in (("exchange = ?", exchange), ("time >= ?", since), ("ticket = ?", ticket)):
        if value is not None:
            where.append(clause)
            args.append(value)
    sql = f"SELECT {_COLUMNS} FROM order_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
    return [_row(r) for r in reversed(rows)]


def unresolved(conn: sqlite3.Connection, exchange: str) -> list[LogRow]:
    """Placements whose fate was never learnt (sent, then no answer and no look-up found it either way)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM order_log WHERE exchange = ? AND action = 'place' "
        "AND outcome IN ('sending', 'lost') ORDER BY id",
        (exchange,),
    ).fetchall()
    return [_row(r) for r in rows]


def last_version(conn: sqlite3.Connection, client_id: str) -> int:
    """The highest version placed of the order ``client_id`` names (``-s`` is 1, ``-sr2`` 2 ...)."""
    stem, tag = client_id.rsplit("-", 1)
    leg = tag.split("r", 1)[0]
    rows = conn.execute(
        "SELECT DISTINCT client_id FROM order_log WHERE client_id LIKE ? AND action = 'place'",
        (f"{stem}-{leg}r%",),
    ).fetchall()
    versions = [int(tail) for (cid,) in rows if (tail := cid.rsplit("r", 1)[1]).isdigit()]
    return max([1, *versions])
