"""kill -9 in the middle of paper trading leaves the ledger consistent: every event is all or nothing.

The worker (this module run as a script: ``python -m tests.test_paper_kill DB SEED [die-in-fill]``)
trades at random without pause, printing a line after each call, so a kill lands inside a transaction
most of the time. After each kill the file is reopened and checked: the cash ledger's chain, its flows
against the fills and funding tables, positions against fills, orders against fills.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from perptui.domain.errors import UsageError
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest
from perptui.services.store import Store, paper_book
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, ETH, EX, make_engine, market

REPO = Path(__file__).resolve().parent.parent
START = {BTC: 40_000.0, ETH: 2_000.0}


def _start(db: Path, seed: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_paper_kill", str(db), str(seed), *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def check_ledger(db: Path) -> dict[str, int]:
    """Every invariant a half-written event would break; returns row counts."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT seq, kind, amount_e8, balance_e8 FROM cash_flows WHERE account = 'paper' ORDER BY seq"
        ).fetchall()
        balance = 0
        for i, (seq, _kind, amount, after) in enumerate(rows, start=1):
            assert seq == i and after == balance + amount, (seq, amount, after, balance)
            balance = after
        by_kind: dict[str, int] = defaultdict(int)
        for _seq, kind, amount, _after in rows:
            by_kind[kind] += amount

        def one(sql: str) -> int:
            return conn.execute(sql).fetchone()[0] or 0

        assert by_kind["realized_pnl"] == one("SELECT sum(realized_e8) FROM paper_fills")
        assert by_kind["fee"] == -one("SELECT sum(fee_e8) FROM paper_fills")
        assert by_kind["liquidation"] == one("SELECT sum(liquidation_e8) FROM paper_fills")
        assert by_kind["funding"] == one("SELECT sum(amount_e8) FROM paper_funding")
        # Each open position's funding total is the settlements since it opened (written together).
        for symbol, total, settled in conn.execute(
            "SELECT p.symbol, p.funding_e8, (SELECT coalesce(sum(f.amount_e8), 0) FROM paper_funding f "
            "WHERE f.exchange = p.exchange AND f.symbol = p.symbol AND f.time > p.opened_at) "
            "FROM paper_positions p"
        ):
            assert total == settled, (symbol, total, settled)
        net: dict[str, float] = defaultdict(float)
        for symbol, side, qty in conn.execute("SELECT symbol, side, qty FROM paper_fills"):
            net[symbol] += qty if side == "long" else -qty
        held = {s: (q if side == "long" else -q) for s, side, q in conn.execute(
            "SELECT symbol, side, qty FROM paper_positions")}  # fmt: skip
        for symbol in set(net) | set(held):
            assert abs(net[symbol] - held.get(symbol, 0.0)) < 1e-9, (symbol, net[symbol], held.get(symbol))
        # A filled order has exactly its one fill; an open or cancelled order has none.
        bad = conn.execute(
            "SELECT o.id, o.status, count(f.id) FROM paper_orders o "
            "LEFT JOIN paper_fills f ON f.order_id = o.id "
            "GROUP BY o.id HAVING (o.status = 'filled') != (count(f.id) = 1)"
        ).fetchall()
        assert bad == [], bad
        return {
            "flows": len(rows),
            "fills": one("SELECT count(*) FROM paper_fills"),
            "funding": one("SELECT count(*) FROM paper_funding"),
            "liquidations": one("SELECT count(*) FROM paper_fills WHERE reason = 'liquidation'"),
        }
    finally:
        conn.close()


