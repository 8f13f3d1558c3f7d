"""The paper engine on a real SQLite ledger: fills, fees, limits, stops, funding, liquidation, refusals."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from perptui.domain.errors import UnknownSymbol, UsageError
from perptui.domain.limits import Limits
from perptui.domain.paper import TakeProfitLevel, TakeProfitTarget
from perptui.domain.types import FundingRate, LeverageTier, Market
from perptui.services.accounts import PaperAccount
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest, PaperConfig, PaperEngine
from perptui.services.store import Store, paper_book
from tests.conftest import FROZEN_NOW_MS

EX = "paperx"
TIERS = (
    LeverageTier(0, 50_000, 0.004, 0.0, 50),
    LeverageTier(50_000, 250_000, 0.005, 50.0, 20),
    LeverageTier(250_000, math.inf, 0.01, 1_300.0, 10),
)
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
NO_BREAKER = Limits(daily_loss_limit=None, max_drawdown=None)


def market(symbol: str) -> Market:
    base = symbol.partition("/")[0]
    return Market(
        EX, symbol, base + "USDT", base, "USDT", "USDT", amount_step=0.001, price_tick=0.1,
        taker_fee=0.0005, maker_fee=0.0002, max_leverage=50, funding_interval_hours=8, tiers=TIERS,
    )  # fmt: skip


def make_engine(
    store: Store,
    clock: FrozenClock,
    *,
    capital: float = 10_000.0,
    slippage: float = 0.001,
    limits: Limits = NO_BREAKER,
) -> PaperEngine:
    account = PaperAccount(
        store,
        clock,
        starting_capital=capital,
        risk_pct=0.01,
        neutral_pct=0.7,
        directional_pct=0.3,
        exchange=EX,
    )
    config = PaperConfig(slippage=slippage, limits=limits)
    return PaperEngine(account, exchange=EX, config=config, markets=[market(BTC), market(ETH)])


def flows(engine: PaperEngine) -> list[tuple[str, float]]:
    return [(f.kind, f.signed) for f in engine.account.cash_flows()]


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "cache.db") as s:
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW_MS)


def test_market_orders_add_reduce_and_flip_on_the_ledger(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock)
    r = engine.place_order(OrderRequest("BTC", "long", 0.5, leverage=10, mark=40_000))
    (fill,) = r.fills
    assert (fill.price, fill.fee, fill.liquidity, fill.reason, fill.side) == (
        40_040,
        10.01,
        "taker",
        "order",
        "long",
    )
    assert r.order.status == "filled" and r.position is not None and r.position.isolated_margin == 2_002.0
    s = engine.account.summary()
    assert s.wallet_balance == 9_989.99
    assert s.unrealized_pnl == pytest.approx(-20.0)  # at the mark 40,000
    assert s.equity == pytest.approx(9_969.99)
    assert s.used_margin == pytest.approx(2_002.0) and s.free_margin == pytest.approx(9_989.99 - 2_002)
    assert s.maintenance_margin == pytest.approx(20_000 * 0.004)
    assert s.leverage == pytest.approx(20_000 / 9_969.99)

    clock.advance(60_000)
    engine.place_order(OrderRequest("BTC", "long", 0.5, mark=42_000))  # fills 42,042: entry 41,041
    clock.advance(60_000)
    r = engine.close(BTC, 0.4, mark=45_000)  # sells at 44,955: realised 0.4 x 3,914
    assert r.fills[0].reason == "close" and r.fills[0].realized_pnl == 1_565.6 and r.fills[0].fee == 8.991
    assert r.position is not None and (r.position.qty, r.position.isolated_margin) == (0.6, 2_462.46)
    clock.advance(60_000)
    r = engine.place_order(OrderRequest(BTC, "short", 1.0, leverage=5, mark=44_000))  # flip at 43,956
    assert r.fills[0].realized_pnl == 1_749.0 and r.fills[0].fee == 21.978
    assert r.position is not None and (r.position.side, r.position.qty, r.position.isolated_margin) == (
        "short", 0.4, 3_516.48,
    )  # fmt: skip
    assert flows(engine) == [
        ("opening", 10_000.0),
        ("fee", -10.01),
        ("fee", -10.5105),
        ("realized_pnl", 1_565.6),
        ("fee", -8.991),
        ("realized_pnl", 1_749.0),
        ("fee", -21.978),
    ]
    wallet = 10_000 - 10.01 - 10.5105 + 1_565.6 - 8.991 + 1_749.0 - 21.978
    assert engine.account.summary().wallet_balance == pytest.approx(wallet, abs=1e-9)
    assert [f.reason for f in engine.fills()] == ["order", "order", "close", "order"]
    assert [o.status for o in engine.orders(open_only=False)] == ["filled"] * 4


def test_limit_orders_rest_then_fill_at_their_price_as_makers(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock)
    r = engine.place_order(
        OrderRequest(BTC, "long", 0.5, price=39_000, leverage=10, stop=37_000, mark=40_000)
    )
    assert r.order.status == "open" and r.fills == () and "rests" in r.message
    assert engine.account.summary().used_margin == pytest.approx(0.5 * 39_000 / 10)  # reserved
    clock.advance(1_000)
    assert engine.on_marks({BTC: 39_500}) == []
    clock.advance(1_000)
    (event,) = engine.on_marks({BTC: 38_000})
    assert event.kind == "limit" and event.fills[0].price == 39_000 and event.fills[0].liquidity == "maker"
    assert event.fills[0].fee == pytest.approx(0.0002 * 0.5 * 39_000)
    pos = engine.position(BTC)
    assert pos is not None and (pos.entry, pos.stop, pos.isolated_margin) == (39_000, 37_000, 1_950.0)
    assert engine.orders() == [] and engine.orders(open_only=False)[0].status == "filled"
    # A marketable limit takes liquidity at once, never worse than its price.
    r = engine.place_order(OrderRequest(ETH, "short", 1, price=1_999, leverage=10, mark=2_000))
    assert (
        r.order.status == "filled"
        and r.fills[0].price == pytest.approx(1_999)
        and r.fills[0].liquidity == "taker"
    )


def test_stop_loss_and_take_profit_trigger_on_the_mark(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock)
    engine.place_order(
        OrderRequest(
            BTC, "long", 0.1, leverage=5, stop=38_000, take_profits=(TakeProfitTarget(45_000),), mark=40_000
        )
    )
    engine.place_order(
        OrderRequest(
            ETH, "short", 1, leverage=5, stop=2_200, take_profits=(TakeProfitTarget(1_800),), mark=2_000
        )
    )
    clock.advance(1_000)
    assert engine.on_marks({BTC: 38_500, ETH: 1_900}) == []
    clock.advance(1_000)
    events = engine.on_marks({BTC: 37_000, ETH: 1_750})
    assert [(e.symbol, e.kind) for e in events] == [(BTC, "stop"), (ETH, "take_profit")]
    btc, eth = events[0].fills[0], events[1].fills[0]
    assert btc.price == pytest.approx(38_000 * 0.999) and btc.side == "short" and btc.reason == "stop"
    assert btc.realized_pnl == pytest.approx(0.1 * (38_000 * 0.999 - 40_040), abs=1e-8)
    assert eth.price == pytest.approx(1_800 * 1.001) and eth.fee == pytest.approx(0.0005 * 1_800 * 1.001)
    assert engine.positions() == []


def test_funding_settles_once_and_moves_the_isolated_margin(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock)
    engine.place_order(OrderRequest(BTC, "short", 0.4, leverage=5, mark=44_000))
    margin = engine.position(BTC).isolated_margin  # type: ignore[union-attr]
    t = FROZEN_NOW_MS + 8 * 3_600_000
    (event,) = engine.settle_funding(BTC, t, 0.0001, 44_000)
    assert event.kind == "funding" and event.funding is not None and event.funding.amount == 1.76
    assert engine.settle_funding(BTC, t, 0.0001, 44_000) == []  # the same time twice: nothing
    assert engine.settle_funding(BTC, FROZEN_NOW_MS, 0.0001, 44_000) == []  # not open before it
    pos = engine.position(BTC)
    assert pos is not None and pos.isolated_margin == pytest.approx(margin + 1.76) and pos.funding == 1.76
    assert flows(engine)[-1] == ("funding", 1.76)
    assert [p.amount for p in engine.funding_payments()] == [1.76]

    # Live: the rate announced for the next funding time settles once that time has passed.
    t2 = t + 8 * 3_600_000
    rate = FundingRate(BTC, t, -0.0002, next_funding_time=t2, interval_hours=8, mark=43_000)
    clock.set(t2 - 1_000)
    assert engine.on_funding_rates({BTC: rate}) == []
    clock.set(t2 + 2_000)
    after = FundingRate(BTC, t2 + 2_000, 0.0001, next_funding_time=t2 + 8 * 3_600_000, mark=43_500)
    (event,) = engine.on_funding_rates({BTC: after})
    assert event.funding is not None and (event.funding.time, event.funding.rate) == (t2, -0.0002)
    assert event.funding.amount == pytest.approx(-0.4 * 43_500 * 0.0002)  # shorts pay when the rate < 0
    inputs = engine.position_inputs()
    assert inputs[0].funding_rate == 0.0001 and inputs[0].next_funding_time == t2 + 8 * 3_600_000
    assert inputs[0].funding_so_far == pytest.approx(1.76 - 3.48)


def test_isolated_liquidation_fills_at_the_formula_price(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock)
    engine.place_order(OrderRequest(ETH, "short", 1, leverage=2, margin_mode="isolated", mark=2_000))
    engine.place_order(OrderRequest(BTC, "long", 0.5, leverage=10, mark=40_000))  # entry 40,040, margin 2,002
    wallet = engine.account.summary().wallet_balance
    assert wallet is not None
    lp = (2_002 - 0.5 * 40_040) / (0.5 * 0.004 - 0.5)
    clock.advance(1_000)
    (event,) = engine.on_marks({BTC: 30_000})  # a gap far below: still filled at the liquidation price
    fill = event.fills[0]
    assert event.kind == "liquidation" and fill.reason == "liquidation" and fill.price == pytest.approx(lp)
    assert fill.fee == 0.0 and fill.realized_pnl == pytest.approx(0.5 * (lp - 40_040), abs=1e-8)
    # What was left at the liquidation price (its maintenance margin) goes to the insurance fund.
    assert fill.liquidation_loss == pytest.approx(-0.5 * lp * 0.004, abs=1e-8)
    # The trader loses exactly the isolated margin; the other isolated position is untouched.
    assert engine.account.summary().wallet_balance == pytest.approx(wallet - 2_002.0, abs=1e-8)
    assert [p.symbol for p in engine.positions()] == [ETH]
    with store.reading() as conn:
        (logged,) = [e for e in paper_book_events(conn) if e[0] == "liquidation"]
    assert logged[1] == BTC and logged[2] == "critical"


def paper_book_events(conn) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in conn.execute("SELECT kind, symbol, severity FROM risk_events ORDER BY id")]


def test_cross_liquidation_takes_the_cross_wallet_only(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, capital=3_000.0, slippage=0.0)
    engine.place_order(OrderRequest(ETH, "short", 0.5, leverage=2, margin_mode="isolated", mark=2_000))
    engine.place_order(OrderRequest(BTC, "long", 0.5, leverage=20, margin_mode="cross", mark=40_000))
    isolated = engine.position(ETH).isolated_margin  # type: ignore[union-attr]
    before = engine.account.summary()
    assert before.wallet_balance is not None
    cross_wallet = before.wallet_balance - isolated
    lp = (cross_wallet - 0.5 * 40_000) / (0.5 * 0.004 - 0.5)
    clock.advance(1_000)
    (event,) = engine.on_marks({BTC: lp - 100})
    assert event.kind == "liquidation" and event.fills[0].price == pytest.approx(lp)
    after = engine.account.summary()
    assert after.wallet_balance == pytest.approx(isolated, abs=1e-8)  # the cross wallet is gone, exactly
    assert [p.symbol for p in engine.positions()] == [ETH]


def test_refused_orders_record_nothing(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, capital=1_000.0)
    engine.place_order(OrderRequest(BTC, "long", 0.01, leverage=10, mark=40_000))
    before = (flows(engine), engine.fills(), engine.orders(open_only=False), engine.positions())
    cases = [
        (OrderRequest(ETH, "long", 0.1, leverage=2), "no mark of ETH/USDT:USDT is known"),
        (
            OrderRequest(BTC, "long", 1, leverage=10, mark=40_000),
            r"not enough free margin: this needs 4,0\d\d",
        ),
        (
            OrderRequest(ETH, "long", 1, price=1_900, leverage=1, mark=2_000),
            "not enough free margin: this limit",
        ),
        (OrderRequest(ETH, "long", 200, leverage=20, mark=2_000), "allows positions up to 250,000.00"),
        (OrderRequest(ETH, "long", 0.1, leverage=60, mark=2_000), "at most 50x"),
        (OrderRequest(BTC, "long", 0.01, leverage=5, mark=40_000), "open at 10x"),
        (OrderRequest(BTC, "long", 0.01, margin_mode="cross", mark=40_000), "open in isolated margin"),
        (
            OrderRequest(BTC, "short", 0.02, reduce_only=True, mark=40_000),
            "a close must be on the other side",
        ),
        (OrderRequest(ETH, "long", 0.1, leverage=2, stop=2_100, mark=2_000), "stop 2,100 must be below"),
        (OrderRequest(BTC, "short", 0.001, stop=50_000, mark=40_000), "belong to what an order opens"),
    ]
    for req, message in cases:
        with pytest.raises(UsageError, match=message):
            engine.place_order(req)
    with pytest.raises(UnknownSymbol):
        engine.place_order(OrderRequest("NOPE", "long", 1, mark=1))
    assert (flows(engine), engine.fills(), engine.orders(open_only=False), engine.positions()) == before


def test_an_order_liquidated_at_once_is_refused(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, slippage=0.02)
    with pytest.raises(UsageError, match="would be liquidated at once"):
        engine.place_order(OrderRequest(BTC, "long", 0.1, leverage=50, mark=40_000))
    assert engine.fills() == []


def test_cancel_and_moving_stops(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock)
    r = engine.place_order(OrderRequest(ETH, "short", 1, price=2_500, leverage=5, mark=2_000))
    assert engine.cancel(r.order.id).status == "cancelled"
    with pytest.raises(UsageError, match="is cancelled: only open orders"):
        engine.cancel(r.order.id)
    with pytest.raises(UsageError, match="no paper order #999"):
        engine.cancel(999)
    assert engine.on_marks({ETH: 2_600}) == []  # a cancelled order never fills

    engine.place_order(OrderRequest(BTC, "long", 0.5, leverage=10, mark=40_000))
    pos, warnings = engine.set_stop(BTC, 39_000)
    assert pos.stop == 39_000 and warnings == ()
    with pytest.raises(UsageError, match="must be below the mark"):
        engine.set_stop(BTC, 41_000)
    pos, warnings = engine.set_stop(BTC, 30_000)  # below the liquidation price (~36,181)
    assert "beyond the liquidation price" in warnings[0]
    pos, _ = engine.set_take_profit(BTC, 50_000)
    assert (pos.stop, pos.take_profits) == (30_000, (TakeProfitLevel(50_000, pos.qty),))
    pos, _ = engine.set_stop(BTC, None)
    assert pos.stop is None and engine.position(BTC).stop is None  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="no open paper position in ETH"):
        engine.set_stop(ETH, 1_000)


def test_withdrawals_leave_the_margin_in_use(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, capital=1_000.0, slippage=0.0)
    engine.place_order(OrderRequest(BTC, "long", 0.1, leverage=10, mark=40_000))  # margin 400, fee 2
    with pytest.raises(UsageError, match=r"only 598\.00 USDT is free"):
        engine.account.withdraw(599)
    engine.account.withdraw(598)
    assert engine.account.summary().free_margin == pytest.approx(0.0, abs=1e-9)
    s = engine.account.summary(marks={BTC: 41_000})  # marks given win
    assert s.unrealized_pnl == pytest.approx(100.0) and s.equity == pytest.approx(500.0)


def test_a_restart_keeps_the_book(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "cache.db"
    with Store.open(path) as store:
        engine = make_engine(store, clock)
        engine.place_order(OrderRequest(BTC, "long", 0.5, leverage=10, stop=38_000, mark=40_000))
        engine.place_order(OrderRequest(ETH, "short", 1, price=2_500, leverage=5, mark=2_000))
        clock.advance(120_000)
        engine.on_marks({BTC: 41_000, ETH: 2_100})  # also records the marks (checkpoint)
        before = (engine.positions(), engine.orders(), engine.fills(), flows(engine))
    with Store.open(path) as store:
        engine = make_engine(store, clock)
        assert (engine.positions(), engine.orders(), engine.fills(), flows(engine)) == before
        assert engine.positions()[0].last_mark == 41_000
        assert engine.account.summary().unrealized_pnl == pytest.approx(0.5 * (41_000 - 40_040))
        (event,) = engine.on_marks({BTC: 37_000})  # the stop is still attached after the restart
        assert event.kind == "stop"
        with store.reading() as conn:
            totals = paper_book.flow_totals(conn, engine.account.name)
        assert totals["fee"] == pytest.approx(-sum(f.fee for f in engine.fills()))
