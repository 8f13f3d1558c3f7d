"""SQLite ingest of 1M funding rows: ``Store.upsert_funding`` against ``pandas.DataFrame.to_sql``.

The same rows (100 symbols x 10,000 hourly prints, with Binance-like ms jitter) go into a fresh file
database each way, in the same run, with the same pragmas (WAL, synchronous=NORMAL). Each side starts
from its natural input: a list of ``FundingPrint`` for the store, a DataFrame for pandas (building
either is not timed). Runs alternate (store, pandas, store, ...) so machine noise hits both; the best
of ``--repeat`` runs of each is reported, and their ratio. The store also does more work: it upserts
on a (series, time) primary key, so a second ingest adds nothing, while ``to_sql`` appends to a table
without a key (a second ``to_sql`` would duplicate every row); that second pass is timed too, and, for
reference, ``to_sql`` into a table with the same uniqueness (a primary key on exchange, symbol, time).

    python benchmarks/bench_ingest.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

from perptui.domain.types import FundingPrint
from perptui.services.store import Store

EXCHANGE = "binanceusdm"
START = 1_577_836_800_000
HOUR = 3_600_000


def make_rows(n: int, symbols: int = 100) -> list[FundingPrint]:
    per = n // symbols
    rows = []
    for s in range(symbols):
        symbol = f"S{s:03d}/USDT:USDT"
        for i in range(per):
            rows.append(
                FundingPrint(symbol, START + i * HOUR + (i * 7 + s) % 17, ((i * 37 + s) % 101 - 40) * 1e-6)
            )
    return rows


def bench_store(rows: list[FundingPrint], folder: Path) -> tuple[float, float]:
    with Store.open(folder / "store.db") as store:
        start = time.perf_counter()
        added = store.upsert_funding(EXCHANGE, rows)
        first = time.perf_counter() - start
        assert added == len(rows), added
        start = time.perf_counter()
        assert store.upsert_funding(EXCHANGE, rows) == 0
        again = time.perf_counter() - start
    return first, again


def bench_pandas(rows: list[FundingPrint], folder: Path, keyed: bool = False) -> float:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "exchange": EXCHANGE,
            "symbol": [p.symbol for p in rows],
            "time": [p.time for p in rows],
            "rate": [p.rate for p in rows],
        }
    )
    conn = sqlite3.connect(folder / "pandas.db")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    if keyed:  # the same guarantee as the store: one row per (exchange, symbol, time)
        conn.execute(
            "CREATE TABLE funding (exchange TEXT, symbol TEXT, time INTEGER, rate REAL, "
            "PRIMARY KEY (exchange, symbol, time)) WITHOUT ROWID"
        )
    start = time.perf_counter()
    frame.to_sql("funding", conn, index=False, if_exists="append")
    conn.commit()
    elapsed = time.perf_counter() - start
    assert conn.execute("SELECT count(*) FROM funding").fetchone()[0] == len(rows)
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import pandas as pd

    rows = make_rows(args.rows)
    store_times, again_times, pandas_times, keyed_times = [], [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            first, again = bench_store(rows, Path(tmp))
            store_times.append(first)
            again_times.append(again)
        with tempfile.TemporaryDirectory() as tmp:
            pandas_times.append(bench_pandas(rows, Path(tmp)))
        with tempfile.TemporaryDirectory() as tmp:
            keyed_times.append(bench_pandas(rows, Path(tmp), keyed=True))
    s, a, p, k = min(store_times), min(again_times), min(pandas_times), min(keyed_times)
    n = len(rows)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {platform.system()} {platform.release()}"
    )
    print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, pandas {pd.__version__}")
    print(f"rows: {n:,} funding prints, best of {args.repeat}")
    print(f"Store.upsert_funding       {s:7.3f} s  {n / s:>12,.0f} rows/s")
    print(f"  again (adds 0 rows)      {a:7.3f} s  {n / a:>12,.0f} rows/s")
    print(f"pandas DataFrame.to_sql    {p:7.3f} s  {n / p:>12,.0f} rows/s")
    print(f"  into a keyed table       {k:7.3f} s  {n / k:>12,.0f} rows/s  (reference: same uniqueness)")
    print(f"ratio store / pandas: {p / s:.2f}x faster (goal >= 3x); against the keyed table {k / s:.2f}x")


if __name__ == "__main__":
    main()