def test_sigkill_mid_trading_leaves_the_ledger_consistent(tmp_path: Path) -> None:
    db = tmp_path / "paper.db"
    rng = random.Random(20250601)
    kills = 0
    counts: dict[str, int] = {}
    for round_ in range(12):
        proc = _start(db, round_)
        for _ in range(rng.randint(2, 40)):
            if not proc.stdout.readline():  # type: ignore[union-attr]
                break
        time.sleep(rng.uniform(0, 0.003))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()  # type: ignore[union-attr]
        counts = check_ledger(db)
    assert kills == 12
    assert counts["fills"] > 20 and counts["funding"] > 0, counts
    # The book is still usable after all that: a new session trades on it.
    with Store.open(db) as store:
        engine = make_engine(store, FrozenClock(FROZEN_NOW_MS + 10**9))
        engine.place_order(OrderRequest(BTC, "long", 0.01, leverage=2, mark=40_000))
    check_ledger(db)


def test_a_process_dying_inside_a_fill_writes_nothing_of_it(tmp_path: Path) -> None:
    """Deterministic: the worker dies after writing the fill row and before its fee flow."""
    db = tmp_path / "paper.db"
    proc = _start(db, 1, "die-in-fill")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 9, err.decode()
    with Store.open(db) as store, store.reading() as conn:
        assert paper_book.load_fills(conn, "paper") == []
        assert paper_book.load_positions(conn, "paper") == []
        assert paper_book.load_orders(conn, "paper") == []
        kinds = [r[0] for r in conn.execute("SELECT kind FROM cash_flows ORDER BY seq")]
    assert kinds == ["opening"]
    check_ledger(db)


# --- the worker -------------------------------------------------------------------------------------


def _last_time(store: Store) -> int:
    with store.reading() as conn:
        row = conn.execute("SELECT max(time) FROM equity").fetchone()
    return max(FROZEN_NOW_MS, (row[0] or 0) + 1_000)


def worker(db: str, seed: int, die_in_fill: bool) -> None:
    rng = random.Random(seed)
    with Store.open(db) as store:
        store.upsert_markets(EX, [market(BTC), market(ETH)], FROZEN_NOW_MS)
        clock = FrozenClock(_last_time(store))
        engine = make_engine(store, clock, capital=50_000.0, slippage=0.0005)
        marks = dict(START)
        for p in engine.positions():
            marks[p.symbol] = p.last_mark or p.entry
        if die_in_fill:
            real = paper_book.add_trade_flow

            def dying(conn, account, t, kind, amount):  # type: ignore[no-untyped-def]
                if kind == "fee":
                    os._exit(9)
                return real(conn, account, t, kind, amount)

            paper_book.add_trade_flow = dying  # type: ignore[assignment]  # execute.py looks it up here
            engine.place_order(OrderRequest(BTC, "long", 0.1, leverage=10, mark=marks[BTC]))
        for step in range(100_000):
            clock.advance(rng.randint(1, 30) * 60_000)
            symbol = rng.choice([BTC, ETH])
            roll = rng.random()
            with contextlib.suppress(UsageError):
                if roll < 0.45:
                    side = rng.choice(["long", "short"])
                    qty = round((0.2 if symbol == BTC else 4.0) * rng.uniform(0.05, 1), 3)
                    price = None if rng.random() < 0.7 else round(marks[symbol] * rng.uniform(0.97, 1.03), 1)
                    req = OrderRequest(
                        symbol, side, qty, price=price, leverage=rng.choice([2.0, 10.0, 40.0]),
                        margin_mode=rng.choice(["isolated", "cross"]), mark=marks[symbol],
                    )  # fmt: skip
                    engine.place_order(req)
                elif roll < 0.8:
                    marks[symbol] = round(marks[symbol] * rng.uniform(0.93, 1.07), 1)
                    engine.on_marks({symbol: marks[symbol]})
                elif roll < 0.9:
                    engine.settle_funding(symbol, clock.now_ms(), rng.uniform(-0.002, 0.002), marks[symbol])
                elif engine.position(symbol) is not None:
                    engine.close(symbol, mark=marks[symbol])
            print(step, flush=True)


if __name__ == "__main__":
    worker(sys.argv[1], int(sys.argv[2]), len(sys.argv) > 3 and sys.argv[3] == "die-in-fill")
