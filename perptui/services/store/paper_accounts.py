"""Schema version 4: one paper account per exchange, out of the one ``paper`` account that every
exchange's paper trading shared before (a data migration, run once inside its transaction).

The ledger account of the paper account on an exchange is ``paper`` for the demo market and
``paper:<exchange id>`` for any other (``services.accounts.paper_account_name``). The old ``paper``
account's rows go to the exchange they were recorded on:

- an account that traded on one exchange only (or on none) moves whole to that exchange's account
  (demo: it stays ``paper``);
- an account that traded on several stays whole (cash, deposits, equity history, risk log, settings)
  with its main exchange: the demo market when it traded there, else the exchange of its latest
  activity. Every other exchange's positions, orders, fills and funding move to that exchange's own
  account, with the cash flows their fills and settlements wrote (taken out of the main account's chain,
  whose balances are recomputed). Such an account opens with the old account's opening balance (as if
  it had been opened with the configured starting capital), gets the old account's settings and an
  equity snapshot at its last flow.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from perptui.domain.account import from_units

LEGACY = "paper"
DEMO = "demo"
_BOOK_TABLES = ("paper_positions", "paper_orders", "paper_fills", "paper_funding")
_ACCOUNT_TABLES = ("cash_flows", "equity", "account_settings", "risk_events", *_BOOK_TABLES)


def account_name(exchange: str) -> str:
    """The ledger account of the paper account on ``exchange``: ``paper`` for the demo market (the name
    it always had), ``paper:<exchange id>`` for any other."""
    return LEGACY if exchange == DEMO else f"paper:{exchange}"


def _latest_activity(conn: sqlite3.Connection, exchange: str) -> int:
    times = [
        conn.execute(
            f"SELECT max({col}) FROM {table} WHERE account = ? AND exchange = ?", (LEGACY, exchange)
        ).fetchone()[0]
        for table, col in (
            ("paper_fills", "time"),
            ("paper_orders", "updated_at"),
            ("paper_positions", "checked_at"),
            ("paper_funding", "time"),
        )
    ]
    return max((t for t in times if t is not None), default=0)


def split_paper_account(conn: sqlite3.Connection) -> None:
    """Move the old shared ``paper`` account's data to the paper account of each exchange it traded on
    (see the module docstring). Nothing to do without a ``paper`` account."""
    opened = conn.execute("SELECT currency, created_at, opening_e8 FROM accounts WHERE name = ?", (LEGACY,))
    account = opened.fetchone()
    if account is None:
        return
    exchanges: set[str] = set()
    for table in _BOOK_TABLES:
        rows = conn.execute(f"SELECT DISTINCT exchange FROM {table} WHERE account = ?", (LEGACY,))
        exchanges |= {r[0] for r in rows}
    if not exchanges:
        return
    main = DEMO if DEMO in exchanges else max(sorted(exchanges), key=lambda e: _latest_activity(conn, e))
    others = sorted(exchanges - {main})
    main_name = account_name(main)
    if main_name != LEGACY:
        conn.execute("UPDATE accounts SET name = ? WHERE name = ?", (main_name, LEGACY))
        for table in _ACCOUNT_TABLES:
            conn.execute(f"UPDATE {table} SET account = ? WHERE account = ?", (main_name, LEGACY))
    for exchange in others:
        _move_exchange(conn, main_name, exchange, account)


def _trade_flows(conn: sqlite3.Connection, account: str, exchange: str) -> list[tuple[int, str, int]]:
    """(time, kind, amount) of the cash flows the fills and funding settlements of ``exchange`` wrote,
    in the order the engine writes them (a fill's realised PnL, then its fee; a liquidation's loss)."""
    flows: list[tuple[int, str, int]] = []
    for time, realized, fee, liquidation in conn.execute(
        "SELECT time, realized_e8, fee_e8, liquidation_e8 FROM paper_fills "
        "WHERE account = ? AND exchange = ? ORDER BY id",
        (account, exchange),
    ):
        flows += [(time, "realized_pnl", realized), (time, "fee", -fee), (time, "liquidation", liquidation)]
    for time, amount in conn.execute(
        "SELECT time, amount_e8 FROM paper_funding WHERE account = ? AND exchange = ? ORDER BY time",
        (account, exchange),
    ):
        flows.append((time, "funding", amount))
    return sorted((f for f in flows if f[2] != 0), key=lambda f: f[0])


def _write_chain(conn: sqlite3.Connection, account: str, flows: list[tuple[int, str, int]]) -> int:
    """Replace ``account``'s cash flows with ``flows`` (time, kind, amount), numbered and with running
    balances; returns the last balance."""
    conn.execute("DELETE FROM cash_flows WHERE account = ?", (account,))
    balance = 0
    for seq, (time, kind, amount) in enumerate(flows, start=1):
        balance += amount
        conn.execute(
            "INSERT INTO cash_flows (account, seq, time, kind, amount_e8, balance_e8) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (account, seq, time, kind, amount, balance),
        )
    return balance


def _move_exchange(conn: sqlite3.Connection, main: str, exchange: str, legacy: tuple[str, int, int]) -> None:
    currency, _created, opening = legacy
    name = account_name(exchange)
    moved = _trade_flows(conn, main, exchange)
    # take the moved flows out of the main account's chain (the same (time, kind, amount), once each)
    wanted = Counter(moved)
    kept: list[tuple[int, str, int]] = []
    taken: list[tuple[int, str, int]] = []
    for time, kind, amount in conn.execute(
        "SELECT time, kind, amount_e8 FROM cash_flows WHERE account = ? ORDER BY seq", (main,)
    ):
        key = (time, kind, amount)
        if kind != "opening" and wanted[key] > 0:
            wanted[key] -= 1
            taken.append(key)
        else:
            kept.append(key)
    _write_chain(conn, main, kept)
    for table in _BOOK_TABLES:
        sql = f"UPDATE {table} SET account = ? WHERE account = ? AND exchange = ?"
        conn.execute(sql, (name, main, exchange))
    first = min([t for t, _, _ in taken] + [_first_activity(conn, name)])
    conn.execute(
        "INSERT INTO accounts (name, currency, created_at, opening_e8) VALUES (?, ?, ?, ?)",
        (name, currency, first, opening),
    )
    balance = _write_chain(conn, name, [(first, "opening", opening), *taken])
    conn.execute(
        "INSERT INTO account_settings (account, key, value, updated_at) "
        "SELECT ?, key, value, updated_at FROM account_settings WHERE account = ?",
        (name, main),
    )
    upnl = conn.execute(
        "SELECT coalesce(sum(CASE side WHEN 'long' THEN 1 ELSE -1 END * qty * (coalesce(last_mark, entry) "
        "- entry)), 0) FROM paper_positions WHERE account = ?",
        (name,),
    ).fetchone()[0]
    last = max(t for t, _, _ in [(first, "", 0), *taken])
    conn.execute(
        "INSERT OR REPLACE INTO equity (account, time, equity, wallet_balance) VALUES (?, ?, ?, ?)",
        (name, last, from_units(balance) + upnl, from_units(balance)),
    )


def _first_activity(conn: sqlite3.Connection, account: str) -> int:
    times = [
        conn.execute(f"SELECT min({col}) FROM {table} WHERE account = ?", (account,)).fetchone()[0]
        for table, col in (
            ("paper_fills", "time"),
            ("paper_orders", "created_at"),
            ("paper_positions", "opened_at"),
            ("paper_funding", "time"),
        )
    ]
    return min((t for t in times if t is not None), default=0)
