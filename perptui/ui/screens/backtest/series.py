"""A finished run as the screen shows it, without Textual: the setup, the report and the chart series
(each layer's return and drawdown, the Monte Carlo fan), thinned to what a terminal chart can draw.
Built in the worker thread: numpy and the backtest modules are imported inside the functions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perptui.services.backtest import BacktestReport
    from perptui.ui.screens.backtest.setup import Setup

#: Points per chart series: a 40-column braille chart has 80 dots across; more only slows plotext.
MAX_POINTS = 240


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


def lines(curves: tuple[Curve, ...]) -> list[tuple[str, tuple[tuple[float, float], ...]]]:
    """The curves as the charts take them: (legend name, points)."""
    return [(c.name, c.points) for c in curves]
