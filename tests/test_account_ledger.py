"""The ledger in the store: schema version 2, migration from a version-1 file, whole transactions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from perptui.domain.errors import UsageError
from perptui.services.accounts import PaperAccount
from perptui.services.clock import FrozenClock
from perptui.services.store import Store, latest_version
from perptui.services.store import migrations as migrations_module
from tests.conftest import FROZEN_NOW_MS

LEDGER_TABLES = {"accounts", "cash_flows", "account_settings"}


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def rows(store: Store, table: str) -> int:
    return store._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_schema_version_2_has_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with Store.open(path) as store:
        assert store.schema_version == latest_version() >= 2
    assert tables(path) >= LEDGER_TABLES


def test_migration_from_a_version_1_file_keeps_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.db"
    monkeypatch.setattr(migrations_module, "MIGRATIONS", [migrations_module.V1])
    with Store.open(path) as store:
        assert store.schema_version == 1
        store.record_equity("paper", 1_000, 4_900.0, 4_900.0)
    assert not LEDGER_TABLES & tables(path)
    monkeypatch.undo()

    with Store.open(path) as store:
        assert store.schema_version == latest_version()
        assert store.load_equity("paper") == [(1_000, 4_900.0)]
        account = PaperAccount(
            store,
            FrozenClock(FROZEN_NOW_MS),
            starting_capital=5_000,
            risk_pct=0.01,
            neutral_pct=0.7,
            directional_pct=0.3,
        )
        account.deposit(100)
        assert account.summary().equity == 5_100.0
    assert tables(path) >= LEDGER_TABLES


def test_create_account_is_idempotent(tmp_path: Path) -> None:
    with Store.open(tmp_path / "cache.db") as store:
        assert store.create_account("paper", "USDT", 1_000, 5_000.0) is True
        assert store.create_account("paper", "USDT", 2_000, 9_999.0) is False
        info = store.load_account("paper")
        assert info is not None and (info.created_at, info.opening_balance) == (1_000, 5_000.0)
        assert [f.kind for f in store.load_cash_flows("paper")] == ["opening"]
        assert store.load_equity("paper") == [(1_000, 5_000.0)]
        assert store.load_account("nope") is None and store.cash_balance("nope") is None


def test_cash_flows_are_exact_and_ordered(tmp_path: Path) -> None:
    with Store.open(tmp_path / "cache.db") as store:
        store.create_account("paper", "USDT", 0, 0.0)
        for _ in range(10):
            store.add_cash_flow("paper", 1, "deposit", 0.1)
        assert store.cash_balance("paper") == 1.0  # integer 1e-8 units: no float drift
        store.add_cash_flow("paper", 2, "withdrawal", 1.0)
        assert store.cash_balance("paper") == 0.0
        flows = store.load_cash_flows("paper")
        assert [f.seq for f in flows] == list(range(1, 13))
        assert flows[-1].kind == "withdrawal" and flows[-1].amount == 1.0 and flows[-1].signed == -1.0
        assert store.load_cash_flows("paper", since=2) == flows[-1:]
        with pytest.raises(UsageError, match=r"only 0\.00 is free"):
            store.add_cash_flow("paper", 3, "withdrawal", 0.01)
        with pytest.raises(UsageError, match="no account 'ghost'"):
            store.add_cash_flow("ghost", 3, "deposit", 1)


def test_the_database_refuses_a_wrong_sign(tmp_path: Path) -> None:
    with Store.open(tmp_path / "cache.db") as store:
        store.create_account("paper", "USDT", 0, 10.0)
        with pytest.raises(sqlite3.IntegrityError):
            store._db.execute(
                "INSERT INTO cash_flows (account, seq, time, kind, amount_e8, balance_e8) "
                "VALUES ('paper', 2, 1, 'withdrawal', 5, 15)"
            )


def test_a_failed_write_leaves_no_partial_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deposit is a cash flow plus a snapshot: a failure between the two leaves neither."""
    path = tmp_path / "cache.db"
    clock = FrozenClock(FROZEN_NOW_MS)
    with Store.open(path) as store:
        account = PaperAccount(
            store, clock, starting_capital=1_000, risk_pct=0.01, neutral_pct=0.7, directional_pct=0.3
        )
        account.open()
        before = (rows(store, "cash_flows"), rows(store, "equity"))
        clock.advance(60_000)

        def boom(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt  # as a kill or Ctrl-C would, after the flow was written

        monkeypatch.setattr(store, "record_equity", boom)
        with pytest.raises(KeyboardInterrupt):
            account.deposit(500)
        monkeypatch.undo()
        assert (rows(store, "cash_flows"), rows(store, "equity")) == before
        assert account.summary().equity == 1_000.0
    with Store.open(path) as store:
        assert [f.kind for f in store.load_cash_flows("paper")] == ["opening"]


def test_account_settings_round_trip(tmp_path: Path) -> None:
    with Store.open(tmp_path / "cache.db") as store:
        store.set_account_setting("paper", "risk_pct", 0.02, 1)
        store.set_account_setting("paper", "risk_pct", 0.015, 2)
        store.set_account_setting("paper", "split", [0.6, 0.4], 2)
        store._db.execute("INSERT INTO account_settings VALUES ('paper', 'junk', '{not json', 3)")
        assert store.load_account_settings("paper") == {"risk_pct": 0.015, "split": [0.6, 0.4]}
        assert store.load_account_settings("other") == {}


def test_a_read_block_sees_one_state_while_another_connection_writes(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with Store.open(path) as reader, Store.open(path) as writer:
        writer.create_account("paper", "USDT", 0, 100.0)
        with reader.read():
            before = reader.cash_balance("paper")
            writer.add_cash_flow("paper", 1, "deposit", 50)  # WAL: the writer is not blocked
            assert reader.cash_balance("paper") == before == 100.0
            assert len(reader.load_cash_flows("paper")) == 1
        assert reader.cash_balance("paper") == 150.0
        with reader.transaction(), reader.read():  # joins the open transaction
            reader.add_cash_flow("paper", 2, "deposit", 1)
        assert reader.cash_balance("paper") == 151.0
