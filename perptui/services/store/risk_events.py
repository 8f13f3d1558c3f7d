"""The risk event log: alerts, circuit-breaker trips and resets, liquidations (table ``risk_events``).

Written by the paper engine (liquidations, breaker) and the risk monitor (alerts); the circuit breaker's
state is a pure function of its ``breaker_trip``/``breaker_reset`` rows (``domain.risk_breaker``).
Functions take a connection inside the caller's transaction (``Store.writing()``/``Store.reading()``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

#: Kinds the breaker reads. Alerts use the limit kinds of ``domain.limits`` (daily_loss, drawdown ...).
BREAKER_TRIP = "breaker_trip"
BREAKER_RESET = "breaker_reset"
LIQUIDATION = "liquidation"
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True, slots=True)
class RiskEvent:
    id: int
    account: str
    time: int
    kind: str
    symbol: str | None
    severity: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "time": self.time,
            "kind": self.kind,
            "symbol": self.symbol,
            "severity": self.severity,
            "message": self.message,
        }


def log_event(
    conn: sqlite3.Connection,
    account: str,
    time: int,
    kind: str,
    severity: str,
    message: str,
    symbol: str | None = None,
) -> int:
    """Append one event; returns its id."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    cur = conn.execute(
        "INSERT INTO risk_events (account, time, kind, symbol, severity, message) VALUES (?, ?, ?, ?, ?, ?)",
        (account, time, kind, symbol, severity, " ".join(message.split())),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def load_events(
    conn: sqlite3.Connection,
    account: str,
    *,
    since: int | None = None,
    until: int | None = None,
    kinds: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[RiskEvent]:
    """Events in the order logged (``since`` inclusive, ``until`` exclusive; the newest ``limit``)."""
    sql = "SELECT id, account, time, kind, symbol, severity, message FROM risk_events WHERE account = ?"
    args: list[object] = [account]
    if since is not None:
        sql += " AND time >= ?"
        args.append(since)
    if until is not None:
        sql += " AND time < ?"
        args.append(until)
    if kinds:
        sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
        args.extend(kinds)
    sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
    return [RiskEvent(*row) for row in conn.execute(sql, args)][::-1]
