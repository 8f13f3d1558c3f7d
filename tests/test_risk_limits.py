"""Limits, alerts and the circuit breaker: worked examples, then properties of closeness and the breaker."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.account import DAY_MS
from perptui.domain.limits import Limits, check_limits
from perptui.domain.risk_breaker import (
    BreakerEvent,
    breaker_state,
    is_reducing,
    loss_since,
    order_allowed,
    trip_reason,
)
from perptui.domain.risk_portfolio import PortfolioRisk, portfolio_risk
from perptui.domain.risk_position import PositionInput, position_risk
from perptui.domain.types import LeverageTier

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=300)
T0 = 1_748_736_000_000  # 2025-06-01 00:00 UTC
H = 3_600_000
TIERS = (LeverageTier(0.0, 1e9, 0.01, 0.0, 50.0),)


def risky_portfolio() -> PortfolioRisk:
    """Equity 1,000 (wallet 1,000, PnL 0): BTC risks 25 at its stop, ETH sits 10.9% from liquidation."""
    btc = PositionInput("BTC/USDT:USDT", "long", 0.05, 60_000.0, 60_000.0, 10.0, "isolated", 600.0, TIERS)
    eth = PositionInput("ETH/USDT:USDT", "short", 0.5, 3_000.0, 3_000.0, 10.0, "isolated", 180.0, TIERS)
    risks = [position_risk(replace(btc, stop=59_500.0)), position_risk(eth)]
    history = [(T0 - 5 * DAY_MS, 1_190.0)]
    return portfolio_risk(risks, 1_000.0, now_ms=T0 + 9 * H, equity_day_start=1_030.0, equity_history=history)


def test_each_limit_checked_with_closeness_and_one_line_alerts() -> None:
    p = risky_portfolio()
    assert p.leverage == pytest.approx(4.5)  # (3,000 + 1,500) / 1,000
    report = check_limits(Limits(), p)
    by = {(c.kind, c.symbol): c for c in report.checks}
    risk = by["risk_per_trade", "BTC/USDT:USDT"]
    assert risk.value == pytest.approx(0.025) and risk.closeness == pytest.approx(1.25) and risk.breached
    eth_liq = by["liq_distance", "ETH/USDT:USDT"]
    lp = (180 + 1_500) / (0.5 * 1.01)  # (WB + Q x E) / (Q x MMR + Q) = 3,326.73
    assert eth_liq.value == pytest.approx((lp - 3_000) / 3_000)
    assert (
        eth_liq.closeness == pytest.approx(0.10 / eth_liq.value) and eth_liq.warning and not eth_liq.breached
    )
    lev = by["leverage", None]
    assert lev.closeness == pytest.approx(0.9) and lev.warning and not lev.breached
    daily = by["daily_loss", None]
    assert daily.value == pytest.approx(30 / 1_030) and not daily.breached and not daily.warning
    dd = by["drawdown", None]
    assert dd.value == pytest.approx(1 - 1_000 / 1_190) and dd.breached
    assert by["risk_per_trade", "ETH/USDT:USDT"].value is None  # no stop: unknown, no alert
    assert [(a.kind, a.symbol, a.severity, a.message) for a in report.alerts] == [
        (
            "risk_per_trade",
            "BTC/USDT:USDT",
            "critical",
            "BTC/USDT:USDT loss at the stop 2.50% breaches the limit 2.00%",
        ),
        (
            "liq_distance",
            "ETH/USDT:USDT",
            "warning",
            "ETH/USDT:USDT liquidation distance 10.89% nears the limit 10.00%",
        ),
        ("leverage", None, "warning", "effective leverage 4.50x nears the limit 5.00x"),
        ("drawdown", None, "critical", "drawdown 15.97% breaches the limit 15.00%: circuit breaker"),
    ]
    assert [c.kind for c in report.summary()] == [
        "risk_per_trade",
        "liq_distance",
        "margin_ratio",
        "leverage",
        "daily_loss",
        "drawdown",
    ]
    assert report.worst("risk_per_trade") == risk
    assert [c.kind for c in report.breaker_breaches] == ["drawdown"]


def test_switched_off_limits_and_never_liquidated_positions_are_not_checked() -> None:
    off = Limits(None, None, None, None, None, None)
    assert check_limits(off, risky_portfolio()).checks == ()
    assert check_limits(Limits(max_leverage=0.0), risky_portfolio()).worst("leverage") is None
    safe = position_risk(
        PositionInput("BTC/USDT:USDT", "long", 0.01, 60_000.0, 61_000.0, 1.0, "isolated", 600.0, TIERS)
    )
    assert safe.never_liquidated
    report = check_limits(Limits(), portfolio_risk([safe], 1_000.0))
    assert report.worst("liq_distance") is None and report.alerts == ()
    with pytest.raises(ValueError, match="max_drawdown"):
        Limits(max_drawdown=15.0)  # a percent where a fraction is due


@PROPERTY
@given(
    st.sampled_from(["leverage", "daily_loss", "drawdown"]),
    st.floats(-0.5, 20.0),
    st.floats(1e-3, 10.0),
)
def test_closeness_reaches_one_exactly_at_the_breach(kind: str, value: float, limit: float) -> None:
    p = replace(risky_portfolio(), positions=(), **{"leverage": None, "daily_loss": None, "drawdown": None})
    p = replace(p, **{kind: value})
    limits = Limits(max_leverage=limit, daily_loss_limit=min(limit, 1.0), max_drawdown=min(limit, 1.0))
    check = check_limits(limits, p).worst(kind)  # type: ignore[arg-type]
    assert check is not None and check.closeness is not None and check.closeness >= 0
    assert check.breached == (value >= check.limit)
    assert check.closeness == pytest.approx(max(0.0, value / check.limit))
    assert not (check.breached and check.warning)


# --- circuit breaker --------------------------------------------------------------------------------


def test_a_trip_holds_until_the_next_utc_day_or_a_reset() -> None:
    assert not breaker_state([], T0 + H).tripped
    trip = BreakerEvent(T0 + 10 * H, "trip", "drawdown 16% breaches the limit 15%")
    state = breaker_state([trip], T0 + 12 * H)
    assert state.tripped and state.since == trip.time and state.until == T0 + DAY_MS
    assert state.reason == trip.reason
    assert not breaker_state([trip], T0 + 10 * H - 1).tripped  # not yet
    assert not breaker_state([trip], T0 + DAY_MS).tripped  # the next UTC day
    reset = BreakerEvent(T0 + 11 * H, "reset")
    after_reset = breaker_state([reset, trip], T0 + 12 * H)  # any order
    assert not after_reset.tripped and after_reset.reset_at == reset.time
    # A second trip later the same day (by hand) holds again; two trips: the first one is in force.
    again = [trip, reset, BreakerEvent(T0 + 13 * H, "trip", "x"), BreakerEvent(T0 + 14 * H, "trip", "y")]
    assert breaker_state(again, T0 + 15 * H).since == T0 + 13 * H


def test_trip_reason_after_a_breach_and_after_a_reset_only_for_new_losses() -> None:
    """A reset re-arms the breaker: its figures are measured from the reset point (``loss_since``), so
    the confirmed drawdown does not trip it again, and a new one of the limit does."""
    report = check_limits(Limits(), risky_portfolio())
    now = T0 + 9 * H
    reason = trip_reason(report, breaker_state([], now))
    assert reason == "drawdown 15.97% breaches the limit 15.00%: circuit breaker"
    tripped = breaker_state([BreakerEvent(now, "trip", reason)], now)
    assert trip_reason(report, tripped) is None  # already tripped
    reset = breaker_state([BreakerEvent(now, "trip", reason), BreakerEvent(now + H, "reset")], now + H)
    assert not reset.tripped and loss_since(reset) == now + H
    # measured from the reset (equity 1,000 then, 1,000 now): nothing to trip on
    p = risky_portfolio()
    since = portfolio_risk(
        list(p.positions), 1_000.0, now_ms=now + 2 * H, equity_day_start=1_000.0,
        equity_history=[(T0 - 5 * DAY_MS, 1_190.0)], loss_since=loss_since(reset),
    )  # fmt: skip
    assert since.drawdown == 0.0 and since.daily_loss == 0.0
    assert trip_reason(check_limits(Limits(), since), reset) is None
    # 16% lost since the reset: it trips again, and says the loss is since the reset
    worse = portfolio_risk(
        list(p.positions), 840.0, now_ms=now + 2 * H, equity_day_start=1_000.0,
        equity_history=[(T0 - 5 * DAY_MS, 1_190.0)], loss_since=loss_since(reset),
    )  # fmt: skip
    assert worse.drawdown == pytest.approx(0.16) and worse.daily_loss == pytest.approx(0.16)
    again = trip_reason(check_limits(Limits(), worse), reset)
    assert again is not None and "loss since the reset 16.00% breaches the limit 5.00%" in again
    assert "drawdown since the reset 16.00% breaches the limit 15.00%" in again
    tomorrow = breaker_state([BreakerEvent(now, "trip", reason), BreakerEvent(now + H, "reset")], T0 + DAY_MS)
    assert loss_since(tomorrow) is None and trip_reason(report, tomorrow) == reason  # the drawdown lasts
    calm = check_limits(Limits(max_drawdown=0.5), risky_portfolio())
    assert trip_reason(calm, breaker_state([], now)) is None


def test_closing_is_always_allowed() -> None:
    tripped = breaker_state([BreakerEvent(T0 + H, "trip", "loss today 6% breaches the limit 5%")], T0 + 2 * H)
    allowed, why = order_allowed(tripped, reducing=False)
    assert not allowed
    assert why == (
        "circuit breaker tripped at 2025-06-01 01:00 UTC (loss today 6% breaches the limit 5%): new orders "
        "are refused until 2025-06-02 00:00 UTC or a reset; closing is allowed"
    )
    assert order_allowed(tripped, reducing=True) == (True, None)
    assert order_allowed(breaker_state([], T0), reducing=False) == (True, None)
    assert is_reducing("short", 0.5, ("long", 1.0)) and is_reducing("short", 1.0, ("long", 1.0))
    assert not is_reducing("short", 1.5, ("long", 1.0))  # would flip to a short
    assert not is_reducing("long", 0.5, ("long", 1.0)) and not is_reducing("long", 0.5, None)


events = st.lists(
    st.builds(
        BreakerEvent, st.integers(T0 - 2 * DAY_MS, T0 + 2 * DAY_MS), st.sampled_from(["trip", "reset"])
    ),
    max_size=12,
)


@PROPERTY
@given(events, st.integers(T0 - DAY_MS, T0 + 2 * DAY_MS))
def test_breaker_state_follows_the_rules(log: list[BreakerEvent], now: int) -> None:
    state = breaker_state(log, now)
    today = now - now % DAY_MS
    past_today = [e for e in log if today <= e.time <= now]
    if not state.tripped:
        last_trip = max((e.time for e in past_today if e.kind == "trip"), default=None)
        last_reset = max((e.time for e in past_today if e.kind == "reset"), default=None)
        assert last_trip is None or (last_reset is not None and last_reset >= last_trip)
        return
    assert state.since is not None and today <= state.since <= now and state.until == today + DAY_MS
    assert not any(e.kind == "reset" and e.time > state.since for e in past_today)
    assert order_allowed(state, reducing=True) == (True, None)
    assert not order_allowed(state, reducing=False)[0]


def test_a_position_known_to_have_no_stop_raises_a_warning_without_a_check() -> None:
    held = PositionInput("BTC/USDT:USDT", "long", 0.01, 60_000.0, 60_000.0, 2.0, "isolated", 300.0, TIERS)
    off = Limits(None, None, None, None, None, None)

    def alerts(pos: PositionInput, limits: Limits = off) -> list[tuple[str, str | None, str]]:
        p = portfolio_risk([position_risk(pos)], 1_000.0, now_ms=T0, equity_day_start=1_000.0)
        report = check_limits(limits, p)
        assert report.checks == ()  # nothing to measure, so no bar
        return [(a.kind, a.symbol, a.severity) for a in report.alerts]

    assert alerts(replace(held, stop_known=True)) == [("no_stop", "BTC/USDT:USDT", "warning")]
    assert alerts(replace(held, stop_known=True, stop=59_000.0)) == []
    assert alerts(held) == []  # an exchange position: its stop orders are not read
    assert alerts(replace(held, stop_known=True), replace(off, require_stop=False)) == []
