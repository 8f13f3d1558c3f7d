"""The plan's key figures, each a ``Stat`` so the value is never cut: expected return, volatility,
Sharpe, funding per day (masked in privacy mode) and the regime (hidden when narrow: the heading has it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Container

from perptui.presentation import numbers as fmt
from perptui.ui.widgets.stat import Stat

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan


class PlanFigures(Container):
    def compose(self) -> ComposeResult:
        yield Stat("expected return", "text", id="plan-return")
        yield Stat("volatility", "text", id="plan-volatility")
        yield Stat("Sharpe", "text", id="plan-sharpe")
        yield Stat("funding per day", currency="", signed=True, id="plan-funding")
        yield Stat("regime", "text", id="plan-regime")

    def show(self, plan: HybridPlan) -> None:
        figures: dict[str, float | str | None] = {
            "return": fmt.pct(plan.expected_return, 1) + " /yr",
            "volatility": fmt.pct(plan.volatility, 1) + " /yr",
            "sharpe": "—" if plan.sharpe is None else f"{plan.sharpe:.2f}",
            "funding": plan.funding_per_day,
            "regime": f"{plan.regime.state} · scale {plan.regime.scale:.2f}",
        }
        for key, value in figures.items():
            self.query_one(f"#plan-{key}", Stat).value = value
