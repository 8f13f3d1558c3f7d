"""Equity history chart with 1D/1W/1M/ALL ranges. textual-plotext is imported when data first
arrives (``EquityChart.preload`` from a worker thread), so it never delays the first frame.

Given fewer than ``FOLD_BELOW`` rows the chart folds to one line: the range's first and last equity,
the change and the low and high, with a word that the chart is folded."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from perptui.presentation import numbers as fmt
from perptui.presentation.numbers import MASK

if TYPE_CHECKING:
    from textual_plotext import PlotextPlot

DAY_MS = 86_400_000
RANGES: dict[str, int | None] = {"1D": DAY_MS, "1W": 7 * DAY_MS, "1M": 30 * DAY_MS, "ALL": None}
#: Rows (border included) under which the chart folds to a one-line summary.
FOLD_BELOW = 8


def window(points: Sequence[tuple[int, float]], now_ms: int, span_ms: int | None) -> list[tuple[int, float]]:
    """The points inside the range as a step line: the value held at its start, each change, and now."""
    if not points:
        return []
    start = points[0][0] if span_ms is None else now_ms - span_ms
    inside = [(t, v) for t, v in points if start <= t <= now_ms]
    before = [v for t, v in points if t < start]
    steps: list[tuple[int, float]] = [(start, before[-1])] if before else []
    for t, v in inside:
        if steps:
            steps.append((t, steps[-1][1]))
        steps.append((t, v))
    if steps and steps[-1][0] < now_ms:
        steps.append((now_ms, steps[-1][1]))
    return steps


def range_title(chosen: str) -> Content:
    """The title: "Equity history" and the ranges, the chosen one in brackets. A ``Content``, not markup: as
    markup "[ALL]" would be read as a style tag and vanish."""
    tabs = "  ".join(f"[{name}]" if name == chosen else f" {name} " for name in RANGES)
    return Content(f"Equity history  {tabs}")


def summary_line(steps: Sequence[tuple[int, float]], range_name: str, *, private: bool) -> str:
    """The folded chart's line: "Equity 1M: 5,000.00 → 6,350.00 (+27.0%) · chart folded … · low … high …"."""
    cue = "chart folded, it needs 8 rows"
    if not steps:
        return f"Equity history {range_name}: nothing recorded yet · {cue}"
    values = [v for _, v in steps]
    first, last = values[0], values[-1]

    def money(value: float) -> str:
        return fmt.money(value, private=private)

    change = f" ({(last / first - 1) * 100:+.1f}%)" if first else ""
    return (
        f"Equity {range_name}: {money(first)} → {money(last)}{change} · {cue}"
        f" · low {money(min(values))} · high {money(max(values))}"
    )


class EquityChart(Vertical):
    DEFAULT_CSS = """
    EquityChart { height: 1fr; border: round $primary 50%; border-title-color: $text-primary; }
    EquityChart #empty { color: $text-muted; padding: 1 2; }
    EquityChart #folded { display: none; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    EquityChart.-folded { border: none; }
    EquityChart.-folded #folded { display: block; }
    """

    range_name: reactive[str] = reactive("1M")
    private: reactive[bool] = reactive(False)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points: list[tuple[int, float]] = []
        self.now_ms = 0
        self.plot: PlotextPlot | None = None

    @staticmethod
    def preload() -> None:
        """Import textual-plotext (call from a worker thread)."""
        import textual_plotext  # noqa: F401

    def compose(self) -> ComposeResult:
        yield Static("", id="folded", markup=False)
        yield Static("no equity history yet", id="empty", markup=False)

    @property
    def folded(self) -> bool:
        return self.has_class("-folded")

    def on_resize(self, event: events.Resize) -> None:
        folded = self.outer_size.height < FOLD_BELOW
        if folded != self.folded:
            self.set_class(folded, "-folded")
            self._draw()

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", self._privacy_changed, init=True)
        self._set_title()

    def _privacy_changed(self, private: bool) -> None:
        self.private = private

    def _set_title(self) -> None:
        self.border_title = range_title(self.range_name)

    def cycle(self, step: int) -> None:
        names = list(RANGES)
        self.range_name = names[(names.index(self.range_name) + step) % len(names)]

    def show(self, points: Sequence[tuple[int, float]], now_ms: int) -> None:
        self.points, self.now_ms = list(points), now_ms
        self._draw()

    def _empty(self, text: str | None) -> None:
        """Hide the plot; say ``text`` instead (None: nothing, the chart is folded)."""
        empty = self.query_one("#empty", Static)
        if text is not None:
            empty.update(text)
        empty.display = text is not None
        if self.plot is not None:
            self.plot.display = False

    def watch_range_name(self) -> None:
        self._set_title()
        self._draw()

    def watch_private(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        steps = window(self.points, self.now_ms, RANGES[self.range_name])
        self.query_one("#folded", Static).update(summary_line(steps, self.range_name, private=self.private))
        if self.folded:
            self._empty(None)
            return
        if not self.points:
            self._empty("no equity history yet")
            return
        if len({t for t, _ in steps}) < 2:
            self._empty(
                "one equity snapshot so far: the chart fills in as the app records one a minute "
                "and one at every deposit or withdrawal"
            )
            return
        if self.plot is None:
            from textual_plotext import PlotextPlot

            self.plot = PlotextPlot()
            self.mount(self.plot)
        self.query_one("#empty").display = False
        self.plot.display = True
        plt = self.plot.plt
        plt.clear_data()
        plt.clear_figure()
        xs = [t / 1000 for t, _ in steps]
        ys = [v for _, v in steps]
        plt.plot(xs, ys, marker="hd")
        lo, hi = xs[0], xs[-1]
        ticks = [lo + (hi - lo) * i / 4 for i in range(5)] if hi > lo else [lo]
        fmt = "%d %b %H:%M" if self.range_name == "1D" else "%d %b"
        plt.xticks(ticks, [time.strftime(fmt, time.gmtime(x)) for x in ticks])
        if self.private:
            top, bottom = max(ys), min(ys)
            plt.yticks([bottom, top], [MASK, MASK])
        self.plot.refresh()
