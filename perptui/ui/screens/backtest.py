"""The backtest results view, opened from the allocation pane: the plan's strategy run over history with
its settings and capital, then the equity and drawdown of each layer, the metrics table, the stress
windows, the Monte Carlo fan and the notes.

A choice cycles in place (strategy, timeframe); a number or a date is typed in a dialog (bad input: a
one-line message in the dialog, nothing changes). Every change runs again in a worker
(``backtest_sync``) with a progress bar; ``e`` writes the run's ledgers as CSV files.

Layout: the metrics come first. Under 100 columns (``-narrow``) the metrics and stress tables are drawn
as two tables each (the first column repeated), so no row wraps; under 30 rows (``-short``) the charts
fold (``v`` brings them back, or hides them on a taller terminal). What does not fit scrolls (j/k,
page up/down).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import ProgressBar, Static

from perptui.presentation import numbers as fmt
from perptui.ui.keymap import binding
from perptui.ui.screens import backtest_view as view
from perptui.ui.screens.backtest_sync import BacktestSync
from perptui.ui.widgets.backtest_charts import BacktestCharts
from perptui.ui.widgets.dialogs import FormDialog
from perptui.ui.widgets.footer import KeysFooter

Column = tuple[str, int, bool]  # (header, width, left-aligned)
METRIC_COLUMNS: list[Column] = [
    ("layer", 11, True),
    ("return", 8, False),
    ("CAGR", 8, False),
    ("vol", 7, False),
    ("Sharpe", 6, False),
    ("Sortino", 7, False),
    ("max DD", 7, False),
    ("Calmar", 6, False),
    ("price PnL", 9, False),
    ("funding", 8, False),
    ("fees", 7, False),
    ("turnover", 8, False),
]
STRESS_COLUMNS: list[Column] = [
    ("stress window", 13, True),
    ("dates", 23, True),
    ("return", 7, False),
    ("max DD", 7, False),
    ("worst day", 9, False),
    ("funding", 8, False),
    ("fees", 7, False),
    ("", 24, True),
]
#: Under 100 columns the wide tables are drawn as two: the columns of each (the first one repeated).
METRIC_SPLIT: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3, 4, 5, 6, 7), (0, 8, 9, 10, 11))
STRESS_SPLIT: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3, 4), (0, 5, 6, 7))
#: Under this many columns the tables split; under this many rows the charts fold.
NARROW_WIDTH = 100
SHORT_HEIGHT = 30
#: LiveTable's tones as theme styles.
TONE_STYLES = {
    "pos": "$text-success",
    "neg": "$text-error",
    "pos-strong": "bold $text-success",
    "neg-strong": "bold $text-error",
    "warn": "$text-warning",
    "strong": "bold",
    "muted": "$text-muted",
}


class BacktestScreen(BacktestSync):
    DEFAULT_CSS = """
    BacktestScreen { padding: 0 1; }
    BacktestScreen #bt-heading { text-style: bold; color: $text-primary; }
    BacktestScreen #bt-heading.-error { color: $text-error; }
    BacktestScreen #bt-settings { color: $text-muted; }
    BacktestScreen #bt-progress { height: 1; display: none; }
    BacktestScreen #bt-progress.-running { display: block; }
    BacktestScreen #bt-progress ProgressBar { width: 44; }
    BacktestScreen #bt-progress-label { width: 1fr; color: $text-muted; }
    BacktestScreen #bt-metrics { height: auto; margin-top: 1; }
    BacktestScreen #bt-stress { height: auto; }
    BacktestScreen #bt-mc { height: auto; margin-bottom: 1; }
    BacktestScreen #bt-notes-box { height: auto; max-height: 4; }
    BacktestScreen #bt-notes { color: $text-muted; }
    BacktestScreen #bt-charts { min-height: 10; }
    BacktestScreen #bt-charts-folded { color: $text-muted; display: none; }
    BacktestScreen.-charts-folded #bt-charts-folded { display: block; }
    BacktestScreen.-short #bt-heading { height: auto; }
    BacktestScreen.-short #bt-metrics { margin-top: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("bt_run", "r,enter", "run", "Run", "Run the backtest again"),
        binding("bt_strategy", "s", "next_strategy", "Strategy", "Cycle the strategy: hybrid, carry, trend"),
        binding("bt_span", "d", "edit_span", "Dates", "The span the run covers (from and to dates, UTC)"),
        binding(
            "bt_timeframe", "f", "next_timeframe", "Bars", "Cycle the bar length: 1h, 4h, 8h, 1d", show=False
        ),
        binding("bt_capital", "c", "edit_capital", "Capital", "The capital the run starts with"),
        binding("bt_paths", "m", "edit_paths", "Paths", "Monte Carlo paths (0: none)", show=False),
        binding("bt_window", "w", "edit_window", "Window", "A stress window of your own dates"),
        binding(
            "bt_export", "e", "export", "Export", "Write the run's ledgers (fills, funding, equity) as CSV"
        ),
        binding(
            "help",
            "question_mark,f1",
            "help",
            "Help",
            "Every key of this screen and the global keys",
            show=False,
        ),
        binding(
            "bt_charts",
            "v",
            "toggle_charts",
            "Charts",
            "Show or hide the charts (folded under 30 rows)",
            show=False,  # the footer is full; a line says so where the charts fold
        ),
        binding("bt_scroll_down", "j", "scroll_down", "Down", "Scroll the view down", show=False),
        binding("bt_scroll_up", "k", "scroll_up", "Up", "Scroll the view up", show=False),
        binding("bt_page_down", "pagedown,ctrl+d", "page_down", "Page down", "A page down", show=False),
        binding("bt_page_up", "pageup,ctrl+u", "page_up", "Page up", "A page up", show=False),
        binding("bt_close", "escape,q", "close", "Close", "Back to the allocation pane"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="bt-heading", markup=False)
        yield Static("", id="bt-settings")
        with Horizontal(id="bt-progress"):
            yield ProgressBar(total=None, show_eta=False, id="bt-progress-bar")
            yield Static("", id="bt-progress-label", markup=False)
        yield Static("", id="bt-metrics")
        yield BacktestCharts(id="bt-charts")
        yield Static("charts folded to fit the terminal's height: v shows them", id="bt-charts-folded")
        yield Static("", id="bt-mc")
        yield Static("", id="bt-stress")
        with VerticalScroll(id="bt-notes-box"):
            yield Static("", id="bt-notes", markup=False)
        yield KeysFooter()

    #: v: the charts shown although folded for the height, or hidden although there is room.
    charts_flipped = False

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _: self.redraw(), init=False)
        self.run()

    # --- the layout for the terminal's size -------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        width, height = self.app.size
        short = height < SHORT_HEIGHT
        if short != self.has_class("-short"):
            self.charts_flipped = False  # the charts follow the new height until v again
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.set_class(short, "-short")
        self.show_charts()
        self.redraw()  # the tables, whole or split

    def action_toggle_charts(self) -> None:
        self.charts_flipped = not self.charts_flipped
        self.show_charts()

    def show_charts(self) -> None:
        """Charts on a terminal of 30 rows or more, folded under; ``v`` flips that."""
        shown = self.has_class("-short") == self.charts_flipped
        self.query_one(BacktestCharts).display = shown
        self.set_class(not shown and not self.charts_flipped, "-charts-folded")

    # --- settings ----------------------------------------------------------------------------------

    def change(self, setup: view.Setup) -> None:
        self.setup = setup
        self.run()

    def action_run(self) -> None:
        self.run()

    def action_next_strategy(self) -> None:
        self.change(self.setup.next_strategy())

    def action_next_timeframe(self) -> None:
        self.change(self.setup.next_timeframe())

    def action_edit_span(self) -> None:
        now = self.ctx.clock.now_ms()
        s = self.setup
        since, until = view._date(s.since_ms), view._date(s.until_ms)
        fields = [("From (UTC date)", since), ("To (UTC date, not included)", until)]
        self.ask(
            "Backtest span",
            fields,
            lambda t: _replace(s, zip(("since_ms", "until_ms"), view.parse_span(t, now), strict=True)),
        )

    def action_edit_capital(self) -> None:
        s = self.setup
        self.ask(
            "Backtest capital",
            [("Capital", f"{s.capital:g}")],
            lambda t: _replace(s, [("capital", view.parse_capital(t[0]))]),
        )

    def action_edit_paths(self) -> None:
        s = self.setup
        fields = [("Monte Carlo paths (0: none)", str(s.paths))]
        self.ask("Monte Carlo", fields, lambda t: _replace(s, [("paths", view.parse_paths(t[0]))]))

    def action_edit_window(self) -> None:
        s = self.setup
        fields = [("Stress window FIRST:LAST (UTC dates; empty: none)", s.stress[0] if s.stress else "")]
        self.ask("Stress window", fields, lambda t: _replace(s, [("stress", view.parse_window(t[0]))]))

    @work(exclusive=True, group="backtest-dialog")
    async def ask(self, title: str, fields, validate) -> None:  # type: ignore[no-untyped-def]
        changed = await self.app.push_screen_wait(FormDialog(title, fields, validate))
        if changed is not None and changed != self.setup:
            self.change(changed)

    # --- export and leaving ------------------------------------------------------------------------

    def action_export(self) -> None:
        if self.shown is None:
            self.notify("nothing to export yet: the run has not finished", timeout=3)
            return
        self.export(self.shown)

    @work(exclusive=True, group="backtest-dialog")
    async def export(self, shown: view.Shown) -> None:
        import asyncio

        from perptui.config.paths import data_dir
        from perptui.domain.errors import UsageError
        from perptui.services.backtest_ledger import write_ledgers

        default = view.default_folder(str(data_dir()), shown.setup.strategy, self.ctx.clock.now_ms())
        fields = [("Folder (created when missing)", default)]
        hint = "fills.csv, funding.csv and equity.csv"
        dialog = FormDialog("Export the ledgers", fields, lambda t: view.parse_folder(t[0]), hint=hint)
        folder = await self.app.push_screen_wait(dialog)
        if folder is None:
            return
        try:
            paths = await asyncio.to_thread(write_ledgers, shown.report.result, folder)
        except UsageError as exc:
            self.notify(str(exc), title="export", severity="error", timeout=8)
            return
        self.exported = paths
        self.notify("\n".join(str(p) for p in paths), title="ledgers written", timeout=8)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        from perptui.ui.screens.help import HelpScreen

        rows = self.app.key_rows(self, "Backtest")  # type: ignore[attr-defined]
        self.app.push_screen(HelpScreen("Keys · Backtest", rows))

    # --- drawing -----------------------------------------------------------------------------------

    def show_progress(self, done: int, total: int | None, label: str) -> None:
        self.query_one("#bt-progress-bar", ProgressBar).update(total=total, progress=done)
        self.query_one("#bt-progress-label", Static).update(label)

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        private = bool(getattr(self.app, "privacy", False))
        s, shown = self.setup, self.shown
        self.title = f"Backtest · {s.strategy}"
        self.query_one("#bt-progress").set_class(self.running, "-running")
        self.query_one("#bt-settings", Static).update(_settings_line(s, private))
        heading = self.query_one("#bt-heading", Static)
        state = "running…" if self.running else (self.error or "")
        text = f"Backtest · {view.headline(shown, private=private)}" if shown else f"Backtest · {s.strategy}"
        if shown is not None and shown.setup != s and not self.running:
            state = state or "settings changed: r runs again"
        heading.update(text + (f" · {state}" if state else ""))
        heading.set_class(self.error is not None, "-error")
        if shown is None:
            return
        narrow = self.has_class("-narrow")
        metrics = view.metric_rows(shown.report, private=private)
        metric_table = tables(METRIC_COLUMNS, metrics.values(), METRIC_SPLIT if narrow else None)
        self.query_one("#bt-metrics", Static).update(metric_table)
        stress = view.stress_rows(shown.report, private=private)
        stress_table = tables(STRESS_COLUMNS, stress.values(), STRESS_SPLIT if narrow else None)
        self.query_one("#bt-stress", Static).update(stress_table)
        charts = self.query_one(BacktestCharts)
        lines = lambda curves: [(c.name, c.points) for c in curves]  # noqa: E731
        mc = shown.report.monte_carlo
        capital = None if mc is None else mc.capital
        charts.show(lines(shown.equity), lines(shown.drawdown), lines(shown.fan), capital, private=private)
        self.query_one("#bt-mc", Static).update(_mc_text(shown, private, narrow))
        notes = [view.reconciled_line(shown, private=private), *shown.report.notes]
        self.query_one("#bt-notes", Static).update("\n".join(notes))


