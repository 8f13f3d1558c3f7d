"""The sizing pane's heading: the market, its mark and funding, when the next funding is, live or cached
(and how old), and what went wrong reading them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.widgets import Static

from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.types import Market
    from perptui.services.sizing_inputs import MarketSnapshot

LOADING = "loading the markets…"


class SizingHeading(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__(LOADING, id=id, markup=False)

    def show(self, market: Market | None, snapshot: MarketSnapshot | None, note: str, now_ms: int) -> None:
        """``note``: what went wrong reading the market ("" when nothing did)."""
        m, snap = market, snapshot
        if m is None:
            self.update(note or LOADING)
            return
        parts = [m.symbol]
        if snap is None or snap.market.symbol != m.symbol:
            parts.append("reading the mark…")
        else:
            parts.append(f"mark {fmt.price(snap.mark, m.price_tick)}")
            if snap.funding_rate is not None:
                interval = f"{snap.funding_interval_hours:g}h" if snap.funding_interval_hours else "interval"
                parts.append(f"funding {snap.funding_rate * 100:+.4f}% per {interval}")
            if snap.next_funding_time:
                parts.append(f"next {time.strftime('%H:%M', time.gmtime(snap.next_funding_time / 1000))} UTC")
            if snap.cached:
                parts.append(f"CACHED, {fmt.age(now_ms - snap.as_of)} old")
        if note:
            parts.append(note)
        self.update(" · ".join(parts))
        self.set_class(snap is not None and snap.cached, "-cached")
