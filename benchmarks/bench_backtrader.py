"""perptui's backtester cross-checked against backtrader on the real Binance history: the same strategies,
data and costs in both engines, final equities compared and both runs timed.

Cases (``../shared/data/binance`` 8h perp and spot bars and funding prints, 10,000 USDT):

- **carry**: ``perptui backtest --strategy carry --symbols BTC/USDT:USDT --param top_n=1 --param
  rebalance=never`` from 2020-02-01 (the first date with 30 days of BTC funding behind it) to the end
  of the data: one pair, entered at the first decision whose 30-day mean funding APR nets at least
  5% after the round trip's costs over ``hold_days``, held to the end (long Q spot, short Q perp);
- **trend**: ``--strategy trend --symbols BTC ETH SOL --param sizing=signal --param leverage_cap=1
  --param rebalance=7d`` from 2021-01-01: each perp at its combined signal (MA 10/30 crossover,
  Donchian 20, momentum 30, as ``plan.signals``) x ``max_weight`` x ``leverage_cap``, the book scaled
  to a gross of at most 1, re-sized every 21 bars; SOL has Binance's 4-hourly prints of November 2022
  (prints inside a bar).

The backtrader side (``backtrader_strategies.py``) imports nothing from perptui; it re-implements the
rules on backtrader's feeds (one per perp and spot market, the bars each market has), indicators
(``bt.ind.SMA``; the Donchian state and scaled momentum as ``bt.Indicator`` subclasses) and broker:

- decisions in ``next()`` at the close of bar k - 1, orders in ``next_open()`` of bar k with
  ``Cerebro(cheat_on_open=True)`` (so the broker's cheat-on-open fills market orders at bar k's open,
  not at the next bar's), quantities ``order_target_size(weight x equity at the decision / open[k])``
  (perptui's sizing), the carry's spot leg at minus the perp's quantity;
- slippage ``set_slippage_perc(slippage, slip_open=True, slip_out=True)``: a buy at ``open x (1 +
  slippage)``, a sell at ``open x (1 - slippage)``, even outside the bar's range (perptui does not clip
  to the high/low; backtrader would by default). The spot history has no high/low, so spot feeds carry
  max/min(open, close), which only matters for that clip;
- fees ``CommInfoBase(commtype=COMM_PERC, percabs=True, stocklike=True)`` per feed: perp_taker on perp
  feeds, spot_taker on spot feeds, on the filled (slipped) notional, as perptui;
- funding ``broker.add_cash(-q x open[k] x rate)`` for each print of bar k, booked in ``next_open()``
  (backtrader applies added cash at that bar's broker step, so it is in the value at bar k's close):
  a print at bar k's open with the quantity held before bar k's trades, one strictly inside the bar
  with the quantity after them, both at bar k's open (perptui's convention);
- the perp is a cash-settled linear position: backtrader's stock-like short (sale proceeds in cash,
  the position valued at ``q x close``) has exactly a USDT-margined perp's P&L, ``q x (close -
  entry)``, with no interest (the broker's default). A futures-like ``CommissionInfo`` (``margin`` and
  ``mult``) gives the same P&L but backtrader's margin is a fixed amount per contract, not a fraction
  of the price, so it adds nothing here. What does not carry over is the margin check: backtrader asks
  for a long's full notional in cash (plus fee) at the fill, while perptui posts a perp's notional over
  its leverage and sizes a book so that margins plus spot notional equal the equity (fees are paid
  out of it afterwards). So backtrader's broker gets a reserve of 9 x the capital that is never
  traded and the equity is the broker's value less the reserve; the script checks that no order was
  refused and that perptui booked no liquidation and scaled no book (its notes are empty), so neither
  engine's margin rules bind.

Quantities are floats in both engines (no lot rounding). perptui skips trades below 1e-9 of the equity,
backtrader does not: a difference of that size only.

Timed (median of ``--repeat``, after a warm-up): perptui's ``run_strategy`` + ``reconcile`` on a
``MarketHistory`` already in memory, and backtrader's ``cerebro.run()`` (the ``Cerebro`` and its pandas
feeds built outside the timer, anew for each run; ``stdstats=False``, so no observers slow it).

backtrader is not a perptui dependency: ``pip install backtrader`` first.

    python benchmarks/bench_backtrader.py [--repeat 5] [--case carry|trend|both]

Printed per case: both engines' final equity, funding, fees and fills, the relative gap of the final
equity and the largest one at any close (float rounding, below 1e-9, when the accounting is the same),
and the timings. Exit status 1 when a final equity misses the 0.5% goal (the speed goal is only
printed: it depends on the machine).
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import backtrader as bt
except ImportError:
    sys.exit("backtrader is not installed: pip install backtrader (it is not a perptui dependency)")

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from backtrader_strategies import CarryBT, PerpBook, TrendBT  # noqa: E402

from perptui.domain.backtest.history import MarketHistory  # noqa: E402
from perptui.domain.backtest.params import BacktestParams  # noqa: E402
from perptui.domain.backtest.reconcile import reconcile  # noqa: E402
from perptui.domain.backtest.run import run_strategy  # noqa: E402
from perptui.domain.backtest.strategies import schedule_of  # noqa: E402
from perptui.domain.backtest.types import BacktestResult  # noqa: E402
from perptui.domain.timeframes import iso_utc, parse_utc  # noqa: E402

CAPITAL = 10_000.0
RESERVE = 9 * CAPITAL
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
GOAL_GAP, GOAL_SPEED = 0.005, 20.0
#: Float rounding only. The 0.5% goal alone would pass a real difference: paying every print with the
#: position held after the bar's trades (instead of before them for a print at the open) moves the
#: trend case's final equity by 0.39%.
SAME = 1e-9


@dataclass(frozen=True)
class Case:
    name: str
    strategy: str
    symbols: tuple[str, ...]
    start: str
    params: BacktestParams
    with_spot: bool


CARRY = BacktestParams(rebalance="never", top_n=1)
TREND = BacktestParams(rebalance="7d", sizing="signal", leverage_cap=1.0)
CASES = (
    Case("carry", "carry", SYMBOLS[:1], "2020-02-01", CARRY, with_spot=True),
    Case("trend", "trend", SYMBOLS, "2021-01-01", TREND, with_spot=False),
)


def load() -> MarketHistory:
    try:
        from tests.backtest_data import binance_history
    except ImportError as exc:
        sys.exit(f"cannot import the tests' data loader ({exc}): run from the repository root")
    h = binance_history(list(SYMBOLS))
    if h is None:
        sys.exit("real Binance data not present at ../shared/data/binance: nothing to compare on")
    return h


# --- backtrader ------------------------------------------------------------------------------------


def frame(h: MarketHistory, col: int, spot: bool) -> pd.DataFrame:
    """One market's bars where it has them (backtrader lines its feeds up by time)."""
    if spot:
        o, c = h.spot_open[:, col], h.spot_close[:, col]
        hi, lo = np.fmax(o, c), np.fmin(o, c)
    else:
        o, hi, lo, c = h.open[:, col], h.high[:, col], h.low[:, col], h.close[:, col]
    ok = np.isfinite(o) & np.isfinite(c)
    index = pd.to_datetime(h.times[ok], unit="ms")
    return pd.DataFrame(
        {"open": o[ok], "high": hi[ok], "low": lo[ok], "close": c[ok], "volume": 0.0, "openinterest": 0.0},
        index=index,
    )


