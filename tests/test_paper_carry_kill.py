"""kill -9 in the middle of opening (or closing) a carry pair leaves both legs or neither after a restart.

The worker (this module run as a script: ``python -m tests.test_paper_carry_kill DB KILL``) opens a pair
on BTC, then closes it, and SIGKILLs itself just before the statement ``KILL`` names
(``tests.kill_switch``), so every kill lands inside one of the two transactions at the same place on
every run. The file is then reopened: the pair, the spot held and the perp short agree (all there or
none), and the cash ledger's fee and realised flows match the perp and spot fills.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from perptui.services.accounts import paper_account_name
from perptui.services.clock import FrozenClock
from perptui.services.store import Store
from tests import kill_switch
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, EX, make_engine, market

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = paper_account_name(EX)
QTY = 0.05
#: Kill points of the opening transaction (the spot leg's fill, its holding, the perp leg's fill, its
#: position, the pair row, the commit) and of the closing one (after it the pair must be whole).
OPENING = (
    "1@INSERT INTO paper_spot_fills",
    "1@INTO paper_spot (",
    "1@INSERT INTO paper_fills",
    "1@INTO paper_positions",
    "1@INTO paper_pairs",
    "1@COMMIT",
)
CLOSING = (
    "2@INSERT INTO paper_spot_fills",
    "2@INSERT INTO paper_fills",
    "1@DELETE FROM paper_positions",
    "1@DELETE FROM paper_pairs",
)


def _run(db: Path, kill: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_paper_carry_kill", str(db), kill],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
    )
    return proc.returncode, proc.stderr.decode()


def book_after(db: Path) -> tuple[float, float, float]:
    """(pair quantity, spot held, perp short) after a restart; checks the cash ledger against the fills."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        def one(sql: str) -> float:
            return conn.execute(sql, (ACCOUNT,)).fetchone()[0] or 0

        fees = one("SELECT sum(fee_e8) FROM paper_fills WHERE account = ?")
        fees += one("SELECT sum(fee_e8) FROM paper_spot_fills WHERE account = ?")
        assert -one("SELECT sum(amount_e8) FROM cash_flows WHERE account = ? AND kind = 'fee'") == fees
        realized = one("SELECT sum(realized_e8) FROM paper_fills WHERE account = ?")
        realized += one("SELECT sum(realized_e8) FROM paper_spot_fills WHERE account = ?")
        flows = one("SELECT sum(amount_e8) FROM cash_flows WHERE account = ? AND kind = 'realized_pnl'")
        assert flows == realized
        pair = one("SELECT sum(qty) FROM paper_pairs WHERE account = ?")
        spot = one("SELECT sum(qty) FROM paper_spot WHERE account = ?")
        short = one("SELECT sum(qty) FROM paper_positions WHERE account = ? AND side = 'short'")
        return pair, spot, short
    finally:
        conn.close()


@pytest.mark.parametrize("kill", OPENING)
def test_a_kill_while_a_pair_opens_leaves_neither_leg(tmp_path: Path, kill: str) -> None:
    db = tmp_path / "carry.db"
    code, err = _run(db, kill)
    assert code == -signal.SIGKILL, err
    assert kill.partition("@")[2] in kill_switch.killed_before(err), err
    assert book_after(db) == (0, 0, 0)
    # the restarted book opens the pair again, whole
    with Store.open(db) as store:
        engine = _engine(store)
        engine.open_pair(BTC, QTY, mark=40_000.0, spot=39_980.0)
    assert book_after(db) == (QTY, QTY, QTY)


@pytest.mark.parametrize("kill", CLOSING)
def test_a_kill_while_a_pair_closes_leaves_both_legs(tmp_path: Path, kill: str) -> None:
    db = tmp_path / "carry.db"
    code, err = _run(db, kill)
    assert code == -signal.SIGKILL, err
    assert kill.partition("@")[2] in kill_switch.killed_before(err), err
    assert book_after(db) == (QTY, QTY, QTY)


# --- the worker -------------------------------------------------------------------------------------


def _engine(store: Store):  # type: ignore[no-untyped-def]
    store.upsert_markets(EX, [replace(market(BTC), spot_symbol="BTC/USDT")], FROZEN_NOW_MS)
    engine = make_engine(store, FrozenClock(FROZEN_NOW_MS + 60_000), capital=50_000.0)
    engine.book.use([replace(market(BTC), spot_symbol="BTC/USDT")])
    engine.account.open()
    return engine


def worker(db: str, kill: str) -> None:
    with Store.open(db) as store:
        engine = _engine(store)
        with store.reading() as conn:
            kill_switch.arm(conn, kill)
        engine.open_pair(BTC, QTY, mark=40_000.0, spot=39_980.0)
        engine.close_pair(BTC, mark=40_100.0, spot=40_090.0)
    sys.exit("the worker reached its end without its kill")


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2])
