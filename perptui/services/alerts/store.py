"""The alerts' tables (schema version 8): the user's rules, each condition's state, the history.

``alert_rules`` holds the rules added with ``perptui alerts add`` and the mutes of config rules, as the
JSON of their keys (``domain.alerts.rules.rule_from_fields`` reads them back); ``alert_state`` the state
of each condition key between polls and restarts; ``alert_history`` every notification, held or not,
with what each target answered. Functions take a connection inside the caller's transaction
(``Store.writing()`` / ``Store.reading()``), like ``services.store.risk_events``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perptui.config.settings import AlertsSettings
from perptui.domain.alerts.rules import AlertRule
from perptui.domain.alerts.state import Alert, KeyState

# --- rules ------------------------------------------------------------------------------------------


def load_rules(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The stored rule entries (user rules and mutes of config rules), by id."""
    return [json.loads(text) for (text,) in conn.execute("SELECT rule FROM alert_rules ORDER BY id")]


def save_rule(conn: sqlite3.Connection, fields: Mapping[str, object], now: int) -> None:
    """Store (or replace) the entry of ``fields["id"]``: the keys as given, so keys left out keep
    following the ``[alerts]`` defaults."""
    conn.execute(
        "INSERT INTO alert_rules (id, rule, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, updated_at = excluded.updated_at",
        (str(fields["id"]), json.dumps(dict(fields), sort_keys=True), now),
    )


def delete_rule(conn: sqlite3.Connection, rule_id: str) -> bool:
    """Remove a stored entry and its conditions' state; whether there was one."""
    gone = conn.execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,)).rowcount > 0
    forget_states(conn, rule_id)
    return gone


def rules_in_force(conn: sqlite3.Connection, settings: AlertsSettings) -> list[AlertRule]:
    """The defaults, the config's rules and the stored ones, merged (``domain.alerts.rules.merge_rules``)."""
    return settings.effective_rules(load_rules(conn))


# --- state ------------------------------------------------------------------------------------------


def load_states(conn: sqlite3.Connection) -> dict[str, KeyState]:
    return {
        key: KeyState(bool(active), since, last_sent)
        for key, active, since, last_sent in conn.execute(
            "SELECT key, active, since, last_sent FROM alert_state"
        )
    }


def save_states(
    conn: sqlite3.Connection, states: Mapping[str, KeyState], before: Mapping[str, KeyState] | None = None
) -> int:
    """Write the states that differ from ``before`` (all of them when it is None); returns how many."""
    rows = [
        (key, int(s.active), s.since, s.last_sent)
        for key, s in states.items()
        if before is None or before.get(key) != s
    ]
    conn.executemany(
        "INSERT INTO alert_state (key, active, since, last_sent) VALUES (?, ?, ?, ?) ON CONFLICT (key) "
        "DO UPDATE SET active = excluded.active, since = excluded.since, last_sent = excluded.last_sent",
        rows,
    )
    return len(rows)


def forget_states(conn: sqlite3.Connection, rule_id: str) -> int:
    """Drop the state of every key of ``rule_id`` (a removed rule)."""
    prefix = f"{rule_id}:"
    return conn.execute("DELETE FROM alert_state WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)).rowcount


# --- history ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded notification. ``delivered``: what each target answered (``[{"target", "ok",
    "detail"}]``, targets masked), None while not sent (or held)."""

    id: int
    time: int
    key: str
    rule_id: str
    kind: str
    severity: str
    symbol: str | None
    title: str
    body: str
    held: bool
    delivered: list[dict[str, Any]] | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "time": self.time,
            "key": self.key,
            "rule": self.rule_id,
            "kind": self.kind,
            "severity": self.severity,
            "symbol": self.symbol,
            "title": self.title,
            "body": self.body,
            "held": self.held,
            "delivered": self.delivered,
        }


def record(conn: sqlite3.Connection, alert: Alert) -> int:
    """Append one alert to the history; returns its id (for ``set_delivered``)."""
    n = alert.notification
    cur = conn.execute(
        "INSERT INTO alert_history (time, key, rule_id, kind, severity, symbol, title, body, held) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (n.time, n.key, n.rule_id, n.kind, n.severity, n.symbol, n.title, n.body, int(alert.held)),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def record_all(conn: sqlite3.Connection, alerts: Iterable[Alert]) -> list[int]:
    return [record(conn, alert) for alert in alerts]


def set_delivered(
    conn: sqlite3.Connection, entry_id: int, deliveries: Sequence[Mapping[str, object]]
) -> None:
    """What each target answered for entry ``entry_id`` (targets already masked by the notifier)."""
    conn.execute(
        "UPDATE alert_history SET delivered = ? WHERE id = ?",
        (json.dumps([dict(d) for d in deliveries], default=str), entry_id),
    )


def load_history(conn: sqlite3.Connection, limit: int | None = None) -> list[HistoryEntry]:
    """The newest ``limit`` entries (all when None), oldest first."""
    sql = (
        "SELECT id, time, key, rule_id, kind, severity, symbol, title, body, held, delivered "
        "FROM alert_history ORDER BY id DESC"
    )
    rows = conn.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ()).fetchall()
    return [
        HistoryEntry(
            id=i,
            time=t,
            key=key,
            rule_id=rule_id,
            kind=kind,
            severity=severity,
            symbol=symbol,
            title=title,
            body=body,
            held=bool(held),
            delivered=None if sent is None else json.loads(sent),
        )
        for i, t, key, rule_id, kind, severity, symbol, title, body, held, sent in reversed(rows)
    ]
