"""The scanner's table of perps: one row per perp, keyed by ``exchange:symbol``, its cells from
``columns``; a refresh writes only the cells that changed (``LiveTable``), keeping the cursor and the
scroll. The sorted column's header carries the direction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from perptui.ui.panes.scanner.columns import COLUMNS, SPECS, View, cells, column_of_sort_key, sort_label
from perptui.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from perptui.domain.scanner import ScanRow


class ScanTable(LiveTable):
    def __init__(self, *, id: str) -> None:
        super().__init__(SPECS, id=id)

    def show_rows(self, rows: Sequence[ScanRow], look: View) -> None:
        """Show ``rows`` in their order."""
        self.show({row.key: cells(row, look) for row in rows}, [row.key for row in rows])

    def show_sort(self, sort_key: str, descending: bool) -> None:
        """Mark the header of the column sorted by ``sort_key`` with ▼ (descending) or ▲."""
        chosen = column_of_sort_key(sort_key)
        for column in COLUMNS:
            label = column.spec.header
            if column is chosen:
                label = sort_label(sort_key) + ("▼" if descending else "▲")
            self.set_header(column.spec.key, label)
