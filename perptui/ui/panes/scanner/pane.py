"""The funding scanner pane (key 3): every linear perp of the exchange in one live table.

A chained poll reads the current rates and tickers every ``scan.refresh_s`` while the pane is shown,
joins them with the cached history in a thread and hands the rows to the table, which writes only the
cells that changed, keeping the sort, the cursor and the scroll. The first live scan starts the history
backfill in the background (a progress bar; the statistics fill in stage by stage). The side panel shows
the perp under the cursor; Enter opens it in the sizing pane. Workers post their results as messages
(``messages``); a hidden pane keeps them and draws them when shown again.

Layout: the table gets the width. Under 100 columns (``-narrow``) the side panel folds and ``i`` shows
it over the table's right side (the symbol and the rate stay in view), and the filter bar's labels
shorten; under 30 rows (``-short``) the margins go. On a wide terminal the panel sits beside the table
and ``i`` hides or shows it (remembered).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Input

from perptui.ui.context import AppContext
from perptui.ui.keymap import binding
from perptui.ui.panes.base import Pane, PaneCommand
from perptui.ui.panes.scanner import data, memory
from perptui.ui.panes.scanner.columns import View, sort_key_of_column, step_sort
from perptui.ui.panes.scanner.detail import ScanDetail
from perptui.ui.panes.scanner.filter_bar import FilterBar
from perptui.ui.panes.scanner.heading import ScanHeading
from perptui.ui.panes.scanner.messages import (
    AlertSaved,
    BackfillDone,
    BackfillProgress,
    HistoryLoaded,
    Polled,
    PollFailed,
    Reconnecting,
    StatsRecomputed,
    ViewNotRemembered,
)
from perptui.ui.panes.scanner.scan_table import ScanTable
from perptui.ui.panes.scanner.spreads_view import SpreadsView
from perptui.ui.panes.scanner.status_line import StatusLine
from perptui.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from perptui.domain.scanner import CarryCosts, ScanRow
    from perptui.domain.types import Market
    from perptui.services.scan import ExchangeScan

#: Actions that are keys on the table; while a filter field has the focus the keys type into it.
_TABLE_ACTIONS = {
    "filter", "min_volume", "min_apr", "sort_step", "reverse", "toggle_cross", "toggle_detail", "alert_me"
}  # fmt: skip
#: Under this many columns the side panel folds; under this many rows the margins go.
NARROW_WIDTH = 100
SHORT_HEIGHT = 30
#: The backfill runs again this long after the last one finished (it then asks only for new prints).
BACKFILL_EVERY_MS = 10 * 60_000
HISTORY_DEBOUNCE_S = 0.15


class ScannerPane(Pane):
    TITLE = "Scan"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("scan_filter", "slash", "filter", "Filter", "Filter the perps by text (symbol)"),
        binding(
            "scan_min_volume",
            "v",
            "min_volume",
            "Min vol",
            "Hide perps under a 24h volume in USD",
            show=False,
        ),
        binding(
            "scan_min_apr", "a", "min_apr", "Min |APR|", "Hide perps under an |APR| in percent", show=False
        ),
        binding(
            "scan_sort_prev", "comma", "sort_step(-1)", "Sort ‹", "Sort by the column to the left", show=False
        ),
        binding(
            "scan_sort_next", "full_stop", "sort_step(1)", "Sort ‹ ›", "Sort by the next column (, goes back)"
        ),
        binding("scan_reverse", "r", "reverse", "Reverse", "Reverse the sort"),
        binding("scan_size", "enter", "size_selected", "Size it", "Open the sizing pane on this perp"),
        binding(
            "scan_alert",
            "n",
            "alert_me",
            "Alert",
            "Alert me when this perp's funding flips sign (or its |APR| or |z-score| passes a level)",
        ),
        binding("scan_cross", "x", "toggle_cross", "Cross-exch", "Funding spreads across exchanges"),
        binding(
            "scan_detail",
            "i",
            "toggle_detail",
            "Panel",
            "Show or hide the side panel (folded under 100 columns: i shows it over the table)",
        ),
        binding("scan_done", "escape", "leave_field", "Done", "Back to the table", show=False),
    ]

    def __init__(self, ctx: AppContext, *, id: str) -> None:
        super().__init__(ctx, id=id)
        self.view = memory.ScanView.defaults(ctx.settings.scan)
        self.view_loaded = False
        self.perps: data.Perps | None = None
        self.last: data.Scanned | None = None
        self.others: list[ExchangeScan] = []
        self.other_notes: list[str] = []
        self.rows: dict[str, ScanRow] = {}
        self.live_at: int | None = None  # when the rates were last read from the exchange
        self.reconnecting = ""  # what the status line says while the poll's requests are retried
        self.backfilling: list[str] | None = None  # the symbols of the running backfill
        self.backfill_done_at: int | None = None
        self.history: tuple[str, list[tuple[int, float]]] | None = None  # (row key, prints)
        self._history_timer: Timer | None = None
        self._dirty = False
        #: Under 100 columns the side panel folds; ``i`` shows it over the table's right side.
        self.detail_overlay = False
        self.heading = ScanHeading(id="scan-heading")
        self.bar = FilterBar(id="scan-bar")
        self.table = ScanTable(id="scan-table")
        self.spreads = SpreadsView(id="scan-cross")
        self.detail = ScanDetail(id="scan-detail")
        self.status_line = StatusLine(id="scan-message")

    def compose(self) -> ComposeResult:
        yield self.heading
        yield self.bar
        with Horizontal(id="scan-body"):
            with ContentSwitcher(initial="scan-table", id="scan-views"):
                yield self.table
                yield self.spreads
            yield self.detail
        yield self.status_line

    def on_resize(self, event: events.Resize) -> None:
        width, height = self.app.size
        narrow = width < NARROW_WIDTH
        if narrow != self.has_class("-narrow"):
            self.detail_overlay = False  # a folded panel comes back only with i
        self.set_class(narrow, "-narrow")
        self.set_class(height < SHORT_HEIGHT, "-short")
        self.bar.fold(narrow)
        self.show_detail_panel()

    @property
    def costs(self) -> CarryCosts:
        from perptui.services.scan_costs import carry_costs

        return carry_costs(self.ctx.settings.scan)

    def focus_target(self) -> Widget:
        return self.spreads.table if self.view.cross else self.table

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.app.focused, Input)
        if action in _TABLE_ACTIONS:
            return not typing
        if action == "leave_field":
            return typing
        if action in ("size_selected", "alert_me"):
            return not typing and not self.view.cross
        return True

    def activated(self) -> None:
        super().activated()
        if self._dirty:
            self.redraw()

    def refresh_data(self) -> None:
        self.poll()

    def commands(self) -> list[PaneCommand]:
        return [
            PaneCommand("Filter the scanner", "Perps whose symbol contains a text", self.action_filter),
            PaneCommand(
                "Cross-exchange funding spreads", "Toggle the spreads view", self.action_toggle_cross
            ),
        ]

    # --- the view: filters, sort, side panel, cross-exchange ---------------------------------------

    def change_view(self, **changes: object) -> None:
        self.view = replace(self.view, **changes)  # type: ignore[arg-type]  # callers pass ScanView fields by name
        self.remember_view()
        self.redraw()

    def action_filter(self) -> None:
        self.focus_now(self.bar.text_field)

    def action_min_volume(self) -> None:
        self.focus_now(self.bar.volume_field)

    def action_min_apr(self) -> None:
        self.focus_now(self.bar.apr_field)

    def action_leave_field(self) -> None:
        self.focus_now()

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.change_view(**{event.name: event.value})
        self.status_line.say("")

    def on_filter_bar_refused(self, event: FilterBar.Refused) -> None:
        self.status_line.say(event.reason, error=True)

    def on_filter_bar_done(self, event: FilterBar.Done) -> None:
        self.focus_now()

    def action_sort_step(self, step: int) -> None:
        self.sort_by(step_sort(self.view.sort, step), toggle=False)

    def action_reverse(self) -> None:
        self.change_view(descending=not self.view.descending)
        self.table.show_sort(self.view.sort, self.view.descending)

    def sort_by(self, key: str, *, toggle: bool = True) -> None:
        view = self.view.sorted_by(key) if toggle or key != self.view.sort else self.view
        self.change_view(sort=view.sort, descending=view.descending)
        self.table.show_sort(self.view.sort, self.view.descending)

    def on_live_table_header_clicked(self, event: LiveTable.HeaderClicked) -> None:
        event.stop()
        if event.table is self.table:
            self.sort_by(sort_key_of_column(event.column_key))

    def action_toggle_detail(self) -> None:
        if self.has_class("-narrow"):
            self.detail_overlay = not self.detail_overlay
        else:
            self.change_view(detail=not self.view.detail)
        self.show_detail_panel()

    def action_toggle_cross(self) -> None:
        self.change_view(cross=not self.view.cross)
        self.show_cross()
        self.focus_now()
        self.refresh_bindings()
        if self.view.cross:
            self.refresh_data()  # the other exchanges are read only while this view is shown

    def show_cross(self) -> None:
        """The cross-exchange view or the perps, as the view says."""
        switcher = self.query_one("#scan-views", ContentSwitcher)
        switcher.current = "scan-cross" if self.view.cross else "scan-table"

    def show_view_settings(self) -> None:
        """Put the remembered view in the fields and the layout."""
        self.bar.show_view(self.view)
        self.show_detail_panel()
        self.show_cross()
        self.table.show_sort(self.view.sort, self.view.descending)

    # --- Enter: size the perp ----------------------------------------------------------------------

    def on_live_table_selected(self, event: LiveTable.Selected) -> None:
        event.stop()
        if event.table is self.table:
            self.action_size_selected()

    def action_size_selected(self) -> None:
        """Size the perp on the side that earns its funding: short when the rate is positive (longs pay
        shorts), long when it is negative; the form's side when it is zero or unknown."""
        row = self.selected_row()
        if row is None or self.view.cross:
            return
        rate = row.funding_rate
        side = None if not rate else ("short" if rate > 0 else "long")
        sizing = self.app.pane("sizing")  # type: ignore[attr-defined]  # textual's Widget.app is App; pane() is PerptuiApp's
        self.app.show_pane("sizing")  # type: ignore[attr-defined]  # textual's Widget.app is App; show_pane() is PerptuiApp's
        sizing.open_symbol(row.symbol, side)
        if side is not None:
            earns = f"sizing a {side.upper()} on {row.base}: it earns the funding ({rate:+.4%})"
            self.notify(earns, timeout=4)

    # --- n: alert me when ... ----------------------------------------------------------------------

    def action_alert_me(self) -> None:
        """The rule form for the perp under the cursor: its funding flipping sign by default; its
        current |APR| and |z-score| are the starting thresholds of those kinds."""
        from perptui.ui.screens.alerts.fields import FormValues
        from perptui.ui.screens.alerts.screen import rule_form

        row = self.selected_row()
        if row is None or self.view.cross:
            self.notify("no perp selected: the table is empty", severity="warning", timeout=3)
            return
        suggested: dict[str, float] = {}
        if row.apr is not None and round(abs(row.apr) * 100, 1) > 0:
            suggested["funding_apr"] = round(abs(row.apr) * 100, 1)
        if row.zscore_30d is not None and round(abs(row.zscore_30d), 1) > 0:
            suggested["funding_z"] = round(abs(row.zscore_30d), 1)
        values = FormValues(kind="funding_flip", market=row.symbol, suggested=suggested)
        form = rule_form(self.ctx, f"Alert me when … {row.symbol}", values)
        self.app.push_screen(form, self.save_alert)

    def save_alert(self, fields: dict[str, object] | None) -> None:
        if fields is not None:
            self._save_alert(fields)

    @work(thread=True, group="scan-alert", exit_on_error=False, name="scan-alert")
    def _save_alert(self, fields: dict[str, object]) -> None:
        from perptui.ui.screens.alerts import changes

        try:
            rule = changes.add(self.ctx, fields)
        except Exception as exc:  # a refused rule or a database error: one line
            self.post_message(AlertSaved(None, f"alert rule not saved: {exc}"))
        else:
            self.post_message(
                AlertSaved(f"alert rule added, {changes.summary(rule)} (a on the risk pane lists them)")
            )

    def on_alert_saved(self, saved: AlertSaved) -> None:
        if saved.error is not None:
            self.notify(saved.error, severity="error", timeout=8)
        else:
            self.notify(saved.done or "", timeout=5)

    # --- the poll ----------------------------------------------------------------------------------

    @work(exclusive=True, group="scan-poll", exit_on_error=False, name="scan-poll")
    async def poll(self) -> None:
        from perptui.services.exchanges.retry import retries_reported_to

        view, loaded = self.view, self.view_loaded
        try:
            # Retries of this poll's requests say "reconnecting" until the answer, or the cache, arrives.
            with retries_reported_to(lambda notice: self.post_message(Reconnecting(notice.text()))):
                poll = await data.poll(self.ctx, self.perps, view, view_loaded=loaded, costs=self.costs)
        except Exception as exc:
            self.post_message(PollFailed(exc))
        else:
            self.post_message(Polled(poll))

    def on_reconnecting(self, event: Reconnecting) -> None:
        self.reconnecting = event.text
        self.status_line.say(f"{event.text}…")

    def on_polled(self, polled: Polled) -> None:
        poll = polled.poll
        if self.reconnecting:
            self.reconnecting = ""
            self.status_line.say("")  # the heading says live, or CACHED with why and how old
        self.perps = poll.perps
        if poll.view is not None and not self.view_loaded:
            self.view, self.view_loaded = poll.view, True
            self.show_view_settings()
        self.others, self.other_notes = poll.others, poll.other_notes
        self.apply_scan(poll.scanned)
        if poll.scanned.fetched is not None:
            self.live_at = poll.scanned.scan.asof
            self.backfill_if_due()
        self.schedule_next(self.ctx.settings.scan.refresh_s)

    def on_poll_failed(self, failed: PollFailed) -> None:
        self.reconnecting = ""
        self.status_line.say(f"could not scan: {failed.error}", error=True)
        self.schedule_next(self.ctx.settings.scan.refresh_s)

    def apply_scan(self, scanned: data.Scanned) -> None:
        self.last = scanned
        self.rows = {row.key: row for row in scanned.scan.rows}
        self.redraw()

    # --- drawing ----------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Hand the filtered, sorted rows to the tables (only changed cells are written)."""
        if not self.active:
            self._dirty = True  # hidden: draw when shown again
            return
        self._dirty = False
        now, settings = self.ctx.clock.now_ms(), self.ctx.settings.scan
        shown = self.view.select(self.rows.values())
        self.table.show_rows(shown, View(now, settings.hold_days))
        self.draw_spreads()
        if self.last is not None:
            stale_after_ms = 3_000 * settings.refresh_s  # three polls missed
            counts = (len(shown), len(self.rows))
            self.heading.show(self.last, *counts, self.view, self.live_at, now, stale_after_ms)
        self.show_detail()

    def draw_spreads(self) -> None:
        if not self.ctx.settings.scan.exchanges:
            self.spreads.show_single(self.ctx.exchange_name)
            return
        from perptui.domain.scanner import spreads

        rows = [*self.rows.values(), *(r for s in self.others for r in s.rows)]
        exchanges = [self.ctx.exchange_name, *(s.exchange for s in self.others)]
        hold = self.ctx.settings.scan.hold_days
        self.spreads.show(spreads(rows, self.costs), exchanges, hold, self.other_notes)

    # --- the side panel ----------------------------------------------------------------------------

    def selected_row(self) -> ScanRow | None:
        key = self.table.cursor_key
        return self.rows.get(key) if key is not None else None

    def on_live_table_highlighted(self, event: LiveTable.Highlighted) -> None:
        if event.table is self.table:
            self.show_detail()

    @property
    def detail_shown(self) -> bool:
        """The side panel is on screen: as remembered on a wide terminal, as an overlay on a narrow one."""
        return self.detail_overlay if self.has_class("-narrow") else self.view.detail

    def show_detail_panel(self) -> None:
        """The side panel beside the table (wide), over its right side (narrow, after i), or folded."""
        shown = self.detail_shown
        self.detail.set_class(self.has_class("-narrow"), "-overlay")
        if shown != self.detail.display:
            self.detail.display = shown
            if shown:
                self.show_detail()

    def show_detail(self) -> None:
        if not self.detail_shown or not self.active:
            return
        row = self.selected_row()
        prints = self.history[1] if row is not None and self.history and self.history[0] == row.key else None
        self.detail.show(row, prints, self.ctx.clock.now_ms())
        if row is not None and prints is None:
            if self._history_timer is not None:
                self._history_timer.stop()
            self._history_timer = self.set_timer(HISTORY_DEBOUNCE_S, lambda: self.load_history(row))

    @work(thread=True, exclusive=True, group="scan-history", exit_on_error=False, name="scan-history")
    def load_history(self, row: ScanRow) -> None:
        ScanDetail.preload()
        self.post_message(HistoryLoaded(row.key, data.history(self.ctx, row.exchange, row.symbol)))

    def on_history_loaded(self, loaded: HistoryLoaded) -> None:
        self.history = (loaded.key, loaded.prints)
        self.show_detail()

    # --- the backfill ------------------------------------------------------------------------------

    def backfill_if_due(self) -> None:
        now = self.ctx.clock.now_ms()
        if self.backfilling is not None or self.ctx.settings.offline:
            return
        if self.backfill_done_at is not None and now - self.backfill_done_at < BACKFILL_EVERY_MS:
            return
        symbols = data.backfill_order(self.rows, self.table.keys_in_order())
        if symbols:
            self.backfilling = symbols
            self.backfill(symbols)

    @work(exclusive=True, group="scan-backfill", exit_on_error=False, name="scan-backfill")
    async def backfill(self, symbols: list[str]) -> None:
        def progress(done: int, total: int, symbol: str) -> None:
            self.post_message(BackfillProgress(done, total, symbol))

        try:
            report = await data.backfill(self.ctx, symbols, progress)
        except Exception as exc:
            self.post_message(BackfillDone(None, exc))
        else:
            self.post_message(BackfillDone(report))

    def on_backfill_progress(self, message: BackfillProgress) -> None:
        if self.backfilling is None:
            return
        per_stage = max(1, len(self.backfilling))
        self.bar.show_progress(message.done, message.total, message.symbol, per_stage)
        if message.done % per_stage == 0:  # a stage is complete: its statistics can show now
            self.restat()

    def on_backfill_done(self, done: BackfillDone) -> None:
        self.backfilling = None
        self.backfill_done_at = self.ctx.clock.now_ms()
        self.bar.end_progress()
        self.status_line.show_backfill(done.report, done.error)
        self.restat()

    def restat(self) -> None:
        if self.last is not None and self.perps is not None:
            self._restat(self.last, self.perps.markets)

    @work(thread=True, exclusive=True, group="scan-restat", exit_on_error=False, name="scan-restat")
    def _restat(self, last: data.Scanned, markets: list[Market]) -> None:
        self.post_message(StatsRecomputed(last, data.restat(self.ctx, last, markets, self.costs)))

    def on_stats_recomputed(self, recomputed: StatsRecomputed) -> None:
        if recomputed.started_from is self.last:  # a newer poll already holds the new history otherwise
            self.apply_scan(recomputed.scanned)
        self.history = None  # the selected perp's new prints
        self.show_detail()

    # --- remembering -------------------------------------------------------------------------------

    def remember_view(self) -> None:
        if self.view_loaded:  # not read yet: saving now would overwrite it
            self.remember(self.view, self.ctx.exchange_name)

    @work(thread=True, group="scan-remember", exit_on_error=False, name="scan-remember")
    def remember(self, view: memory.ScanView, exchange: str) -> None:
        try:
            memory.save(self.ctx.store(), exchange, view, self.ctx.clock.now_ms())
        except Exception as exc:
            self.post_message(ViewNotRemembered(exc))

    def on_view_not_remembered(self, failed: ViewNotRemembered) -> None:
        self.notify(f"could not remember the scanner's view: {failed.error}", severity="warning")
