"""What the backtest screen runs and shows, without Textual: the run's setup (strategy, span, timeframe,
capital, Monte Carlo paths, and the allocation plan's settings it inherits), the dialogs' parsing, and
a finished report turned into table cells, chart series and summary lines.

Importing this module costs nothing heavy: numpy, the backtest modules and the plan's types are
imported inside the functions that need them, which run in the screen's worker thread.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from perptui.domain.errors import UsageError
from perptui.domain.quantities import MAX_PATHS
from perptui.presentation import numbers as fmt
from perptui.presentation.parse import count, money, parse_number

if TYPE_CHECKING:
    from perptui.domain.backtest.metrics import Metrics
    from perptui.domain.plan import PlanConfig
    from perptui.services.backtest import BacktestReport

STRATEGIES: tuple[str, ...] = ("hybrid", "carry", "trend")
TIMEFRAMES: tuple[str, ...] = ("1h", "4h", "8h", "1d")
_TF_MS = {"1h": 3_600_000, "4h": 14_400_000, "8h": 28_800_000, "1d": 86_400_000}
DAY_MS = 86_400_000
DEFAULT_PATHS = 500
#: Points per chart series: a 40-column braille chart has 80 dots across; more only slows plotext.
MAX_POINTS = 240
#: PlanConfig fields BacktestParams has under another name. ``slippage`` is left out on purpose: the
#: plan's is the four fills of a carry round trip together, the backtest's is per fill.
_RENAMED = {"neutral_count": "top_n"}
_SKIPPED = frozenset({"slippage"})

Cell = tuple[str, str]  # (text, tone), as LiveTable takes them


@dataclass(frozen=True, slots=True)
class Setup:
    """One run's settings as the screen edits them."""

    strategy: str
    timeframe: str
    since_ms: int
    until_ms: int
    capital: float
    paths: int
    """Monte Carlo paths; 0 runs none."""
    plan: PlanConfig | None = None
    """The allocation plan whose settings the run takes (BacktestParams' defaults without one)."""
    drawdown_limit: float | None = None
    """The risk limit P(drawdown >= limit) is measured against (a fraction)."""
    stress: tuple[str, ...] = ()
    """Stress windows typed beside the named ones (``FIRST:LAST`` dates)."""

    def next_strategy(self) -> Setup:
        return replace(self, strategy=_after(STRATEGIES, self.strategy))

    def next_timeframe(self) -> Setup:
        return replace(self, timeframe=_after(TIMEFRAMES, self.timeframe))

    @property
    def span_text(self) -> str:
        return f"{_date(self.since_ms)} → {_date(self.until_ms)}"

    def params(self) -> Any:
        """The BacktestParams of the run (in the worker: imports the backtest modules and scipy)."""
        from perptui.domain.backtest.params import BacktestParams

        return BacktestParams().with_(**dict(plan_params(self.plan) if self.plan is not None else ()))


def _after(options: Sequence[str], current: str) -> str:
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


