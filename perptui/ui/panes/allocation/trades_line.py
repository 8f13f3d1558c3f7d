"""The line under the table: how many trades take the paper account to the plan and that ``x`` sends
them; the short wording when the long one is wider than the pane."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from perptui.ui.panes.allocation.trades import trades_summary

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan


class TradesLine(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id)

    def show(self, plan: HybridPlan, width: int) -> None:
        summary = trades_summary(plan, short=False)
        if summary.cell_length > width:
            summary = trades_summary(plan, short=True)
        self.update(summary)
