"""The backtest's three charts side by side: equity per layer and in total, the drawdown of each, and the
Monte Carlo fan of percentile paths. Each is a ``PlotPanel`` (textual-plotext loads with the first
figure); the legend sits in the panel's bottom border in the lines' colours, so it never hides a curve.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content

from perptui.presentation.numbers import MASK
from perptui.ui.widgets.plot_panel import PlotPanel

Points = Sequence[tuple[float, float]]
#: (legend name, points) of one line.
Line = tuple[str, Points]

#: Colours of the layers' lines in order; the total is drawn last in its own colour. Given as RGB so
#: that plotext's line and Textual's legend show the same colour on every terminal palette.
LAYER_COLOURS: tuple[str, ...] = ("#00afd7", "#d75fd7", "#ff8700", "#5f87ff")
TOTAL_COLOUR = "#5fd75f"
#: The fan's percentile paths: outer band, inner band, median.
FAN_COLOURS: dict[str, str] = {
    "p5": "#d75f5f", "p95": "#d75f5f", "p25": "#ff8700", "p75": "#ff8700", "p50": "#5fd75f"
}  # fmt: skip


def _colour(name: str, index: int) -> str:
    return TOTAL_COLOUR if name == "total" else LAYER_COLOURS[index % len(LAYER_COLOURS)]


def _rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as plotext's colour tuple."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _legend(pairs: Sequence[tuple[str, str]]) -> Content:
    parts = [Content.assemble(("━ ", colour), name) for name, colour in pairs]
    return Content(" ").join(parts)


def _date_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Four dates across [lo, hi] (epoch seconds): day and month, with the year on spans past 300 days."""
    spec = "%b %y" if hi - lo > 300 * 86_400 else "%d %b"
    ticks = [lo + (hi - lo) * i / 3 for i in range(4)]
    return ticks, [time.strftime(spec, time.gmtime(t)) for t in ticks]


def nice_ticks(lo: float, hi: float, most: int = 5) -> tuple[list[float], int]:
    """Ticks on a round step (1, 2, 2.5 or 5 x 10^k) inside [lo, hi], at most ``most`` of them, and the
    decimals their labels need."""
    span = hi - lo
    if not span > 0:
        return [lo], 2
    raw = span / max(most - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if span / (m * magnitude) <= most - 1 + 1e-9)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = [first + i * step for i in range(most + 1) if first + i * step <= hi + step * 1e-9]
    exponent = math.floor(math.log10(step) + 1e-9)
    decimals = max(0, -exponent) + (1 if step < 10 and round(step / 10**exponent, 6) == 2.5 else 0)
    return ticks, decimals


def _pct_labels(ticks: Sequence[float], decimals: int) -> list[str]:
    return [f"{t:+.{decimals}f}%" if abs(t) > 1e-12 else "0%" for t in ticks]


class CurvesChart(PlotPanel):
    """Lines over time, in percent: the return on each layer's capital, or the fall from its peak
    (``drawdown``, drawn below 0%). Percentages only, so nothing to mask in privacy mode."""

    DEFAULT_CSS = "CurvesChart { width: 1fr; height: 1fr; border-subtitle-align: left; }"

    def __init__(self, title: str, empty: str, *, drawdown: bool = False, id: str | None = None) -> None:
        super().__init__(title, empty, id=id)
        self.drawdown = drawdown
        self._shown: tuple[object, ...] | None = None

    def draw(self, lines: Sequence[Line]) -> None:
        key = tuple((name, tuple(points)) for name, points in lines)
        if key == self._shown:
            return
        self._shown = key
        xs_all = [x for _, points in lines for x, _ in points]
        if len(set(xs_all)) < 2:
            self.border_subtitle = ""
            self.show_empty()
            return
        plt = self.figure()
        legend = []
        ys_all: list[float] = []
        for index, (name, points) in enumerate(lines):
            colour = _colour(name, index)
            ys = [(-y if self.drawdown else y) * 100 for _, y in points]
            ys_all += ys
            plt.plot([x for x, _ in points], ys, marker="braille", color=_rgb(colour))
            legend.append((name, colour))
        lo_x, hi_x = min(xs_all), max(xs_all)
        plt.xlim(lo_x, hi_x + (hi_x - lo_x) * 0.01)  # a last flat stretch otherwise runs past the frame
        plt.xticks(*_date_ticks(lo_x, hi_x))
        lo, hi = min(*ys_all, 0.0), max(*ys_all, 0.0)
        if hi - lo < 0.02:
            lo, hi = lo - 0.01, hi + 0.01
        if self.drawdown:
            hi = 0.0
        plt.ylim(lo, hi)
        ticks, decimals = nice_ticks(lo, hi)
        plt.yticks(ticks, _pct_labels(ticks, decimals))
        self.border_subtitle = _legend(legend)
        self.shown()