def funding_lists(h: MarketHistory, col: int) -> tuple[list[int], list[float]]:
    mine = h.funding_symbol == col
    return [int(t) for t in h.funding_time[mine]], [float(r) for r in h.funding_rate[mine]]


def cerebro_for(case: Case, h: MarketHistory, frames: dict[str, pd.DataFrame]) -> bt.Cerebro:
    p = case.params
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True)
    broker = cerebro.broker
    broker.setcash(CAPITAL + RESERVE)
    broker.set_slippage_perc(p.slippage, slip_open=True, slip_limit=True, slip_match=True, slip_out=True)
    funding = {}
    for sym in case.symbols:
        col = h.symbols.index(sym)
        names = [(sym, p.perp_taker)] + ([(sym + " spot", p.spot_taker)] if case.with_spot else [])
        for name, taker in names:
            feed = bt.feeds.PandasData(
                dataname=frames[name], name=name, timeframe=bt.TimeFrame.Minutes,
                compression=h.bar_ms // 60_000,
            )  # fmt: skip
            cerebro.adddata(feed)
            info = bt.CommInfoBase(commission=taker, commtype=bt.CommInfoBase.COMM_PERC, percabs=True,
                                   stocklike=True)  # fmt: skip
            broker.addcommissioninfo(info, name=name)
        funding[sym] = funding_lists(h, col)
    common = dict(
        t0=int(h.times[0]), bar_ms=h.bar_ms, start=int(h.bar_of(parse_utc(case.start))), reserve=RESERVE,
        funding=funding,
    )  # fmt: skip
    if case.strategy == "carry":
        cerebro.addstrategy(
            CarryBT, lookback_days=p.lookback_days, hold_days=p.hold_days, min_carry_apr=p.min_carry_apr,
            round_trip=2 * (p.spot_taker + p.perp_taker) + 4 * p.slippage, leverage=p.neutral_leverage,
            **common,
        )  # fmt: skip
    else:
        every = schedule_of(p, h.timeframe).every_bars
        cerebro.addstrategy(
            TrendBT, ma_fast=p.ma_fast, ma_slow=p.ma_slow, donchian=p.donchian_bars,
            momentum=p.momentum_bars, max_weight=p.max_weight, leverage_cap=p.leverage_cap, every=every,
            **common,
        )  # fmt: skip
    return cerebro


