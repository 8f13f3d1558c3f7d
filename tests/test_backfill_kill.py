"""kill -9 in the middle of a backfill: the database stays sound and a rerun completes it exactly."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perptui.domain.types import FundingPrint
from perptui.services.store import Store
from tests.backfill_source import KILL_NOW, START, SYMBOLS, StepSource

REPO = Path(__file__).resolve().parent.parent


def _start(db: Path, since: int, delay: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.backfill_source", str(db), str(since), str(delay)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_sigkill_mid_backfill_then_rerun_has_no_gaps_or_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "cache.db"
    rng = random.Random(20240601)
    # A first, complete run over the newer half, so the killed runs also fill older data (the case
    # where an interrupted run could leave a hole between old and new rows).
    mid = START + 30 * 24 * 3_600_000
    first = _start(db, mid, 0.0)
    assert first.wait(timeout=60) == 0, first.stderr.read().decode()

    kills = 0
    for _ in range(10):
        proc = _start(db, START, 0.0)
        # Let it store a random number of pages, then kill it a random moment later: with no delay
        # between pages the writer is almost always inside a transaction or an executemany.
        for _page in range(rng.randint(1, 8)):
            if not proc.stdout.readline():
                break
        time.sleep(rng.uniform(0, 0.004))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        assert _integrity(db) == "ok"
    assert kills == 10, "a backfill finished before its kill: the test no longer kills mid-write"

    final = _start(db, START, 0.0)
    _out, err = final.communicate(timeout=60)
    assert final.returncode == 0, err.decode()
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
    """Rows arrive in whole pages: after any kill, each series is a prefix of whole pages of 24 rows."""
    db = tmp_path / "cache.db"
    proc = _start(db, START, 0.0)
    for _page in range(5):
        proc.stdout.readline()
    time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _integrity(db) == "ok"
    with Store.open(db) as store:
        source = StepSource(KILL_NOW)
        for symbol in SYMBOLS:
            rows = (
                store.load_funding(source.name, symbol)
                if where == "funding"
                else store.load_ohlcv(source.name, symbol, "1h")
            )
            full = source.all_funding(symbol) if where == "funding" else source.all_bars(symbol)
            assert len(rows) % 24 == 0 or len(rows) == len(full)
