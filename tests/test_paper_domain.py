"""The paper engine's pure maths by hand: fills, fees, netting, funding, margin, triggers, liquidation."""

from __future__ import annotations

import math

import pytest

from perptui.domain.errors import UsageError
from perptui.domain.market_rules import MarketRules, check_leverage
from perptui.domain.paper import (
    OrderRequest,
    PaperOrder,
    PaperPosition,
    TakeProfitLevel,
    TakeProfitTarget,
    clean_qty,
    money,
)
from perptui.domain.paper_fills import apply_fill, fee_of, funding_amount, taker_price
from perptui.domain.paper_margin import (
    auto_leverage,
    liquidation_loss,
    liquidation_reached,
    margin_state,
    position_risks,
)
from perptui.domain.paper_orders import check_request, check_same_terms, check_stop
from perptui.domain.paper_triggers import bar_path, first_trigger, funding_due, limit_marketable, path_of
from perptui.domain.types import Candle, LeverageTier

TIERS = (
    LeverageTier(0, 50_000, 0.004, 0.0, 50),
    LeverageTier(50_000, 250_000, 0.005, 50.0, 20),
    LeverageTier(250_000, math.inf, 0.01, 1_300.0, 10),
)
SYM = "BTC/USDT:USDT"


def fill(pos, side, qty, price, *, leverage=10.0, mode="isolated", fee=0.0005, time=1, **kw):
    return apply_fill(
        pos, exchange="x", symbol=SYM, side=side, qty=qty, price=price, fee_rate=fee,
        leverage=leverage, margin_mode=mode, time=time, **kw,
    )  # fmt: skip


def test_taker_price_and_fee_go_against_the_trader() -> None:
    assert taker_price(40_000, "long", 0.001) == pytest.approx(40_040)
    assert taker_price(40_000, "short", 0.001) == pytest.approx(39_960)
    assert taker_price(40_000, "long", 0.001, 0.1) == 40_040.0  # exactly on the tick
    assert taker_price(100.03, "long", 0.0, 0.1) == 100.1 and taker_price(100.03, "short", 0.0, 0.1) == 100.0
    assert fee_of(0.0005, 0.5, 40_040) == 10.01
    assert fee_of(0.0002, 0.123456789, 1.0) == 0.00002469  # rounded to the ledger's 1e-8


def test_funding_signs() -> None:
    # rate > 0: longs pay shorts; rate < 0: shorts pay longs. -s x Q x mark x rate.
    assert funding_amount("long", 0.4, 44_000, 0.0001) == -1.76
    assert funding_amount("short", 0.4, 44_000, 0.0001) == 1.76
    assert funding_amount("long", 2, 100, -0.0005) == 0.1
    assert funding_amount("short", 2, 100, -0.0005) == -0.1


def test_open_add_reduce_close_and_flip_by_hand() -> None:
    # Open long 0.5 at 40,040, 10x isolated: margin 2,002, fee 10.01.
    o = fill(None, "long", 0.5, 40_040, stop=35_000)
    p = o.position
    assert p is not None and (p.side, p.qty, p.entry, p.isolated_margin) == ("long", 0.5, 40_040, 2_002.0)
    assert (o.fee, o.realized_pnl, o.opened_qty, o.closed_qty, p.stop) == (10.01, 0.0, 0.5, 0.0, 35_000)
    # Add 0.5 at 42,042: weighted entry 41,041; margin + 2,102.1; the stop stays.
    o = fill(p, "long", 0.5, 42_042, leverage=99)  # an add keeps the position's leverage
    p = o.position
    assert p is not None and (p.qty, p.entry, p.isolated_margin, p.leverage, p.stop) == (
        1.0, 41_041.0, 4_104.1, 10.0, 35_000,
    )  # fmt: skip
    assert o.fee == 10.5105  # 0.0005 x 0.5 x 42,042
    # Reduce 0.4 at 44,955: realised 0.4 x 3,914 = 1,565.6; releases 40% of the margin.
    o = fill(p, "short", 0.4, 44_955)
    p = o.position
    assert (o.realized_pnl, o.closed_qty, o.released_margin) == (1_565.6, 0.4, 1_641.64)
    assert p is not None and (p.qty, p.entry, p.isolated_margin, p.side) == (0.6, 41_041.0, 2_462.46, "long")
    # Flip: sell 1.0 at 43,956 closes 0.6 (realised 1,749) and opens short 0.4 at 43,956, 5x.
    o = fill(p, "short", 1.0, 43_956, leverage=5, take_profits=(TakeProfitTarget(40_000),))
    p = o.position
    assert o.flipped and (o.closed_qty, o.opened_qty, o.realized_pnl, o.released_margin) == (
        0.6, 0.4, 1_749.0, 2_462.46,
    )  # fmt: skip
    assert p is not None and (p.side, p.qty, p.entry, p.leverage, p.isolated_margin) == (
        "short", 0.4, 43_956, 5.0, 3_516.48,
    )  # fmt: skip
    assert (p.stop, p.take_profits) == (
        None,
        (TakeProfitLevel(40_000, p.qty),),
    )  # the old stop belonged to the long
    # Close all: nothing left, all margin released.
    o = fill(p, "long", 0.4, 43_000)
    assert o.position is None and o.realized_pnl == 382.4 and o.released_margin == 3_516.48


