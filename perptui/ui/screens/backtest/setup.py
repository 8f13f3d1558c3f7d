"""One backtest run's settings, without Textual: the strategy, span, timeframe, capital, Monte Carlo paths
and stress window the screen edits, and the allocation plan's settings the run inherits.

Importing this module costs nothing heavy: the backtest modules and the plan's types are imported inside
the functions that need them, which run in the screen's worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perptui.domain.plan import PlanConfig

STRATEGIES: tuple[str, ...] = ("hybrid", "carry", "trend")
TIMEFRAMES: tuple[str, ...] = ("1h", "4h", "8h", "1d")
_TF_MS = {"1h": 3_600_000, "4h": 14_400_000, "8h": 28_800_000, "1d": 86_400_000}
DEFAULT_PATHS = 500
#: PlanConfig fields BacktestParams has under another name. ``slippage`` is left out on purpose: the
#: plan's is the four fills of a carry round trip together, the backtest's is per fill.
_RENAMED = {"neutral_count": "top_n"}
_SKIPPED = frozenset({"slippage"})


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
        return f"{date_text(self.since_ms)} → {date_text(self.until_ms)}"

    def params(self) -> Any:
        """The BacktestParams of the run (in the worker: imports the backtest modules and scipy)."""
        from perptui.domain.backtest.params import BacktestParams

        return BacktestParams().with_(**dict(plan_params(self.plan) if self.plan is not None else ()))


def _after(options: Sequence[str], current: str) -> str:
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


def date_text(ms: int) -> str:
    """The UTC date of ``ms``: ``2025-06-01``."""
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
