"""The open positions: one row each, keyed by symbol, coloured by the distance to liquidation
(``columns``); a line saying how to open one when there is none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from perptui.ui.panes.risk.columns import SPECS, pair_cells, position_cells
from perptui.ui.risk_monitor import Levels
from perptui.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from perptui.services.risk import RiskReport

NO_LEVELS = Levels(None, (), None)


class RiskPositions(Vertical):
    def compose(self) -> ComposeResult:
        yield LiveTable(SPECS, id="risk-table")
        yield Static(
            "no open positions: size a trade (2) and press o to open one on the paper account",
            id="risk-empty",
        )

    @property
    def table(self) -> LiveTable:
        return self.query_one("#risk-table", LiveTable)

    def show(self, report: RiskReport, levels: dict[str, Levels], *, private: bool) -> None:
        rows = {}
        paired = {row.symbol: row for row in report.portfolio.pairs if row.perp is not None}
        for p in report.positions:
            if p.symbol in paired:  # the pair's row stands for its perp leg
                cells = pair_cells(paired[p.symbol], report.limits, private=private)
                if cells is not None:
                    rows[f"pair:{p.symbol}"] = cells
                    continue
            level = levels.get(p.symbol, NO_LEVELS)
            rows[p.symbol] = position_cells(
                p, report.limits, stop=level.stop, leverage=level.leverage, private=private
            )
        self.table.show(rows, list(rows))
        self.query_one("#risk-empty", Static).display = not rows
