"""Equity and drawdown over the report's chart window, side by side. textual-plotext is imported when
the first series arrives (after the first frame); the plots redraw only when the series change."""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal

from perptui.presentation.numbers import MASK
from perptui.ui.widgets.equity_chart import window
from perptui.ui.widgets.plot_panel import PlotPanel

Series = Sequence[tuple[int, float]]


class _Panel(PlotPanel):
    DEFAULT_CSS = "_Panel { width: 1fr; height: 1fr; }"

    def draw(self, points: Series, *, percent: bool, masked: bool) -> None:
        if len({t for t, _ in points}) < 2:
            self.show_empty()
            return
        plt = self.figure()
        steps = window(points, points[-1][0], None)  # each value holds until the next one
        xs = [t / 1000 for t, _ in steps]
        ys = [-v * 100 if percent else v for _, v in steps]
        plt.plot(xs, ys, marker="hd", color="red" if percent else "green")
        lo, hi = xs[0], xs[-1]
        ticks = [lo + (hi - lo) * i / 3 for i in range(4)]
        plt.xticks(ticks, [time.strftime("%d %b", time.gmtime(x)) for x in ticks])
        if percent:
            bottom = min(min(ys), -0.01)
            plt.ylim(bottom, 0)
            digits = 1 if bottom <= -1 else 2
            plt.yticks([bottom, bottom / 2, 0], [f"{bottom:.{digits}f}%", f"{bottom / 2:.{digits}f}%", "0%"])
        elif masked:
            plt.yticks([min(ys), max(ys)], [MASK, MASK])
        self.shown()


class RiskChart(Horizontal):
    DEFAULT_CSS = "RiskChart { height: 11; }"

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield _Panel("Equity", "no equity history yet", id="risk-equity")
        yield _Panel("Drawdown from the peak", "no drawdown history yet", id="risk-drawdown")

    def show(self, equity: Series, drawdown: Series, *, private: bool) -> None:
        key = (tuple(equity), tuple(drawdown), private)
        if key == self._shown:
            return
        self._shown = key
        self.query_one("#risk-equity", _Panel).draw(equity, percent=False, masked=private)
        self.query_one("#risk-drawdown", _Panel).draw(drawdown, percent=True, masked=False)
