"""The funding scanner's full scan from SQLite: 500 perps x 90 days of 8h funding history.

What is timed is ``cached_scan`` (what ``perptui scan --offline`` and every scanner refresh compute):
the cached tickers, the last 91 days of every funding series from the store, the statistics of every
series (7/30/90-day mean APR, 30-day std, share positive, z-score, longest run) and one row per perp
with its carry. Its parts are timed too: the bulk load (``Store.load_funding_many``), the statistics
of all series at once (``history_stats_many``) and the rows.

References in the same run, on the same file:

- per symbol with numpy: the same load, then ``history_stats`` called once per series (what the
  scanner did before the all-at-once path; same numbers, bit for bit);
- naive pandas: one ``pandas.read_sql_query`` per series and the statistics with pandas operations
  (boolean masks per window, ``diff`` for the intervals, ``std``, a ``groupby`` for the runs).

Runs alternate between the paths so machine noise hits each; best and median of ``--repeat`` runs.

    python benchmarks/bench_scan.py [--perps 500] [--days 90] [--repeat 15]
"""

from __future__ import annotations

import argparse
import gc
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from perptui.domain.funding_stats import history_stats, history_stats_many
from perptui.domain.scanner import CarryCosts, scan_row
from perptui.domain.timeframes import DAY_MS, HOUR_MS
from perptui.domain.types import FundingPrint, Market, Ticker
from perptui.services.scan import HISTORY_DAYS, cached_scan
from perptui.services.store import Store

EXCHANGE = "binanceusdm"
ASOF = 1_748_736_000_000  # 2025-06-01T00:00Z, a settlement time
COSTS = CarryCosts()


def build(folder: Path, perps: int, days: int) -> tuple[Path, list[Market]]:
    """A cache with ``perps`` markets, ``days`` of 8h prints each up to ASOF, one ticker snapshot each."""
    rng = np.random.default_rng(7)
    markets = [
        Market(EXCHANGE, f"C{i:03d}/USDT:USDT", f"C{i:03d}USDT", f"C{i:03d}", "USDT", "USDT",
               taker_fee=0.0005, funding_interval_hours=8.0)
        for i in range(perps)
    ]  # fmt: skip
    n = days * 3 + 1
    times = [ASOF - days * DAY_MS + k * 8 * HOUR_MS + (k * 7 % 17) for k in range(n)]  # Binance's ms lag
    prints: list[FundingPrint] = []
    for m in markets:
        level = rng.normal(0.0001, 0.0002)
        rates = np.round(level + rng.normal(0, 0.0002, n), 8)
        prints += [FundingPrint(m.symbol, t, float(r)) for t, r in zip(times, rates, strict=True)]
    path = folder / "scan.db"
    with Store.open(path) as store:
        store.upsert_funding(EXCHANGE, prints)
        store.upsert_markets(EXCHANGE, markets, ASOF)
        store.insert_tickers(
            EXCHANGE,
            [Ticker(m.symbol, ASOF - 60_000, 1.0, 1.0, 0.999, 1e7, 1e6, 1e6) for m in markets],
        )
    return path, markets


# --- the paths ----------------------------------------------------------------------------------------


def full_scan(store: Store, markets: list[Market]) -> int:
    return len(cached_scan(store, EXCHANGE, markets, ASOF, "benchmark", COSTS).rows)


def per_symbol_numpy(store: Store, markets: list[Market]) -> int:
    tickers = store.latest_tickers(EXCHANGE, ASOF)
    data = store.load_funding_many(EXCHANGE, since=ASOF - (HISTORY_DAYS + 1) * DAY_MS, until=ASOF + 1)
    rows = []
    for m in markets:
        times, rates = data.get(m.symbol, ([], []))
        stats = history_stats(times, rates, ASOF, fallback_interval_h=m.funding_interval_hours)
        rows.append(
            scan_row(m, funding=None, ticker=tickers.get(m.symbol), stats=stats, as_of=ASOF, costs=COSTS)
        )
    return len(rows)


