"""The scanner's cross-exchange view: one row per base asset listed on two or more of the scanned
exchanges, long the perp where funding per hour is lowest and short where it is highest, net of the
four taker fills and slippage (``perptui.domain.scanner.spreads``). Cells as ``(text, tone)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.presentation import scan as sf
from perptui.ui.panes.scanner.columns import breakeven_tone, funding_tone
from perptui.ui.widgets.live_table import Cell, ColumnSpec

if TYPE_CHECKING:
    from perptui.domain.carry import Spread

SPREAD_SPECS: tuple[ColumnSpec, ...] = (
    ColumnSpec("base", "base", 12, left=True, max_width=16),
    ColumnSpec("long", "long perp on", 14, left=True, max_width=16),
    ColumnSpec("short", "short perp on", 14, left=True, max_width=16),
    ColumnSpec("long_rate", "long /8h", 9),
    ColumnSpec("short_rate", "short /8h", 9),
    ColumnSpec("spread", "spread APR", 10),
    ColumnSpec("cost", "cost", 7),
    ColumnSpec("net", "net APR", 8),
    ColumnSpec("be", "BE d", 6),
)


def spread_cells(s: Spread, hold_days: float) -> tuple[Cell, ...]:
    long8, short8 = s.long.rate_per_hour * 8, s.short.rate_per_hour * 8
    cost = sf.UNKNOWN if s.round_trip_cost is None else f"{s.round_trip_cost * 100:.3f}%"
    return (
        (s.base, "strong"),
        (s.long.exchange, ""),
        (s.short.exchange, ""),
        (sf.signed_pct(long8, 4), funding_tone(long8, s.long.rate_per_hour * 24 * 365)),
        (sf.signed_pct(short8, 4), funding_tone(short8, s.short.rate_per_hour * 24 * 365)),
        (sf.signed_pct(s.spread_apr, 1), funding_tone(s.spread_apr)),
        (cost, "muted"),
        (sf.signed_pct(s.net_apr, 1), "muted" if s.net_apr is None else funding_tone(s.net_apr)),
        (sf.days(s.breakeven_days), breakeven_tone(s.breakeven_days, hold_days)),
    )
