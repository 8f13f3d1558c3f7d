"""The plan pane's heading: the capital and split (unless the settings bar shows them, when narrow),
the volatility regime, and whether a solve is running or failed (flagged stale when it failed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan

BUILDING = "building the plan…"


class PlanHeading(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__(BUILDING, id=id, markup=False)

    def waiting(self, error: str | None) -> None:
        """No plan yet: still building it, or why there is none."""
        self.update(error or BUILDING)
        self.set_class(error is not None, "-stale")

    def show(
        self, plan: HybridPlan, *, solving: bool, error: str | None, narrow: bool, private: bool
    ) -> None:
        config = plan.config
        capital = fmt.money(config.capital, private=private)
        split = f"neutral {config.neutral_pct:g}% / directional {100 - config.neutral_pct:g}%"
        parts = [] if narrow else [f"capital {capital}", split]
        state = "solving…" if solving else (error or "")
        parts += [f"regime {plan.regime.state} (x{plan.regime.scale:.2f})", state]
        self.update(" · ".join(["Plan", *filter(None, parts)]))
        self.set_class(error is not None, "-stale")