def _date(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


def last_closed(now_ms: int, timeframe: str) -> int:
    tf = _TF_MS[timeframe]
    return now_ms - now_ms % tf


def plan_params(config: PlanConfig) -> tuple[tuple[str, object], ...]:
    """The plan's settings that BacktestParams also has, so the run tests the plan the pane shows."""
    import dataclasses

    from perptui.domain.backtest.params import KEYS

    out: dict[str, object] = {}
    for f in dataclasses.fields(config):
        if f.name in _SKIPPED:
            continue
        name = _RENAMED.get(f.name, f.name)
        if name in KEYS:
            value = getattr(config, f.name)
            out[name] = float(value) if name == "lookback_days" else value
    if "lookback_days" in out:
        out["cov_lookback_days"] = out["lookback_days"]
    return tuple(out.items())


def setup_from_plan(
    config: PlanConfig | None, capital: float, now_ms: int, drawdown_limit: float | None
) -> Setup:
    """The first run: the hybrid on the plan's settings and capital, 8h bars over the CLI's default span
    (from 2021-01-01 to the last closed bar)."""
    from perptui.domain.backtest.span import default_span

    since, until = default_span(now_ms, "8h")
    return Setup(
        strategy="hybrid",
        timeframe="8h",
        since_ms=since,
        until_ms=until,
        capital=capital,
        paths=DEFAULT_PATHS,
        plan=config,
        drawdown_limit=drawdown_limit,
    )


# --- the dialogs ------------------------------------------------------------------------------------


def parse_span(texts: Sequence[str], now_ms: int) -> tuple[int, int]:
    """(since, until) from the dates typed; UsageError (one line) when they are not a span in the past."""
    from perptui.domain.timeframes import parse_utc

    since = parse_utc(texts[0], "from date")
    until = parse_utc(texts[1], "to date") if texts[1].strip() else now_ms
    if until > now_ms:
        raise UsageError(
            f"to: {texts[1].strip()} is in the future (now is {_date(now_ms)}); use an earlier date"
        )
    if until - since < 2 * DAY_MS:
        raise UsageError(f"from {texts[0].strip()} must be at least 2 days before to {_date(until)}")
    return since, until


def parse_capital(text: str) -> float:
    try:
        return parse_number(text, money())
    except UsageError as exc:
        raise UsageError(f"capital: {exc}") from None


def parse_paths(text: str) -> int:
    try:
        return int(parse_number(text, count(0, MAX_PATHS, noun="number of paths")))
    except UsageError as exc:
        raise UsageError(f"Monte Carlo paths: {exc} (0: none)") from None


def default_folder(data_dir: str, strategy: str, now_ms: int) -> str:
    """``<data dir>/backtests/<strategy>-<UTC stamp>``: the ledgers' folder unless another is typed."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now_ms / 1000))
    return f"{data_dir.rstrip('/')}/backtests/{strategy}-{stamp}"


def parse_window(text: str) -> tuple[str, ...]:
    """A stress window ``FIRST:LAST`` (UTC dates, both included); empty: none."""
    from perptui.domain.timeframes import parse_utc

    raw = text.strip()
    if not raw:
        return ()
    first, sep, last = raw.partition(":")
    if not sep:
        raise UsageError(f"stress window {raw!r}: type FIRST:LAST dates, e.g. 2024-08-01:2024-08-10")
    if parse_utc(last, "last date") < parse_utc(first, "first date"):
        raise UsageError(f"stress window {raw!r}: the last date is before the first")
    return (f"{first.strip()}:{last.strip()}",)


def parse_folder(text: str) -> str:
    folder = text.strip()
    if not folder:
        raise UsageError("type a folder for the ledgers (it is created when missing)")
    return folder


# --- the report as the screen shows it --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Curve:
    """One line of a chart: its legend name and (x, y) points."""

    name: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Shown:
    """A finished run: its setup, the report and the chart series (built in the worker)."""

    setup: Setup
    report: BacktestReport
    equity: tuple[Curve, ...]
    """Return on each curve's starting equity (a fraction), per layer then ``total``; x in epoch seconds."""
    drawdown: tuple[Curve, ...]
    """Fall from each curve's peak, a fraction; x in epoch seconds."""
    fan: tuple[Curve, ...]
    """Monte Carlo percentile paths (``p5`` .. ``p95``); x in days ahead. Empty without a Monte Carlo."""


def _thin(n: int) -> Any:
    """Indices of at most MAX_POINTS points spread over ``n``, the last always kept."""
    import numpy as np

    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.append(np.linspace(0, n - 1, MAX_POINTS).astype(np.int64), n - 1))


def _worst_per_bucket(values: Any) -> Any:
    """A drawdown thinned to MAX_POINTS buckets keeping each bucket's worst point (the max DD shows)."""
    import numpy as np

    n = len(values)
    if n <= MAX_POINTS:
        return np.arange(n)
    edges = np.linspace(0, n, MAX_POINTS + 1).astype(np.int64)
    picks = [lo + int(np.argmax(values[lo:hi])) for lo, hi in itertools.pairwise(edges) if hi > lo]
    return np.asarray(sorted(set(picks) | {0, n - 1}))


