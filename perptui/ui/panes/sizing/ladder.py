"""The sizing pane's ladder: the sized trade's prices on one scale (entry, stop, targets, break-even,
liquidation, and the mark when it is not the entry), or why there is nothing to draw."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.presentation import numbers as fmt
from perptui.ui.widgets.price_ladder import Level, PriceLadder

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult
    from perptui.ui.panes.sizing.model import Context


class SizingLadder(PriceLadder):
    """A ``PriceLadder`` that draws a ``SizingResult``."""

    def show_trade(self, r: SizingResult, ctx: Context) -> None:
        m = ctx.market
        levels = [Level("entry", "Entry", r.entry), Level("stop", "Stop", r.stop)]
        levels += [Level("target", f"TP{i}", tp.price) for i, tp in enumerate(r.take_profits, 1)]
        levels.append(Level("breakeven", "B/E", r.breakeven_price))
        if r.liquidation_price is not None:
            levels.append(Level("liquidation", "Liq.", r.liquidation_price))
        if ctx.mark is not None and abs(ctx.mark - r.entry) >= (m.price_tick or 0):
            levels.append(Level("mark", "Mark", ctx.mark))
        notes = []
        if r.never_liquidated:
            notes.append("Liq. none: margin covers 0")
        elif r.liquidation_price is None:
            notes.append("Liq. unknown")
        self.show(levels, notes, lambda p: fmt.price(p, m.price_tick))

    def no_trade(self, *, hint: bool) -> None:
        """No result: an input still missing (``hint``) or one the calculator rejects."""
        self.clear("nothing to draw yet" if hint else "no valid trade to draw")
