"""Spot and carry pairs on the paper engine: both legs or neither, the spot fees and rules, the pair's
hedged exposure in the portfolio."""

from __future__ import annotations

from dataclasses import replace

import pytest

from perptui.domain.errors import UsageError
from perptui.domain.market_rules import OrderRefused
from perptui.domain.paper import TakeProfitTarget
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest, PaperEngine
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, make_engine, market

MARK, SPOT = 40_000.0, 39_960.0


@pytest.fixture
def engine():  # type: ignore[no-untyped-def]
    with Store.open(":memory:") as store:
        e = make_engine(store, FrozenClock(FROZEN_NOW_MS), capital=10_000.0, slippage=0.0)
        e.book.use([replace(market(BTC), spot_symbol="BTC/USDT", max_qty=1.0)])
        yield e


def nothing_written(e: PaperEngine) -> bool:
    return (
        e.pairs() == []
        and e.spot_holdings() == []
        and e.positions() == []
        and e.spot_fills() == []
        and e.fills() == []
        and [f.kind for f in e.account.cash_flows()] == ["opening"]
    )


def test_a_pair_holds_both_legs_with_the_spot_and_perp_fees(engine: PaperEngine) -> None:
    result = engine.open_pair(BTC, 0.1, mark=MARK, spot=SPOT)
    assert result.pair is not None and result.pair.qty == 0.1
    (held,) = engine.spot_holdings()
    assert (held.symbol, held.qty, held.entry) == ("BTC/USDT", 0.1, SPOT)
    (spot_fill,) = engine.spot_fills()
    assert spot_fill.fee == pytest.approx(0.1 * SPOT * 0.001)  # scan.spot_taker_fee_pct's default
    leg = engine.position(BTC)
    assert leg is not None and (leg.side, leg.qty) == ("short", 0.1)
    # equity: nothing lost but the two fees (spot at its price, the short at the mark)
    equity = engine.account.summary(marks={BTC: MARK}).equity
    assert equity == pytest.approx(10_000.0 - spot_fill.fee - engine.fills()[0].fee)


def test_a_refused_perp_leg_undoes_the_spot_leg(engine: PaperEngine) -> None:
    # 2 BTC passes the spot rules and is above the perp market's maximum quantity (1)
    with pytest.raises(UsageError) as refused:
        engine.open_pair(BTC, 2.0, mark=MARK, spot=SPOT / 10)
    assert "the perp leg" in str(refused.value) and "the spot leg was undone" in str(refused.value)
    assert nothing_written(engine)


def test_the_reverse_pair_needs_borrowed_spot_and_is_refused(engine: PaperEngine) -> None:
    with pytest.raises(UsageError, match="margin spot is not modelled"):
        engine.open_pair(BTC, 0.1, mark=MARK, spot=SPOT, reverse=True)
    with pytest.raises(UsageError, match=r"0\.000 held"):
        engine.place_spot(BTC, "sell", 0.1, spot=SPOT)
    assert nothing_written(engine)


def test_spot_orders_go_through_the_spot_markets_rules(engine: PaperEngine) -> None:
    with pytest.raises(OrderRefused, match="step"):
        engine.place_spot(BTC, "buy", 0.0015, spot=SPOT)
    with pytest.raises(OrderRefused, match="step"):
        engine.open_pair(BTC, 0.0015, mark=MARK, spot=SPOT)
    assert nothing_written(engine)


def test_nothing_takes_one_leg_of_a_pair_alone(engine: PaperEngine) -> None:
    engine.open_pair(BTC, 0.1, mark=MARK, spot=SPOT)
    with pytest.raises(UsageError, match="perp leg of a carry pair"):
        engine.close(BTC, mark=MARK)
    with pytest.raises(UsageError, match="perp leg of a carry pair"):
        engine.place_order(OrderRequest(BTC, "long", 0.05, mark=MARK))
    with pytest.raises(UsageError, match="spot leg of the"):
        engine.place_spot(BTC, "sell", 0.05, spot=SPOT)
    engine.close_pair(BTC, 0.04, mark=MARK, spot=SPOT)
    assert [p.qty for p in engine.pairs()] == [pytest.approx(0.06)]
    assert engine.position(BTC).qty == pytest.approx(0.06)  # type: ignore[union-attr]
    assert engine.spot_holdings()[0].qty == pytest.approx(0.06)
    engine.close_pair(BTC, mark=MARK, spot=SPOT)
    assert engine.pairs() == [] and engine.spot_holdings() == [] and engine.positions() == []


def test_a_limit_resting_from_before_the_pair_is_cancelled_rather_than_unhedge_it(
    engine: PaperEngine,
) -> None:
    """Found by the property test: a buy limit placed before the pair was opened filled later against
    the pair's short and left its spot leg unhedged (the leg flipped long)."""
    engine.place_order(OrderRequest(BTC, "long", 0.002, price=38_750.0, mark=MARK, leverage=2.0))
    engine.open_pair(BTC, 0.001, mark=MARK, spot=SPOT)
    happened = engine.on_marks({BTC: 37_500.0})
    assert [e.kind for e in happened] == ["cancel"] and "unhedged" in happened[0].message
    assert engine.orders() == []  # the resting limit is gone, cancelled with the reason
    leg = engine.position(BTC)
    assert leg is not None and (leg.side, leg.qty) == ("short", pytest.approx(0.001))


def test_a_resting_spot_limit_fills_at_its_price_with_the_maker_fee(engine: PaperEngine) -> None:
    result = engine.place_spot(BTC, "buy", 0.1, price=39_000.0, spot=SPOT)
    assert result.fill is None and [o.status for o in engine.spot_orders()] == ["open"]
    assert engine.on_spot_marks({"BTC/USDT": 39_500.0}) == []
    (filled,) = engine.on_spot_marks({"BTC/USDT": 38_990.0})
    assert filled.fill is not None and filled.fill.price == 39_000.0 and filled.fill.liquidity == "maker"
    assert engine.spot_orders() == [] and engine.spot_holdings()[0].qty == 0.1


def test_the_portfolio_counts_a_pairs_net_exposure(engine: PaperEngine) -> None:
    engine.open_pair(BTC, 0.1, mark=MARK, spot=SPOT)
    risk = engine.account.portfolio(marks={BTC: MARK})
    (row,) = risk.pairs
    assert row.net_delta == 0 and row.basis == pytest.approx(MARK / SPOT - 1)
    assert row.net_exposure == pytest.approx(0.1 * (SPOT - MARK))
    assert risk.gross_exposure == pytest.approx(abs(row.net_exposure))  # not the 2 x 4,000 of the legs
    assert risk.net_exposure == pytest.approx(0.1 * (SPOT - MARK))


def test_take_profit_levels_are_refused_on_a_pairs_perp_leg(engine: PaperEngine) -> None:
    # a level would close part of the short and leave the spot leg partly unhedged
    engine.open_pair(BTC, 0.1, mark=MARK, spot=SPOT)
    with pytest.raises(UsageError, match="perp leg of a carry pair"):
        engine.set_take_profits(BTC, (TakeProfitTarget(39_000, 0.5), TakeProfitTarget(38_000, 0.5)))
    with pytest.raises(UsageError, match="perp leg of a carry pair"):
        engine.place_order(
            OrderRequest(BTC, "short", 0.01, take_profits=(TakeProfitTarget(38_000, 1.0),), mark=MARK)
        )
    engine.on_marks({BTC: 37_900})
    leg = engine.position(BTC)
    assert leg is not None and leg.qty == 0.1 and leg.take_profits == () and engine.pairs()[0].qty == 0.1
