"""kill -9 in the middle of paper trading leaves the ledger consistent: every event is all or nothing.

The worker (this module run as a script: ``python -m tests.test_paper_kill DB SEED KILL``) trades at
random without pause on a frozen clock that it steps itself, and SIGKILLs itself just before the
statement ``KILL`` names (``tests.kill_switch``: the N-th statement run inside a write transaction), so
every kill lands inside a transaction, at the same place on every run. ``die-in-fill`` instead dies
between a fill's row and its fee flow. After each kill the file is reopened and checked: the cash
ledger's chain, its flows against the fills and funding tables, positions against fills, orders
against fills.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from perptui.domain.errors import UsageError
from perptui.services.accounts import paper_account_name
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest
from perptui.services.store import Store, paper_book
from tests import kill_switch
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, ETH, EX, make_engine, market

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = paper_account_name(EX)
START = {BTC: 40_000.0, ETH: 2_000.0}
#: Where each round dies (``tests.kill_switch`` specs; TEXT is matched against the SQL with its values):
#: inside each kind of event, between its writes. An order's fill row, its fee flow, a realised-PnL
#: flow, the position, the equity snapshot, a funding settlement, a liquidation's risk event (after its
#: fill and flow), a close deleting the position, an order marked filled, the commit itself, and two
#: points counted over every statement. Each round's worker trades its own seeded sequence.
KILL_PLAN = (
    "3@INSERT INTO paper_fills",
    "5@INSERT INTO cash_flows",
    "2@'realized_pnl'",
    "4@INTO paper_positions",
    "6@INTO equity",
    "2@INTO paper_funding",
    "1@INSERT INTO risk_events",
    "3@DELETE FROM paper_positions",
    "4@UPDATE paper_orders",
    "12@COMMIT",
    "90",
    "233",
)


def _run(db: Path, seed: int, mode: str) -> tuple[int, str]:
    """Run the worker to its end (its own kill); (return code, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_paper_kill", str(db), str(seed), mode],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
    )
    return proc.returncode, proc.stderr.decode()


def check_ledger(db: Path) -> dict[str, int]:
    """Every invariant a half-written event would break; returns row counts."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT seq, kind, amount_e8, balance_e8 FROM cash_flows WHERE account = ? ORDER BY seq",
            (ACCOUNT,),
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
    counts: dict[str, int] = {}
    for round_, kill in enumerate(KILL_PLAN):
        code, err = _run(db, round_, kill)
        assert code == -signal.SIGKILL, err  # it died at its kill point, not of an error or at the end
        assert kill.partition("@")[2] in kill_switch.killed_before(err), err
        counts = check_ledger(db)
    assert counts["fills"] > 20 and counts["funding"] > 0 and counts["liquidations"] > 0, counts
    # The book is still usable after all that: a new session closes what is open and trades again.
    with Store.open(db) as store:
        clock = FrozenClock(_last_time(store))
        engine = make_engine(store, clock, capital=50_000.0)
        marks = dict(START)
        for p in engine.positions():
            marks[p.symbol] = p.last_mark or p.entry
            engine.close(p.symbol, mark=marks[p.symbol])
        assert engine.positions() == []
        clock.advance(60_000)
        result = engine.place_order(OrderRequest(BTC, "long", 0.01, leverage=2, mark=marks[BTC]))
        assert result.order.status == "filled" and result.position is not None
    check_ledger(db)


def test_a_process_dying_inside_a_fill_writes_nothing_of_it(tmp_path: Path) -> None:
    """Deterministic: the worker dies after writing the fill row and before its fee flow."""
    db = tmp_path / "paper.db"
    code, err = _run(db, 1, "die-in-fill")
    assert code == 9, err
    with Store.open(db) as store, store.reading() as conn:
        assert paper_book.load_fills(conn, ACCOUNT) == []
        assert paper_book.load_positions(conn, ACCOUNT) == []
        assert paper_book.load_orders(conn, ACCOUNT) == []
        kinds = [r[0] for r in conn.execute("SELECT kind FROM cash_flows ORDER BY seq")]
    assert kinds == ["opening"]
    check_ledger(db)


# --- the worker -------------------------------------------------------------------------------------


def _last_time(store: Store) -> int:
    with store.reading() as conn:
        row = conn.execute("SELECT max(time) FROM equity").fetchone()
    return max(FROZEN_NOW_MS, (row[0] or 0) + 1_000)


def worker(db: str, seed: int, mode: str) -> None:
    """Trade at random (``seed``) until the kill ``mode`` names: ``die-in-fill`` or a kill_switch spec."""
    rng = random.Random(seed)
    with Store.open(db) as store:
        store.upsert_markets(EX, [market(BTC), market(ETH)], FROZEN_NOW_MS)
        clock = FrozenClock(_last_time(store))
        engine = make_engine(store, clock, capital=50_000.0, slippage=0.0005)
        marks = dict(START)
        for p in engine.positions():
            marks[p.symbol] = p.last_mark or p.entry
        if mode == "die-in-fill":
            real = paper_book.add_trade_flow

            def dying(conn, account, t, kind, amount):  # type: ignore[no-untyped-def]
                if kind == "fee":
                    os._exit(9)
                return real(conn, account, t, kind, amount)

            paper_book.add_trade_flow = dying  # type: ignore[assignment]  # execute.py looks it up here
            engine.place_order(OrderRequest(BTC, "long", 0.1, leverage=10, mark=marks[BTC]))
            sys.exit("the fill was booked without reaching its fee flow")
        with store.reading() as conn:
            kill_switch.arm(conn, mode)
        for _step in range(5_000):  # each kill point comes within a few hundred
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


if __name__ == "__main__":
    worker(sys.argv[1], int(sys.argv[2]), sys.argv[3])
