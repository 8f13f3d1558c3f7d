"""The scanner's side panel: the selected perp's funding now, its history statistics, the cash-and-carry
and a chart of every print's APR. Worded like ``perptui scan``. textual-plotext is imported on the first
history to draw (``ScanDetail.preload`` from a worker thread), so it never delays the first frame."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from itertools import groupby
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from perptui.presentation import numbers as fmt
from perptui.presentation import scan as sf
from perptui.ui.panes.scanner.columns import INCOMPLETE_MARK, STRONG_APR
from perptui.ui.widgets.stat import Stat

if TYPE_CHECKING:
    from textual_plotext import PlotextPlot

    from perptui.domain.scanner import ScanRow

DAY_MS = 86_400_000
DIRECTIONS = {
    "long_spot_short_perp": "short perp + long spot",
    "long_perp_short_spot": "long perp + short spot (borrow)",
}
#: (id, label) of each stat line, by section heading.
SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "Now": (("rate", "funding rate"), ("interval", "interval"), ("apr", "APR"),
            ("predicted", "predicted rate"), ("next", "next funding in"), ("prices", "mark · index"),
            ("basis", "basis"), ("size", "24h vol · OI")),
    "History": (("held", "prints 7/30/90d"), ("mean7", "mean APR 7d"), ("mean30", "mean APR 30d"),
                ("mean90", "mean APR 90d"),
                ("std30", "std of APR 30d"), ("positive30", "positive prints 30d"), ("z30", "z-score 30d"),
                ("run30", "longest same-sign 30d")),
    "Cash and carry on the 30d mean": (("legs", "legs"), ("net", "net APR"), ("breakeven", "break-even")),
}  # fmt: skip

#: The statistics of the panel that can rest on an incomplete window, by the stat line showing each.
INCOMPLETE_STATS: dict[str, str] = {
    "mean_apr_7d": "mean7",
    "mean_apr_30d": "mean30",
    "mean_apr_90d": "mean90",
    "std_apr_30d": "std30",
    "pct_positive_30d": "positive30",
    "zscore_30d": "z30",
    "longest_run_30d": "run30",
    "carry_net_apr": "net",
    "breakeven_days": "breakeven",
}


def y_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Round steps covering ``lo``..``hi`` (percent), labelled ``-20%``, ``0%``, ``20%``."""
    raw = (hi - lo) / 5 or 1.0
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]
    return ticks, [f"{round(t, 9) + 0.0:g}%" for t in ticks]


