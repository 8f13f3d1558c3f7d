"""The plan's notes: why the regime scales the directional layer, then up to three warnings (legs
dropped, data missing). Beside the table; behind ``i`` when narrow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan

SHOWN = 3  # warnings shown; the rest are in ``perptui allocate``'s output


class PlanNotes(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id)

    def show(self, plan: HybridPlan) -> None:
        lines = [Content.styled(plan.regime.reason, "$text-muted")] if plan.regime.reason else []
        lines += [Content.styled(n, "$text-warning") for n in plan.notes[:SHOWN]]
        self.update(Content("\n").join(lines))


def note_count(plan: HybridPlan) -> int:
    """How many lines the notes show."""
    return len(plan.notes[:SHOWN]) + bool(plan.regime.reason)
