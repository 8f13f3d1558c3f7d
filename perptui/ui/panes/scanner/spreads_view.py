"""The scanner's cross-exchange view: a note on what is compared (or how to configure other exchanges)
over a table of each asset's funding spread between the exchanges (cells from ``spreads``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from perptui.ui.panes.scanner.spreads import SPREAD_SPECS, spread_cells
from perptui.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from perptui.domain.carry import Spread


class SpreadsView(Vertical):
    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.note = Static("", id="scan-cross-note", markup=False)
        self.table = LiveTable(SPREAD_SPECS, id="scan-spreads")

    def compose(self) -> ComposeResult:
        yield self.note
        yield self.table

    def show_single(self, exchange: str) -> None:
        """Only ``exchange`` is configured: say how to list others."""
        self.note.update(
            f"Funding spreads need more than one exchange: {exchange} is the only one "
            'configured. List others in the config file, e.g. [scan] exchanges = ["bybit", "okx"], '
            "to compare their funding per hour here (perptui config shows the file)."
        )
        self.table.show({}, [])

    def show(
        self, found: Sequence[Spread], exchanges: Sequence[str], hold_days: float, notes: list[str]
    ) -> None:
        """The spreads ``found`` between ``exchanges``, held ``hold_days``; ``notes``: exchanges not read."""
        self.table.show({s.base: spread_cells(s, hold_days) for s in found}, [s.base for s in found])
        names = ", ".join(exchanges)
        lines = [f"{len(found)} assets listed on several of {names}; per hour, net of four taker fills "
                 f"and slippage, held {hold_days:g} days"]  # fmt: skip
        self.note.update("\n".join([*lines, *notes]))
