"""The backtest results view, opened from the allocation pane: the plan's strategy run over history with
its settings and capital, then the equity and drawdown of each layer, the metrics table, the stress
windows, the Monte Carlo fan and the notes.

A choice cycles in place (strategy, timeframe); a number or a date is typed in a dialog (bad input: a
one-line message in the dialog, nothing changes). Every change runs again in a worker thread (``run``)
with a progress bar; a newer run cancels the older one, and whatever the older one still posts is
ignored. ``e`` writes the run's ledgers as CSV files.

Layout: the metrics come first. Under 100 columns (``-narrow``) the metrics and stress tables are drawn
as two tables each (the first column repeated), so no row wraps; under 30 rows (``-short``) the charts
fold (``v`` brings them back, or hides them on a taller terminal). What does not fit scrolls (j/k,
page up/down).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from perptui.ui.keymap import binding
from perptui.ui.screens.backtest import edits
from perptui.ui.screens.backtest.cells import (
    METRIC_COLUMNS,
    METRIC_SPLIT,
    STRESS_COLUMNS,
    STRESS_SPLIT,
    metric_rows,
    stress_rows,
)
from perptui.ui.screens.backtest.heading import BacktestHeading
from perptui.ui.screens.backtest.messages import Progressed, RunDone, RunFailed
from perptui.ui.screens.backtest.monte_carlo import MonteCarloSummary
from perptui.ui.screens.backtest.notes import RunNotes
from perptui.ui.screens.backtest.progress import RunProgress
from perptui.ui.screens.backtest.result_table import ResultTable
from perptui.ui.screens.backtest.run import Stopped, one_line, run_backtest
from perptui.ui.screens.backtest.series import Shown, lines
from perptui.ui.screens.backtest.settings_line import SettingsLine
from perptui.ui.screens.backtest.setup import Setup, date_text
from perptui.ui.widgets.backtest_charts import BacktestCharts
from perptui.ui.widgets.dialogs import FormDialog
from perptui.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from perptui.ui.context import AppContext

#: Under this many columns the tables split; under this many rows the charts fold.
NARROW_WIDTH = 100
SHORT_HEIGHT = 30


class BacktestScreen(Screen[None]):
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
    BacktestScreen.-short #bt-notes-box { max-height: 100; }
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

    def __init__(self, ctx: AppContext, setup: Setup) -> None:
        super().__init__()
        self.ctx = ctx
        self.setup = setup
        self.shown: Shown | None = None
        self.running = False
        self.error: str | None = None
        self._worker: Worker[None] | None = None
        self.charts_flipped = False  # v: the charts shown although folded for the height, or hidden

    def compose(self) -> ComposeResult:
        yield BacktestHeading(id="bt-heading")
        yield SettingsLine("", id="bt-settings")
        yield RunProgress(id="bt-progress")
        yield ResultTable(METRIC_COLUMNS, METRIC_SPLIT, metric_rows, id="bt-metrics")
        yield BacktestCharts(id="bt-charts")
        yield Static("charts folded to fit the terminal's height: v shows them", id="bt-charts-folded")
        yield MonteCarloSummary("", id="bt-mc")
        yield ResultTable(STRESS_COLUMNS, STRESS_SPLIT, stress_rows, id="bt-stress")
        yield RunNotes(id="bt-notes-box")
        yield KeysFooter()

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

    # --- the run -----------------------------------------------------------------------------------

    def run(self) -> None:
        """Start a run of the current setup (replacing a running one)."""
        self.running = True
        self.error = None
        self.query_one(RunProgress).show(0, None, "loading the history…")
        self.redraw()
        self._worker = self.run_worker_thread(self.setup)

    @work(thread=True, exclusive=True, exit_on_error=False, group="backtest")
    def run_worker_thread(self, setup: Setup) -> None:
        worker = get_current_worker()

        def progress(done: int, total: int | None, label: str) -> None:
            if worker.is_cancelled:
                raise Stopped
            self.post_message(Progressed(worker, done, total, label))

        try:
            shown = run_backtest(self.ctx, self.app, setup, progress)
        except Stopped:
            return
        except Exception as exc:  # said in one line: the heading and a notification
            self.post_message(RunFailed(worker, one_line(exc)))
            return
        self.post_message(RunDone(worker, shown))

    def on_progressed(self, message: Progressed) -> None:
        if message.worker is self._worker and self.running:
            self.query_one(RunProgress).show(message.done, message.total, message.label)

    def on_run_done(self, message: RunDone) -> None:
        if message.worker is self._worker:
            self.running = False
            self.shown, self.error = message.shown, None
            self.redraw()

    def on_run_failed(self, message: RunFailed) -> None:
        if message.worker is self._worker:
            self.running = False
            self.error = message.error
            self.notify(self.error, title="backtest", severity="error", timeout=8)
            self.redraw()

    # --- settings ----------------------------------------------------------------------------------

    def change(self, setup: Setup) -> None:
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

        def span(texts: list[str]) -> Setup:
            since, until = edits.parse_span(texts, now)
            return replace(s, since_ms=since, until_ms=until)

        fields = [
            ("From (UTC date)", date_text(s.since_ms)),
            ("To (UTC date, not included)", date_text(s.until_ms)),
        ]
        self.ask("Backtest span", fields, span)

    def action_edit_capital(self) -> None:
        s = self.setup
        fields = [("Capital", f"{s.capital:g}")]
        self.ask("Backtest capital", fields, lambda t: replace(s, capital=edits.parse_capital(t[0])))

    def action_edit_paths(self) -> None:
        s = self.setup
        fields = [("Monte Carlo paths (0: none)", str(s.paths))]
        self.ask("Monte Carlo", fields, lambda t: replace(s, paths=edits.parse_paths(t[0])))

    def action_edit_window(self) -> None:
        s = self.setup
        fields = [("Stress window FIRST:LAST (UTC dates; empty: none)", s.stress[0] if s.stress else "")]
        self.ask("Stress window", fields, lambda t: replace(s, stress=edits.parse_window(t[0])))

    @work(exclusive=True, group="backtest-dialog")
    async def ask(
        self, title: str, fields: list[tuple[str, str]], validate: Callable[[list[str]], Setup]
    ) -> None:
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
    async def export(self, shown: Shown) -> None:
        import asyncio

        from perptui.config.paths import data_dir
        from perptui.domain.errors import UsageError
        from perptui.services.backtest_ledger import write_ledgers

        default = edits.default_folder(str(data_dir()), shown.setup.strategy, self.ctx.clock.now_ms())
        fields = [("Folder (created when missing)", default)]
        hint = "fills.csv, funding.csv and equity.csv"
        dialog = FormDialog("Export the ledgers", fields, lambda t: edits.parse_folder(t[0]), hint=hint)
        folder = await self.app.push_screen_wait(dialog)
        if folder is None:
            return
        try:
            paths = await asyncio.to_thread(write_ledgers, shown.report.result, folder)
        except UsageError as exc:
            self.notify(str(exc), title="export", severity="error", timeout=8)
            return
        self.notify("\n".join(str(p) for p in paths), title="ledgers written", timeout=8)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        from perptui.ui.screens.help import HelpScreen

        rows = self.app.key_rows(self, "Backtest")  # type: ignore[attr-defined]  # textual's Screen.app is App; key_rows() is PerptuiApp's
        self.app.push_screen(HelpScreen("Keys · Backtest", rows))

    # --- drawing -----------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Hand the setup and the run shown to every part of the view."""
        if not self.is_mounted:
            return
        private = bool(getattr(self.app, "privacy", False))
        s, shown = self.setup, self.shown
        self.title = f"Backtest · {s.strategy}"
        self.query_one(RunProgress).set_running(self.running)
        self.query_one(SettingsLine).show(s, private=private)
        heading = self.query_one(BacktestHeading)
        heading.show(s, shown, running=self.running, error=self.error, private=private)
        if shown is None:
            return
        narrow = self.has_class("-narrow")
        report = shown.report
        self.query_one("#bt-metrics", ResultTable).show(report, private=private, narrow=narrow)
        self.query_one("#bt-stress", ResultTable).show(report, private=private, narrow=narrow)
        mc = report.monte_carlo
        capital = None if mc is None else mc.capital
        charts = self.query_one(BacktestCharts)
        charts.show(lines(shown.equity), lines(shown.drawdown), lines(shown.fan), capital, private=private)
        self.query_one(MonteCarloSummary).show(shown, private=private, narrow=narrow)
        self.query_one(RunNotes).show(shown, private=private)
