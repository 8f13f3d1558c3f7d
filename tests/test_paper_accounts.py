"""One paper account per exchange: each exchange's paper trading has its own ledger account, and the old
shared ``paper`` account is split by the exchange its data was recorded on (schema version 4)."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from perptui.config.loader import load_settings
from perptui.services.accounts import PaperAccount, paper_account, paper_account_name
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest, PaperConfig, PaperEngine, open_engine
from perptui.services.store import Store, latest_version, paper_book
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, ETH, NO_BREAKER, market

MINUTE = 60_000


def listed(symbol: str, exchange: str):
    return dataclasses.replace(market(symbol), exchange=exchange)


def account_on(store: Store, clock: FrozenClock, exchange: str, name: str | None = None) -> PaperAccount:
    return PaperAccount(
        store, clock, starting_capital=10_000.0, risk_pct=0.01, neutral_pct=0.7, directional_pct=0.3,
        exchange=exchange, name=name,
    )  # fmt: skip


def engine_on(account: PaperAccount) -> PaperEngine:
    config = PaperConfig(slippage=0.0, limits=NO_BREAKER)
    markets = [listed(BTC, account.exchange), listed(ETH, account.exchange)]
    return PaperEngine(account, config=config, markets=markets)


def test_each_exchange_has_its_own_paper_account() -> None:
    assert (paper_account_name("demo"), paper_account_name("binanceusdm")) == ("paper", "paper:binanceusdm")
    with Store.open(":memory:") as store:
        clock = FrozenClock(FROZEN_NOW_MS)
        demo = paper_account(load_settings({}, {}), store, clock)
        binance = paper_account(load_settings({"exchange": "binanceusdm"}, {}), store, clock)
        assert (demo.name, demo.exchange, demo.title) == ("paper", "demo", "paper · demo")
        assert (binance.name, binance.title) == ("paper:binanceusdm", "paper · binanceusdm")
        engine_on(demo).place_order(OrderRequest(BTC, "long", 0.1, leverage=5, mark=40_000.0))
        binance.deposit(250)
        assert len(demo.positions()) == 1 and binance.positions() == []  # the account pane's and the risk's
        assert binance.summary().equity == 5_250.0 and binance.summary().exchange == "binanceusdm"
        assert demo.summary().wallet_balance == pytest.approx(5_000 - 2.0)  # paper.starting_capital
        with pytest.raises(ValueError, match="trades demo, not binanceusdm"):
            PaperEngine(demo, exchange="binanceusdm")
        engine = open_engine(load_settings({"exchange": "binanceusdm"}, {}), store, clock)
        assert engine.account.name == "paper:binanceusdm" and engine.positions() == []


# --- the migration from the shared account ---------------------------------------------------------


def as_version_3(conn: sqlite3.Connection) -> None:
    """The book's tables as version 3 laid them out: the tables of versions 9, 8, 7 and 6 (the live
    order log; alerts; retention; spot, pairs) dropped and version 5's columns undone (one
    ``take_profit`` column, no trail). Version 7's time-first ``tickers`` stays: its migration copies the
    snapshots by column name from either layout."""
    for table in ("order_log", "alert_rules", "alert_state", "alert_history"):
        conn.execute(f"DROP TABLE {table}")
    for table in ("ticker_latest", "retention_state"):
        conn.execute(f"DROP TABLE {table}")
    for table in ("paper_spot", "paper_spot_orders", "paper_spot_fills", "paper_pairs"):
        conn.execute(f"DROP TABLE {table}")
    for table in ("paper_positions", "paper_orders"):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN take_profit REAL")
        conn.execute(f"ALTER TABLE {table} DROP COLUMN take_profits")
    conn.execute("ALTER TABLE paper_positions DROP COLUMN trail")
    conn.execute("PRAGMA user_version = 3")


def legacy_store(path: Path, trades: dict[str, list[OrderRequest]]) -> None:
    """A database as perptui wrote it before version 4: one ``paper`` account trading on each exchange
    of ``trades`` (in turn, a minute apart), with a deposit, the plan's split set to 45/55 and a funding
    settlement on each."""
    clock = FrozenClock(FROZEN_NOW_MS)
    with Store.open(path) as store:
        for exchange, orders in trades.items():
            engine = engine_on(account_on(store, clock, exchange, name="paper"))
            engine.account.deposit(100)
            engine.account.set_split(0.45, 0.55)
            for req in orders:
                clock.advance(MINUTE)
                engine.place_order(req)
            clock.advance(MINUTE)
            engine.settle_funding(BTC, clock.now_ms(), 0.0001, 41_000.0)
    conn = sqlite3.connect(path)
    as_version_3(conn)
    conn.commit()
    conn.close()


def ledger_of(conn: sqlite3.Connection, account: str) -> dict[str, object]:
    """The account's cash chain checked (numbered, running balances) and its figures."""
    flows = conn.execute(
        "SELECT seq, kind, amount_e8, balance_e8 FROM cash_flows WHERE account = ? ORDER BY seq", (account,)
    ).fetchall()
    balance, by_kind = 0, defaultdict(int)
    for i, (seq, kind, amount, after) in enumerate(flows, start=1):
        assert seq == i and after == balance + amount
        balance = after
        by_kind[kind] += amount

    def one(sql: str) -> int:
        return conn.execute(sql, (account,)).fetchone()[0] or 0

    assert by_kind["realized_pnl"] == one("SELECT sum(realized_e8) FROM paper_fills WHERE account = ?")
    assert by_kind["fee"] == -one("SELECT sum(fee_e8) FROM paper_fills WHERE account = ?")
    assert by_kind["funding"] == one("SELECT sum(amount_e8) FROM paper_funding WHERE account = ?")
    exchanges = {
        r[0]
        for table in ("paper_positions", "paper_orders", "paper_fills", "paper_funding")
        for r in conn.execute(f"SELECT DISTINCT exchange FROM {table} WHERE account = ?", (account,))
    }
    return {"balance": balance, "kinds": dict(by_kind), "exchanges": exchanges, "flows": len(flows)}