def naive_pandas(path: Path, markets: list[Market]) -> int:
    """What one would write with pandas: a query per series, the statistics with frame operations."""
    import pandas as pd

    conn = sqlite3.connect(path)
    try:
        ids = dict(
            conn.execute("SELECT symbol, id FROM series WHERE exchange = ? AND kind = 'funding'", (EXCHANGE,))
        )
        tickers = pd.read_sql_query(
            "SELECT symbol, max(time) AS time, mark, index_price, quote_volume_24h FROM tickers "
            "WHERE exchange = ? AND time <= ? GROUP BY symbol",
            conn,
            params=(EXCHANGE, ASOF),
        ).set_index("symbol")
        rows = []
        for m in markets:
            f = pd.read_sql_query(
                "SELECT time, rate FROM funding WHERE series = ? AND time >= ? AND time < ? ORDER BY time",
                conn,
                params=(ids[m.symbol], ASOF - (HISTORY_DAYS + 1) * DAY_MS, ASOF + 1),
            )
            gap = (f["time"].diff() / HOUR_MS).round()
            after = gap.shift(-1)
            f["interval"] = gap.where((gap > 0) & (gap <= 8), after.where((after > 0) & (after <= 8), 8.0))
            f["apr"] = f["rate"] * 24 / f["interval"] * 365
            row: dict[str, object] = {"symbol": m.symbol, "rate": f["rate"].iloc[-1]}
            first = f["time"].iloc[0]
            for days in (7, 30, 90):
                start = ASOF - days * DAY_MS
                w = f[f["time"] > start]
                ok = first <= start + w["interval"].iloc[0] * HOUR_MS + 60_000
                row[f"mean_{days}"] = w["rate"].sum() * 365 / days if ok else None
                if days == 30 and ok:
                    row["std"] = w["apr"].std()
                    row["pct"] = (w["rate"] > 0).mean()
                    row["z"] = (f["apr"].iloc[-1] - w["apr"].mean()) / row["std"]
                    runs = (np.sign(w["rate"]).diff() != 0).cumsum()
                    row["run"] = w.groupby(runs).size().max()
            t = tickers.loc[m.symbol]
            row["basis"] = (t["mark"] - t["index_price"]) / t["index_price"]
            mean = row["mean_30"]
            if mean is not None:
                cost = 2 * (0.001 + 0.0005) + 0.001
                row["net"] = abs(mean) - (0.1 if mean < 0 else 0) - cost * 365 / 30
            rows.append(row)
        return len(rows)
    finally:
        conn.close()


# --- timing -------------------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--perps", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path, markets = build(Path(tmp), args.perps, args.days)
        with Store.open(path) as store:
            data = store.load_funding_many(EXCHANGE, since=ASOF - (HISTORY_DAYS + 1) * DAY_MS, until=ASOF + 1)
            rows = sum(len(t) for t, _ in data.values())
            fallback = {m.symbol: m.funding_interval_hours for m in markets}
            fast = history_stats_many(data, ASOF, fallback_interval_h=fallback)
            assert all(
                fast[s] == history_stats(t, r, ASOF, fallback_interval_h=8.0) for s, (t, r) in data.items()
            )
            assert (
                full_scan(store, markets) == per_symbol_numpy(store, markets) == naive_pandas(path, markets)
            )
            scan = cached_scan(store, EXCHANGE, markets, ASOF, "benchmark", COSTS)
            assert all(r.mean_apr_90d is not None and r.carry_net_apr is not None for r in scan.rows)

            paths: dict[str, Callable[[], object]] = {
                "full scan (cached_scan)": lambda: full_scan(store, markets),
                "  load: Store.load_funding_many": lambda: store.load_funding_many(
                    EXCHANGE, since=ASOF - (HISTORY_DAYS + 1) * DAY_MS, until=ASOF + 1
                ),
                "  stats: history_stats_many": lambda: history_stats_many(
                    data, ASOF, fallback_interval_h=fallback
                ),
                "  rows: scan_row x perps": lambda: [
                    scan_row(m, funding=None, ticker=None, stats=fast[m.symbol], as_of=ASOF, costs=COSTS)
                    for m in markets
                ],
                "reference: per symbol, history_stats": lambda: per_symbol_numpy(store, markets),
                "reference: naive pandas per symbol": lambda: naive_pandas(path, markets),
            }
            times: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(args.repeat):
                for name, fn in paths.items():
                    times[name].append(timed(fn))

    print(f"{args.perps} perps x {args.days} days of 8h prints = {rows:,} rows loaded per scan")
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, numpy {np.__version__}, "
          f"{platform.machine()}, best and median of {args.repeat} interleaved runs")  # fmt: skip
    print(f"{'path':<42} {'best':>9} {'median':>9}")
    for name, values in times.items():
        print(f"{name:<42} {min(values) * 1000:>7.1f}ms {statistics.median(values) * 1000:>7.1f}ms")
    ours = min(times["full scan (cached_scan)"])
    for name in ("reference: per symbol, history_stats", "reference: naive pandas per symbol"):
        print(f"{name.removeprefix('reference: ')}: {min(times[name]) / ours:.1f}x the full scan's time")
    goal = 0.150
    verdict = "met" if ours < goal else "NOT met"
    print(f"goal: full scan under {goal * 1000:.0f} ms: {verdict} (best {ours * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