def shown_of(setup: Setup, report: BacktestReport) -> Shown:
    """Chart series of ``report`` (blocking: numpy; call in the worker)."""
    import numpy as np

    from perptui.domain.backtest.metrics import drawdown_path

    result = report.result
    seconds = np.asarray(result.times, dtype=np.float64) / 1000
    paths = [(layer.name, np.asarray(layer.equity, dtype=np.float64)) for layer in result.layers]
    if len(paths) != 1:  # one layer: its curve is the total
        paths.append(("total", np.asarray(result.equity, dtype=np.float64)))
    else:
        paths = [("total", paths[0][1])]
    keep = _thin(len(seconds))
    equity, drawdown = [], []
    for name, e in paths:
        if len(e) == 0 or not e[0] > 0:
            continue  # a layer given no capital has no curve to draw
        growth = e[keep] / e[0] - 1
        equity.append(Curve(name, tuple(zip(seconds[keep].tolist(), growth.tolist(), strict=True))))
        dd = drawdown_path(e)
        pick = _worst_per_bucket(dd)
        drawdown.append(Curve(name, tuple(zip(seconds[pick].tolist(), dd[pick].tolist(), strict=True))))
    fan: tuple[Curve, ...] = ()
    mc = report.monte_carlo
    if mc is not None:
        days = np.asarray(mc.fan_days, dtype=np.float64)
        fan = tuple(
            Curve(
                f"p{q:g}", tuple(zip(days.tolist(), np.asarray(row, dtype=np.float64).tolist(), strict=True))
            )
            for q, row in zip(mc.percentiles, mc.fan, strict=True)
        )
    return Shown(setup, report, tuple(equity), tuple(drawdown), fan)


def _pct(x: float | None, decimals: int = 1) -> str:
    return fmt.pct(x, decimals)


def _ratio(x: float | None) -> str:
    return fmt.UNKNOWN if x is None or not math.isfinite(x) else f"{x:.2f}"


def _tone(x: float | None) -> str:
    if x is None or not math.isfinite(x) or x == 0:
        return ""
    return "pos" if x > 0 else "neg"


def _money(x: float | None, private: bool) -> Cell:
    return fmt.money(x, private=private, decimals=0), "" if private else _tone(x)


def metric_cells(m: Metrics, *, private: bool, strong: bool = False) -> tuple[Cell, ...]:
    """return, CAGR, vol, Sharpe, Sortino, max DD, Calmar, price PnL, funding, fees, turnover."""
    dd = m.max_drawdown
    cells = (
        (_pct(m.total_return), _tone(m.total_return)),
        (_pct(m.cagr), _tone(m.cagr)),
        (_pct(m.volatility), ""),
        (_ratio(m.sharpe), _tone(m.sharpe)),
        (_ratio(m.sortino), _tone(m.sortino)),
        (fmt.UNKNOWN if dd is None else _pct(-dd), "neg" if dd else ""),
        (_ratio(m.calmar), ""),
        _money(m.price_pnl, private),
        _money(m.funding_pnl, private),
        _money(None if m.fees is None else -m.fees, private),
        (fmt.UNKNOWN if m.turnover is None else f"{m.turnover:.1f}x", ""),
    )
    if strong:
        cells = tuple(
            (text, f"{tone}-strong" if tone in ("pos", "neg") else "strong") for text, tone in cells
        )
    return cells


def metric_rows(report: BacktestReport, *, private: bool) -> dict[str, tuple[Cell, ...]]:
    """Each layer, then the total (bold), keyed by name: the first cell is the row's name."""
    rows: dict[str, tuple[Cell, ...]] = {}
    if len(report.layers) > 1:
        for name, m in report.layers.items():
            rows[name] = ((name, ""), *metric_cells(m, private=private))
    rows["total"] = (("total", "strong"), *metric_cells(report.metrics, private=private, strong=True))
    return rows


