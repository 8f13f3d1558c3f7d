"""The circuit breaker on the ledger: trips on the daily loss limit or the max drawdown, refuses orders
that add risk while tripped (closing always passes), holds until the next UTC day or a reset."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from perptui.config.loader import load_settings
from perptui.domain.errors import UsageError
from perptui.domain.limits import Limits
from perptui.domain.timeframes import parse_utc
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest, breaker_now, check_breaker, limits_from
from perptui.services.store import Store, risk_events
from tests.test_paper_engine import BTC, ETH, make_engine

DAY = 86_400_000
T0 = parse_utc("2025-06-02T09:00")


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def events(store: Store) -> list[str]:
    with store.reading() as conn:
        return [e.kind for e in risk_events.load_events(conn, "paper:paperx")]


def test_limits_come_from_the_config_as_fractions(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = limits_from(load_settings({}, {}))
    assert limits == Limits(0.02, 5.0, 0.10, 0.5, 0.05, 0.15, 0.8)
    monkeypatch.setenv("PERPTUI_RISK__DAILY_LOSS_LIMIT_PCT", "0")
    monkeypatch.setenv("PERPTUI_RISK__MAX_DRAWDOWN_PCT", "25")
    monkeypatch.setenv("PERPTUI_RISK__MAX_LEVERAGE", "0")
    limits = limits_from(load_settings({}, {}))
    assert (limits.daily_loss_limit, limits.max_drawdown, limits.max_leverage) == (None, 0.25, None)


def test_a_drawdown_trips_it_and_only_reducing_orders_pass(store: Store) -> None:
    clock = FrozenClock(T0)
    limits = Limits(daily_loss_limit=None, max_drawdown=0.15)
    engine = make_engine(store, clock, capital=10_000.0, slippage=0.0, limits=limits)
    engine.account.open()  # the peak: 10,000 at 09:00
    clock.advance(60_000)
    engine.place_order(OrderRequest(BTC, "long", 1, leverage=10, margin_mode="cross", mark=40_000))
    clock.advance(60_000)
    engine.on_marks({BTC: 38_600})  # -1,400 - 20 of fees: a 14.2% drawdown, within the limit
    assert check_breaker(store, engine.account, clock.now_ms(), limits).tripped is False
    clock.advance(60_000)
    engine.on_marks({BTC: 38_400})  # -1,600 - 20: 16.2% from the peak
    state = check_breaker(store, engine.account, clock.now_ms(), limits)
    assert state.tripped and state.since == clock.now_ms() and state.until == parse_utc("2025-06-03")
    assert state.reason is not None and state.reason.startswith("drawdown 16.20% breaches the limit 15.00%")
    assert events(store) == ["breaker_trip"]
    assert check_breaker(store, engine.account, clock.now_ms(), limits).tripped  # logged once
    assert events(store) == ["breaker_trip"]

    fills = len(engine.fills())
    for req in (
        OrderRequest(ETH, "long", 0.1, leverage=2, mark=2_000),  # a new position
        OrderRequest(BTC, "long", 0.1, mark=38_400),  # adding
        OrderRequest(BTC, "short", 1.5, leverage=2, mark=38_400),  # a flip opens risk too
        OrderRequest(ETH, "long", 0.1, price=1_900, leverage=2, mark=2_000),  # a resting limit
    ):
        with pytest.raises(UsageError, match=r"^circuit breaker tripped at 2025-06-02 09:03 UTC \(drawdown"):
            engine.place_order(req)
    assert len(engine.fills()) == fills
    engine.place_order(OrderRequest(BTC, "short", 0.4, mark=38_400))  # reducing passes
    engine.close(BTC, mark=38_400)  # closing passes
    assert engine.positions() == []


def test_a_reset_re_arms_it_against_new_losses_from_the_reset_point(store: Store) -> None:
    clock = FrozenClock(T0)
    limits = Limits(daily_loss_limit=0.05, max_drawdown=None)
    engine = make_engine(store, clock, capital=10_000.0, slippage=0.0, limits=limits)
    assert engine.reset_breaker().reset_at is None  # not tripped: nothing logged
    assert events(store) == []
    engine.place_order(OrderRequest(BTC, "long", 1, leverage=10, margin_mode="cross", mark=40_000))
    clock.advance(60_000)
    engine.on_marks({BTC: 39_400})  # -600 - 20: a 6.2% loss today
    with pytest.raises(UsageError, match=r"loss today 6\.20% breaches the limit 5\.00%: circuit breaker"):
        engine.place_order(OrderRequest(ETH, "long", 0.1, leverage=2, mark=2_000))
    clock.advance(60_000)
    state = engine.reset_breaker()
    assert not state.tripped and state.reset_at == clock.now_ms()
    assert store.equity_at("paper:paperx", clock.now_ms()) == (clock.now_ms(), 9_380.0)  # the reset point
    engine.place_order(OrderRequest(ETH, "long", 0.1, leverage=2, mark=2_000))  # armed, nothing new lost
    clock.advance(60_000)
    engine.on_marks({BTC: 39_000})  # -400.1 since the reset: 4.27% of 9,380
    engine.place_order(OrderRequest(ETH, "long", 0.1, mark=2_000))
    assert events(store) == ["breaker_trip", "breaker_reset"]
    clock.advance(60_000)
    engine.on_marks({BTC: 38_900})  # -500.2 since the reset: 5.33%
    with pytest.raises(UsageError, match=r"\(loss since the reset 5\.33% breaches the limit 5\.00%"):
        engine.place_order(OrderRequest(ETH, "long", 0.1, mark=2_000))
    assert events(store) == ["breaker_trip", "breaker_reset", "breaker_trip"]
    # The next UTC day: the trip is over and the day's loss starts from 00:00's equity.
    clock.set(parse_utc("2025-06-03T00:05"))
    assert breaker_now(store, "paper:paperx", clock.now_ms()).tripped is False
    engine.account.snapshot_if_due()
    clock.advance(60_000)
    engine.on_marks({BTC: 38_800})  # -100 more today: 1.1%
    engine.place_order(OrderRequest(ETH, "long", 0.1, mark=2_000))
    assert events(store) == ["breaker_trip", "breaker_reset", "breaker_trip"]


def test_the_risk_view_measures_the_loss_from_the_reset(store: Store) -> None:
    """After a reset the view shows the breaker armed and no breach of the losses the trader confirmed
    (it used to say "loss today 6.20% breaches the limit" beside "armed (reset today)")."""
    from perptui.services.risk.build import build_report
    from perptui.services.risk.context import RiskContext

    clock = FrozenClock(T0)
    limits = Limits(daily_loss_limit=0.05, max_drawdown=0.05)
    engine = make_engine(store, clock, capital=10_000.0, slippage=0.0, limits=limits)
    engine.place_order(
        OrderRequest(BTC, "long", 1, leverage=10, margin_mode="cross", stop=30_000, mark=40_000)
    )
    clock.advance(60_000)
    engine.on_marks({BTC: 39_400})
    ctx = RiskContext("paper", engine.account.name, engine.exchange, store, clock, limits, engine=engine)
    tripped = build_report(ctx, garch=False)
    assert tripped.breaker.tripped
    critical = [a.message for a in tripped.alerts if a.severity == "critical"]
    assert any(m.startswith("loss today 6.20% breaches") for m in critical), critical
    assert any(m.startswith("drawdown 6.01% breaches") for m in critical), critical  # from 9,980
    clock.advance(60_000)
    engine.reset_breaker()
    after = build_report(ctx, garch=False)
    assert not after.breaker.tripped and after.breaker.reset_at == clock.now_ms()
    assert not [a for a in after.alerts if a.kind in ("daily_loss", "drawdown")]
    assert after.portfolio.daily_loss == 0.0 and after.portfolio.loss_since == clock.now_ms()
    assert [k for k in events(store) if k.startswith("breaker")] == ["breaker_trip", "breaker_reset"]


@pytest.mark.parametrize("policy", ["cancel", "hold"])
def test_a_trip_cancels_or_holds_the_resting_limits_that_open(store: Store, policy: str) -> None:
    clock = FrozenClock(T0)
    limits = Limits(daily_loss_limit=0.05, max_drawdown=None)
    engine = make_engine(store, clock, capital=10_000.0, slippage=0.0, limits=limits)
    engine.ledger.config = dataclasses.replace(engine.config, breaker_limit_orders=policy)  # type: ignore[arg-type]
    engine.place_order(OrderRequest(BTC, "long", 1, leverage=10, margin_mode="cross", mark=40_000))
    opening = engine.place_order(OrderRequest(ETH, "long", 0.5, price=1_900, leverage=2, mark=2_000)).order
    closing = engine.place_order(OrderRequest(BTC, "short", 0.5, price=45_000, mark=40_000)).order
    assert engine.account.margin().reserved == 475.0  # the ETH limit's; the one that reduces holds none
    clock.advance(60_000)
    engine.on_marks({BTC: 39_400})
    assert engine.breaker().tripped
    still_open = {o.id: o for o in engine.orders()}
    assert closing.id in still_open  # a reducing limit is kept either way
    if policy == "cancel":
        assert opening.id not in still_open
        (cancelled,) = [o for o in engine.orders(open_only=False) if o.id == opening.id]
        assert cancelled.status == "cancelled" and "circuit breaker tripped" in (cancelled.note or "")
        return
    assert opening.id in still_open
    clock.advance(60_000)
    assert engine.on_marks({ETH: 1_850}) == []  # held: no fill while tripped
    assert engine.position(ETH) is None and opening.id in {o.id for o in engine.orders()}
    clock.advance(60_000)
    engine.reset_breaker()
    clock.advance(60_000)
    engine.on_marks({ETH: 1_950})
    (event,) = engine.on_marks({ETH: 1_880})  # armed again: it fills
    assert event.kind == "limit", event.message
    assert event.kind == "limit" and engine.position(ETH) is not None


def test_a_limit_reached_after_the_loss_limit_does_not_fill(store: Store) -> None:
    """Nothing checked the limits since the loss: the limit about to open checks them first, trips the
    breaker, and is cancelled instead of filled."""
    clock = FrozenClock(T0)
    limits = Limits(daily_loss_limit=0.05, max_drawdown=None)
    engine = make_engine(store, clock, capital=10_000.0, slippage=0.0, limits=limits)
    engine.place_order(OrderRequest(BTC, "long", 1, leverage=10, margin_mode="cross", mark=40_000))
    engine.place_order(OrderRequest(ETH, "long", 0.5, price=1_900, leverage=2, mark=2_000))
    clock.advance(60_000)
    engine.on_marks({BTC: 39_400, ETH: 1_890})  # the loss and the limit's price in one poll
    assert engine.position(ETH) is None and engine.orders() == []
    assert events(store) == ["breaker_trip"]
