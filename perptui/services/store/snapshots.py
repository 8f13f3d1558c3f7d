"""Snapshots: tickers, account equity, and the fetch log behind ``cache_age_ms``."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from perptui.domain.types import Ticker

#: The kinds ``cache_age_ms`` knows; ``ticker_snapshot`` is when the scanner last stored every ticker.
KINDS = ("markets", "tiers", "funding", "ohlcv", "tickers", "ticker_snapshot")


def mark_fetched(conn: sqlite3.Connection, exchange: str, kind: str, fetched_at: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}; use one of {', '.join(KINDS)}")
    conn.execute(
        "INSERT INTO fetch_log (exchange, kind, fetched_at) VALUES (?, ?, ?) "
        "ON CONFLICT (exchange, kind) DO UPDATE SET fetched_at = max(fetched_at, excluded.fetched_at)",
        (exchange, kind, fetched_at),
    )


def last_fetched(conn: sqlite3.Connection, exchange: str, kind: str) -> int | None:
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}; use one of {', '.join(KINDS)}")
    row = conn.execute(
        "SELECT fetched_at FROM fetch_log WHERE exchange = ? AND kind = ?", (exchange, kind)
    ).fetchone()
    return None if row is None else row[0]


def timed(tickers: Sequence[Ticker]) -> list[Ticker]:
    """The tickers that carry a time: one without (0, from an exchange that gives none) could serve
    neither an as-of run nor a cache age, and would read as 1970."""
    return [t for t in tickers if t.timestamp and t.timestamp > 0]


def insert_tickers(conn: sqlite3.Connection, exchange: str, tickers: Sequence[Ticker]) -> int:
    """Snapshots keyed by (exchange, symbol, timestamp); the same snapshot twice is one row. Tickers
    without a time are left out (``timed``)."""
    before = conn.total_changes
    conn.executemany(
        "INSERT OR REPLACE INTO tickers (exchange, symbol, time, last, mark, index_price, quote_volume_24h, "
        "open_interest, open_interest_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                exchange,
                t.symbol,
                t.timestamp,
                t.last,
                t.mark,
                t.index,
                t.quote_volume_24h,
                t.open_interest,
                t.open_interest_usd,
            )
            for t in timed(tickers)
        ],
    )
    return conn.total_changes - before


def latest_tickers(conn: sqlite3.Connection, exchange: str, asof: int | None = None) -> dict[str, Ticker]:
    """The newest snapshot per symbol (at or before ``asof`` when given); rows stored at time 0 by
    earlier versions (an exchange that gave no time) are no snapshot of any time and are skipped."""
    # SQLite takes the bare columns of an aggregate query from the row that holds the max().
    where, args = (
        ("exchange = ? AND time > 0", (exchange,))
        if asof is None
        else ("exchange = ? AND time > 0 AND time <= ?", (exchange, asof))
    )
    cur = conn.execute(
        "SELECT symbol, max(time), last, mark, index_price, quote_volume_24h, open_interest, "
        f"open_interest_usd FROM tickers WHERE {where} GROUP BY symbol ORDER BY symbol",
        args,
    )
    return {row[0]: Ticker(*row) for row in cur}


def record_equity(
    conn: sqlite3.Connection, account: str, time: int, equity: float, wallet_balance: float | None
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO equity (account, time, equity, wallet_balance) VALUES (?, ?, ?, ?)",
        (account, time, equity, wallet_balance),
    )


def load_equity(conn: sqlite3.Connection, account: str, since: int | None) -> list[tuple[int, float]]:
    sql = "SELECT time, equity FROM equity WHERE account = ?"
    args: list[object] = [account]
    if since is not None:
        sql += " AND time >= ?"
        args.append(since)
    return [(t, e) for t, e in conn.execute(sql + " ORDER BY time", args)]
