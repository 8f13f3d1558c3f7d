"""The cache over months of ticker snapshots (issue 20): the scan and ``latest_tickers`` at 1 day, 1 week
and 1 month of the app's minute snapshots of every perp, before and after retention.

- **before**: the layout of schema 6 (snapshots keyed by symbol then time, no retention, the newest per
  symbol found by grouping every snapshot), filled with the span's minute snapshots in bulk; timed: that
  grouping, as every scan and scanner refresh ran it;
- **after**: the store as it is, written one minute at a time through ``Store.insert_tickers`` (the
  feed's call, pruning included) for the whole span; timed: ``latest_tickers`` as of now and the full
  ``cached_scan`` (90 days of 8h funding per perp beside);
- **fresh**: the same store with a single snapshot: the reference both are divided by.

Best of ``--repeat`` runs per figure; file sizes are the database plus its WAL.

    python benchmarks/bench_cache.py [--perps 500] [--days 1,7,30] [--repeat 7] [--skip-before 30]
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from perptui.domain.types import FundingPrint, Market, Ticker
from perptui.services.scan import cached_scan
from perptui.services.store import Store
from perptui.services.store.migrations import migrate

EX = "binanceusdm"
START = 1_748_736_000_000  # 2025-06-01T00:00Z
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
OLD_LATEST = (
    "SELECT symbol, max(time), last, mark, index_price, quote_volume_24h, open_interest, open_interest_usd "
    "FROM tickers WHERE exchange = ? AND time > 0 AND time <= ? GROUP BY symbol ORDER BY symbol"
)


def universe(perps: int) -> list[Market]:
    return [
        Market(EX, f"P{i:03d}/USDT:USDT", f"P{i:03d}USDT", f"P{i:03d}", "USDT", "USDT", amount_step=0.001,
               price_tick=0.01, taker_fee=0.0005, max_leverage=50.0, funding_interval_hours=8.0)
        for i in range(perps)
    ]  # fmt: skip


def snapshot(symbols: list[str], now: int) -> list[Ticker]:
    k = (now - START) // MINUTE
    return [Ticker(s, now, 100.0 + i + k % 97 * 0.01, 100.0 + i, 100.0 + i, 1e6, 10.0, 1e3)
            for i, s in enumerate(symbols)]  # fmt: skip


def disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def with_history(path: Path, markets: list[Market]) -> Store:
    store = Store.open(path)
    store.upsert_markets(EX, markets, START)
    store.upsert_funding(EX, [FundingPrint(m.symbol, START - k * 8 * HOUR, 0.0001 * ((i + k) % 7 - 2))
                              for i, m in enumerate(markets) for k in range(1, 271)])  # fmt: skip
    return store


def before(folder: Path, symbols: list[str], days: int, repeat: int) -> tuple[float, int]:
    """(time of the old grouping, bytes) on schema 6 holding ``days`` of minute snapshots."""
    path = folder / f"before-{days}.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        migrate(con, path, upto=6)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        for hour in range(days * 24):
            con.execute("BEGIN")
            con.executemany(
                "INSERT INTO tickers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((EX, t.symbol, t.timestamp, t.last, t.mark, t.index, t.quote_volume_24h, t.open_interest,
                  t.open_interest_usd)
                 for m in range(60) for t in snapshot(symbols, START + (hour * 60 + m) * MINUTE)),
            )  # fmt: skip
            con.execute("COMMIT")
        asof = START + days * DAY
        seconds = best(lambda: con.execute(OLD_LATEST, (EX, asof)).fetchall(), repeat)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = disk(path)
    path.unlink()
    return seconds, size


def after(
    folder: Path, markets: list[Market], days: int, repeat: int, fresh: Store
) -> tuple[float, float, float, float, int, float]:
    """(latest_tickers, cached_scan, the same two on ``fresh``, bytes, seconds per minute written) after
    ``days`` of the feed's writes through the store, retention included. The fresh cache is timed in
    the same loop, run for run, so machine noise hits both alike."""
    path = folder / f"after-{days}.db"
    store = with_history(path, markets)
    symbols = [m.symbol for m in markets]
    written = time.perf_counter()
    for k in range(days * 24 * 60):
        store.insert_tickers(EX, snapshot(symbols, START + k * MINUTE))
    per_write = (time.perf_counter() - written) / (days * 24 * 60)
    asof = START + days * DAY
    fresh_asof = START + DAY
    times: dict[str, list[float]] = {"latest": [], "scan": [], "fresh_latest": [], "fresh_scan": []}
    for _ in range(repeat):
        for name, fn in (
            ("latest", lambda: store.latest_tickers(EX, asof)),
            ("fresh_latest", lambda: fresh.latest_tickers(EX, fresh_asof)),
            ("scan", lambda: cached_scan(store, EX, markets, asof, "offline")),
            ("fresh_scan", lambda: cached_scan(fresh, EX, markets, fresh_asof, "offline")),
        ):
            times[name].append(best(fn, 1))
    store.close()
    size = disk(path)
    path.unlink()
    b = {k: min(v) for k, v in times.items()}
    return b["latest"], b["scan"], b["fresh_latest"], b["fresh_scan"], size, per_write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--perps", type=int, default=500)
    parser.add_argument("--days", default="1,7,30")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-before", default="", help="spans (days) to leave out of 'before'")
    args = parser.parse_args()
    spans = [int(d) for d in args.days.split(",")]
    skip = {int(d) for d in args.skip_before.split(",") if d}
    markets = universe(args.perps)
    symbols = [m.symbol for m in markets]
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; {args.perps} perps, best of {args.repeat}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fresh_store = with_history(folder / "fresh.db", markets)
        asof = START + DAY
        fresh_store.insert_tickers(EX, snapshot(symbols, asof - MINUTE))
        fresh_latest = best(lambda: fresh_store.latest_tickers(EX, asof), args.repeat)
        print(f"fresh cache: latest_tickers {fresh_latest * 1e3:.2f} ms (each span's ratios are to the fresh "
              "cache timed beside it)")  # fmt: skip
        print(
            "span | before: latest (x fresh), size | after: latest (x fresh), scan (x fresh), size, per write"
        )
        for days in spans:
            if days in skip:
                old = "not run"
            else:
                seconds, size = before(folder, symbols, days, args.repeat)
                old = f"{seconds * 1e3:,.0f} ms ({seconds / fresh_latest:,.0f}x), {size / 1e6:,.0f} MB"
            latest, scan, ref_latest, ref_scan, size, per_write = after(
                folder, markets, days, args.repeat, fresh_store
            )
            print(f"{days:>3} d | {old} | {latest * 1e3:.2f} ms ({latest / ref_latest:.2f}x), "
                  f"{scan * 1e3:.1f} ms ({scan / ref_scan:.2f}x), {size / 1e6:,.1f} MB, "
                  f"{per_write * 1e3:.2f} ms", flush=True)  # fmt: skip
        fresh_store.close()


if __name__ == "__main__":
    main()
