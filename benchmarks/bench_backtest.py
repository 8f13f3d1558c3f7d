"""The hybrid backtest (carry base + trend layer) on 15 symbols x 6 years of 8h bars: the goal is under 1 s.

What is timed is ``run_strategy(history, "hybrid", BacktestParams(), capital)`` with the default settings
(weekly rebalancing, 5 carries weighted by the optimiser, the trend layer's Ledoit-Wolf covariance and
optimiser with its caps, the regime filter): ``prepare`` (signals, returns, funding means for every bar)
and every decision, plus the engine's fills, funding, margin and equity.

History: a deterministic synthetic ``MarketHistory`` (seeded): 15 perps with geometric random walks
(55-110% yearly volatility, a common market factor), three of them listed late, a spot twin a few basis
points from the perp, Binance-like leverage brackets, and 8-hourly funding prints around 0.0001 with
noise and slow swings (some periods negative). Plus, when ``../shared/data/binance`` is present, the real
15 Binance perps (2020-2026, their own late listings and funding intervals).

Reference in the same run, on the same arrays: a plain numpy pass that a backtest cannot do less than
(the bar returns of every symbol and an equal-weight buy-and-hold equity curve). The ratio says how many
such passes one backtest costs. Best and median of ``--repeat`` runs.

    python benchmarks/bench_backtest.py [--repeat 7] [--strategy hybrid]
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.params import BacktestParams
from perptui.domain.backtest.run import run_strategy
from perptui.domain.timeframes import HOUR_MS
from perptui.domain.types import LeverageTier

T0 = 1_577_836_800_000  # 2020-01-01T00:00Z
BAR = 8 * HOUR_MS
YEARS = 6
SYMBOLS = 15
REAL_BASES = [
    "ADA",
    "ARB",
    "ATOM",
    "AVAX",
    "BNB",
    "BTC",
    "DOGE",
    "DOT",
    "ETH",
    "LINK",
    "LTC",
    "POL",
    "SOL",
    "UNI",
    "XRP",
]
TIERS = (
    LeverageTier(0.0, 50_000.0, 0.004, 0.0, 125.0),
    LeverageTier(50_000.0, 250_000.0, 0.005, 50.0, 100.0),
    LeverageTier(250_000.0, 3_000_000.0, 0.01, 1_300.0, 50.0),
    LeverageTier(3_000_000.0, float("inf"), 0.025, 46_300.0, 20.0),
)


def synthetic_history(symbols: int = SYMBOLS, years: int = YEARS, seed: int = 11) -> MarketHistory:
    rng = np.random.default_rng(seed)
    bars = years * 365 * 3
    per_bar = np.sqrt(1 / 1095)
    vol = rng.uniform(0.55, 1.10, symbols) * per_bar
    market = rng.standard_normal(bars) * 0.6 * per_bar
    rets = market[:, None] * (vol / vol.mean()) + rng.standard_normal((bars, symbols)) * vol * 0.8
    close = rng.uniform(0.5, 40_000, symbols) * np.exp(np.cumsum(rets, axis=0))
    opens = np.vstack([close[:1], close[:-1]]) * (1 + rng.normal(0, 0.0005, (bars, symbols)))
    wick = np.abs(rng.normal(0, 0.6, (bars, symbols))) * vol
    high = np.fmax(opens, close) * (1 + wick)
    low = np.fmin(opens, close) * (1 - wick * rng.uniform(0.5, 1.5, (bars, symbols)))
    basis = 1 - rng.normal(0.0003, 0.0004, (bars, symbols))
    listed = np.zeros(symbols, int)
    listed[-3:] = (np.array([0.35, 0.6, 0.85]) * bars).astype(int)  # three late listings
    for i, first in enumerate(listed):
        for a in (close, opens, high, low, basis):
            a[:first, i] = np.nan
    times = T0 + np.arange(bars, dtype=np.int64) * BAR
    # Funding: a slow swing around 0.0001 per 8h with noise, printed at every bar open from the listing.
    swing = 0.0001 + 0.00015 * np.sin(
        np.arange(bars)[:, None] / rng.uniform(150, 600, symbols) + rng.uniform(0, 6, symbols)
    )
    rate = np.round(swing + rng.normal(0, 0.00005, (bars, symbols)), 8)
    live = np.arange(bars)[:, None] >= listed[None, :]
    rows, cols = np.nonzero(live)
    return MarketHistory(
        timeframe="8h",
        times=times,
        symbols=tuple(f"S{i:02d}/USDT:USDT" for i in range(symbols)),
        open=opens,
        high=high,
        low=low,
        close=close,
        spot_open=opens * basis,
        spot_close=close * basis,
        funding_time=times[rows],
        funding_symbol=cols.astype(np.int64),
        funding_rate=rate[rows, cols],
        tiers=tuple(TIERS for _ in range(symbols)),
    )


def real_history() -> MarketHistory | None:
    """The real Binance 8h history of the 15 perps, through the tests' loader (None when absent)."""
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    try:
        from tests.backtest_data import binance_history
    except ImportError:
        return None
    return binance_history([f"{b}/USDT:USDT" for b in REAL_BASES])


def numpy_pass(h: MarketHistory) -> float:
    """Bar returns of every symbol and an equal-weight buy-and-hold equity curve: one pass over the bars."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rets = h.close[1:] / h.close[:-1] - 1.0
    equity = np.cumprod(1.0 + np.nanmean(np.where(np.isfinite(rets), rets, np.nan), axis=1))
    return float(equity[-1])


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def report(label: str, h: MarketHistory, strategy: str, repeat: int) -> None:
    params = BacktestParams()
    run = lambda: run_strategy(h, strategy, params, 10_000.0)  # noqa: E731
    result = run()  # warm-up (imports, caches)
    base = timed(lambda: numpy_pass(h), max(repeat, 20))
    runs = timed(run, repeat)
    best, med, ref = min(runs), statistics.median(runs), statistics.median(base)
    listed = int(np.isfinite(h.close).any(axis=0).sum())
    print(
        f"{label}: {len(h.symbols)} symbols ({listed} with bars) x {h.n_bars} {h.timeframe} bars, {strategy}"
    )
    print(f"  backtest   best {best * 1e3:8.1f} ms   median {med * 1e3:8.1f} ms   goal < 1000 ms: "
          f"{'met' if med < 1.0 else 'NOT met'}")  # fmt: skip
    print(f"  numpy pass median {ref * 1e3:8.2f} ms   ratio backtest / numpy pass = {med / ref:,.0f}x")
    fills, prints = len(result.fills.time), len(result.funding.time)
    layers = ", ".join(f"{layer.name} {layer.equity[-1]:,.0f}" for layer in result.layers)
    print(
        f"  {fills} fills, {prints} funding prints booked; final equity {result.equity[-1]:,.0f} ({layers})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--strategy", default="hybrid", choices=("carry", "trend", "hybrid"))
    args = ap.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    report("synthetic", synthetic_history(), args.strategy, args.repeat)
    real = real_history()
    if real is None:
        print("real Binance data: not present (../shared/data/binance), skipped")
    else:
        report("real Binance", real, args.strategy, args.repeat)


if __name__ == "__main__":
    main()
