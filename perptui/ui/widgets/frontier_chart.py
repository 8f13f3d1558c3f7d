"""The directional layer's efficient frontier (expected return against volatility, yearly %) with the
chosen portfolio marked. textual-plotext loads with the first frontier; redrawn only when it changes."""

from __future__ import annotations

from collections.abc import Sequence

from perptui.ui.widgets.plot_panel import PlotPanel

Point = tuple[float, float]  # (volatility, expected return), fractions


class FrontierChart(PlotPanel):
    def __init__(self, id: str | None = None) -> None:
        super().__init__("Frontier: return vs vol, %/yr", "no frontier yet", id=id)
        self._shown: tuple[object, ...] | None = None

    def show(self, points: Sequence[Point], chosen: Point | None, why_empty: str = "") -> None:
        key = (tuple(points), chosen, why_empty)
        if key == self._shown:
            return
        self._shown = key
        if len(points) < 2:
            self.show_empty(why_empty or "no frontier: the directional layer is empty")
            return
        plt = self.figure()
        plt.plot([v * 100 for v, _ in points], [r * 100 for _, r in points], marker="braille", color="cyan")
        if chosen is not None:
            plt.scatter([chosen[0] * 100], [chosen[1] * 100], marker="●", color="orange")
        self.shown()
