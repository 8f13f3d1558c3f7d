"""The circuit breaker on the ledger: trip it when a breaker limit is hit, read it, reset it.

A trip cancels the resting limit orders that would open or add (or holds them, by the setting
``risk.breaker_limit_orders``); a reset re-arms it against new losses, measured from the equity the
reset records.

The state is ``domain.risk_breaker.breaker_state`` of the ``breaker_trip``/``breaker_reset`` rows of the
risk event log, so the engine, the CLI and the risk pane agree whichever process wrote them. Daily loss
and drawdown come from ``domain.limits.check_limits`` on the account's ``portfolio()`` (equity history
and transfers from the ledger).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Literal

from perptui.domain.account import day_start
from perptui.domain.limits import Limits, check_limits
from perptui.domain.risk_breaker import (
    BreakerEvent,
    BreakerEventKind,
    BreakerState,
    breaker_state,
    is_reducing,
    loss_since,
    trip_reason,
)
from perptui.services.store import paper_book, risk_events, snapshots

if TYPE_CHECKING:
    from collections.abc import Mapping

    from perptui.domain.paper import PaperOrder
    from perptui.services.accounts.paper import PaperAccount
    from perptui.services.store import Store

_KINDS: dict[str, BreakerEventKind] = {risk_events.BREAKER_TRIP: "trip", risk_events.BREAKER_RESET: "reset"}
RestingPolicy = Literal["cancel", "hold"]
#: The note of a limit order a trip cancelled.
CANCELLED_BY_TRIP = "cancelled: the circuit breaker tripped (risk.breaker_limit_orders = cancel)"


def breaker_events(conn: sqlite3.Connection, account: str, now: int) -> list[BreakerEvent]:
    """Today's trips and resets (earlier ones never matter: a trip ends at the next UTC day)."""
    rows = risk_events.load_events(conn, account, since=day_start(now), until=now + 1, kinds=list(_KINDS))
    return [BreakerEvent(e.time, _KINDS[e.kind], e.message) for e in rows]


def state_in(conn: sqlite3.Connection, account: str, now: int) -> BreakerState:
    return breaker_state(breaker_events(conn, account, now), now)


def breaker_now(store: Store, account: str, now: int) -> BreakerState:
    """The breaker at ``now`` from the log, without checking the limits."""
    with store.reading() as conn:
        return state_in(conn, account, now)


def check_breaker(
    store: Store,
    account: PaperAccount,
    now: int | None = None,
    limits: Limits | None = None,
    marks: Mapping[str, float] | None = None,
    *,
    resting: RestingPolicy = "cancel",
) -> BreakerState:
    """Check the daily loss limit and the max drawdown at ``now`` (measured from today's reset, if any)
    and log a trip when one is hit and the breaker is not tripped already. A trip cancels the resting
    limit orders that would open or add (``resting="cancel"``, in the trip's transaction) or leaves them
    to be held (``"hold"``: the engine does not fill them while tripped). Returns the state after it."""
    now = account.clock.now_ms() if now is None else now
    state = breaker_now(store, account.name, now)
    if state.tripped:
        return state
    report = check_limits(limits or Limits(), account.portfolio(now, marks, loss_since=loss_since(state)))
    if trip_reason(report, state) is None:
        return state
    measured_from = loss_since(state)
    with store.writing() as conn:
        state = state_in(conn, account.name, now)  # another process may have tripped or reset it meanwhile
        if loss_since(state) != measured_from:  # reset meanwhile: the report measured the old losses
            return state
        reason = trip_reason(report, state)
        if reason is not None:
            risk_events.log_event(conn, account.name, now, risk_events.BREAKER_TRIP, "critical", reason)
            if resting == "cancel":
                cancel_opening_limits(conn, account.name, now)
            state = state_in(conn, account.name, now)
    return state


def cancel_opening_limits(conn: sqlite3.Connection, account: str, now: int) -> list[PaperOrder]:
    """Cancel the account's resting limit orders that would open or add (a trip's consequence): all but
    the reduce-only ones and those on the other side of their position, no larger than it."""
    held = {(p.exchange, p.symbol): (p.side, p.qty) for p in paper_book.load_positions(conn, account)}
    cancelled = [
        o
        for o in paper_book.load_orders(conn, account, open_only=True)
        if not o.reduce_only and not is_reducing(o.side, o.qty, held.get((o.exchange, o.symbol)))
    ]
    for order in cancelled:
        paper_book.set_order_status(conn, account, order.id, "cancelled", now, CANCELLED_BY_TRIP)
    return cancelled


def reset_breaker(
    store: Store,
    account: str,
    now: int,
    note: str = "reset by the trader",
    *,
    equity: tuple[float, float] | None = None,
) -> BreakerState:
    """Reset a tripped breaker (the UI asks for a confirmation first). It is armed again at once, against
    the losses from this point: ``equity`` (equity, wallet) now is recorded as the reset's snapshot, the
    point the daily loss and the drawdown are measured from for the rest of the day (without it, the last
    snapshot before). A breaker that is not tripped is left alone (nothing logged)."""
    with store.writing() as conn:
        if not state_in(conn, account, now).tripped:
            return state_in(conn, account, now)
        risk_events.log_event(conn, account, now, risk_events.BREAKER_RESET, "info", note)
        if equity is not None:
            snapshots.record_equity(conn, account, now, equity[0], equity[1])
        return state_in(conn, account, now)
