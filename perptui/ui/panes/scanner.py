"""The funding scanner pane (key 3): every linear perp of the exchange in one live table.

A chained poll (``scanner_sync``) reads the current rates and tickers every ``scan.refresh_s`` while the
pane is shown, joins them with the cached history in a thread and hands the rows to the table, which
writes only the cells that changed (``LiveTable``), keeping the sort, the cursor and the scroll. The
first live scan starts the history backfill in the background (a progress bar; the statistics fill in
stage by stage). The side panel shows the perp under the cursor; Enter opens it in the sizing pane.
The modules: ``scanner_sync`` (workers), ``scanner_columns`` and ``scanner_spreads`` (cells),
``scanner_filters`` (typed filters), ``scanner_memory`` (what survives a restart).

Layout: the table gets the width. Under 100 columns (``-narrow``) the side panel folds and ``i`` shows
it over the table's right side (the symbol and the rate stay in view), and the filter bar's labels
shorten; under 30 rows (``-short``) the margins go. On a wide terminal the panel sits beside the table
and ``i`` hides or shows it (remembered).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Input, Label, ProgressBar, Static

from perptui.ui.keymap import binding
from perptui.ui.panes.base import PaneCommand
from perptui.ui.panes.scanner_columns import COLUMNS, SPECS, column_of_sort_key
from perptui.ui.panes.scanner_detail import ScanDetail
from perptui.ui.panes.scanner_filters import (
    FilterError,
    apr_text,
    parse_min_apr,
    parse_min_volume,
    volume_text,
)
from perptui.ui.panes.scanner_spreads import SPREAD_SPECS
from perptui.ui.panes.scanner_sync import ScannerSync
from perptui.ui.widgets.live_table import LiveTable

#: Actions that are keys on the table; while a filter field has the focus the keys type into it.
_TABLE_ACTIONS = {"filter", "min_volume", "min_apr", "sort_step", "reverse", "toggle_cross", "toggle_detail"}
#: Under this many columns the side panel folds; under this many rows the margins go.
NARROW_WIDTH = 100
SHORT_HEIGHT = 30
#: The filter bar's labels: (id, wide, narrow).
BAR_LABELS = (
    ("scan-label-text", "/ filter", "/"),
    ("scan-label-volume", "v min 24h vol $", "v vol $"),
    ("scan-label-apr", "a min |APR| %", "a |APR|%"),
)


class ScannerPane(ScannerSync):
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

    def compose(self) -> ComposeResult:
        yield Static("loading the perps…", id="scan-heading", markup=False)
        with Horizontal(id="scan-bar"):
            yield Label("/ filter", classes="scan-label", id="scan-label-text")
            yield Input(placeholder="symbol", id="scan-text", compact=True)
            yield Label("v min 24h vol $", classes="scan-label", id="scan-label-volume")
            yield Input(placeholder="any", id="scan-min-volume", compact=True)
            yield Label("a min |APR| %", classes="scan-label", id="scan-label-apr")
            yield Input(placeholder="any", id="scan-min-apr", compact=True)
            yield Static("", id="scan-progress-label", markup=False)
            yield ProgressBar(id="scan-progress", show_eta=False)
        with Horizontal(id="scan-body"):
            with ContentSwitcher(initial="scan-table", id="scan-views"):
                yield LiveTable(SPECS, id="scan-table")
                with Vertical(id="scan-cross"):
                    yield Static("", id="scan-cross-note", markup=False)
                    yield LiveTable(SPREAD_SPECS, id="scan-spreads")
            yield ScanDetail(id="scan-detail")
        yield Static("", id="scan-message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#scan-progress").display = False
        self.query_one("#scan-progress-label").display = False

    def on_resize(self, event: events.Resize) -> None:
        width, height = self.app.size
        narrow = width < NARROW_WIDTH
        if narrow != self.has_class("-narrow"):
            self.detail_overlay = False  # a folded panel comes back only with i
        self.set_class(narrow, "-narrow")
        self.set_class(height < SHORT_HEIGHT, "-short")
        for label_id, wide, short in BAR_LABELS:
            self.query_one(f"#{label_id}", Label).update(short if narrow else wide)
        backfilling = self.query_one("#scan-progress").display
        self.query_one("#scan-progress-label").display = backfilling and not narrow
        self.show_detail_panel()

    @property
    def table(self) -> LiveTable:
        return self.query_one("#scan-table", LiveTable)

    @property
    def spreads_table(self) -> LiveTable:
        return self.query_one("#scan-spreads", LiveTable)

    def focus_target(self) -> Widget:
        return self.spreads_table if self.view.cross else self.table

    def focus_table(self) -> None:
        self.focus_now()

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.app.focused, Input)
        if action in _TABLE_ACTIONS:
            return not typing
        if action == "leave_field":
            return typing
        if action == "size_selected":
            return not typing and not self.view.cross
        return True

    # --- the view: filters, sort, side panel, cross-exchange ---------------------------------------

    def show_view_settings(self) -> None:
        """Put the remembered view in the fields and the layout."""
        self.query_one("#scan-text", Input).value = self.view.text
        self.query_one("#scan-min-volume", Input).value = volume_text(self.view.min_volume_usd)
        self.query_one("#scan-min-apr", Input).value = apr_text(self.view.min_apr)
        self.show_detail_panel()
        self.query_one("#scan-views", ContentSwitcher).current = (
            "scan-cross" if self.view.cross else "scan-table"
        )
        self.show_sort_headers()

    def change_view(self, **changes: object) -> None:
        self.view = replace(self.view, **changes)  # type: ignore[arg-type]
        self.remember_view()
        self.redraw()

    def action_filter(self) -> None:
        self.focus_now(self.query_one("#scan-text", Input))

    def action_min_volume(self) -> None:
        self.focus_now(self.query_one("#scan-min-volume", Input))

    def action_min_apr(self) -> None:
        self.focus_now(self.query_one("#scan-min-apr", Input))

    def action_leave_field(self) -> None:
        self.focus_table()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        field = event.input.id
        try:
            if field == "scan-text":
                self.change_view(text=event.value)
            elif field == "scan-min-volume":
                self.change_view(min_volume_usd=parse_min_volume(event.value))
            elif field == "scan-min-apr":
                self.change_view(min_apr=parse_min_apr(event.value))
        except FilterError as exc:
            event.input.add_class("-invalid")
            self.say(str(exc), error=True)
        else:
            event.input.remove_class("-invalid")
            self.say("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.input.has_class("-invalid"):
            self.focus_table()

    def action_sort_step(self, step: int) -> None:
        current = column_of_sort_key(self.view.sort) or COLUMNS[0]
        index = (COLUMNS.index(current) + step) % len(COLUMNS)
        self.sort_by(COLUMNS[index].sort_key, toggle=False)

    def action_reverse(self) -> None:
        self.change_view(descending=not self.view.descending)
        self.show_sort_headers()

    def sort_by(self, key: str, *, toggle: bool = True) -> None:
        view = self.view.sorted_by(key) if toggle or key != self.view.sort else self.view
        self.change_view(sort=view.sort, descending=view.descending)
        self.show_sort_headers()

    def on_live_table_header_clicked(self, event: LiveTable.HeaderClicked) -> None:
        event.stop()
        if event.table is self.table:
            column = next(c for c in COLUMNS if c.spec.key == event.column_key)
            self.sort_by(column.sort_key)

    def show_sort_headers(self) -> None:
        table = self.table
        chosen = column_of_sort_key(self.view.sort)
        for column in COLUMNS:
            label = column.spec.header
            if column is chosen:
                label = ("|APR|" if self.view.sort == "abs_apr" else label) + (
                    "▼" if self.view.descending else "▲"
                )
            table.set_header(column.spec.key, label)

    def action_toggle_detail(self) -> None:
        if self.has_class("-narrow"):
            self.detail_overlay = not self.detail_overlay
        else:
            self.change_view(detail=not self.view.detail)
        self.show_detail_panel()

    def show_detail_panel(self) -> None:
        """The side panel beside the table (wide), over its right side (narrow, after i), or folded."""
        detail = self.query_one("#scan-detail", ScanDetail)
        shown = self.detail_shown
        detail.set_class(self.has_class("-narrow"), "-overlay")
        if shown != detail.display:
            detail.display = shown
            if shown:
                self.show_detail()

    def show_views(self) -> None:
        switcher = self.query_one("#scan-views", ContentSwitcher)
        switcher.current = "scan-cross" if self.view.cross else "scan-table"

    def action_toggle_cross(self) -> None:
        self.change_view(cross=not self.view.cross)
        self.query_one("#scan-views", ContentSwitcher).current = (
            "scan-cross" if self.view.cross else "scan-table"
        )
        self.focus_table()
        self.refresh_bindings()
        if self.view.cross:
            self.refresh_data()  # the other exchanges are read only while this view is shown

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
        sizing = self.app.pane("sizing")  # type: ignore[attr-defined]
        self.app.show_pane("sizing")  # type: ignore[attr-defined]
        sizing.open_symbol(row.symbol, side)
        if side is not None:
            earns = f"sizing a {side.upper()} on {row.base}: it earns the funding ({rate:+.4%})"
            self.notify(earns, timeout=4)

    def commands(self) -> list[PaneCommand]:
        return [
            PaneCommand("Filter the scanner", "Perps whose symbol contains a text", self.action_filter),
            PaneCommand(
                "Cross-exchange funding spreads", "Toggle the spreads view", self.action_toggle_cross
            ),
        ]
