"""Issue 20's done means: a month of simulated time of the writers (the app's feed saving every perp's
ticker once a minute, the scanner's snapshot every 10 minutes, the paper account's equity once a minute)
keeps the cache small and the scan as cheap as on a fresh cache.

The clock is the test's: a month of minutes is driven in a loop, each write through the same store call
the writer makes, with the app's store open beside as a reader. Cost is measured in SQLite virtual
machine steps (deterministic), not seconds (noisy). The universe is 50 perps, a tenth of Binance's 500,
so the suite stays fast: every figure checked grows linearly with the perps (the same rows per perp),
and the byte bound is scaled to match; ``benchmarks/bench_cache.py --perps 500`` runs the full size.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from perptui.domain.retention import DAY_MS, HOUR_MS, Retention
from perptui.domain.types import FundingPrint, Market, Ticker
from perptui.services.scan import TICKER_SNAPSHOT_EVERY_MS, cached_scan, keep_ticker_snapshot
from perptui.services.store import Store

EX = "binanceusdm"
PERPS = 50
SCALE = 500 / PERPS  # to Binance's 500 perps
START = 1_748_736_000_000  # 2025-06-01T00:00Z
MINUTE = 60_000
DAYS = 31
ACCOUNT = "paper:binanceusdm"


MARKETS = [
    Market(EX, f"P{i:03d}/USDT:USDT", f"P{i:03d}USDT", f"P{i:03d}", "USDT", "USDT", amount_step=0.001,
           price_tick=0.01, taker_fee=0.0005, max_leverage=50.0, funding_interval_hours=8.0)
    for i in range(PERPS)
]  # fmt: skip
SYMBOLS = [m.symbol for m in MARKETS]


def tickers(now: int) -> list[Ticker]:
    k = (now - START) // MINUTE
    return [
        Ticker(s, now, 100.0 + i + k % 97 * 0.01, 100.0 + i, 100.0 + i, 1e6 * (i + 1), 10.0, 1e3)
        for i, s in enumerate(SYMBOLS)
    ]


def seeded(path: Path) -> Store:
    """A cache with the markets and 90 days of 8-hour funding before the month, as the scanner needs."""
    store = Store.open(path)
    store.upsert_markets(EX, MARKETS, START)
    prints = [
        FundingPrint(m.symbol, START - k * 8 * HOUR_MS, 0.0001 * ((i + k) % 7 - 2))
        for i, m in enumerate(MARKETS)
        for k in range(1, 271)
    ]
    store.upsert_funding(EX, prints)
    return store


def vm_steps(store: Store, work: Callable[[], object]) -> int:
    """SQLite virtual machine instructions ``work`` runs on ``store``'s connection, in thousands."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    with store.reading() as conn:
        conn.set_progress_handler(count, 1000)
    try:
        work()
    finally:
        with store.reading() as conn:
            conn.set_progress_handler(None, 0)
    return steps[0]


def files(path: Path) -> tuple[int, int]:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size, wal.stat().st_size if wal.exists() else 0


#: Where the month's cache is written: RAM (tmpfs) when the machine has it, which takes a third off the
#: fixture's 45,000 commits; the file and WAL sizes checked are the same on any file system.
RAM_DIR = Path("/dev/shm")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path, int, int]]:
    """The cache after a month of writes; also the largest file and WAL seen along the way."""
    in_ram = RAM_DIR.is_dir() and os.access(RAM_DIR, os.W_OK)
    with tempfile.TemporaryDirectory(dir=RAM_DIR if in_ram else tmp_path_factory.mktemp("month")) as where:
        month = _a_month_of_writes(Path(where) / "cache.db")
        yield month
        month[0].close()


