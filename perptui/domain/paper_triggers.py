"""What the mark sets off: resting limits, stop-losses, take-profits and liquidations, in path order. Pure.

The engine sees the mark move from ``p0`` (the last mark it saw) to ``p1``. Everything whose level the
path crosses is due, and the first level met along the path goes first (a long's stop above its
liquidation price fills before the liquidation; a limit met before a stop fills before it). After each
event the engine asks again from that level, since the position has changed.

Fill prices:
- a resting limit fills at its own price (maker fee, no slippage): the mark reached it;
- a stop-loss or take-profit is a market order sent when the mark reaches its level: the level if the
  path crossed it, the mark itself if the mark was already beyond it when first seen; the engine then
  adds the taker's slippage;
- a liquidation fills at the liquidation price (``paper_margin.liquidation_loss`` says what happens to
  the margin left).

History (catch-up) comes as OHLCV bars: each is walked open -> low -> high -> close when it closed up,
open -> high -> low -> close otherwise (the usual assumption; a bar that touched both a stop and a
take-profit is settled by that path).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from perptui.domain.paper import PaperOrder, PaperPosition
from perptui.domain.types import Candle, Side

TriggerKind = Literal["limit", "stop", "take_profit", "liquidation"]
#: On a tie (two levels at one price) the earlier kind goes first.
_PRIORITY: dict[TriggerKind, int] = {"stop": 0, "take_profit": 1, "limit": 2, "liquidation": 3}


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: TriggerKind
    level: float  # the price that was reached
    price: float  # the base fill price (before any slippage)
    order_id: int | None = None  # the resting limit's id
    qty: float | None = None  # a take-profit level's quantity


def _reached(direction: int, level: float, mark: float) -> bool:
    """``direction`` -1: due at or below ``level`` (a long's stop, a buy limit); +1: at or above."""
    return (mark - level) * direction >= 0


def _candidate(kind: TriggerKind, direction: int, level: float, p0: float | None, p1: float, **kw):
    if not _reached(direction, level, p1):
        return None
    crossed = p0 is None or not _reached(direction, level, p0) or kind in ("limit", "liquidation")
    distance = 0.0 if p0 is None or _reached(direction, level, p0) else abs(level - p0)
    price = level if crossed else p1
    return distance, _PRIORITY[kind], Trigger(kind, level, price, **kw)


def limit_marketable(side: Side, price: float, mark: float) -> bool:
    """A buy limit at or above the mark (a sell at or below) would fill at once: it takes liquidity."""
    return mark <= price if side == "long" else mark >= price


def first_trigger(
    position: PaperPosition | None,
    orders: Sequence[PaperOrder],
    liq_price: float | None,
    p0: float | None,
    p1: float,
) -> Trigger | None:
    """The first event the move ``p0 -> p1`` sets off for one symbol, or None.

    ``orders`` are the symbol's open limit orders; ``liq_price`` the position's liquidation price (None:
    no position, or never liquidated)."""
    found = []
    for order in orders:
        if order.status != "open" or order.price is None:
            continue
        direction = -1 if order.side == "long" else 1
        found.append(_candidate("limit", direction, order.price, p0, p1, order_id=order.id))
    if position is not None:
        adverse = -1 if position.side == "long" else 1
        if position.stop is not None:
            found.append(_candidate("stop", adverse, position.stop, p0, p1))
        for tp in position.take_profits:
            found.append(_candidate("take_profit", -adverse, tp.price, p0, p1, qty=tp.qty))
        if liq_price is not None:
            found.append(_candidate("liquidation", adverse, liq_price, p0, p1))
    due = [c for c in found if c is not None]
    if not due:
        return None
    return min(due, key=lambda c: (c[0], c[1]))[2]


def bar_path(bar: Candle, timeframe_ms: int) -> list[tuple[int, float]]:
    """(time, price) points a bar's mark went through, in the assumed order (see the module docstring)."""
    t = bar.time
    low_first = bar.close >= bar.open
    middle = (bar.low, bar.high) if low_first else (bar.high, bar.low)
    third = max(1, timeframe_ms // 3)
    return [
        (t, bar.open),
        (t + third, middle[0]),
        (t + 2 * third, middle[1]),
        (t + timeframe_ms - 1, bar.close),
    ]


def path_of(bars: Iterable[Candle], timeframe_ms: int, after: int, until: int) -> list[tuple[int, float]]:
    """Every path point of the CLOSED bars (close time <= ``until``) strictly after ``after``."""
    points: list[tuple[int, float]] = []
    for bar in bars:
        if bar.time + timeframe_ms > until:
            continue
        points.extend(p for p in bar_path(bar, timeframe_ms) if p[0] > after)
    return points


def funding_due(position: PaperPosition, time: int) -> bool:
    """A settlement at ``time`` applies to the position: it was open before it and not settled yet."""
    return position.opened_at < time and position.funding_until < time
