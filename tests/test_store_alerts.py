"""The alerts' tables (schema version 8): user rules and mutes, each condition's state across a restart,
the history with what was held and delivered, and its retention by the ``[cache]`` events settings."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from perptui.config.settings import AlertsSettings
from perptui.domain.alerts.notification import Notification
from perptui.domain.alerts.observe import Observation, PositionObs
from perptui.domain.alerts.rules import AlertRule
from perptui.domain.alerts.state import Alert, KeyState, step
from perptui.domain.retention import DAY_MS, HOUR_MS, Retention
from perptui.services.alerts import store as alerts
from perptui.services.store import Store
from perptui.services.store.migrations import migrate

T0 = 1_748_736_000_000  # 2025-06-01T00:00Z
BTC = "BTC/USDT:USDT"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def alert(time: int, kind: str = "fired", held: bool = False) -> Alert:
    n = Notification(f"liq:{BTC}", "liq", kind, "warning", f"{BTC} 4.20% from liquidation", "body", time, BTC)  # type: ignore[arg-type]
    return Alert(n, held)


def test_user_rules_and_mutes_round_trip_into_the_rules_in_force(store: Store) -> None:
    with store.writing() as conn:
        alerts.save_rule(
            conn, {"id": "btc-60k", "kind": "price_below", "threshold": 60000.0, "symbol": "BTC"}, T0
        )
        alerts.save_rule(conn, {"id": "no-stop", "muted": True}, T0)
    with store.reading() as conn:
        rules = {r.id: r for r in alerts.rules_in_force(conn, AlertsSettings(cooldown_s=60))}
    assert rules["btc-60k"].source == "user" and rules["btc-60k"].cooldown_s == 60  # follows [alerts]
    assert rules["no-stop"].muted and rules["no-stop"].source == "config"
    with store.writing() as conn:
        alerts.save_rule(conn, {"id": "no-stop", "muted": False}, T0 + 1)  # replaced, not added
        assert alerts.delete_rule(conn, "btc-60k")
        assert not alerts.delete_rule(conn, "btc-60k")
        assert alerts.load_rules(conn) == [{"id": "no-stop", "muted": False}]


def test_states_survive_a_restart_so_nothing_is_notified_twice(tmp_path: Path) -> None:
    rule = AlertRule("liq", "liq_distance_pct", threshold=5.0)
    near = Observation(T0, positions=(PositionObs(BTC, "long", liq_distance_pct=3.0),))
    path = tmp_path / "cache.db"
    with Store.open(path) as store:
        states, fired = step([rule], near, {})
        with store.writing() as conn:
            assert alerts.save_states(conn, states) == 1
            alerts.record_all(conn, fired)
    with Store.open(path) as store:  # a restart
        with store.reading() as conn:
            loaded = alerts.load_states(conn)
        assert loaded == states
        again, fired = step([rule], replace(near, now=T0 + 60_000), loaded)
        assert fired == ()
        with store.writing() as conn:
            assert alerts.save_states(conn, again, before=loaded) == 0  # nothing changed, nothing written


def test_removing_a_rule_forgets_its_keys_only(store: Store) -> None:
    with store.writing() as conn:
        alerts.save_rule(conn, {"id": "a_b", "kind": "no_stop"}, T0)
        alerts.save_states(
            conn,
            {f"a_b:{BTC}": KeyState(True, T0), "axb:*": KeyState(True, T0), "a_b2:*": KeyState(True, T0)},
        )
        alerts.delete_rule(conn, "a_b")
        assert set(alerts.load_states(conn)) == {"axb:*", "a_b2:*"}  # '_' is no wildcard here


def test_history_records_held_and_delivered(store: Store) -> None:
    with store.writing() as conn:
        first = alerts.record(conn, alert(T0))
        alerts.record(conn, alert(T0 + 1, "cleared", held=True))
        alerts.set_delivered(conn, first, [{"target": "ntfy://***", "ok": True, "detail": "200"}])
    with store.reading() as conn:
        entries = alerts.load_history(conn)
        newest = alerts.load_history(conn, limit=1)
    assert [(e.kind, e.held) for e in entries] == [("fired", False), ("cleared", True)]
    assert entries[0].delivered == [{"target": "ntfy://***", "ok": True, "detail": "200"}]
    assert entries[1].delivered is None
    assert newest == entries[1:]
    assert entries[0].as_dict()["rule"] == "liq"


def test_the_history_is_capped_by_age_and_count_but_keeps_the_last_day(store: Store) -> None:
    store.retention = Retention(events_max_age_ms=30 * DAY_MS, events_max_count=100)
    now = T0 + 60 * DAY_MS
    with store.writing() as conn:
        for k in range(40 * 24):  # one an hour for the last 40 days
            alerts.record(conn, alert(now - k * HOUR_MS))
    pruned = store.prune_all(now)
    with store.reading() as conn:
        times = [e.time for e in alerts.load_history(conn)]
    assert len(times) == 100 and pruned.events == 40 * 24 - 100
    assert max(times) == now  # the newest kept
    assert all(t >= now - 30 * DAY_MS for t in times)
    # a burst inside the last day is kept whole, whatever the count
    with store.writing() as conn:
        for k in range(150):
            alerts.record(conn, alert(now + DAY_MS + k))
    store.prune_all(now + DAY_MS + 200)
    with store.reading() as conn:
        assert len(alerts.load_history(conn)) == 150


def test_a_version_7_cache_gains_the_alert_tables(tmp_path: Path) -> None:
    path = tmp_path / "v7.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        assert migrate(con, path, upto=7) == 7
    with Store.open(path) as store:
        assert store.schema_version >= 8
        with store.reading() as conn:
            assert alerts.load_rules(conn) == [] and alerts.load_history(conn) == []