def _a_month_of_writes(path: Path) -> tuple[Store, Path, int, int]:
    writer = seeded(path)
    reader = Store.open(path)  # the app's store, open the whole month
    largest_file = largest_wal = 0
    for k in range(DAYS * 24 * 60):
        now = START + k * MINUTE
        snapshot = tickers(now)
        writer.insert_tickers(EX, snapshot)  # the feed, once a minute
        if k % (TICKER_SNAPSHOT_EVERY_MS // MINUTE) == 5:  # the scanner, off the feed's beat
            keep_ticker_snapshot(writer, EX, {t.symbol: t for t in snapshot}, now + 20_000)
        writer.record_equity(ACCOUNT, now + 30_000, 5_000.0 + (k % 1440) * 0.1, 5_000.0)  # the account
        if k % 60 == 0:
            reader.latest_tickers(EX)  # the app reads between writes
            size, wal = files(path)
            largest_file, largest_wal = max(largest_file, size), max(largest_wal, wal)
    reader.close()
    return writer, path, largest_file, largest_wal


def test_the_database_stays_small(month: tuple[Store, Path, int, int]) -> None:
    _, _, largest_file, largest_wal = month
    assert largest_file * SCALE < 200e6, f"{largest_file * SCALE / 1e6:.0f} MB for 500 perps"
    assert largest_wal < 8 * 2**20  # checkpoints complete beside the reader: the WAL stays small


def test_tickers_hold_a_day_of_minutes_and_thirty_days_of_hours(month: tuple[Store, Path, int, int]) -> None:
    store, path, _, _ = month
    end = START + (DAYS * 24 * 60 - 1) * MINUTE
    with contextlib.closing(sqlite3.connect(path)) as con:
        per_symbol = con.execute(
            "SELECT symbol, count(*), min(time) FROM tickers WHERE exchange = ? GROUP BY symbol", (EX,)
        ).fetchall()
        last_day = con.execute(
            "SELECT count(*) FROM tickers WHERE exchange = ? AND time >= ?", (EX, end - DAY_MS)
        ).fetchone()[0]
    assert len(per_symbol) == PERPS
    for _, rows, first in per_symbol:
        assert rows <= 24 * 60 + 6 * 24 + 30 * 24 + 2  # a day of minutes (and the scanner's), 30 days hourly
        assert first >= end - 30 * DAY_MS - HOUR_MS  # nothing older than the hourly window
    assert last_day >= PERPS * 24 * 60  # the last day whole, at full resolution
    assert {t.timestamp for t in store.latest_tickers(EX).values()} == {end}
    thinned = START + 10 * DAY_MS
    assert {t.timestamp for t in store.latest_tickers(EX, thinned + 30 * MINUTE).values()} == {thinned}


def test_equity_is_whole_for_a_week_then_hourly_with_its_extremes(
    month: tuple[Store, Path, int, int],
) -> None:
    store, _, _, _ = month
    rows = store.load_equity(ACCOUNT)
    end = rows[-1][0]
    recent = [t for t, _ in rows if t >= end - Retention().equity_full_ms]
    older = [(t, e) for t, e in rows if t < end - Retention().equity_full_ms - HOUR_MS]
    assert len(recent) >= 7 * 24 * 60 - 60
    assert len(older) <= 4 * (DAYS - 7) * 24
    assert max(e for _, e in older) == pytest.approx(5_000.0 + 1439 * 0.1)  # each day's peak survives
    assert min(e for _, e in older) == 5_000.0


def test_a_scan_of_the_months_cache_costs_what_it_does_on_a_fresh_one(
    month: tuple[Store, Path, int, int], tmp_path: Path
) -> None:
    store, _, _, _ = month
    asof = START + DAYS * DAY_MS
    fresh = seeded(tmp_path / "fresh.db")
    fresh.insert_tickers(EX, tickers(asof - MINUTE))
    month_steps = vm_steps(store, lambda: cached_scan(store, EX, MARKETS, asof, "offline"))
    fresh_steps = vm_steps(fresh, lambda: cached_scan(fresh, EX, MARKETS, asof, "offline"))
    assert month_steps <= 1.2 * fresh_steps, (month_steps, fresh_steps)
    fresh.close()