def test_cross_positions_hold_no_isolated_margin() -> None:
    o = fill(None, "short", 2, 100, leverage=4, mode="cross")
    assert o.position is not None and o.position.isolated_margin == 0.0
    assert o.position.initial_margin == 50.0 and o.position.margin_used == 50.0


def test_quantities_lose_float_dust() -> None:
    assert clean_qty(0.3 - 0.1) == 0.2 and clean_qty(1e-12) == 0.0
    p = fill(None, "long", 0.3, 100).position
    p = fill(p, "short", 0.1, 100).position
    assert p is not None and p.qty == 0.2
    assert fill(p, "short", 0.2, 100).position is None


def test_margin_state_by_hand() -> None:
    iso = PaperPosition("x", SYM, "long", 0.5, 40_040, 10, "isolated", 2_002.0, 0, last_mark=40_000)
    cross = PaperPosition("x", "ETH/USDT:USDT", "short", 10, 2_000, 5, "cross", 0.0, 0, last_mark=2_100)
    ms = margin_state(9_989.99, [iso, cross], {}, lambda p: TIERS, reserved=100.0)
    assert ms.unrealized_pnl == pytest.approx(-20 - 1_000)
    assert ms.equity == pytest.approx(9_989.99 - 1_020)
    assert ms.used_margin == pytest.approx(2_002 + 4_000 + 100)  # isolated + cross initial + reserved
    assert ms.cross_wallet == pytest.approx(9_989.99 - 2_002)
    assert ms.free_margin == pytest.approx(9_989.99 - 2_002 - 1_000 - 4_000 - 100)
    assert ms.maintenance_margin == pytest.approx(20_000 * 0.004 + 21_000 * 0.004)
    assert (ms.gross_notional, ms.net_notional) == pytest.approx((41_000, 20_000 - 21_000))
    # A profit on a cross position can be used as margin but not withdrawn.
    winning = cross.with_(last_mark=1_900)
    ms = margin_state(1_000.0, [winning], {}, lambda p: TIERS)
    assert ms.free_margin == pytest.approx(1_000 + 1_000 - 4_000)
    assert ms.withdrawable == pytest.approx(min(ms.free_margin, 1_000 - 4_000))


def test_isolated_liquidation_price_is_the_formula() -> None:
    p = PaperPosition("x", SYM, "long", 0.5, 40_040, 10, "isolated", 2_002.0, 0, last_mark=40_000)
    (risk,) = position_risks([p], {}, lambda _: TIERS, 0.0)
    # LP = (WB + cum - s Q E) / (Q mmr - s Q) = (2002 - 20020) / (0.002 - 0.5)
    assert risk.liq_price == pytest.approx(18_018 / 0.498)
    assert not liquidation_reached(risk)
    (risk,) = position_risks([p.with_(last_mark=36_180)], {}, lambda _: TIERS, 0.0)
    assert liquidation_reached(risk)
    # What is left at the liquidation price is the maintenance margin there; it goes to the insurance fund.
    realized = 0.5 * (18_018 / 0.498 - 40_040)
    assert liquidation_loss(2_002.0, realized) == pytest.approx(-0.5 * 18_018 / 0.498 * 0.004)


def test_cross_liquidation_uses_the_other_positions() -> None:
    a = PaperPosition("x", SYM, "long", 1, 40_000, 10, "cross", 0.0, 0, last_mark=40_000)
    b = PaperPosition("x", "ETH/USDT:USDT", "long", 10, 2_000, 10, "cross", 0.0, 0, last_mark=1_900)
    ra, rb = position_risks([a, b], {}, lambda _: TIERS, 6_000.0)
    # a's wallet = 6,000 + b's PnL (-1,000) - b's MM (19,000 x 0.004 = 76)
    wa = 6_000 - 1_000 - 76
    assert ra.liq_price == pytest.approx((wa - 40_000) / (0.004 - 1))
    wb = 6_000 + 0 - 160
    assert rb.liq_price == pytest.approx((wb - 20_000) / (10 * 0.004 - 10))