def stress_rows(report: BacktestReport, *, private: bool) -> dict[str, tuple[Cell, ...]]:
    """window, dates, return, max DD, worst day, funding, fees, note: the whole book in each window."""
    rows: dict[str, tuple[Cell, ...]] = {}
    for row in report.stress:
        w, t = row.window, row.total
        ret = None if t is None else t.total_return
        dd = None if t is None else t.max_drawdown
        worst = None if t is None else t.worst_day
        rows[w.name] = (
            ("your window" if ":" in w.name else w.name, ""),  # a typed window is named by its dates
            (f"{w.first_date} → {w.last_date}", "muted"),
            (_pct(ret), _tone(ret)),
            (fmt.UNKNOWN if dd is None else _pct(-dd), "neg" if dd else ""),
            (_pct(worst), _tone(worst)),
            _money(None if t is None else t.funding_pnl, private),
            _money(None if t is None else -t.fees, private),
            (row.note or "", "warn" if row.note else ""),
        )
    return rows


def headline(shown: Shown, *, private: bool) -> str:
    """``hybrid · 8h bars · 2023-06-01 → 2025-06-01 · 10 symbols · 5,000 → 5,412 (+8.2%)``."""
    result = shown.report.result
    final = float(result.equity[-1])
    start, end = int(result.times[0]), int(result.times[-1])
    change = final / result.capital - 1 if result.capital else None
    return (
        f"{result.strategy} · {result.timeframe} bars · {_date(start)} → {_date(end)} · "
        f"{len(result.symbols)} symbols · {fmt.money(result.capital, private=private, decimals=0)} → "
        f"{fmt.money(final, private=private, decimals=0)} ({fmt.pct(change, 1, signed=True)})"
    )


def monte_carlo_lines(shown: Shown, *, private: bool) -> list[str]:
    """P(loss), P(drawdown >= limit) and the percentiles of the final equity and the max drawdown."""
    mc = shown.report.monte_carlo
    if mc is None:
        return ["no Monte Carlo: set its paths with m"]
    keys = [f"p{q:g}" for q in mc.percentiles]
    final = dict(zip(keys, (float(x) for x in mc.final_equity), strict=True))
    dd = dict(zip(keys, (float(x) for x in mc.max_drawdown), strict=True))
    first = (
        f"{mc.n_paths:,} paths × {mc.horizon_days} days (blocks of {mc.block_days:g} d, seed {mc.seed}) · "
    )
    first += f"P(loss) {fmt.pct(mc.prob_loss, 1)}"
    if mc.drawdown_limit is not None and mc.prob_drawdown_limit is not None:
        first += f" · P(drawdown ≥ {fmt.pct(mc.drawdown_limit, 0)}) {fmt.pct(mc.prob_drawdown_limit, 1)}"
    else:
        first += " · no drawdown limit set (risk.max_drawdown_pct)"
    picks = [k for k in ("p5", "p50", "p95") if k in final]
    equity = "  ".join(f"{k} {fmt.money(final[k], private=private, decimals=0)}" for k in picks)
    drawdown = "  ".join(f"{k} {_pct(-dd[k])}" for k in picks)
    return [first, f"final equity {equity} · max drawdown {drawdown}"]


def reconciled_line(shown: Shown, *, private: bool) -> str:
    """The identity the ledgers satisfy, so a trader sees the run adds up."""
    r = shown.report.result
    report = shown.report
    m = lambda x: fmt.money(x, private=private)  # noqa: E731
    fills = len(r.fills.time)
    liquidations = sum(layer.liquidations for layer in r.layers)
    return (
        f"{m(r.capital)} + price {m(r.price_pnl)} + funding {m(r.funding_pnl)} − fees {m(r.fees)} = "
        f"{m(float(r.equity[-1]))}, reconciled (±{report.reconcile_error:.0e}) · {fills:,} fills · "
        f"{liquidations} liquidation{'' if liquidations == 1 else 's'}"
    )
