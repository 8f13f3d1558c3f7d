"""Versioned schema. ``PRAGMA user_version`` holds the version; each migration runs in one transaction.

To change the schema, append a ``Migration`` (never edit a released one). A database newer than the
last migration is refused (see ``connection.check_ours``).

Layout, and why:

- The bulk tables (``funding``, ``ohlcv``) are keyed by ``(series, time)`` in ``WITHOUT ROWID`` tables:
  the rows live in the primary-key B-tree itself, ordered by time, so a range read is one sequential
  scan and there is no second index. ``series`` maps ``(exchange, kind, symbol, timeframe)`` to a small
  integer so each row does not repeat ~25 bytes of text (measured, 1M funding rows: 25 MB this way,
  39 MB with text exchange and symbol keys, 44 MB for a rowid table plus a unique index).
- ``coverage`` records, per series, the time ranges known complete (fetched page by page or imported
  from a file), so an interrupted backfill resumes exactly where it stopped, gaps included.
- ``fetch_log`` holds the last fetch time per (exchange, kind) for the "cache is N minutes old" line.
- ``equity`` is the first table of the paper/live account ledger (snapshots of equity over time).
- Version 2 adds the rest of the ledger's base, which later issues extend with positions, orders and
  fills: ``accounts`` (one row per ledger account: name, currency, creation time, opening balance),
  ``cash_flows`` (every movement of the wallet in order: ``seq`` per account; amounts are integers in
  1e-8 of the currency, signed: + into the wallet, - out of it, so the balance is an exact ``sum()``;
  ``kind`` is 'opening', 'deposit' or 'withdrawal' now, and deliberately not closed by a CHECK so later
  kinds such as fees and funding fit without a table rebuild) and ``account_settings`` (values edited in
  the app, e.g. risk per trade and the plan's split, that override the config's defaults).
- Version 3 adds the paper trading book and the risk log: ``paper_positions`` (one row per open position,
  one-way mode, keyed by account, exchange and symbol; isolated margin and funding in 1e-8 units),
  ``paper_orders`` (every order: market orders filled at once, limits open until filled or cancelled),
  ``paper_fills`` (every execution, with its fee and realised PnL in 1e-8 units), ``paper_funding`` (one
  row per settlement and position: the primary key makes settling the same funding time twice
  impossible) and ``risk_events`` (alerts, circuit-breaker trips and resets, liquidations: the log the
  breaker's state is computed from). The paper engine's cash flows go to ``cash_flows`` with the kinds
  'realized_pnl', 'fee', 'funding' and 'liquidation', written in the same transaction as the fill or
  settlement they belong to.
- Version 4 changes no table: it gives each exchange its own paper account (``paper`` for the demo
  market, ``paper:<exchange id>`` otherwise) and moves the one shared ``paper`` account's data to the
  exchange it was recorded on (``paper_accounts.split_paper_account``).
- Version 5 gives a position any number of take-profit levels and a trailing stop: ``take_profits`` (JSON
  ``[[price, qty], ...]`` on a position, ``[[price, share], ...]`` on an order: a share of what the order
  leaves open, the last level the rest) replaces the single ``take_profit`` column of ``paper_positions``
  and ``paper_orders`` (an old one becomes one level for the whole quantity), and ``paper_positions.trail``
  (JSON ``{"kind", "value", "label"}`` or NULL) holds the trailing stop.
- Version 6 adds spot to the paper book: ``paper_spot`` (one row per asset held: quantity and average
  cost; the notional stays in the wallet, see ``domain.paper_spot``), ``paper_spot_orders`` (spot market
  orders, filled at once, and limits, open until filled or cancelled), ``paper_spot_fills`` (every spot
  execution with its fee and realised PnL in 1e-8 units) and ``paper_pairs`` (the carry pairs: a spot
  holding and a short perp of the same quantity opened, resized and closed as one, in one transaction).
- Version 7 keeps the cache small and fast over months (``retention``): ``tickers`` is keyed by time
  before symbol (a snapshot of every perp appends a few pages instead of dirtying one page per symbol,
  2 MB of WAL a minute for 500 perps, and retention drops contiguous ranges); rows stored at time 0 by
  earlier versions are left out. ``ticker_latest`` holds the newest snapshot of each symbol (and its
  first time), written with every snapshot, so the scanner's "now" is read in time proportional to the
  symbols, not the snapshots; ``retention_state`` holds, per pruning task, the time up to which it is
  done, so each step only looks at what aged since the last.
- Version 8 adds the alerts (``services.alerts.store``): ``alert_rules`` (the rules added with ``perptui
  alerts add``, and the mutes of config rules, as the JSON of their keys), ``alert_state`` (per
  condition key, whether it holds, since when, and its last notification: what lets a restarted monitor
  notify nothing twice) and ``alert_history`` (every notification fired or cleared, whether it was held
  by quiet hours, and what each target answered; bounded by the ``[cache]`` events settings).
- Version 9 adds the live order log (``services.trading.log``): ``order_log`` holds every request perptui
  sent to an exchange's order endpoints (placing, looking up, cancelling, leverage and margin mode), written
  BEFORE it is sent (``outcome`` 'sending'), then the exchange's answer: its order id, status, fills, fee,
  or the error. A row still 'sending' after a crash is an order whose fate is unknown until looked up by
  its client order id. No secrets are ever in it; it is the trader's audit trail and is never pruned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from perptui.domain.errors import StoreError
from perptui.services.store.connection import APPLICATION_ID, check_ours, read_meta
from perptui.services.store.paper_accounts import split_paper_account


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...] = ()
    #: Optional Python step run after the statements, inside the same transaction.
    run: Callable[[sqlite3.Connection], None] | None = None


V1 = Migration(
    1,
    "cache: markets, tiers, funding, ohlcv, tickers, coverage, fetch log, equity",
    (
        """CREATE TABLE fetch_log (
            exchange TEXT NOT NULL,
            kind TEXT NOT NULL,
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (exchange, kind)
        ) WITHOUT ROWID""",
        """CREATE TABLE markets (
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            id TEXT NOT NULL,
            base TEXT NOT NULL,
            quote TEXT NOT NULL,
            settle TEXT NOT NULL,
            contract_size REAL NOT NULL,
            amount_step REAL,
            price_tick REAL,
            min_qty REAL,
            max_qty REAL,
            min_notional REAL,
            taker_fee REAL,
            maker_fee REAL,
            max_leverage REAL,
            funding_interval_hours REAL,
            spot_symbol TEXT,
            active INTEGER NOT NULL,
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (exchange, symbol)
        ) WITHOUT ROWID""",
        """CREATE TABLE tiers (
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            tier INTEGER NOT NULL,
            min_notional REAL NOT NULL,
            max_notional REAL,  -- NULL: open-ended last tier
            mmr REAL NOT NULL,
            maint_amount REAL NOT NULL,
            max_leverage REAL NOT NULL,
            source TEXT NOT NULL,  -- 'exchange', 'import:<file name>' or 'approximate'
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (exchange, symbol, tier)
        ) WITHOUT ROWID""",
        """CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            exchange TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('funding', 'ohlcv')),
            symbol TEXT NOT NULL,
            timeframe TEXT NOT NULL DEFAULT '',
            UNIQUE (exchange, kind, symbol, timeframe)
        )""",
        """CREATE TABLE funding (
            series INTEGER NOT NULL,
            time INTEGER NOT NULL,
            rate REAL NOT NULL,
            PRIMARY KEY (series, time)
        ) WITHOUT ROWID""",
        """CREATE TABLE ohlcv (
            series INTEGER NOT NULL,
            time INTEGER NOT NULL,
            open REAL NOT NULL,
            high REAL NOT NULL,
            low REAL NOT NULL,
            close REAL NOT NULL,
            volume REAL NOT NULL,
            PRIMARY KEY (series, time)
        ) WITHOUT ROWID""",
        """CREATE TABLE coverage (
            series INTEGER NOT NULL,
            start_ms INTEGER NOT NULL,
            end_ms INTEGER NOT NULL,  -- exclusive
            PRIMARY KEY (series, start_ms)
        ) WITHOUT ROWID""",
        """CREATE TABLE tickers (
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            time INTEGER NOT NULL,
            last REAL,
            mark REAL,
            index_price REAL,
            quote_volume_24h REAL,
            open_interest REAL,
            open_interest_usd REAL,
            PRIMARY KEY (exchange, symbol, time)
        ) WITHOUT ROWID""",
        """CREATE TABLE equity (
            account TEXT NOT NULL,
            time INTEGER NOT NULL,
            equity REAL NOT NULL,
            wallet_balance REAL,
            PRIMARY KEY (account, time)
        ) WITHOUT ROWID""",
    ),
)

V2 = Migration(
    2,
    "ledger: accounts, cash flows, account settings",
    (
        """CREATE TABLE accounts (
            name TEXT NOT NULL PRIMARY KEY,  -- 'paper', or an exchange id for a live account
            currency TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            opening_e8 INTEGER NOT NULL CHECK (opening_e8 >= 0)  -- opening balance, 1e-8 units
        ) WITHOUT ROWID""",
        """CREATE TABLE cash_flows (
            account TEXT NOT NULL REFERENCES accounts (name),
            seq INTEGER NOT NULL,  -- 1, 2, 3 ... per account, in the order recorded
            time INTEGER NOT NULL,
            kind TEXT NOT NULL,  -- 'opening', 'deposit', 'withdrawal' (later issues add more)
            amount_e8 INTEGER NOT NULL,  -- signed: + into the wallet, - out of it; 1e-8 units
            balance_e8 INTEGER NOT NULL,  -- the wallet's cash balance after this flow
            PRIMARY KEY (account, seq),
            CHECK (kind <> 'deposit' OR amount_e8 > 0),
            CHECK (kind <> 'withdrawal' OR amount_e8 < 0),
            CHECK (kind <> 'opening' OR amount_e8 >= 0)
        ) WITHOUT ROWID""",
        "CREATE INDEX cash_flows_by_time ON cash_flows (account, time)",
        """CREATE TABLE account_settings (
            account TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,  -- JSON
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (account, key)
        ) WITHOUT ROWID""",
    ),
)

V3 = Migration(
    3,
    "paper trading: positions, orders, fills, funding payments; the risk event log",
    (
        """CREATE TABLE paper_positions (
            account TEXT NOT NULL,
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('long', 'short')),
            qty REAL NOT NULL CHECK (qty > 0),  -- base units
            entry REAL NOT NULL CHECK (entry > 0),  -- weighted average entry price
            leverage REAL NOT NULL CHECK (leverage > 0),
            margin_mode TEXT NOT NULL CHECK (margin_mode IN ('isolated', 'cross')),
            isolated_e8 INTEGER NOT NULL,  -- the isolated wallet, 1e-8 units; 0 for cross
            opened_at INTEGER NOT NULL,
            stop REAL,
            take_profit REAL,
            last_mark REAL,
            checked_at INTEGER NOT NULL,  -- marks and history applied up to here
            funding_until INTEGER NOT NULL,  -- last funding time settled on it
            funding_e8 INTEGER NOT NULL DEFAULT 0,  -- funding settled on it so far, + received
            PRIMARY KEY (account, exchange, symbol)
        ) WITHOUT ROWID""",
        """CREATE TABLE paper_orders (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('long', 'short')),
            kind TEXT NOT NULL CHECK (kind IN ('market', 'limit')),
            qty REAL NOT NULL CHECK (qty > 0),
            price REAL,  -- the limit price; NULL for a market order
            leverage REAL,
            margin_mode TEXT,
            reduce_only INTEGER NOT NULL DEFAULT 0,
            stop REAL,
            take_profit REAL,
            status TEXT NOT NULL CHECK (status IN ('open', 'filled', 'cancelled')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            note TEXT
        )""",
        "CREATE INDEX paper_orders_open ON paper_orders (account, exchange, status)",
        """CREATE TABLE paper_fills (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            order_id INTEGER REFERENCES paper_orders (id),  -- NULL for stops, take-profits, liquidations
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            time INTEGER NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('long', 'short')),
            qty REAL NOT NULL CHECK (qty > 0),
            price REAL NOT NULL,
            mark REAL,
            fee_e8 INTEGER NOT NULL CHECK (fee_e8 >= 0),
            realized_e8 INTEGER NOT NULL,
            liquidation_e8 INTEGER NOT NULL DEFAULT 0,  -- margin left to the insurance fund, signed
            liquidity TEXT CHECK (liquidity IN ('maker', 'taker')),
            reason TEXT NOT NULL
        )""",
        "CREATE INDEX paper_fills_by_time ON paper_fills (account, time)",
        """CREATE TABLE paper_funding (
            account TEXT NOT NULL,
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            time INTEGER NOT NULL,
            side TEXT NOT NULL,
            qty REAL NOT NULL,
            mark REAL NOT NULL,
            rate REAL NOT NULL,
            amount_e8 INTEGER NOT NULL,  -- + received, - paid
            PRIMARY KEY (account, exchange, symbol, time)
        ) WITHOUT ROWID""",
        """CREATE TABLE risk_events (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            time INTEGER NOT NULL,
            kind TEXT NOT NULL,  -- 'breaker_trip', 'breaker_reset', 'liquidation', or a limit's kind
            symbol TEXT,
            severity TEXT NOT NULL,  -- 'info', 'warning', 'critical'
            message TEXT NOT NULL
        )""",
        "CREATE INDEX risk_events_by_time ON risk_events (account, time)",
    ),
)

V4 = Migration(
    4,
    "one paper account per exchange: the shared paper account's data to the exchange it was recorded on",
    (),
    run=split_paper_account,
)

V5 = Migration(
    5,
    "paper: several take-profit levels per position and order, and a trailing stop",
    (
        "ALTER TABLE paper_positions ADD COLUMN take_profits TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE paper_positions ADD COLUMN trail TEXT",
        "UPDATE paper_positions SET take_profits = json_array(json_array(take_profit, qty)) "
        "WHERE take_profit IS NOT NULL",
        "ALTER TABLE paper_positions DROP COLUMN take_profit",
        "ALTER TABLE paper_orders ADD COLUMN take_profits TEXT NOT NULL DEFAULT '[]'",
        "UPDATE paper_orders SET take_profits = json_array(json_array(take_profit, 1.0)) "
        "WHERE take_profit IS NOT NULL",
        "ALTER TABLE paper_orders DROP COLUMN take_profit",
    ),
)

V6 = Migration(
    6,
    "paper spot: holdings, spot orders and fills, carry pairs",
    (
        """CREATE TABLE paper_spot (
            account TEXT NOT NULL,
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,  -- the spot market, e.g. BTC/USDT
            base TEXT NOT NULL,
            qty REAL NOT NULL CHECK (qty > 0),
            entry REAL NOT NULL,  -- average cost
            opened_at INTEGER NOT NULL,
            last_mark REAL,
            PRIMARY KEY (account, exchange, symbol)
        ) WITHOUT ROWID""",
        """CREATE TABLE paper_spot_orders (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
            kind TEXT NOT NULL CHECK (kind IN ('market', 'limit')),
            qty REAL NOT NULL CHECK (qty > 0),
            price REAL,
            status TEXT NOT NULL CHECK (status IN ('open', 'filled', 'cancelled')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            note TEXT
        )""",
        """CREATE TABLE paper_spot_fills (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            order_id INTEGER REFERENCES paper_spot_orders (id),
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            time INTEGER NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
            qty REAL NOT NULL CHECK (qty > 0),
            price REAL NOT NULL,
            fee_e8 INTEGER NOT NULL CHECK (fee_e8 >= 0),
            realized_e8 INTEGER NOT NULL,
            liquidity TEXT NOT NULL CHECK (liquidity IN ('maker', 'taker')),
            reason TEXT NOT NULL  -- 'order', 'pair_open', 'pair_close'
        )""",
        """CREATE TABLE paper_pairs (
            account TEXT NOT NULL,
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,  -- the perp leg
            spot_symbol TEXT NOT NULL,
            qty REAL NOT NULL CHECK (qty > 0),
            opened_at INTEGER NOT NULL,
            PRIMARY KEY (account, exchange, symbol)
        ) WITHOUT ROWID""",
    ),
)


def _first_times(conn: sqlite3.Connection) -> None:
    """``ticker_latest.first_time`` from the snapshots (an UPDATE .. FROM needs SQLite 3.33)."""
    firsts = conn.execute(
        "SELECT min(time), exchange, symbol FROM tickers GROUP BY exchange, symbol"
    ).fetchall()
    conn.executemany("UPDATE ticker_latest SET first_time = ? WHERE exchange = ? AND symbol = ?", firsts)


V7 = Migration(
    7,
    "retention: ticker snapshots keyed by time first, the newest ticker per symbol, the pruning progress",
    (
        # Time first: a snapshot of 500 symbols appends ~10 pages instead of touching 500 (one per
        # symbol's run), and retention drops contiguous time ranges.
        """CREATE TABLE tickers_v7 (
            exchange TEXT NOT NULL,
            time INTEGER NOT NULL,
            symbol TEXT NOT NULL,
            last REAL,
            mark REAL,
            index_price REAL,
            quote_volume_24h REAL,
            open_interest REAL,
            open_interest_usd REAL,
            PRIMARY KEY (exchange, time, symbol)
        ) WITHOUT ROWID""",
        """INSERT INTO tickers_v7 SELECT exchange, time, symbol, last, mark, index_price, quote_volume_24h,
            open_interest, open_interest_usd FROM tickers WHERE time > 0 ORDER BY exchange, time, symbol""",
        "DROP TABLE tickers",
        "ALTER TABLE tickers_v7 RENAME TO tickers",
        """CREATE TABLE ticker_latest (
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            time INTEGER NOT NULL,
            last REAL,
            mark REAL,
            index_price REAL,
            quote_volume_24h REAL,
            open_interest REAL,
            open_interest_usd REAL,
            first_time INTEGER NOT NULL,  -- the symbol's first snapshot (bounds an as-of search)
            PRIMARY KEY (exchange, symbol)
        ) WITHOUT ROWID""",
        # SQLite takes the bare columns of an aggregate query from the row that holds the max().
        """INSERT INTO ticker_latest SELECT exchange, symbol, max(time), last, mark, index_price,
            quote_volume_24h, open_interest, open_interest_usd, 0 FROM tickers GROUP BY exchange, symbol""",
        """CREATE TABLE retention_state (
            task TEXT PRIMARY KEY,
            through_ms INTEGER NOT NULL
        ) WITHOUT ROWID""",
    ),
    run=_first_times,
)

V8 = Migration(
    8,
    "alerts: the user's rules, the state of each condition, the history of notifications",
    (
        """CREATE TABLE alert_rules (
            id TEXT PRIMARY KEY,
            rule TEXT NOT NULL,  -- JSON of the rule's keys (domain.alerts.rules.RULE_FIELDS)
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE alert_state (
            key TEXT PRIMARY KEY,  -- '<rule id>:<symbol or *>'
            active INTEGER NOT NULL,
            since INTEGER NOT NULL,
            last_sent INTEGER
        ) WITHOUT ROWID""",
        """CREATE TABLE alert_history (
            id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            key TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            kind TEXT NOT NULL,  -- 'fired', 'cleared'
            severity TEXT NOT NULL,  -- 'info', 'warning', 'critical'
            symbol TEXT,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            held INTEGER NOT NULL DEFAULT 0,  -- in quiet hours: recorded, not delivered
            delivered TEXT  -- JSON [{"target", "ok", "detail"}] once sent; NULL before
        )""",
        "CREATE INDEX alert_history_by_time ON alert_history (time)",
    ),
)

V9 = Migration(
    9,
    "the live order log: every request sent to an exchange's order endpoints and its answer",
    (
        """CREATE TABLE order_log (
            id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            exchange TEXT NOT NULL,
            testnet INTEGER NOT NULL,
            action TEXT NOT NULL,  -- 'place', 'lookup', 'cancel', 'cancel_all', 'leverage', 'margin_mode'
            symbol TEXT,
            ticket TEXT,
            client_id TEXT,
            label TEXT,  -- 'entry', 'stop', 'TP1', 'close' ...
            request TEXT NOT NULL,  -- JSON of what was sent (never a key or a signature)
            outcome TEXT NOT NULL,  -- 'sending', 'ok', 'rejected', 'lost', 'found', 'absent', 'failed'
            order_id TEXT,
            status TEXT,  -- the exchange's order status: open, closed, canceled, rejected, expired
            filled REAL,
            average REAL,
            fee REAL,
            fee_currency TEXT,
            answer TEXT,  -- JSON of the exchange's answer
            error TEXT,
            answered_at INTEGER
        )""",
        "CREATE INDEX order_log_by_client ON order_log (client_id)",
        "CREATE INDEX order_log_by_time ON order_log (time)",
    ),
)

#: Every migration, in order. ``latest_version()`` is the schema version this perptui writes.
MIGRATIONS: list[Migration] = [V1, V2, V3, V4, V5, V6, V7, V8, V9]


def latest_version() -> int:
    return MIGRATIONS[-1].version if MIGRATIONS else 0


def migrate(conn: sqlite3.Connection, path: Path | None, upto: int | None = None) -> int:
    """Bring the schema up to ``latest_version()`` (or to version ``upto``: a file as an older perptui
    left it, for the tests and benchmarks of an upgrade); return the version now in the file.

    Each step is one ``BEGIN IMMEDIATE`` transaction (SQLite DDL is transactional), so a failed or
    killed migration leaves the previous version intact. The version is re-read under the write lock,
    so two processes opening a fresh file at once migrate it once.
    """
    latest = latest_version()
    for migration in MIGRATIONS:
        if upto is not None and migration.version > upto:
            break
        if conn.execute("PRAGMA user_version").fetchone()[0] >= migration.version:
            continue
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        try:
            app_id, version, tables = read_meta(conn)
            check_ours(path, app_id, version, tables, latest)
            if version < migration.version:
                for statement in migration.statements:
                    conn.execute(statement)
                if migration.run is not None:
                    migration.run(conn)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {migration.version}")
            conn.execute("COMMIT")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"cannot upgrade the database {path or ':memory:'} to schema version "
                    f"{migration.version} ({exc}); it was left at version {version}"
                ) from None
            raise
    return conn.execute("PRAGMA user_version").fetchone()[0]