def test_first_trigger_follows_the_path() -> None:
    long = PaperPosition(
        "x", SYM, "long", 1, 100, 10, "isolated", 10.0, 0, stop=95, take_profits=(TakeProfitLevel(120, 1),)
    )
    # The stop lies above the liquidation price: a fall through both fills the stop first, at its level.
    t = first_trigger(long, [], 90.5, 100, 80)
    assert t is not None and (t.kind, t.level, t.price) == ("stop", 95, 95)
    # Without a stop the liquidation comes, at its own price.
    t = first_trigger(long.with_(stop=None), [], 90.5, 100, 80)
    assert t is not None and (t.kind, t.price) == ("liquidation", 90.5)
    # A rise to the take-profit.
    t = first_trigger(long, [], 90.5, 100, 125)
    assert t is not None and (t.kind, t.price) == ("take_profit", 120)
    assert first_trigger(long, [], 90.5, 100, 110) is None
    # Already beyond the stop when first seen (a gap): the market order fills at the mark.
    t = first_trigger(long, [], 90.5, 93, 92)
    assert t is not None and (t.kind, t.price) == ("stop", 92)
    # A buy limit met on the way down before the stop.
    buy = PaperOrder(7, "x", SYM, "long", "limit", 1, 97, 10, "isolated", False, None, None, "open", 0, 0)
    t = first_trigger(long, [buy], 90.5, 100, 80)
    assert t is not None and (t.kind, t.order_id, t.price) == ("limit", 7, 97)
    assert limit_marketable("long", 97, 96) and not limit_marketable("long", 97, 98)
    assert limit_marketable("short", 97, 98) and not limit_marketable("short", 97, 96)


def test_bar_paths() -> None:
    up = Candle(0, 100, 110, 90, 105, 1)
    down = Candle(300, 100, 110, 90, 95, 1)
    assert bar_path(up, 300) == [(0, 100), (100, 90), (200, 110), (299, 105)]
    assert bar_path(down, 300) == [(300, 100), (400, 110), (500, 90), (599, 95)]
    # Only closed bars, only points after the given time.
    assert path_of([up, down], 300, 150, 599) == [(200, 110), (299, 105)]
    assert path_of([up, down], 300, 150, 600)[-1] == (599, 95)


def test_funding_due_only_for_positions_open_before_and_unsettled() -> None:
    p = PaperPosition("x", SYM, "long", 1, 100, 10, "isolated", 10.0, opened_at=1_000, funding_until=1_000)
    assert not funding_due(p, 1_000) and funding_due(p, 1_001)
    assert not funding_due(p.with_(funding_until=2_000), 2_000)


def test_auto_leverage_and_checks() -> None:
    assert auto_leverage(1_000, 5_000, 0.0005, 50) == 1.0
    assert auto_leverage(20_000, 5_000, 0.0005, 50) == 5.0  # 20,000 / (5,000 - 10) = 4.008 -> 5
    assert auto_leverage(20_000, 100, 0.0005, 50) == 50.0  # nothing fits: the max, the margin check refuses
    rules = MarketRules(SYM, max_leverage=50, tiers=TIERS)
    assert check_leverage(rules, 20, 250_000) is None
    refused = check_leverage(rules, 20, 250_001)
    assert refused is not None and refused.nearest == 10
    assert "allows positions up to 250,000.00 USDT of notional" in refused.message
    assert "the highest valid leverage for it is 10x" in refused.message
    refused = check_leverage(MarketRules(SYM, max_leverage=25, tiers=TIERS), 30, 10)
    assert refused is not None and "at most 25x" in refused.message
    refused = check_leverage(MarketRules(SYM, tiers=TIERS), 60, 10)
    assert refused is not None and "above every leverage bracket" in refused.message


@pytest.mark.parametrize(
    ("req", "message"),
    [
        (OrderRequest(SYM, "long", 0), "quantity must be a number above 0"),
        (OrderRequest(SYM, "long", math.nan), "quantity must be a number above 0"),
        (OrderRequest(SYM, "up", 1), "side must be long or short"),  # type: ignore[arg-type]
        (OrderRequest(SYM, "long", 1, price=-5), "limit price must be a number above 0"),
        (OrderRequest(SYM, "long", 1, leverage=0.5), "leverage must be a number above 0|from 1"),
        (OrderRequest(SYM, "long", 1, leverage=500), "leverage must be from 1 to 200"),
        (OrderRequest(SYM, "long", 1, reduce_only=True, stop=5), "a close takes no --stop"),
    ],
)
def test_bad_requests(req: OrderRequest, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        check_request(req)


def test_stop_side_and_same_terms() -> None:
    check_stop("long", 99, 100)
    with pytest.raises(UsageError, match="a long's stop 101 must be below the mark 100"):
        check_stop("long", 101, 100)
    with pytest.raises(UsageError, match="a short's stop 99 must be above"):
        check_stop("short", 99, 100)
    pos = PaperPosition("x", SYM, "long", 1, 100, 10, "isolated", 10.0, 0)
    with pytest.raises(UsageError, match="open in isolated margin"):
        check_same_terms(pos, OrderRequest(SYM, "long", 1, margin_mode="cross"))
    with pytest.raises(UsageError, match="open at 10x"):
        check_same_terms(pos, OrderRequest(SYM, "long", 1, leverage=5))
    check_same_terms(pos, OrderRequest(SYM, "short", 1, leverage=5, margin_mode="cross"))  # reduce/flip: free


def test_money_rounds_to_the_ledger_unit() -> None:
    assert money(0.123456789) == 0.12345679 and money(-0.0) == 0.0 and str(money(-1e-10)) == "0.0"
