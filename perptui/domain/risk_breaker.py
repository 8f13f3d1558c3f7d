"""The circuit breaker: when new orders are refused. Pure.

The breaker's history is a log of events, as the alert log stores them: ``trip`` (a daily loss limit or
max drawdown breach) and ``reset`` (the trader's explicit, confirmed reset). Rules:

- A trip holds until the next 00:00 UTC or a later reset, whichever comes first.
- A reset re-arms the breaker against NEW losses: for the rest of that UTC day the daily loss and the
  drawdown are measured from the reset point (``loss_since``: the equity at the reset; see
  ``domain.risk_portfolio``), so the losses the trader confirmed do not trip it again at the next
  refresh, and a further loss of the limit does. From the next day on the usual measures apply (a
  drawdown that lasts trips it again).
- Closing or reducing a position is always allowed; only orders that open or add risk are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from perptui.domain.account import DAY_MS, day_start
from perptui.domain.limits import BREAKER_KINDS, LimitReport
from perptui.domain.types import Side

BreakerEventKind = Literal["trip", "reset"]


@dataclass(frozen=True, slots=True)
class BreakerEvent:
    time: int  # ms UTC
    kind: BreakerEventKind
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BreakerState:
    tripped: bool
    since: int | None = None  # the trip in force (the first one since the last reset today)
    until: int | None = None  # next 00:00 UTC while tripped
    reason: str | None = None
    reset_at: int | None = None  # today's last reset: losses are measured from it (``loss_since``)


def breaker_state(events: Iterable[BreakerEvent], now_ms: int) -> BreakerState:
    """The breaker at ``now_ms`` from its event log (any order; events after ``now_ms`` are ignored;
    events at the same time apply in the order given)."""
    today = day_start(now_ms)
    trip: BreakerEvent | None = None
    reset_at: int | None = None
    for event in sorted((e for e in events if e.time <= now_ms), key=lambda e: e.time):
        if day_start(event.time) != today:
            continue
        if event.kind == "reset":
            trip, reset_at = None, event.time
        elif event.kind == "trip" and trip is None:
            trip = event
    if trip is None:
        return BreakerState(False, reset_at=reset_at)
    return BreakerState(True, trip.time, today + DAY_MS, trip.reason or None, reset_at)


def loss_since(state: BreakerState) -> int | None:
    """Where the breaker's loss and drawdown are measured from: today's last reset (None: 00:00 UTC
    for the daily loss, the whole history for the drawdown)."""
    return state.reset_at


def trip_reason(report: LimitReport, state: BreakerState) -> str | None:
    """The reason to log a ``trip`` event now, or None: a breaker limit is breached (measured from the
    reset point after a reset: pass the report of a portfolio built with ``loss_since``) and the breaker
    is not tripped already."""
    if state.tripped:
        return None
    messages = [a.message for a in report.alerts if a.kind in BREAKER_KINDS and a.severity == "critical"]
    return "; ".join(messages) or None


def is_reducing(order_side: Side, order_qty: float, position: tuple[Side, float] | None) -> bool:
    """True when the order only closes or reduces the open position of its symbol (``(side, qty)``):
    opposite side, no more than the position's size. An order that would flip the position is not."""
    if position is None or order_qty <= 0:
        return False
    side, qty = position
    return order_side != side and order_qty <= qty * (1 + 1e-12)


def _hhmm(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def order_allowed(state: BreakerState, reducing: bool) -> tuple[bool, str | None]:
    """(allowed, why not): while tripped only reducing orders pass."""
    if not state.tripped or reducing:
        return True, None
    why = f" ({state.reason})" if state.reason else ""
    until = _hhmm(state.until) if state.until is not None else "the next UTC day"
    return False, (
        f"circuit breaker tripped at {_hhmm(state.since or 0)}{why}: new orders are refused until {until} "
        "or a reset; closing is allowed"
    )
