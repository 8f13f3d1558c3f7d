"""``PlotPanel``: a bordered chart that says why it is empty until it has data. textual-plotext is
imported, and its plot mounted, when the first figure is drawn (never before the first frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from textual_plotext import PlotextPlot


class PlotPanel(Vertical):
    DEFAULT_CSS = """
    PlotPanel { border: round $primary 50%; border-title-color: $text-primary; }
    PlotPanel > Static { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, title: str, empty: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = Content(title)  # plain: a title may carry a symbol
        self.empty_text = empty
        self.plot: PlotextPlot | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.empty_text, markup=False)

    def show_empty(self, text: str | None = None) -> None:
        """Hide the plot and say why there is nothing to draw."""
        empty = self.query_one(Static)
        empty.update(text or self.empty_text)
        empty.display = True
        if self.plot is not None:
            self.plot.display = False

    def figure(self) -> Any:
        """A cleared plotext figure to draw on; call ``shown`` when drawn."""
        if self.plot is None:
            from textual_plotext import PlotextPlot

            self.plot = PlotextPlot()
            self.mount(self.plot)
        self.query_one(Static).display = False
        self.plot.display = True
        plt = self.plot.plt
        plt.clear_data()
        plt.clear_figure()
        return plt

    def shown(self) -> None:
        """Put the drawn figure on screen."""
        if self.plot is not None:
            self.plot.refresh()