class FanChart(PlotPanel):
    """The Monte Carlo's percentile paths of equity over the days ahead (the median drawn last, on
    top), the starting capital as a grey line; amounts masked in privacy mode."""

    DEFAULT_CSS = "FanChart { width: 1fr; height: 1fr; border-subtitle-align: left; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Monte Carlo fan", "no Monte Carlo: set its paths with m", id=id)
        self._shown: tuple[object, ...] | None = None

    def draw(self, lines: Sequence[Line], capital: float | None, *, masked: bool = False) -> None:
        key = (tuple((name, tuple(points)) for name, points in lines), capital, masked)
        if key == self._shown:
            return
        self._shown = key
        if not lines or len({x for _, points in lines for x, _ in points}) < 2:
            self.border_subtitle = ""
            self.show_empty()
            return
        plt = self.figure()
        ordered = sorted(lines, key=lambda line: line[0] == "p50")  # the median on top
        for name, points in ordered:
            colour = _rgb(FAN_COLOURS.get(name, "#808080"))
            plt.plot([x for x, _ in points], [y for _, y in points], marker="braille", color=colour)
        days = max(x for _, points in lines for x, _ in points)
        if capital is not None and not masked:
            plt.hline(capital, "gray")
        plt.xlim(0, days)
        ticks = [days * i / 3 for i in range(4)]
        plt.xticks(ticks, [f"{t:.0f}d" for t in ticks])
        ys = [y for _, points in lines for _, y in points]
        if masked:
            plt.yticks([min(ys), max(ys)], [MASK, MASK])
        else:
            ticks, decimals = nice_ticks(min(ys), max(ys))
            plt.yticks(ticks, [f"{t:,.{decimals}f}" for t in ticks])
        names = {name for name, _ in lines}
        legend = [(label, FAN_COLOURS[a]) for a, b, label in _BANDS if a in names and b in names]
        if "p50" in names:
            legend.append(("median", FAN_COLOURS["p50"]))
        self.border_subtitle = _legend(legend)
        self.shown()


_BANDS = (("p5", "p95", "5–95%"), ("p25", "p75", "25–75%"))


class BacktestCharts(Horizontal):
    DEFAULT_CSS = "BacktestCharts { height: 1fr; min-height: 10; }"

    def compose(self) -> ComposeResult:
        yield CurvesChart("Return on capital", "equity per layer after a run", id="bt-equity")
        yield CurvesChart("Drawdown", "drawdown per layer after a run", drawdown=True, id="bt-drawdown")
        yield FanChart(id="bt-fan")

    def show(
        self,
        equity: Sequence[Line],
        drawdown: Sequence[Line],
        fan: Sequence[Line],
        capital: float | None,
        *,
        private: bool,
    ) -> None:
        self.query_one("#bt-equity", CurvesChart).draw(equity)
        self.query_one("#bt-drawdown", CurvesChart).draw(drawdown)
        self.query_one("#bt-fan", FanChart).draw(fan, capital, masked=private)
