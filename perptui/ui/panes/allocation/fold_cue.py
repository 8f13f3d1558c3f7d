"""Narrow terminals: the line under the figures saying what ``i`` shows (the notes and the frontier) or,
with them shown in the table's place, that it brings the table back. Hidden when wider (app.tcss)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from perptui.ui.panes.allocation.notes import note_count

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan


class FoldCue(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id)

    def show(self, plan: HybridPlan, *, details: bool) -> None:
        if details:
            self.update(
                Content.assemble(("i", "bold $text-accent"), (" back to the legs table", "$text-muted"))
            )
            return
        count = note_count(plan)
        what = f"{count} note{'s' if count != 1 else ''} and the frontier" if count else "the frontier"
        self.update(
            Content.assemble(
                ("▸ ", "$text-muted"), ("i", "bold $text-accent"), (f" shows {what}", "$text-muted")
            )
        )
