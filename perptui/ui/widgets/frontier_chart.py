"""The directional layer's efficient frontier (expected return against volatility, yearly %) with the
chosen portfolio marked. textual-plotext loads with the first frontier; redrawn only when it changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

if TYPE_CHECKING:
    from textual_plotext import PlotextPlot

Point = tuple[float, float]  # (volatility, expected return), fractions


class FrontierChart(Vertical):
    DEFAULT_CSS = """
    FrontierChart { border: round $primary 50%; border-title-color: $text-primary; }
    FrontierChart > Static { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Frontier: return vs volatility %/yr"
        self.plot: PlotextPlot | None = None
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static("no frontier yet")

    def show(self, points: Sequence[Point], chosen: Point | None, why_empty: str = "") -> None:
        key = (tuple(points), chosen, why_empty)
        if key == self._shown:
            return
        self._shown = key
        empty = self.query_one(Static)
        if len(points) < 2:
            empty.update(why_empty or "no frontier: the directional layer is empty")
            empty.display = True
            if self.plot is not None:
                self.plot.display = False
            return
        if self.plot is None:
            from textual_plotext import PlotextPlot

            self.plot = PlotextPlot()
            self.mount(self.plot)
        empty.display = False
        self.plot.display = True
        plt = self.plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.plot([v * 100 for v, _ in points], [r * 100 for _, r in points], marker="braille", color="cyan")
        if chosen is not None:
            plt.scatter([chosen[0] * 100], [chosen[1] * 100], marker="●", color="orange")
        self.plot.refresh()