def table(columns: Sequence[Column], rows: Iterable[Sequence[view.Cell]]) -> Content:
    """A small fixed-width table: a header on the panel colour, then one line per row, each cell in its
    tone. (A results table has no cursor: every row keeps its colours.)"""

    def line(cells: Sequence[tuple[str, str]]) -> Content:
        parts = []
        for (_, width, left), (text, tone) in zip(columns, cells, strict=True):
            text = text[:width].ljust(width) if left else text[:width].rjust(width)
            parts.append(Content.styled(f" {text} ", TONE_STYLES.get(tone, "")))
        return Content("").join(parts)

    header = line([(name, "strong") for name, _, _ in columns])
    head = header.stylize("on $panel")
    return Content("\n").join([head, *(line(cells) for cells in rows)])


def tables(
    columns: Sequence[Column],
    rows: Iterable[Sequence[view.Cell]],
    split: Sequence[Sequence[int]] | None,
) -> Content:
    """``table``, whole, or ``split`` into one table per group of column indices, one under another."""
    if split is None:
        return table(columns, rows)
    listed = list(rows)
    parts = [table([columns[i] for i in group], [[r[i] for i in group] for r in listed]) for group in split]
    return Content("\n").join(parts)


def _replace(setup: view.Setup, changes) -> view.Setup:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(setup, **dict(changes))


def _settings_line(s: view.Setup, private: bool) -> Content:
    def part(key: str, label: str, value: str) -> Content:
        return Content.assemble((key, "bold $text-accent"), f" {label} ", (value, "bold $text"))

    paths = f"{s.paths:,} paths" if s.paths else "off"
    parts = [
        part("s", "strategy", s.strategy),
        part("d", "dates", s.span_text),
        part("f", "bars", s.timeframe),
        part("c", "capital", fmt.money(s.capital, private=private, decimals=0)),
        part("m", "Monte Carlo", paths),
        part("w", "window", s.stress[0] if s.stress else "—"),
    ]
    return Content("  ").join(parts)


def _mc_text(shown: view.Shown, private: bool, narrow: bool = False) -> Content:
    lines = view.monte_carlo_lines(shown, private=private)
    if narrow:  # one figure a line rather than lines wrapped inside a figure
        lines = [part for line in lines for part in line.split(" · ")]
    label = Content.styled(f"{'Monte Carlo':<13}", "bold $text-primary")
    pad = Content(" " * 13)
    return Content("\n").join(
        [Content.assemble(label if i == 0 else pad, Content(line)) for i, line in enumerate(lines)]
    )
