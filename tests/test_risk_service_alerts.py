"""Alerts are logged and raised once per breach (not on every refresh), again only after clearing or
worsening; the circuit breaker trips on the daily loss limit through the risk check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perptui.domain.errors import UsageError
from perptui.domain.limits import Limits
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest
from perptui.services.risk import build_report, log_alerts
from perptui.services.store import Store, risk_events
from tests.test_risk_service import BTC, ETH, NOW, setup

#: Only the liquidation-distance limit (no alert for a missing stop), so the tests see its alerts alone.
LIQ_ONLY = Limits(None, None, 0.10, None, None, None, 0.8, require_stop=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def logged(store: Store, account: str = "paper") -> list[tuple[str, str | None, str]]:
    with store.reading() as conn:
        return [(e.kind, e.symbol, e.severity) for e in risk_events.load_events(conn, account)]


def test_a_breach_is_raised_once_and_again_after_it_cleared(store: Store) -> None:
    clock = FrozenClock(NOW)
    ctx, _, engine = setup(store, clock)
    ctx.limits = LIQ_ONLY
    entry = 80_000.0
    engine.place_order(OrderRequest(BTC, "long", 0.05, leverage=20, mark=entry))  # liq ~4.5% below
    report = build_report(ctx, garch=False)
    (alert,) = report.new_alerts
    assert (alert.kind, alert.symbol, alert.severity) == ("liq_distance", BTC, "critical")
    assert report.alerts == report.new_alerts
    assert logged(store) == [("liq_distance", BTC, "critical")]

    for _ in range(3):  # the next refreshes: still breached, nothing new, nothing logged
        clock.advance(2_000)
        report = build_report(ctx, garch=False)
        assert report.new_alerts == () and len(report.alerts) == 1
    assert logged(store) == [("liq_distance", BTC, "critical")]

    liq = report.positions[0].liq_price
    assert liq is not None

    def at_distance(d: float) -> list:
        """Move the mark to ``d`` above the liquidation price; the new alerts of that check."""
        clock.advance(2_000)
        engine.on_marks({BTC: liq / (1 - d)})
        return [(a.kind, a.severity) for a in build_report(ctx, garch=False).new_alerts]

    assert at_distance(0.15) == []  # cleared: logged, nothing raised
    assert logged(store)[-1] == ("liq_distance", BTC, "info")
    with store.reading() as conn:
        assert (
            risk_events.load_events(conn, "paper")[-1].message == f"{BTC} liq distance back within the limit"
        )
    assert at_distance(0.11) == [("liq_distance", "warning")]  # near again (closeness 0.91): raised
    assert at_distance(0.112) == []  # the same warning
    assert at_distance(0.08) == [("liq_distance", "critical")]  # worse: raised again
    assert at_distance(0.115) == []  # eased to a warning: logged, not raised
    assert at_distance(0.09) == [("liq_distance", "critical")]  # breached again after easing
    assert [sev for _, _, sev in logged(store)] == [
        "critical", "info", "warning", "critical", "warning", "critical",
    ]  # fmt: skip

    # The position closed: its alert is cleared in the log, nothing new is raised.
    engine.close(BTC, mark=liq / 0.91)
    report = build_report(ctx, garch=False)
    assert report.alerts == () and report.new_alerts == () and logged(store)[-1][2] == "info"


def test_another_process_sees_the_same_log(store: Store) -> None:
    """The log is the memory: a second context (the CLI next to the app) raises nothing already raised."""
    clock = FrozenClock(NOW)
    ctx, _, engine = setup(store, clock)
    ctx.limits = LIQ_ONLY
    engine.place_order(OrderRequest(BTC, "long", 0.05, leverage=20, mark=80_000.0))
    report = build_report(ctx, garch=False)
    assert len(report.new_alerts) == 1
    assert log_alerts(store, "paper", report.limits, clock.now_ms()) == ()
    assert log_alerts(store, "another-account", report.limits, clock.now_ms()) == report.new_alerts


def test_an_unknown_value_keeps_the_alert_in_force(store: Store) -> None:
    from dataclasses import replace

    clock = FrozenClock(NOW)
    ctx, _, engine = setup(store, clock)
    ctx.limits = LIQ_ONLY
    engine.place_order(OrderRequest(BTC, "long", 0.05, leverage=20, mark=80_000.0))
    report = build_report(ctx, garch=False)
    unknown = tuple(replace(c, value=None, closeness=None, breached=False) for c in report.limits.checks)
    assert log_alerts(store, "paper", replace(report.limits, checks=unknown, alerts=()), NOW) == ()
    assert logged(store) == [("liq_distance", BTC, "critical")]  # not cleared by a missing mark


def test_a_daily_loss_trips_the_breaker_and_new_orders_are_refused(store: Store) -> None:
    clock = FrozenClock(NOW)
    ctx, _, engine = setup(store, clock, daily_loss_limit_pct=5, max_drawdown_pct=0)
    assert ctx.limits.daily_loss_limit == 0.05 and ctx.limits.max_drawdown is None  # from [risk]
    ctx.limits = Limits(None, None, None, None, 0.05, None, 0.8, require_stop=False)  # daily loss alone
    engine.place_order(OrderRequest(BTC, "long", 0.5, leverage=10, margin_mode="cross", mark=80_000.0))
    report = build_report(ctx, garch=False)
    assert not report.breaker.tripped
    clock.advance(60_000)
    engine.on_marks({BTC: 79_600.0})  # -200 of 5,000 and fees: about 4.4% down today, within the limit
    report = build_report(ctx, garch=False)
    assert not report.breaker.tripped
    assert [(a.kind, a.severity) for a in report.new_alerts] == [("daily_loss", "warning")]
    clock.advance(60_000)
    engine.on_marks({BTC: 79_400.0})  # -300: over 6%
    report = build_report(ctx, garch=False)
    assert report.breaker.tripped and report.breaker.since == clock.now_ms()
    assert report.breaker.reason is not None and "loss today" in report.breaker.reason
    assert [(a.kind, a.severity) for a in report.new_alerts] == [("daily_loss", "critical")]
    assert report.as_dict()["circuit_breaker"]["tripped"] is True  # type: ignore[index]
    assert [k for k, _, _ in logged(store)] == ["daily_loss", "daily_loss", "breaker_trip"]
    with pytest.raises(UsageError, match="circuit breaker tripped"):
        engine.place_order(OrderRequest(ETH, "long", 0.1, leverage=2, mark=2_000.0))
    engine.close(BTC, mark=79_400.0)  # closing is always allowed
    build_report(ctx, garch=False)
    assert [k for k, _, _ in logged(store)].count("breaker_trip") == 1  # tripped once


def test_a_read_only_check_logs_nothing(store: Store) -> None:
    clock = FrozenClock(NOW)
    ctx, _, engine = setup(store, clock, daily_loss_limit_pct=1)
    engine.place_order(OrderRequest(BTC, "long", 0.5, leverage=10, margin_mode="cross", mark=80_000.0))
    engine.on_marks({BTC: 78_000.0})
    report = build_report(ctx, garch=False, record=False)
    assert report.alerts and report.new_alerts == () and not report.breaker.tripped
    assert logged(store) == []


def test_a_position_without_a_stop_raises_an_alert_until_a_stop_is_set(store: Store) -> None:
    clock = FrozenClock(NOW)
    ctx, _, engine = setup(store, clock)
    ctx.limits = Limits(None, None, None, None, None, None, 0.8)  # no limit: only the missing stop
    engine.place_order(OrderRequest(BTC, "long", 0.01, leverage=2, mark=80_000.0))
    engine.place_order(OrderRequest(ETH, "short", 0.1, leverage=2, stop=2_100.0, mark=2_000.0))
    report = build_report(ctx, garch=False)
    (alert,) = report.new_alerts
    assert (alert.kind, alert.symbol, alert.severity) == ("no_stop", BTC, "warning")
    assert alert.message == f"{BTC} has no stop-loss: its loss runs to liquidation"
    assert report.as_dict()["alerts"] == [  # what `perptui risk --json` prints
        {"kind": "no_stop", "symbol": BTC, "severity": "warning", "message": alert.message}
    ]
    clock.advance(2_000)
    assert build_report(ctx, garch=False).new_alerts == ()  # raised once
    engine.set_stop(BTC, 78_000.0, mark=80_000.0)
    clock.advance(2_000)
    report = build_report(ctx, garch=False)
    assert report.alerts == () and logged(store)[-1] == ("no_stop", BTC, "info")
    with store.reading() as conn:
        last = risk_events.load_events(conn, "paper")[-1]
    assert last.message == f"{BTC} no longer open without a stop-loss"
    # Switched off in the config ([risk] alert_no_stop = false): no alert.
    engine.set_stop(BTC, None, mark=80_000.0)
    ctx.limits = Limits(None, None, None, None, None, None, 0.8, require_stop=False)
    assert build_report(ctx, garch=False).alerts == ()
