"""The circuit breaker on the ledger: trip it when a breaker limit is hit, read it, reset it.

The state is ``domain.risk_breaker.breaker_state`` of the ``breaker_trip``/``breaker_reset`` rows of the
risk event log, so the engine, the CLI and the risk pane agree whichever process wrote them. Daily loss
and drawdown come from ``domain.limits.check_limits`` on the account's ``portfolio()`` (equity history
and transfers from the ledger).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from perptui.domain.account import day_start
from perptui.domain.limits import Limits, check_limits
from perptui.domain.risk_breaker import BreakerEvent, BreakerState, breaker_state, trip_reason
from perptui.services.store import risk_events

if TYPE_CHECKING:
    from collections.abc import Mapping

    from perptui.services.accounts.paper import PaperAccount
    from perptui.services.store import Store

_KINDS = {risk_events.BREAKER_TRIP: "trip", risk_events.BREAKER_RESET: "reset"}


def breaker_events(conn: sqlite3.Connection, account: str, now: int) -> list[BreakerEvent]:
    """Today's trips and resets (earlier ones never matter: a trip ends at the next UTC day)."""
    rows = risk_events.load_events(conn, account, since=day_start(now), until=now + 1, kinds=list(_KINDS))
    return [BreakerEvent(e.time, _KINDS[e.kind], e.message) for e in rows]  # type: ignore[arg-type]


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
) -> BreakerState:
    """Check the daily loss limit and the max drawdown at ``now`` and log a trip when one is hit (not
    when the breaker is already tripped or was reset today). Returns the breaker's state after it."""
    now = account.clock.now_ms() if now is None else now
    report = check_limits(limits or Limits(), account.portfolio(now, marks))
    state = breaker_now(store, account.name, now)
    if trip_reason(report, state) is None:
        return state
    with store.writing() as conn:
        state = state_in(conn, account.name, now)  # another process may have tripped it meanwhile
        reason = trip_reason(report, state)
        if reason is not None:
            risk_events.log_event(conn, account.name, now, risk_events.BREAKER_TRIP, "critical", reason)
            state = state_in(conn, account.name, now)
    return state


def reset_breaker(store: Store, account: str, now: int, note: str = "reset by the trader") -> BreakerState:
    """Reset a tripped breaker (the UI asks for a confirmation first); it will not trip again before the
    next UTC day. A breaker that is not tripped is left alone (nothing logged): a reset in advance would
    switch the day's protection off."""
    with store.writing() as conn:
        if not state_in(conn, account, now).tripped:
            return state_in(conn, account, now)
        risk_events.log_event(conn, account, now, risk_events.BREAKER_RESET, "info", note)
        return state_in(conn, account, now)
