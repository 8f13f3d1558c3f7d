"""The cache's retention, applied a bounded step at a time (``domain.retention`` says what is kept).

Each task keeps in ``retention_state`` the time up to which it is done, so a step only looks at what aged
since the last one: at most an hour of snapshots per series and step, whatever the size of the cache.
The store runs a step after it writes tickers or equity (``Store.maintain``), in the writer's thread
(a worker, never the UI's event loop), each in its own short transaction; ``prune_all`` runs steps until
nothing is due, for ``perptui cache prune``.

Reads go by the tables' primary keys (``tickers``: exchange, symbol, time; ``equity``: account, time):
each symbol's aged rows are one index range, so a step costs the rows it removes, not the table's size.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from perptui.domain.retention import DAY_MS, HOUR_MS, Retention, equity_kept, first_of_each_hour, hour_of


@dataclass(frozen=True, slots=True)
class Pruned:
    """Rows removed by one or more steps, per table."""

    tickers: int = 0
    equity: int = 0
    events: int = 0

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(self.tickers + other.tickers, self.equity + other.equity, self.events + other.events)

    @property
    def total(self) -> int:
        return self.tickers + self.equity + self.events


def _through(conn: sqlite3.Connection, task: str) -> int | None:
    row = conn.execute("SELECT through_ms FROM retention_state WHERE task = ?", (task,)).fetchone()
    return None if row is None else row[0]


def _set_through(conn: sqlite3.Connection, task: str, through: int) -> None:
    conn.execute(
        "INSERT INTO retention_state (task, through_ms) VALUES (?, ?) "
        "ON CONFLICT (task) DO UPDATE SET through_ms = max(through_ms, excluded.through_ms)",
        (task, through),
    )


# --- tickers ----------------------------------------------------------------------------------------


def tickers_step(conn: sqlite3.Connection, exchange: str, now: int, policy: Retention) -> int:
    """Drop ``exchange``'s snapshots older than the hourly window, and thin the next hour of those that
    aged past full resolution to the first of each symbol's hour. Both are ranges of the time-first key.
    Returns the rows removed; 0 when nothing is due."""
    thin_task, drop_task = f"tickers:{exchange}", f"tickers-drop:{exchange}"
    thin_until = hour_of(now - policy.tickers_full_ms)
    drop_before = hour_of(now - policy.tickers_hourly_ms)
    removed = 0
    dropped_to = _through(conn, drop_task)
    if dropped_to is None or dropped_to < drop_before:
        removed += conn.execute(
            "DELETE FROM tickers WHERE exchange = ? AND time < ?", (exchange, drop_before)
        ).rowcount
        _set_through(conn, drop_task, drop_before)
    through = _through(conn, thin_task)
    if through is None:
        oldest = conn.execute("SELECT min(time) FROM tickers WHERE exchange = ?", (exchange,)).fetchone()[0]
        through = max(hour_of(oldest), drop_before) if oldest is not None else thin_until
    if through < thin_until:
        end = min(thin_until, through + HOUR_MS)
        times: dict[str, list[int]] = {}
        for t, symbol in conn.execute(
            "SELECT time, symbol FROM tickers WHERE exchange = ? AND time >= ? AND time < ?",
            (exchange, through, end),
        ):
            times.setdefault(symbol, []).append(t)
        gone = []
        for symbol, ts in times.items():
            keep = first_of_each_hour(ts)
            gone += [(exchange, t, symbol) for t in ts if t not in keep]
        conn.executemany("DELETE FROM tickers WHERE exchange = ? AND time = ? AND symbol = ?", gone)
        removed += len(gone)
        through = end
    _set_through(conn, thin_task, through)
    return removed


# --- equity -----------------------------------------------------------------------------------------


def equity_step(conn: sqlite3.Connection, account: str, now: int, policy: Retention) -> int:
    """Thin the next hour of ``account``'s equity snapshots older than ``equity_full_ms`` to the first,
    last, lowest and highest of the hour. Returns the rows removed."""
    task = f"equity:{account}"
    thin_until = hour_of(now - policy.equity_full_ms)
    through = _through(conn, task)
    if through is not None and through >= thin_until:
        return 0
    if through is None:
        oldest = conn.execute("SELECT min(time) FROM equity WHERE account = ?", (account,)).fetchone()[0]
        through = hour_of(oldest) if oldest is not None else thin_until
    removed = 0
    if through < thin_until:
        end = min(thin_until, through + HOUR_MS)
        rows = conn.execute(
            "SELECT time, equity FROM equity WHERE account = ? AND time >= ? AND time < ?",
            (account, through, end),
        ).fetchall()
        keep = equity_kept(rows)
        gone = [(account, t) for t, _ in rows if t not in keep]
        conn.executemany("DELETE FROM equity WHERE account = ? AND time = ?", gone)
        removed = len(gone)
        through = end
    _set_through(conn, task, through)
    return removed


# --- the risk event log -----------------------------------------------------------------------------


def events_step(conn: sqlite3.Connection, now: int, policy: Retention) -> int:
    """Once a day: drop events older than ``events_max_age_ms`` and the oldest beyond
    ``events_max_count``, never the newest of each (account, kind, symbol) nor the last day's (the
    alerts in force and the breaker are read from those); the alert history likewise
    (``alert_history_step``). Returns the rows removed."""
    task = "events"
    day = now - now % DAY_MS
    through = _through(conn, task)
    if through is not None and through >= day:
        return 0
    protected = (
        "id NOT IN (SELECT max(id) FROM risk_events GROUP BY account, kind, coalesce(symbol, '')) "
        "AND time < ?"
    )
    removed = conn.execute(
        f"DELETE FROM risk_events WHERE time < ? AND {protected}",
        (now - policy.events_max_age_ms, now - DAY_MS),
    ).rowcount
    count = conn.execute("SELECT count(*) FROM risk_events").fetchone()[0]
    if count > policy.events_max_count:
        removed += conn.execute(
            f"DELETE FROM risk_events WHERE id IN (SELECT id FROM risk_events WHERE {protected} "
            "ORDER BY id LIMIT ?)",
            (now - DAY_MS, count - policy.events_max_count),
        ).rowcount
    removed += alert_history_step(conn, now, policy)
    _set_through(conn, task, day)
    return removed


def alert_history_step(conn: sqlite3.Connection, now: int, policy: Retention) -> int:
    """Drop notifications older than ``events_max_age_ms`` and the oldest beyond ``events_max_count``,
    never the last day's. Run with the event log's daily step; returns the rows removed."""
    recent = now - DAY_MS
    removed = conn.execute(
        "DELETE FROM alert_history WHERE time < ? AND time < ?", (now - policy.events_max_age_ms, recent)
    ).rowcount
    count = conn.execute("SELECT count(*) FROM alert_history").fetchone()[0]
    if count > policy.events_max_count:
        removed += conn.execute(
            "DELETE FROM alert_history WHERE id IN (SELECT id FROM alert_history WHERE time < ? "
            "ORDER BY id LIMIT ?)",
            (recent, count - policy.events_max_count),
        ).rowcount
    return removed


# --- all of it --------------------------------------------------------------------------------------


def ready(conn: sqlite3.Connection) -> bool:
    """Whether the schema holds the retention's tables (version 7 on)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'retention_state'").fetchone() is not None


