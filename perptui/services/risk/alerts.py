"""The alert log: a breach is logged (``risk_events``) and raised once, not on every refresh.

The log itself is the memory, so the app and ``perptui risk`` (another process) agree: for each limit
and position (kind, symbol) the latest row says whether an alert is in force (severity ``warning`` or
``critical``) or cleared (``info``, "back within the limit"). A check then:

- logs and RETURNS an alert that is new: nothing in force for its key, or a worse severity than the
  one in force (a warning that becomes a breach is raised again);
- logs without returning one that eased (critical -> warning), so a later breach is raised again;
- logs ``info`` for a key in force whose limit is now met, or whose position is gone or limit off;
  a check whose value is unknown (no mark) leaves its key as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, get_args

from perptui.domain.limits import Alert, LimitKind, LimitReport
from perptui.services.store import risk_events

if TYPE_CHECKING:
    from perptui.services.store import Store

LIMIT_KINDS: tuple[str, ...] = get_args(LimitKind)
_RANK = {"info": 0, "warning": 1, "critical": 2}
CLEARED = "info"

Key = tuple[str, str | None]


def in_force(conn: sqlite3.Connection, account: str) -> dict[Key, str]:
    """The latest severity logged for each (limit kind, symbol) of the account."""
    marks = ", ".join("?" for _ in LIMIT_KINDS)
    rows = conn.execute(
        f"""SELECT kind, symbol, severity FROM risk_events WHERE id IN (
                SELECT MAX(id) FROM risk_events WHERE account = ? AND kind IN ({marks})
                GROUP BY kind, symbol)""",
        (account, *LIMIT_KINDS),
    )
    return {(kind, symbol): severity for kind, symbol, severity in rows}


def _cleared_message(kind: str, symbol: str | None) -> str:
    subject = f"{symbol} " if symbol else ""
    if kind == "no_stop":
        return f"{subject}no longer open without a stop-loss"
    return f"{subject}{kind.replace('_', ' ')} back within the limit"


def log_alerts(store: Store, account: str, report: LimitReport, now: int) -> tuple[Alert, ...]:
    """Log what changed since the last check (one transaction) and return the alerts raised anew."""
    current = {(a.kind, a.symbol): a for a in report.alerts}
    unknown = {(c.kind, c.symbol) for c in report.checks if c.value is None}
    new: list[Alert] = []
    with store.writing() as conn:
        logged = in_force(conn, account)
        for key, alert in current.items():
            before = logged.get(key, CLEARED)
            if before == alert.severity:
                continue
            risk_events.log_event(conn, account, now, alert.kind, alert.severity, alert.message, alert.symbol)
            if _RANK[alert.severity] > _RANK.get(before, 0):
                new.append(alert)
        for (kind, symbol), severity in logged.items():
            if severity != CLEARED and (kind, symbol) not in current and (kind, symbol) not in unknown:
                risk_events.log_event(
                    conn, account, now, kind, CLEARED, _cleared_message(kind, symbol), symbol
                )
    return tuple(new)


def alert_log(store: Store, account: str, limit: int = 100, kinds: Sequence[str] | None = None) -> list:
    """The newest ``limit`` rows of the account's risk event log (alerts, clears, trips, liquidations)."""
    with store.reading() as conn:
        return risk_events.load_events(conn, account, kinds=kinds, limit=limit)