def test_an_account_that_traded_on_one_exchange_moves_whole_to_it(tmp_path: Path) -> None:
    db = tmp_path / "cache.db"
    legacy_store(db, {"binanceusdm": [OrderRequest(BTC, "long", 0.1, leverage=5, mark=40_000.0)]})
    with Store.open(db) as store:
        assert store.schema_version == latest_version()
        assert store.load_account("paper") is None
        clock = FrozenClock(FROZEN_NOW_MS + 10 * MINUTE)
        binance = paper_account(load_settings({"exchange": "binanceusdm"}, {}), store, clock)
        (position,) = binance.positions()
        assert position.symbol == BTC and position.exchange == "binanceusdm"
        assert [f.kind for f in binance.cash_flows()] == ["opening", "deposit", "fee", "funding"]
        assert binance.equity_history()[0] == (FROZEN_NOW_MS, 10_100.0)  # its history came along
        demo = paper_account(load_settings({}, {}), store, clock)
        assert demo.positions() == [] and [f.kind for f in demo.cash_flows()] == ["opening"]  # a new one
    with sqlite3.connect(db) as conn:
        assert ledger_of(conn, "paper:binanceusdm")["exchanges"] == {"binanceusdm"}


def test_an_account_that_traded_on_several_exchanges_is_split_by_exchange(tmp_path: Path) -> None:
    db = tmp_path / "cache.db"
    legacy_store(
        db,
        {
            "demo": [
                OrderRequest(BTC, "long", 0.2, leverage=5, mark=40_000.0),
                OrderRequest(BTC, "short", 0.1, mark=42_000.0),  # realises 200
            ],
            "binanceusdm": [
                OrderRequest(BTC, "short", 0.1, leverage=5, mark=40_000.0),
                OrderRequest(ETH, "long", 1, leverage=2, price=1_900.0, mark=2_000.0),  # a resting limit
            ],
        },
    )
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT sum(amount_e8) FROM cash_flows").fetchone()[0]
    with Store.open(db) as store:
        clock = FrozenClock(FROZEN_NOW_MS + 10 * MINUTE)
        demo = paper_account(load_settings({}, {}), store, clock)
        binance = paper_account(load_settings({"exchange": "binanceusdm"}, {}), store, clock)
        assert [p.exchange for p in demo.positions()] == ["demo"]
        assert [(p.exchange, p.side) for p in binance.positions()] == [("binanceusdm", "short")]
        # the demo keeps the deposits of both and the history; binanceusdm opens with the old opening
        assert [f.kind for f in binance.cash_flows()] == ["opening", "fee", "funding"]
        assert binance.cash_flows()[0].amount == 10_000.0
        kinds = [f.kind for f in demo.cash_flows()]
        assert kinds.count("deposit") == 2 and kinds.count("realized_pnl") == 1
        engine = open_engine(
            load_settings({"exchange": "binanceusdm"}, {}), store, clock, [listed(ETH, "binanceusdm")]
        )
        assert [o.symbol for o in engine.orders()] == [ETH]
        assert binance.summary().neutral_pct == demo.summary().neutral_pct == 0.45  # the settings too
    with sqlite3.connect(db) as conn:
        demo_ledger, binance_ledger = ledger_of(conn, "paper"), ledger_of(conn, "paper:binanceusdm")
        assert demo_ledger["exchanges"] == {"demo"} and binance_ledger["exchanges"] == {"binanceusdm"}
        after = conn.execute("SELECT sum(amount_e8) FROM cash_flows").fetchone()[0]
        assert after == before + 10_000 * 10**8  # nothing lost; the new account's opening balance added
        (snapshot,) = conn.execute("SELECT equity FROM equity WHERE account = 'paper:binanceusdm'").fetchall()
        (position,) = paper_book.load_positions(conn, "paper:binanceusdm")
        upnl = position.upnl(position.last_mark or position.entry)
        assert snapshot[0] == pytest.approx(binance_ledger["balance"] / 1e8 + upnl)  # type: ignore[operator]


def test_without_an_old_paper_account_there_is_nothing_to_move(tmp_path: Path) -> None:
    db = tmp_path / "cache.db"
    with Store.open(db):
        pass
    conn = sqlite3.connect(db)
    as_version_3(conn)
    conn.commit()
    conn.close()
    with Store.open(db) as store:
        assert store.schema_version == latest_version() and store.load_account("paper") is None
