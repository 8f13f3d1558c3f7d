"""The scanner's workers and drawing: the chained poll (perps and the remembered view on the first, then
the rates every ``scan.refresh_s``), the history backfill with its progress, re-reading the statistics
after each backfill stage, the selected perp's prints for the side panel, and the redraw that hands
only what changed to the tables. Results come back to ``on_worker_state_changed`` on the UI thread;
a hidden pane keeps its results and draws them when shown again."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.timer import Timer
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, WorkerState

from perptui.presentation import numbers as fmt
from perptui.ui.panes import scanner_data as data
from perptui.ui.panes import scanner_memory as memory
from perptui.ui.panes.base import Pane
from perptui.ui.panes.scanner_columns import View, cells, column_of_sort_key
from perptui.ui.panes.scanner_detail import ScanDetail
from perptui.ui.panes.scanner_spreads import spread_cells
from perptui.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from perptui.domain.scanner import CarryCosts, ScanRow
    from perptui.services.scan import BackfillReport, ExchangeScan

#: The backfill runs again this long after the last one finished (it then asks only for new prints).
BACKFILL_EVERY_MS = 10 * 60_000
HISTORY_DEBOUNCE_S = 0.15


@dataclass(frozen=True, slots=True)
class Polled:
    perps: data.Perps
    view: memory.ScanView | None  # read on the first poll only
    scanned: data.Scanned
    others: list[ExchangeScan] = field(default_factory=list)
    other_notes: list[str] = field(default_factory=list)


class BackfillProgress(Message):
    """Posted from the backfill (any thread); a newer one replaces a queued older one."""

    def __init__(self, done: int, total: int, symbol: str) -> None:
        super().__init__()
        self.done, self.total, self.symbol = done, total, symbol

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BackfillProgress)


class ScannerSync(Pane):
    def __init__(self, ctx, *, id: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx, id=id)
        self.view = memory.ScanView.defaults(ctx.settings.scan)
        self.view_loaded = False
        self.perps: data.Perps | None = None
        self.last: data.Scanned | None = None
        self.others: list[ExchangeScan] = []
        self.other_notes: list[str] = []
        self.rows: dict[str, ScanRow] = {}
        self.live_at: int | None = None  # when the rates were last read from the exchange
        self.backfilling: list[str] | None = None  # the symbols of the running backfill
        self.backfill_done_at: int | None = None
        self.backfill_note = ""
        self.history: tuple[str, list[tuple[int, float]]] | None = None  # (row key, prints)
        self._history_timer: Timer | None = None
        self._dirty = False
        #: Under 100 columns the side panel folds; ``i`` shows it over the table's right side.
        self.detail_overlay = False

    # the pane's widgets (scanner.py)
    table: LiveTable
    spreads_table: LiveTable

    def show_view_settings(self) -> None: ...
    def show_sort_headers(self) -> None: ...

    @property
    def costs(self) -> CarryCosts:
        from perptui.services.scan_costs import carry_costs

        return carry_costs(self.ctx.settings.scan)

    # --- the poll ----------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.poll()

    @work(exclusive=True, group="scan-poll", exit_on_error=False, name="scan-poll")
    async def poll(self) -> Polled:
        ctx, exchange, costs = self.ctx, self.ctx.exchange_name, self.costs
        source = await data.source_of(ctx)
        perps = self.perps
        if perps is None or (perps.cached and source is not None):
            perps = await data.perps(ctx, source, exchange)
        view = None
        if not self.view_loaded:
            store = await asyncio.to_thread(ctx.store)
            view = await asyncio.to_thread(memory.load, store, exchange, self.view)
        scanned = await data.scan(ctx, source, exchange, perps.markets, costs)
        others, notes = [], []
        if self.view.cross or (view is not None and view.cross):
            bases = {m.base for m in perps.markets}
            others, notes = await data.other_exchanges(ctx, costs, bases)
        return Polled(perps, view, scanned, others, notes)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if worker.name == "scan-poll":
            if state is WorkerState.SUCCESS:
                self.apply_poll(worker.result)
            else:
                self.say(f"could not scan: {worker.error}", error=True)
            self.schedule_next(self.ctx.settings.scan.refresh_s)
        elif worker.name == "scan-restat" and state is WorkerState.SUCCESS:
            started_from, scanned = worker.result
            if started_from is self.last:  # a newer poll already holds the new history otherwise
                self.apply_scan(scanned)
            self.history = None  # the selected perp's new prints
            self.show_detail()
        elif worker.name == "scan-backfill":
            self.backfill_finished(worker.result if state is WorkerState.SUCCESS else None, worker.error)
        elif worker.name == "scan-history" and state is WorkerState.SUCCESS:
            self.history = worker.result
            self.show_detail()
        elif worker.name == "scan-remember" and state is WorkerState.ERROR:
            self.notify(f"could not remember the scanner's view: {worker.error}", severity="warning")

    def apply_poll(self, polled: Polled) -> None:
        self.perps = polled.perps
        if polled.view is not None and not self.view_loaded:
            self.view, self.view_loaded = polled.view, True
            self.show_view_settings()
        self.others, self.other_notes = polled.others, polled.other_notes
        self.apply_scan(polled.scanned)
        if polled.scanned.fetched is not None:
            self.live_at = polled.scanned.scan.asof
            self.backfill_if_due()

    def apply_scan(self, scanned: data.Scanned) -> None:
        self.last = scanned
        self.rows = {row.key: row for row in scanned.scan.rows}
        self.redraw()

    # --- drawing ----------------------------------------------------------------------------------

    def activated(self) -> None:
        super().activated()
        if self._dirty:
            self.redraw()

    def redraw(self) -> None:
        """Hand the filtered, sorted rows to the table (only changed cells are written)."""
        if not self.active:
            self._dirty = True  # hidden: draw when shown again
            return
        self._dirty = False
        from perptui.domain.scanner import filter_rows, sort_rows

        v = self.view
        shown = filter_rows(
            self.rows.values(),
            min_volume=v.min_volume_usd or None,
            min_abs_apr=v.min_apr or None,
            text=v.text,
        )
        ordered = sort_rows(shown, v.sort, descending=v.descending)
        look = View(self.ctx.clock.now_ms(), self.ctx.settings.scan.hold_days)
        self.table.show({row.key: cells(row, look) for row in ordered}, [row.key for row in ordered])
        self.shown_count = len(ordered)
        self.draw_spreads()
        self.show_heading()
        self.show_detail()

    def draw_spreads(self) -> None:
        from perptui.domain.scanner import spreads

        note = self.query_one("#scan-cross-note", Static)
        if not self.ctx.settings.scan.exchanges:
            note.update(
                f"Funding spreads need more than one exchange: {self.ctx.exchange_name} is the only one "
                'configured. List others in the config file, e.g. [scan] exchanges = ["bybit", "okx"], '
                "to compare their funding per hour here (perptui config shows the file)."
            )
            self.spreads_table.show({}, [])
            return
        rows = [*self.rows.values(), *(r for s in self.others for r in s.rows)]
        found = spreads(rows, self.costs)
        hold = self.ctx.settings.scan.hold_days
        self.spreads_table.show({s.base: spread_cells(s, hold) for s in found}, [s.base for s in found])
        names = ", ".join([self.ctx.exchange_name, *(s.exchange for s in self.others)])
        lines = [f"{len(found)} assets listed on several of {names}; per hour, net of four taker fills "
                 f"and slippage, held {hold:g} days"]  # fmt: skip
        lines += self.other_notes
        note.update("\n".join(lines))

    def show_heading(self) -> None:
        heading = self.query_one("#scan-heading", Static)
        last = self.last
        if last is None:
            return
        scan, now = last.scan, self.ctx.clock.now_ms()
        total = len(self.rows)
        column = column_of_sort_key(self.view.sort)
        sort = "|APR|" if self.view.sort == "abs_apr" else column.spec.header if column else self.view.sort
        parts = [f"{scan.exchange} · {getattr(self, 'shown_count', total)} of {total} perps"]
        cached = last.fetched is None
        stale = self.live_at is not None and now - self.live_at > 3_000 * self.ctx.settings.scan.refresh_s
        if cached:
            age = (
                "no tickers cached"
                if scan.cached_as_of is None
                else f"tickers {fmt.age(now - scan.cached_as_of)} old"
            )
            parts.append(f"CACHED: {last.error} · {age}")
        elif stale:
            parts.append(f"STALE: rates {fmt.age(now - (self.live_at or now))} old")
        else:
            parts.append(f"live · {time.strftime('%H:%M:%S', time.gmtime(scan.asof / 1000))} UTC")
        parts.append(f"by {sort} {'▼' if self.view.descending else '▲'}")
        heading.update(" · ".join(parts))
        heading.set_class(cached or stale, "-stale")

    def say(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#scan-message", Static)
        line.update(text or self.backfill_note)
        line.set_class(error, "-error")

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

    def show_detail(self) -> None:
        if not self.detail_shown or not self.active:
            return
        row = self.selected_row()
        prints = self.history[1] if row is not None and self.history and self.history[0] == row.key else None
        self.query_one(ScanDetail).show(row, prints, self.ctx.clock.now_ms())
        if row is not None and prints is None:
            if self._history_timer is not None:
                self._history_timer.stop()
            self._history_timer = self.set_timer(HISTORY_DEBOUNCE_S, lambda: self.load_history(row))

    @work(thread=True, exclusive=True, group="scan-history", exit_on_error=False, name="scan-history")
    def load_history(self, row: ScanRow) -> tuple[str, list[tuple[int, float]]]:
        ScanDetail.preload()
        return row.key, data.history(self.ctx, row.exchange, row.symbol)

    # --- the backfill ------------------------------------------------------------------------------

    def backfill_if_due(self) -> None:
        now = self.ctx.clock.now_ms()
        if self.backfilling is not None or self.ctx.settings.offline:
            return
        if self.backfill_done_at is not None and now - self.backfill_done_at < BACKFILL_EVERY_MS:
            return
        # The perps in the table's order first (what the trader sees), then the filtered-out ones.
        shown = self.table.keys_in_order()
        symbols = [self.rows[k].symbol for k in shown if k in self.rows]
        symbols += [r.symbol for r in self.rows.values() if r.symbol not in set(symbols)]
        if symbols:
            self.backfilling = symbols
            self.backfill(symbols)

    @work(exclusive=True, group="scan-backfill", exit_on_error=False, name="scan-backfill")
    async def backfill(self, symbols: list[str]) -> BackfillReport | None:
        return await data.backfill(self.ctx, symbols, lambda *a: self.post_message(BackfillProgress(*a)))

    def on_backfill_progress(self, message: BackfillProgress) -> None:
        if self.backfilling is None:
            return
        bar = self.query_one("#scan-progress", ProgressBar)
        label = self.query_one("#scan-progress-label", Static)
        from perptui.services.scan import BACKFILL_STAGES

        per_stage = max(1, len(self.backfilling))
        stage = min((message.done - 1) // per_stage, len(BACKFILL_STAGES) - 1)
        label.update(f"history {BACKFILL_STAGES[stage]}d · {message.symbol.split('/')[0]}")
        if message.done < message.total:
            bar.display = True
            label.display = not self.has_class("-narrow")  # under 100 columns the bar alone fits
        bar.update(total=message.total, progress=message.done)
        if message.done % per_stage == 0:  # a stage is complete: its statistics can show now
            self.restat()

    def backfill_finished(self, report: BackfillReport | None, error: BaseException | None) -> None:
        self.backfilling = None
        self.backfill_done_at = self.ctx.clock.now_ms()
        self.query_one("#scan-progress").display = False
        self.query_one("#scan-progress-label").display = False
        if error is not None:
            self.backfill_note = f"history backfill stopped ({error}); the statistics use what is cached"
        elif report is not None and report.skipped:
            listed = ", ".join(sorted(report.skipped)[:3]) + (" …" if len(report.skipped) > 3 else "")
            self.backfill_note = f"no funding history for {len(report.skipped)} perp(s): {listed}"
        else:
            self.backfill_note = ""
        self.say("")
        self.restat()

    def restat(self) -> None:
        if self.last is not None and self.perps is not None:
            self._restat(self.last, self.perps.markets)

    @work(thread=True, exclusive=True, group="scan-restat", exit_on_error=False, name="scan-restat")
    def _restat(self, last: data.Scanned, markets: list) -> tuple[data.Scanned, data.Scanned]:  # type: ignore[type-arg]
        return last, data.restat(self.ctx, last, markets, self.costs)

    # --- remembering -------------------------------------------------------------------------------

    def remember_view(self) -> None:
        if not self.view_loaded:
            return  # the remembered view is not read yet: saving now would overwrite it
        view, exchange = self.view, self.ctx.exchange_name
        self.run_worker(
            lambda: memory.save(self.ctx.store(), exchange, view, self.ctx.clock.now_ms()),
            thread=True,
            group="scan-remember",
            name="scan-remember",
            exit_on_error=False,
        )
