"""The paper engine refuses on every path what the market would refuse (``domain.market_rules``), with the
rule and the nearest valid value, and records nothing; the rehearsal shows the same refusal first."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from perptui.domain.market_rules import OrderRefused
from perptui.domain.paper import PaperPosition, TakeProfitTarget
from perptui.services.accounts import PaperAccount
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest, PaperConfig, PaperEngine
from perptui.services.store import Store, paper_book
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, EX, NO_BREAKER, flows, market

#: The test market with a 100 USDT minimum order and at most 50 BTC an order.
LISTED = dataclasses.replace(market(BTC), min_qty=0.001, min_notional=100.0, max_qty=50.0)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def engine_on(store: Store, **config: object) -> PaperEngine:
    account = PaperAccount(
        store, FrozenClock(FROZEN_NOW_MS), starting_capital=10_000.0, risk_pct=0.01, neutral_pct=0.7,
        directional_pct=0.3, exchange=EX,
    )  # fmt: skip
    cfg = PaperConfig(slippage=0.0, limits=NO_BREAKER, **config)  # type: ignore[arg-type]
    return PaperEngine(account, exchange=EX, config=cfg, markets=[LISTED])


def nothing_recorded(engine: PaperEngine) -> None:
    assert engine.orders(open_only=False) == [] and engine.fills() == [] and engine.positions() == []
    assert flows(engine) == [("opening", 10_000.0)]


@pytest.mark.parametrize(
    ("request_", "rule", "nearest"),
    [
        (OrderRequest(BTC, "long", 0.0035, mark=40_000.0), "step", 0.003),
        (OrderRequest(BTC, "long", 0.0015, mark=40_000.0), "step", 0.003),  # 0.001 is under 100 USDT
        (OrderRequest(BTC, "long", 0.0001, mark=40_000.0), "min_qty", 0.003),
        (OrderRequest(BTC, "long", 1e-300, mark=40_000.0), "min_qty", 0.003),
        (OrderRequest(BTC, "long", 0.002, mark=40_000.0), "min_notional", 0.003),
        (OrderRequest(BTC, "long", 0.002, price=39_000.0, mark=40_000.0), "min_notional", 0.003),
        (OrderRequest(BTC, "long", 60, leverage=50, mark=40.0), "max_qty", 50.0),
        (OrderRequest(BTC, "long", 0.01, price=39_000.05, mark=40_000.0), "tick", 39_000.0),
        (OrderRequest(BTC, "long", 0.01, price=0.01, mark=40_000.0), "tick", 0.1),
        (OrderRequest(BTC, "long", 0.01, leverage=2.7, mark=40_000.0), "leverage_step", 3.0),
        (
            OrderRequest(BTC, "long", 0.01, take_profits=(TakeProfitTarget(41_000.03),), mark=40_000.0),
            "tick",
            41_000.0,
        ),
        (OrderRequest(BTC, "long", 0.01, stop=39_000.03, mark=40_000.0), "tick", 39_000.1),
        (OrderRequest(BTC, "long", 10, leverage=30, mark=40_000.0), "leverage_bracket", 10.0),
    ],
)
def test_every_order_the_market_refuses_is_refused_and_nothing_is_recorded(
    store: Store, request_: OrderRequest, rule: str, nearest: float
) -> None:
    engine = engine_on(store)
    with pytest.raises(OrderRefused) as rehearsed:
        engine.rehearse(lambda: engine.place_order(request_))
    with pytest.raises(OrderRefused) as placed:
        engine.place_order(request_)
    assert rehearsed.value.refusal == placed.value.refusal
    assert (placed.value.refusal.rule, placed.value.refusal.nearest) == (rule, nearest)
    assert len(str(placed.value).splitlines()) == 1
    nothing_recorded(engine)


def test_closes_reductions_and_levels_follow_the_rules(store: Store) -> None:
    engine = engine_on(store)
    engine.place_order(OrderRequest(BTC, "long", 0.01, leverage=5, mark=40_000.0))
    with pytest.raises(OrderRefused, match=r"below BTC/USDT:USDT's minimum quantity 0\.001"):
        engine.close(BTC, 0.0005, mark=40_000.0)
    r = engine.close(BTC, 0.002, mark=40_000.0)  # 80 USDT: under the minimum order, but it only reduces
    assert r.position is not None and r.position.qty == 0.008
    with pytest.raises(OrderRefused, match=r"the nearest valid stop is 39,000\.1"):
        engine.set_stop(BTC, 39_000.05)
    with pytest.raises(OrderRefused, match=r"the nearest valid take-profit is 45,000\.0"):
        engine.set_take_profit(BTC, 45_000.07)
    position = engine.position(BTC)
    assert position is not None and position.stop is None and position.take_profits == ()
    engine.set_stop(BTC, 39_000.1)
    assert engine.position(BTC).stop == 39_000.1  # type: ignore[union-attr]


def test_a_position_from_before_the_rules_can_always_be_closed_whole(store: Store) -> None:
    """Kept from an older perptui: 0.0123456 BTC at 3.5x. A partial close must meet the step; the whole
    close is always taken; adding keeps its 3.5x (the venue's step is checked when a position opens)."""
    engine = engine_on(store)
    engine.account.open()
    legacy = PaperPosition(EX, BTC, "long", 0.0123456, 40_000.0, 3.5, "isolated", 141.09, FROZEN_NOW_MS)
    with store.writing() as conn:
        paper_book.save_position(conn, engine.account.name, legacy)
    engine.place_order(OrderRequest(BTC, "long", 0.003, mark=40_000.0))
    assert engine.position(BTC).leverage == 3.5  # type: ignore[union-attr]
    r = engine.close(BTC, mark=40_000.0)
    assert r.position is None and r.fills[0].qty == pytest.approx(0.0153456)


def test_the_configured_leverage_is_rounded_to_what_the_venue_takes(store: Store) -> None:
    engine = engine_on(store, leverage=2.7)
    r = engine.place_order(OrderRequest(BTC, "long", 0.01, mark=40_000.0))
    assert r.position is not None and r.position.leverage == 3.0