class ScanDetail(Vertical):
    """The selected perp's funding details and history chart; the pane calls ``show``."""

    DEFAULT_CSS = """
    ScanDetail { height: 1fr; padding: 0 1; border: round $primary 50%; border-title-color: $text-primary;
        border-title-style: bold; border-subtitle-color: $text-muted; }
    ScanDetail #detail-none { color: $text-muted; }
    ScanDetail .heading { height: 1; color: $text-primary; text-style: bold; }
    ScanDetail Stat > .stat--value { text-style: none; }
    ScanDetail Stat.-strong > .stat--value { text-style: bold; }
    ScanDetail #detail-body, ScanDetail #detail-chart { height: 1fr; }
    ScanDetail #detail-body { overflow-y: auto; scrollbar-size-vertical: 1; }
    ScanDetail #detail-chart { min-height: 6; }
    ScanDetail #detail-hint { color: $text-muted; padding: 1 0; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plot: PlotextPlot | None = None
        #: How many times the chart's data was rebuilt, and the APR points (seconds, %) it holds.
        self.redraws = 0
        self.chart_points: list[tuple[float, float]] = []
        self._drawn: tuple[str, float | None, tuple[tuple[int, float], ...]] | None = None
        self._last: tuple[ScanRow | None, Sequence[tuple[int, float]] | None, int] | None = None

    @staticmethod
    def preload() -> None:
        """Import textual-plotext (call from a worker thread)."""
        import textual_plotext  # noqa: F401

    def compose(self) -> ComposeResult:
        yield Static("no perp selected", id="detail-none")
        with Vertical(id="detail-body"):
            for heading, lines in SECTIONS.items():
                yield Static(heading, classes="heading")
                for stat_id, label in lines:
                    yield Stat(label, "text", id=f"detail-{stat_id}")
            with Vertical(id="detail-chart"):
                yield Static("", id="detail-hint", markup=False)

    def on_mount(self) -> None:
        self.border_title = "funding"
        self.watch(self.app, "theme", self._recolour, init=False)
        if self._last:
            self.show(*self._last)

    def _recolour(self) -> None:
        """The chart's colours come from the theme: redraw it in the new one."""
        self._drawn = None
        if self._last:
            self.show(*self._last)

    def show(self, row: ScanRow | None, history: Sequence[tuple[int, float]] | None, now_ms: int) -> None:
        """Show ``row`` (None: nothing selected) with its funding prints ``(time_ms, rate)``, oldest
        first (None: still loading). The chart is rebuilt only when the row or its history changed."""
        self._last = (row, history, now_ms)
        if not self.is_mounted:
            return
        self.query_one("#detail-none").display = row is None
        self.query_one("#detail-body").display = row is not None
        if row is None:
            self.border_title, self.border_subtitle = "funding", ""
            return
        self.border_title = Content(f"{sf.perp_name(row.symbol)} · {row.exchange}")  # names, not markup
        self._stats(row, now_ms)
        self._chart(row, history, now_ms)

    def _set(self, stat_id: str, text: str, sign: float | None = None, strong: bool = False) -> None:
        stat = self.query_one(f"#detail-{stat_id}", Stat)
        stat.value = text
        cls = fmt.sign_class(sign)
        stat.set_class(cls == "-positive", "-positive")
        stat.set_class(cls == "-negative", "-negative")
        stat.set_class(strong, "-strong")

    def _signed(self, stat_id: str, value: float | None, decimals: int, *, apr: bool = False) -> None:
        strong = apr and value is not None and abs(value) >= STRONG_APR
        self._set(stat_id, fmt.pct(value, decimals, signed=True), value, strong)

    def _stats(self, r: ScanRow, now_ms: int) -> None:
        self._signed("rate", r.funding_rate, 4)
        interval = self.query_one("#detail-interval", Stat)
        label = "interval (from prints)" if r.interval_inferred else "interval"
        if interval.label != label:
            interval.label = label
            interval.refresh()
        hours = fmt.UNKNOWN if r.interval_hours is None else f"{r.interval_hours:g}h"
        self._set("interval", hours + ("~" if r.interval_inferred and r.interval_hours else ""))
        self._signed("apr", r.apr, 1, apr=True)
        self._signed("predicted", r.predicted_rate, 4)
        self._set("next", sf.countdown_to(r.next_funding_time, now_ms))
        self._set("prices", f"{fmt.price(r.mark, r.price_tick)} · {fmt.price(r.index, r.price_tick)}")
        self._signed("basis", r.basis, 3)
        self._set("size", f"{sf.money_short(r.volume_24h_usd)} · {sf.money_short(r.open_interest_usd)}")
        self._set("held", sf.held_shares(r.coverage))
        for days in (7, 30, 90):
            self._signed(f"mean{days}", getattr(r, f"mean_apr_{days}d"), 1, apr=True)
        self._set("std30", fmt.pct(r.std_apr_30d, 1))
        share = r.pct_positive_30d
        self._set("positive30", fmt.UNKNOWN if share is None else f"{share * 100:.0f}%")
        self._set("z30", fmt.UNKNOWN if r.zscore_30d is None else f"{r.zscore_30d:+.1f}")
        run = r.longest_run_30d
        self._set("run30", fmt.UNKNOWN if run is None else f"{run} print{'' if run == 1 else 's'}")
        self._set("legs", DIRECTIONS.get(r.carry_direction or "", fmt.UNKNOWN))
        self._signed("net", r.carry_net_apr, 1, apr=True)
        breakeven = r.breakeven_days
        if breakeven is None or not math.isfinite(breakeven):
            # A known carry without a break-even never earns back its costs.
            self._set("breakeven", "never" if r.carry_direction else fmt.UNKNOWN)
        else:
            self._set("breakeven", f"{breakeven:,.1f} days")
        self._mark_incomplete(r)

    def _mark_incomplete(self, r: ScanRow) -> None:
        """A figure resting on a window the cache holds only part of ends in ``*`` (as in the table)."""
        for stat, stat_id in INCOMPLETE_STATS.items():
            if r.rests_on_incomplete(stat):
                shown = self.query_one(f"#detail-{stat_id}", Stat)
                shown.value = f"{shown.value}{INCOMPLETE_MARK}"

    def _hint(self, text: str) -> None:
        hint = self.query_one("#detail-hint", Static)
        hint.update(text)
        hint.display = True
        if self.plot is not None:
            self.plot.display = False
        self.border_subtitle = ""

    def _chart(self, row: ScanRow, history: Sequence[tuple[int, float]] | None, now_ms: int) -> None:
        if history is None:
            self._hint("loading the history…")
            return
        if not history:
            self._hint("no funding history cached yet: the scanner backfills it in the background")
            return
        days = max(1, math.ceil((now_ms - history[0][0]) / DAY_MS))
        self.border_subtitle = f"funding APR per print, {days}d"
        key = (row.key, row.interval_hours, tuple(history))
        if key != self._drawn:
            self._drawn = key
            self._plot(history, row.interval_hours)
        assert self.plot is not None
        self.query_one("#detail-hint").display = False
        self.plot.display = True

    def _plot(self, history: Sequence[tuple[int, float]], fallback_h: float | None) -> None:
        import numpy as np

        from perptui.domain.funding_stats import annualised, print_intervals

        if self.plot is None:
            from textual_plotext import PlotextPlot

            self.plot = PlotextPlot()
            self.query_one("#detail-chart").mount(self.plot)
        times = np.array([t for t, _ in history], dtype=np.int64)
        rates = np.array([r for _, r in history], dtype=np.float64)
        aprs = annualised(rates, print_intervals(times, fallback_h)) * 100
        xs = (times / 1000).tolist()
        self.chart_points = list(zip(xs, aprs.tolist(), strict=True))
        self.redraws += 1
        plt = self.plot.plt
        plt.clear_data()
        plt.clear_figure()
        theme = self.app.current_theme
        # An area from the zero line, one per run of same-sign prints (one series of clipped values would
        # paint the zero line in both colours): green where the longs paid, red where they were paid.
        colours = {True: _rgb(theme.success or "green"), False: _rgb(theme.error or "red")}
        for paid, run in groupby(self.chart_points, key=lambda point: point[1] > 0):
            run_xs, run_ys = zip(*run, strict=True)
            plt.plot(run_xs, run_ys, marker="hd", fillx=True, color=colours[paid])
        plt.hline(0.0, color=_rgb(theme.foreground or "grey"))
        first, last = xs[0], xs[-1]
        if last > first:
            plt.xlim(first, last)
        lo, hi = min(0.0, float(aprs.min())), max(0.0, float(aprs.max()))
        hi = hi if hi > lo else lo + 1
        plt.ylim(lo, hi)
        plt.yticks(*y_ticks(lo, hi))
        ticks = [first + (last - first) * i / 2 for i in range(3)] if last > first else [first]
        plt.xticks(ticks, [time.strftime("%d %b", time.gmtime(x)) for x in ticks])
        self.plot.refresh()


def _rgb(colour: str) -> tuple[int, int, int]:
    from textual.color import Color

    return Color.parse(colour).rgb
