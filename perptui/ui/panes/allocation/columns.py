"""The allocation pane's table of target positions: one row per leg, the neutral base first. No Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.presentation import numbers as fmt
from perptui.ui.widgets.live_table import Cell, ColumnSpec

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan, PlanLeg

SPECS: tuple[ColumnSpec, ...] = (
    ColumnSpec("symbol", "symbol", 14, left=True, max_width=24),
    ColumnSpec("layer", "layer", 10, left=True),
    ColumnSpec("side", "side", 5, left=True),
    ColumnSpec("qty", "qty", 9),
    ColumnSpec("notional", "notional", 9),
    ColumnSpec("weight", "weight", 6),
    ColumnSpec("risk", "risk", 4),
    ColumnSpec("signal", "signal", 6),
    ColumnSpec("margin", "margin", 9),
    ColumnSpec("exp", "exp ret", 7),
)
#: How a leg's layer reads: the neutral base's spot and perp legs, the directional (trend) layer.
LAYER_TEXT = {("neutral", "spot"): "base·spot", ("neutral", "perp"): "base·perp"}


def row_key(leg: PlanLeg) -> str:
    return f"{leg.layer}:{leg.symbol}:{leg.leg}"


def ordered_legs(plan: HybridPlan) -> list[PlanLeg]:
    return [*plan.neutral, *plan.directional]


def plan_rows(plan: HybridPlan, *, private: bool) -> dict[str, list[Cell]]:
    """The table's rows by key, in the order shown: the neutral base first, each quantity at its step."""
    return {
        row_key(leg): leg_cells(leg, plan.qty_steps.get(leg.symbol), private=private)
        for leg in ordered_legs(plan)
    }


def leg_cells(leg: PlanLeg, step: float | None, *, private: bool) -> list[Cell]:
    """The leg's cells; its quantity at the market's amount ``step``."""

    def money(value: float | None) -> Cell:
        if private and value is not None:
            return fmt.MASK, ""
        return fmt.money(value, decimals=0 if value is not None and abs(value) >= 1000 else 2), ""

    side_tone = "pos" if leg.side == "long" else "neg"
    signal = "" if leg.signal is None else f"{leg.signal:+.1f}" if round(leg.signal, 1) else "0.0"
    layer = LAYER_TEXT.get((leg.layer, leg.leg), "trend·perp")
    return [
        (leg.symbol.split(":")[0], "strong" if leg.layer == "directional" else ""),
        (layer, "muted"),
        (leg.side, side_tone),
        (fmt.MASK if private else fmt.qty(leg.qty, step), ""),
        money(leg.notional),
        (fmt.pct(leg.weight, 1), ""),
        (fmt.pct(leg.risk_contribution, 0), ""),
        (signal, "" if leg.signal is None else _sign(leg.signal)),
        money(leg.margin),
        (fmt.pct(leg.expected_return, 1), "" if leg.expected_return is None else _sign(leg.expected_return)),
    ]


def _sign(value: float) -> str:
    return "pos" if value > 0 else "neg" if value < 0 else ""