# --- both ------------------------------------------------------------------------------------------


def perptui_run(case: Case, h: MarketHistory) -> BacktestResult:
    start = int(h.bar_of(parse_utc(case.start)))
    return run_strategy(h, case.strategy, case.params, CAPITAL, start=start, symbols=case.symbols)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def compare(case: Case, h: MarketHistory, repeat: int) -> dict[str, float]:
    frames = {}
    for sym in case.symbols:
        col = h.symbols.index(sym)
        frames[sym] = frame(h, col, spot=False)
        if case.with_spot:
            frames[sym + " spot"] = frame(h, col, spot=True)

    ours = perptui_run(case, h)
    worst = reconcile(ours, h)
    strat: PerpBook = cerebro_for(case, h, frames).run()[0]
    if strat.failed:
        sys.exit(f"{case.name}: backtrader refused orders: {strat.failed[:3]}")
    if ours.notes:
        sys.exit(f"{case.name}: perptui's run has notes (a margin rule bound?): {ours.notes}")
    mine, theirs = np.asarray(ours.equity[1:]), np.asarray(strat.curve)
    if len(mine) != len(theirs):
        sys.exit(f"{case.name}: {len(mine)} closes in perptui, {len(theirs)} in backtrader")
    final_ours, final_bt = float(mine[-1]), float(theirs[-1])

    def run_ours() -> None:
        reconcile(perptui_run(case, h), h)

    def run_bt() -> None:
        cerebro = cerebro_for(case, h, frames)
        t = time.perf_counter()
        cerebro.run()
        bt_times.append(time.perf_counter() - t)

    bt_times: list[float] = []
    run_ours()
    t_ours = statistics.median(timed(run_ours, repeat))
    for _ in range(repeat):
        gc.collect()
        run_bt()
    t_bt = statistics.median(bt_times)
    layer = ours.layers[0]
    first = iso_utc(int(ours.fills.time[0])) if len(ours.fills.time) else "none"
    bars = len(mine)
    print(f"{case.name}: {', '.join(case.symbols)} from {case.start}, {bars} 8h bars, first fill {first}")
    print(f"  {'':12} {'final equity':>14} {'funding':>11} {'fees':>10} {'fills':>6}")
    print(f"  {'perptui':12} {final_ours:14,.4f} {layer.funding_pnl:11,.4f} {layer.fees:10,.4f} "
          f"{len(ours.fills.time):6}")  # fmt: skip
    print(f"  {'backtrader':12} {final_bt:14,.4f} {strat.funding_paid:11,.4f} {strat.fees:10,.4f} "
          f"{strat.fills:6}")  # fmt: skip
    gap = (final_bt - final_ours) / final_ours
    curve_gap = float(np.max(np.abs(theirs - mine) / np.abs(mine)))
    print(f"  final equity gap {gap:+.2e} (goal within {GOAL_GAP:.1%}: "
          f"{'met' if abs(gap) <= GOAL_GAP else 'NOT met'}); largest gap at any close {curve_gap:.2e} "
          f"({'the same accounting' if curve_gap <= SAME else 'NOT the same accounting'}); "
          f"perptui reconciles to {worst:.1e}")  # fmt: skip
    ratio = t_bt / t_ours
    verdict = "met" if ratio >= GOAL_SPEED else "NOT met"
    print(f"  time (median of {repeat}): perptui {t_ours * 1e3:8.1f} ms   backtrader {t_bt * 1e3:8.1f} ms   "
          f"ratio {ratio:,.0f}x (goal >= {GOAL_SPEED:.0f}x: {verdict})")  # fmt: skip
    return {"gap": gap, "ratio": ratio}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--case", default="both", choices=("carry", "trend", "both"))
    args = ap.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, backtrader {bt.__version__}, "
          f"{platform.machine()}")  # fmt: skip
    h = load()
    gaps = [compare(case, h, args.repeat)["gap"] for case in CASES if args.case in (case.name, "both")]
    if any(abs(g) > GOAL_GAP for g in gaps):
        sys.exit(1)


if __name__ == "__main__":
    main()