def tasks_due(
    conn: sqlite3.Connection,
    now: int,
    policy: Retention,
    exchange: str | None,
    account: str | None,
    seen: dict[str, int],
) -> tuple[bool, bool, bool]:
    """Whether ``exchange``'s tickers, ``account``'s equity and the event log have a step due. ``seen``
    remembers the progress read before (it only moves forward, so a remembered value is never ahead of
    the table's): when it already shows nothing due, nothing is read at all; else one read of
    ``retention_state`` refreshes it. Outside any write transaction (the common answer is no)."""
    names = [f"tickers:{exchange}", f"tickers-drop:{exchange}", f"equity:{account}", "events"]
    cutoffs = [
        hour_of(now - policy.tickers_full_ms) if exchange is not None else None,
        hour_of(now - policy.tickers_hourly_ms) if exchange is not None else None,
        hour_of(now - policy.equity_full_ms) if account is not None else None,
        now - now % DAY_MS,
    ]

    def due() -> list[bool]:
        return [
            cut is not None and seen.get(name, -1) < cut for name, cut in zip(names, cutoffs, strict=True)
        ]

    if any(due()):
        marks = ", ".join("?" * len(names))
        seen.update(
            conn.execute(f"SELECT task, through_ms FROM retention_state WHERE task IN ({marks})", names)
        )
    ticker_thin, ticker_drop, equity, events = due()
    return ticker_thin or ticker_drop, equity, events


def exchanges(conn: sqlite3.Connection) -> list[str]:
    return [e for (e,) in conn.execute("SELECT DISTINCT exchange FROM ticker_latest")]


def accounts(conn: sqlite3.Connection) -> list[str]:
    return [a for (a,) in conn.execute("SELECT DISTINCT account FROM equity")]


def step(conn: sqlite3.Connection, now: int, policy: Retention) -> Pruned:
    """One step of every task (each exchange's tickers, each account's equity, the events)."""
    tickers = sum(tickers_step(conn, exchange, now, policy) for exchange in exchanges(conn))
    equity = sum(equity_step(conn, account, now, policy) for account in accounts(conn))
    return Pruned(tickers, equity, events_step(conn, now, policy))


def due(conn: sqlite3.Connection, now: int, policy: Retention) -> bool:
    """Whether a step would do anything now."""
    state = dict(conn.execute("SELECT task, through_ms FROM retention_state").fetchall())
    thin_until = hour_of(now - policy.tickers_full_ms)
    drop_before = hour_of(now - policy.tickers_hourly_ms)
    equity_until = hour_of(now - policy.equity_full_ms)
    return (
        any(
            state.get(f"tickers:{e}", -1) < thin_until or state.get(f"tickers-drop:{e}", -1) < drop_before
            for e in exchanges(conn)
        )
        or any(state.get(f"equity:{a}", -1) < equity_until for a in accounts(conn))
        or state.get("events", -1) < now - now % DAY_MS
    )
