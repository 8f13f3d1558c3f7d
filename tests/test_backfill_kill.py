"""kill -9 in the middle of a backfill: the database stays sound and a rerun completes it exactly.

The backfill runs in a child process (``python -m tests.backfill_source DB SINCE KILL``) that SIGKILLs
itself just before the SQL statement ``KILL`` names (``tests.kill_switch``), so each kill lands inside a
write transaction at the same place on every run, whatever the machine's load.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from perptui.domain.types import FundingPrint
from perptui.services.store import Store
from tests import kill_switch
from tests.backfill_source import KILL_NOW, START, SYMBOLS, StepSource

REPO = Path(__file__).resolve().parent.parent
#: Where each killed run dies (TEXT matched against the SQL with its values): a page's rows written but
#: not its coverage, its coverage half moved, its fetch log, the commit, further pages of bars, and two
#: points counted over every statement. Each run resumes where the committed pages end.
KILL_PLAN = (
    "2@INSERT INTO funding",
    "1@INSERT INTO coverage",
    "1@DELETE FROM coverage",
    "3@INSERT INTO ohlcv",
    "2@INTO fetch_log",
    "4@COMMIT",
    "9@INSERT INTO ohlcv",
    "45",
    "120",
    "2@INSERT INTO funding",
)


def _run(db: Path, since: int, kill: str | None = None) -> tuple[int, str]:
    """Run the backfill to its end or its kill; (return code, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "tests.backfill_source", str(db), str(since)]
    proc = subprocess.run(
        [*args, *([kill] if kill else [])], cwd=REPO, env=env, capture_output=True, timeout=120
    )
    return proc.returncode, proc.stderr.decode()


def _killed(db: Path, since: int, kill: str) -> str:
    """Run the backfill up to its kill; the statement it died before."""
    code, err = _run(db, since, kill)
    assert code == -signal.SIGKILL, err  # it died at its kill point, not of an error or at the end
    where = kill_switch.killed_before(err)
    assert kill.partition("@")[2] in where, err
    return where


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_sigkill_mid_backfill_then_rerun_has_no_gaps_or_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "cache.db"
    # A first, complete run over the newer half, so the killed runs also fill older data (the case
    # where an interrupted run could leave a hole between old and new rows).
    mid = START + 30 * 24 * 3_600_000
    code, err = _run(db, mid)
    assert code == 0, err

    for kill in KILL_PLAN:
        _killed(db, START, kill)
        assert _integrity(db) == "ok"

    code, err = _run(db, START)
    assert code == 0, err
    assert _integrity(db) == "ok"

    source = StepSource(KILL_NOW)
    with Store.open(db) as store:
        for symbol in SYMBOLS:
            want = [
                FundingPrint(p.symbol, p.time - p.time % 1000, p.rate) for p in source.all_funding(symbol)
            ]
            assert store.load_funding(source.name, symbol) == want
            assert store.load_ohlcv(source.name, symbol, "1h") == source.all_bars(symbol)
        counts = store.counts(source.name)
    assert counts["funding"] == 2 * 181
    assert counts["ohlcv"] == 2 * (60 * 24 + 1)


@pytest.mark.parametrize("where", ["funding", "ohlcv"])
def test_killed_writer_never_leaves_a_half_page(tmp_path: Path, where: str) -> None:
    """Rows arrive in whole pages: killed after writing the third page's rows but before its commit,
    the series holds exactly the first two pages (24 rows each) and nothing of the third."""
    db = tmp_path / "cache.db"
    _killed(db, START, f"3@INTO fetch_log (exchange, kind, fetched_at) VALUES ('stepx', '{where}'")
    assert _integrity(db) == "ok"
    source = StepSource(KILL_NOW)
    with Store.open(db) as store:
        first, second = SYMBOLS
        if where == "funding":
            rows = store.load_funding(source.name, first)
            want = [FundingPrint(p.symbol, p.time - p.time % 1000, p.rate) for p in source.all_funding(first)]
            assert store.load_funding(source.name, second) == []
        else:
            rows = store.load_ohlcv(source.name, first, "1h")
            want = source.all_bars(first)
            assert store.load_ohlcv(source.name, second, "1h") == []
    assert rows == want[:48]
