"""Snapshots: tickers, account equity, and the fetch log behind ``cache_age_ms``."""

from __future__ import annotations

import functools
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


_TICKER_COLUMNS = "last, mark, index_price, quote_volume_24h, open_interest, open_interest_usd"
_ROW_WIDTH = 8  # time, symbol and the six figures; the exchange is bound once per statement
_ROWS_PER_STATEMENT = 900 // _ROW_WIDTH  # parameters stay under 999, the limit of older SQLite builds
_NEWER = "excluded.time >= ticker_latest.time"
_LATEST_UPDATE = ", ".join(
    [f"{c} = CASE WHEN {_NEWER} THEN excluded.{c} ELSE ticker_latest.{c} END"
     for c in ("time", *_TICKER_COLUMNS.split(", "))]
    + ["first_time = min(ticker_latest.first_time, excluded.time)"]
)  # fmt: skip
#: How far back an as-of read first looks for a symbol's snapshot; each further look reaches 4x as far.
_FIRST_LOOK_MS = 2 * 3_600_000


@functools.lru_cache(maxsize=8)
def _ticker_statements(rows: int) -> tuple[str, str]:
    """(into ``tickers``, into ``ticker_latest``) for ``rows`` rows bound at once: ``INSERT .. SELECT ?1,
    column1, .. FROM (VALUES ..)`` binds a few hundred rows per statement, which halves the Python-side
    cost per row against one row per ``executemany`` step (see ``series._statement``)."""
    values = ", ".join(["(" + ", ".join("?" * _ROW_WIDTH) + ")"] * rows)
    picks = ", ".join(f"column{i + 1}" for i in range(_ROW_WIDTH))
    columns = f"exchange, time, symbol, {_TICKER_COLUMNS}"
    into_tickers = f"INSERT OR REPLACE INTO tickers ({columns}) SELECT ?1, {picks} FROM (VALUES {values})"
    into_latest = (
        f"INSERT INTO ticker_latest ({columns}, first_time) SELECT ?1, {picks}, column1 "
        f"FROM (VALUES {values}) WHERE true ON CONFLICT (exchange, symbol) DO UPDATE SET {_LATEST_UPDATE}"
    )
    return into_tickers, into_latest


def insert_tickers(conn: sqlite3.Connection, exchange: str, tickers: Sequence[Ticker]) -> int:
    """Snapshots keyed by (exchange, timestamp, symbol); the same snapshot twice is one row. Tickers
    without a time are left out (``timed``). ``ticker_latest`` follows: a snapshot newer than the one it
    holds for the symbol replaces it. Returns the snapshots written."""
    flat: list[object] = []
    for t in timed(tickers):
        flat += (t.timestamp, t.symbol, t.last, t.mark, t.index, t.quote_volume_24h, t.open_interest,
                 t.open_interest_usd)  # fmt: skip
    written = 0
    step = _ROWS_PER_STATEMENT * _ROW_WIDTH
    for start in range(0, len(flat), step):
        chunk = flat[start : start + step]
        into_tickers, into_latest = _ticker_statements(len(chunk) // _ROW_WIDTH)
        before = conn.total_changes
        conn.execute(into_tickers, [exchange, *chunk])
        written += conn.total_changes - before
        conn.execute(into_latest, [exchange, *chunk])
    return written


def latest_tickers(conn: sqlite3.Connection, exchange: str, asof: int | None = None) -> dict[str, Ticker]:
    """The newest snapshot per symbol, at or before ``asof`` when given, read in time proportional to
    the symbols, not the snapshots: ``ticker_latest`` holds each symbol's newest; only symbols with a
    newer snapshot than ``asof`` are looked up in ``tickers``, in the time range just before ``asof``
    (then one 4x as long, and so on, never before the symbol's first snapshot)."""
    rows = conn.execute(
        f"SELECT symbol, time, {_TICKER_COLUMNS}, first_time FROM ticker_latest WHERE exchange = ? "
        "ORDER BY symbol",
        (exchange,),
    ).fetchall()
    found = {r[0]: Ticker(*r[:8]) for r in rows if asof is None or r[1] <= asof}
    if asof is None:
        return found
    wanted = {r[0]: r[8] for r in rows if r[1] > asof and r[8] <= asof}  # symbol -> first snapshot
    high, span = asof, _FIRST_LOOK_MS
    while wanted:
        low = asof - span
        for row in conn.execute(
            f"SELECT symbol, max(time), {_TICKER_COLUMNS} FROM tickers WHERE exchange = ? AND time <= ? "
            "AND time > ? GROUP BY symbol",
            (exchange, high, low),
        ):
            if row[0] in wanted:
                found[row[0]] = Ticker(*row)
                del wanted[row[0]]
        wanted = {s: first for s, first in wanted.items() if first <= low}
        high, span = low, span * 4
    return dict(sorted(found.items()))


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
