"""The account ledger: accounts, cash flows (integer 1e-8 units, signed) and account settings.

Functions take a connection inside the caller's transaction; the ``Store`` facade wraps each in one.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from perptui.domain.account import AccountInfo, CashFlow, from_units, to_units
from perptui.domain.errors import UsageError

_SIGN = {"opening": 1, "deposit": 1, "withdrawal": -1}


def create_account(
    conn: sqlite3.Connection, name: str, currency: str, created_at: int, opening_balance: float
) -> bool:
    """Create the account with its opening flow; False (nothing written) when it already exists."""
    opening = to_units(opening_balance)
    if opening < 0:
        raise UsageError(f"the opening balance of {name!r} cannot be negative")
    cur = conn.execute(
        "INSERT OR IGNORE INTO accounts (name, currency, created_at, opening_e8) VALUES (?, ?, ?, ?)",
        (name, currency, created_at, opening),
    )
    if cur.rowcount == 0:
        return False
    conn.execute(
        "INSERT INTO cash_flows (account, seq, time, kind, amount_e8, balance_e8) "
        "VALUES (?, 1, ?, 'opening', ?, ?)",
        (name, created_at, opening, opening),
    )
    return True


def load_account(conn: sqlite3.Connection, name: str) -> AccountInfo | None:
    row = conn.execute(
        "SELECT name, currency, created_at, opening_e8 FROM accounts WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else AccountInfo(row[0], row[1], row[2], from_units(row[3]))


def cash_balance_units(conn: sqlite3.Connection, account: str) -> int | None:
    """The balance after the account's last flow, in 1e-8 units; None for an unknown account."""
    row = conn.execute(
        "SELECT balance_e8 FROM cash_flows WHERE account = ? ORDER BY seq DESC LIMIT 1", (account,)
    ).fetchone()
    return None if row is None else row[0]


def add_cash_flow(
    conn: sqlite3.Connection, account: str, time: int, kind: str, amount: float, *, min_balance: float = 0.0
) -> CashFlow:
    """Append a deposit or withdrawal (``amount`` > 0; the kind gives the sign).

    Refuses (UsageError, nothing written) an unknown account, an amount that rounds to zero, or a
    withdrawal that would take the balance below ``min_balance`` (the caller passes the margin in use).
    """
    if kind not in ("deposit", "withdrawal"):
        raise ValueError(f"unknown cash flow kind {kind!r}")
    units = to_units(amount)
    if units <= 0:
        raise UsageError(f"the amount of a {kind} must be positive, not {amount!r}")
    row = conn.execute(
        "SELECT seq, balance_e8 FROM cash_flows WHERE account = ? ORDER BY seq DESC LIMIT 1", (account,)
    ).fetchone()
    if row is None:
        raise UsageError(f"there is no account {account!r} in the ledger")
    seq, balance = row
    signed = _SIGN[kind] * units
    after = balance + signed
    if kind == "withdrawal" and after < to_units(min_balance):
        free = from_units(max(0, balance - to_units(min_balance)))
        raise UsageError(f"cannot withdraw {from_units(units):,.2f}: only {free:,.2f} is free")
    conn.execute(
        "INSERT INTO cash_flows (account, seq, time, kind, amount_e8, balance_e8) VALUES (?, ?, ?, ?, ?, ?)",
        (account, seq + 1, time, kind, signed, after),
    )
    return CashFlow(account, seq + 1, time, kind, from_units(units), from_units(after))


def load_cash_flows(conn: sqlite3.Connection, account: str, since: int | None = None) -> list[CashFlow]:
    """Flows in recorded order (``seq``); ``since``: only those with ``time >= since``."""
    sql = "SELECT seq, time, kind, amount_e8, balance_e8 FROM cash_flows WHERE account = ?"
    args: list[object] = [account]
    if since is not None:
        sql += " AND time >= ?"
        args.append(since)
    return [
        CashFlow(account, seq, time, kind, from_units(abs(amount)), from_units(balance), from_units(amount))
        for seq, time, kind, amount, balance in conn.execute(sql + " ORDER BY seq", args)
    ]


def set_setting(conn: sqlite3.Connection, account: str, key: str, value: Any, time: int) -> None:
    conn.execute(
        "INSERT INTO account_settings (account, key, value, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (account, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (account, key, json.dumps(value), time),
    )


def load_settings(conn: sqlite3.Connection, account: str) -> dict[str, Any]:
    out = {}
    for key, value in conn.execute("SELECT key, value FROM account_settings WHERE account = ?", (account,)):
        try:
            out[key] = json.loads(value)
        except ValueError:
            continue  # a value this perptui cannot read is ignored (the default applies)
    return out


def equity_at(conn: sqlite3.Connection, account: str, time: int) -> tuple[int, float] | None:
    """The last equity snapshot at or before ``time``."""
    row = conn.execute(
        "SELECT time, equity FROM equity WHERE account = ? AND time <= ? ORDER BY time DESC LIMIT 1",
        (account, time),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def last_equity_time(conn: sqlite3.Connection, account: str) -> int | None:
    row = conn.execute("SELECT max(time) FROM equity WHERE account = ?", (account,)).fetchone()
    return None if row is None else row[0]
