"""The market rules (``domain.market_rules``): each refusal names its rule and the nearest valid value;
rounding makes orders the exchange takes; properties: an accepted order breaks no rule of its market
(checked with exact decimals), and rounding never raises the loss at the stop."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from perptui.domain.liquidation import max_notional_at_leverage
from perptui.domain.market_rules import (
    MarketRules,
    OrderRefused,
    OrderSpec,
    check_order,
    fit_qty,
    level_rounding,
    limit_rounding,
    refuse,
    round_leverage,
    round_order,
    rules_of,
    smallest_qty,
)
from perptui.domain.sizing import loss_per_unit
from perptui.domain.types import LeverageTier, Market

TIERS = (
    LeverageTier(0, 50_000, 0.004, 0.0, 50),
    LeverageTier(50_000, 250_000, 0.005, 50.0, 20),
    LeverageTier(250_000, math.inf, 0.01, 1_300.0, 10),
)
#: BTCDEMO as the demo lists it: step 0.001, tick 0.1, minimum 0.001 and 20 USDT, at most 2,000.
BTC = Market(
    "demo", "BTCDEMO/USDT:USDT", "BTCDEMOUSDT", "BTCDEMO", "USDT", "USDT", amount_step=0.001, price_tick=0.1,
    min_qty=0.001, max_qty=2_000.0, min_notional=20.0, max_leverage=50.0, tiers=TIERS, taker_fee=0.0004,
)  # fmt: skip
TRX = Market(
    "demo", "TRXDEMO/USDT:USDT", "TRXDEMOUSDT", "TRXDEMO", "USDT", "USDT", amount_step=1.0,
    price_tick=0.00001, min_qty=1.0, min_notional=5.0, max_leverage=50.0,
)  # fmt: skip


def refusal(market: Market | MarketRules, order: OrderSpec) -> tuple[str, str, float | None, str]:
    found = check_order(market, order)
    assert found is not None, order
    return found.rule, found.field, found.nearest, found.message


def test_the_issue_s_orders_are_each_refused_with_the_rule_and_the_nearest_valid_value() -> None:
    mark = 46_200.0
    rule, _, nearest, message = refusal(BTC, OrderSpec("long", 0.0001, mark=mark))
    assert (rule, nearest) == ("min_qty", 0.001)
    assert message == (
        "quantity 0.0001 is below BTCDEMO/USDT:USDT's minimum quantity 0.001: the smallest valid quantity "
        "at 46,200.0 is 0.001"
    )
    assert refusal(BTC, OrderSpec("long", 1e-300, mark=mark))[:3] == ("min_qty", "quantity", 0.001)
    assert "quantity 1e-300 is below" in refusal(BTC, OrderSpec("long", 1e-300, mark=mark))[3]
    rule, _, nearest, message = refusal(BTC, OrderSpec("long", 0.0015, mark=mark))
    assert (rule, nearest) == ("step", 0.001)
    assert message.endswith(
        "is not a multiple of BTCDEMO/USDT:USDT's step 0.001: the nearest valid quantity is 0.001"
    )
    # TRX at 0.076: step 1 and 5 USDT make 66 the smallest order.
    rule, _, nearest, message = refusal(TRX, OrderSpec("long", 0.5, mark=0.076))
    assert (rule, nearest) == ("min_qty", 66.0) and message.endswith(
        "the smallest valid quantity at 0.07600 is 66"
    )
    rule, _, nearest, message = refusal(TRX, OrderSpec("long", 10, mark=0.076))
    assert (rule, nearest) == ("min_notional", 66.0)
    assert message == (
        "notional 0.76 USDT (10 at 0.07600) is below TRXDEMO/USDT:USDT's minimum order of 5 USDT: the "
        "smallest valid quantity is 66"
    )
    rule, field, nearest, message = refusal(BTC, OrderSpec("long", 0.01, price=0.01, mark=mark))
    assert (rule, field, nearest) == ("tick", "price", 0.1) and "the lowest valid price is 0.1" in message
    rule, _, nearest, message = refusal(BTC, OrderSpec("long", 0.01, mark=mark, leverage=2.7))
    assert (rule, nearest) == ("leverage_step", 3.0)
    assert message == (
        "leverage 2.7x is not accepted: BTCDEMO/USDT:USDT takes leverage in whole numbers; the nearest "
        "valid leverage is 3x"
    )
    rule, field, nearest, message = refusal(
        BTC, OrderSpec("long", 0.01, mark=mark, take_profits=(48_000.05,))
    )
    assert (rule, field, nearest) == ("tick", "take_profit", 48_000.0)
    assert message.endswith("the nearest valid take-profit is 48,000.0")
    rule, field, nearest, _ = refusal(BTC, OrderSpec("short", 0.01, mark=mark, stop=47_000.07))
    assert (rule, field, nearest) == ("tick", "stop", 47_000.0)  # a short's stop down, toward the entry


def test_maximum_quantity_and_the_bracket_name_their_limit() -> None:
    rule, _, nearest, message = refusal(BTC, OrderSpec("long", 2_500, mark=40.0))
    assert (rule, nearest) == ("max_qty", 2_000.0) and "the largest valid quantity is 2,000.000" in message
    rule, _, nearest, message = refusal(BTC, OrderSpec("long", 10, mark=40_000.0, leverage=30))
    assert (rule, nearest) == ("leverage_bracket", 10.0)
    assert message == (
        "at 30x BTCDEMO/USDT:USDT allows positions up to 50,000.00 USDT of notional; this one would be "
        "400,000.00: the highest valid leverage for it is 10x"
    )
    rule, _, nearest, _ = refusal(BTC, OrderSpec("long", 0.01, mark=40_000.0, leverage=60))
    assert (rule, nearest) == ("leverage_max", 50.0)
    # the position after the order counts, not the order alone
    assert check_order(BTC, OrderSpec("long", 1, mark=40_000.0, leverage=30)) is None
    found = check_order(BTC, OrderSpec("long", 1, mark=40_000.0, leverage=30, position_notional=300_000))
    assert found is not None and found.rule == "leverage_bracket"


def test_reductions_need_no_minimum_notional_and_a_whole_close_is_always_taken() -> None:
    assert check_order(TRX, OrderSpec("short", 10, mark=0.076, reducing=True)) is None
    assert refusal(TRX, OrderSpec("short", 10.5, mark=0.076, reducing=True))[0] == "step"
    odd = OrderSpec("short", 0.0123456, mark=46_200.0, reducing=True, closes_all=True)
    assert check_order(BTC, odd) is None


def test_venues_with_decimal_leverage_take_it() -> None:
    bybit = rules_of(Market("bybit", "BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT", "USDT", amount_step=0.001))
    assert bybit.leverage_step == 0.01
    assert check_order(bybit, OrderSpec("long", 0.01, mark=100.0, leverage=2.75)) is None
    assert check_order(bybit, OrderSpec("long", 0.01, mark=100.0, leverage=2.755)) is not None
    assert rules_of(BTC).leverage_step == 1.0


def test_refuse_raises_one_usage_line() -> None:
    with pytest.raises(OrderRefused, match=r"nearest valid quantity is 0\.001") as caught:
        refuse(BTC, OrderSpec("long", 0.0015, mark=46_200.0))
    assert caught.value.exit_code == 2 and caught.value.refusal.rule == "step"


def test_round_order_rounds_each_price_the_safe_way() -> None:
    long = round_order(
        BTC,
        OrderSpec("long", 0.01234, price=46_200.07, mark=46_300.0, leverage=2.7, stop=45_000.04,
                  take_profits=(48_000.06, 49_000.01)),
    )  # fmt: skip
    assert (long.qty, long.price, long.leverage) == (0.012, 46_200.0, 3.0)  # a buy limit never pays more
    assert (long.stop, long.take_profits) == (45_000.1, (48_000.0, 49_000.0))  # toward the entry
    short = round_order(
        BTC, OrderSpec("short", 0.01, price=46_200.01, stop=47_000.09, take_profits=(45_000.01,))
    )
    assert (short.price, short.stop, short.take_profits) == (46_200.1, 47_000.0, (45_000.1,))
    assert check_order(BTC, long) is None and check_order(BTC, short) is None
    assert round_leverage(BTC, 40, notional=300_000) == 10.0  # at most the bracket's


def test_rounding_directions() -> None:
    assert (limit_rounding("long"), limit_rounding("short")) == ("down", "up")
    assert (level_rounding("long", "stop"), level_rounding("long", "take_profit")) == ("up", "down")
    assert (level_rounding("short", "stop"), level_rounding("short", "take_profit")) == ("down", "up")


def test_fit_qty_is_what_allocate_keeps() -> None:
    assert fit_qty(BTC, 0.02468, 50_000.0) == (0.024, None)
    qty, refused = fit_qty(BTC, 0.0003, 50_000.0)
    assert qty == 0.0 and refused is not None and refused.rule == "min_qty"
    assert fit_qty(BTC, 3_000.0, 10.0) == (2_000.0, None)  # down to the maximum
    assert smallest_qty(BTC, 10_000.0) == 0.002  # 20 USDT at 10,000, up to the step


# --- properties ------------------------------------------------------------------------------------

STEPS = [1e-8, 0.0001, 0.001, 0.01, 0.1, 0.5, 1.0, 10.0]
TICKS = [1e-7, 0.00001, 0.0001, 0.001, 0.01, 0.1, 0.5, 1.0]


@st.composite
def markets(draw: st.DrawFn) -> MarketRules:
    step = draw(st.sampled_from(STEPS))
    tick = draw(st.sampled_from(TICKS))
    min_qty = draw(st.none() | st.sampled_from([1, 2, 5, 10]).map(lambda k: step * k))
    max_qty = draw(st.none() | st.sampled_from([100, 10_000, 1_000_000]).map(lambda k: step * k))
    min_notional = draw(st.none() | st.sampled_from([1.0, 5.0, 20.0, 100.0]))
    max_lev = draw(st.none() | st.sampled_from([20.0, 50.0, 125.0]))
    tiers = draw(st.sampled_from([(), TIERS]))
    venue = draw(st.sampled_from(["demo", "binanceusdm", "bybit"]))
    market = Market(venue, "X/USDT:USDT", "XUSDT", "X", "USDT", "USDT", amount_step=step, price_tick=tick,
                    min_qty=min_qty, max_qty=max_qty, min_notional=min_notional, max_leverage=max_lev,
                    tiers=tiers)  # fmt: skip
    return rules_of(market)


def _multiple(value: float, grid: float) -> bool:
    """A whole number of ``grid`` up to float noise, in exact decimals: within 1e-9 of a step or 1e-13
    of the value (4291.558400000001 is 4291.5584 on a 0.00001 tick; 0.0015 is not on a 0.001 step)."""
    v, g = Decimal(repr(value)), Decimal(repr(grid))
    n = (v / g).to_integral_value()
    return abs(v - n * g) <= max(g * Decimal("1e-9"), abs(v) * Decimal("1e-13"))


prices = st.floats(1e-6, 1e6)


def _on(grid: float | None, draw: st.DrawFn, low: float, high: float) -> float:
    """Mostly a whole number of ``grid`` (what an order the rules accept looks like), sometimes not."""
    if grid is None or draw(st.integers(0, 4)) == 0:
        return draw(st.floats(low, high))
    n = draw(st.integers(max(1, math.ceil(low / grid)), max(1, math.floor(high / grid))))
    return round(n * grid, 12)


@st.composite
def market_orders(draw: st.DrawFn) -> tuple[MarketRules, OrderSpec]:
    r = draw(markets())
    mark = _on(r.tick, draw, 1e-4, 1e5)
    side = draw(st.sampled_from(["long", "short"]))
    order = OrderSpec(
        side,
        _on(r.step, draw, 1e-9, 1e6),
        price=draw(st.none() | st.just(_on(r.tick, draw, 1e-4, 1e5))),
        mark=mark,
        leverage=draw(st.none() | st.integers(1, 150).map(float) | st.floats(0.5, 200)),
        stop=draw(st.none() | st.just(_on(r.tick, draw, 1e-4, 1e5))),
        take_profits=tuple(_on(r.tick, draw, 1e-4, 1e5) for _ in range(draw(st.integers(0, 3)))),
        reducing=draw(st.booleans()),
    )
    return r, order


def assert_keeps_every_rule(r: MarketRules, o: OrderSpec) -> None:
    ref = o.price if o.price is not None else o.mark
    assert ref is not None
    assert o.qty > 0 and (r.step is None or _multiple(o.qty, r.step))
    assert r.min_qty is None or o.qty >= r.min_qty
    assert r.max_qty is None or o.qty <= r.max_qty * (1 + 1e-12)
    if not o.reducing and r.min_notional is not None:
        assert Decimal(repr(o.qty)) * Decimal(repr(ref)) >= Decimal(repr(r.min_notional)) * Decimal(
            "0.999999999"
        )
    for price in (o.price, o.stop, *o.take_profits):
        if price is not None:
            assert price > 0 and (r.tick is None or _multiple(price, r.tick))
    if o.leverage is not None and not o.reducing:
        assert o.leverage >= 1 and (r.leverage_step is None or _multiple(o.leverage, r.leverage_step))
        assert r.max_leverage is None or o.leverage <= r.max_leverage
        if r.tiers:
            cap = max_notional_at_leverage(r.tiers, o.leverage)
            assert cap is not None and o.qty * ref <= cap * (1 + 1e-9)


@settings(max_examples=600, deadline=None)
@given(case=market_orders())
def test_an_accepted_order_breaks_no_rule_of_its_market(case: tuple[MarketRules, OrderSpec]) -> None:
    r, o = case
    found = check_order(r, o)
    event("accepted" if found is None else f"refused: {found.rule}")
    if found is None:
        assert_keeps_every_rule(r, o)


@settings(max_examples=400, deadline=None)
@given(case=market_orders())
def test_a_rounded_order_is_accepted_unless_its_quantity_fell_under_a_minimum(
    case: tuple[MarketRules, OrderSpec],
) -> None:
    r, o = case
    rounded = round_order(r, o)
    found = check_order(r, rounded)
    if found is None:
        assert_keeps_every_rule(r, rounded)
    else:  # only what rounding cannot mend: too little, or a bracket that takes no such position
        assert found.rule in ("min_qty", "min_notional", "positive", "leverage_bracket", "max_qty"), found


@settings(max_examples=500, deadline=None)
@given(
    r=markets(),
    side=st.sampled_from(["long", "short"]),
    entry=st.floats(0.01, 1e5),
    distance=st.floats(0.0005, 0.5),
    qty=st.floats(1e-4, 1e6),
    limit=st.booleans(),
    fee=st.sampled_from([0.0, 0.0002, 0.0005, 0.001]),
    slippage=st.sampled_from([0.0, 0.0005, 0.002]),
)
def test_rounding_never_raises_the_loss_at_the_stop(
    r: MarketRules,
    side: str,
    entry: float,
    distance: float,
    qty: float,
    limit: bool,
    fee: float,
    slippage: float,
) -> None:
    """The quantity down, a limit entry never worse, the stop toward the entry: the loss if the stop
    fills (price distance, both fees and the slippage allowance, as the sizing counts it) never grows."""
    stop = entry * (1 - distance) if side == "long" else entry * (1 + distance)
    order = OrderSpec(side, qty, price=entry if limit else None, mark=entry, stop=stop)  # type: ignore[arg-type]
    rounded = round_order(r, order)
    new_entry = rounded.price if rounded.price is not None else entry
    assert rounded.stop is not None
    assume((rounded.stop - new_entry) * (1 if side == "long" else -1) < 0)  # still a stop on its side
    before = qty * loss_per_unit(entry, stop, fee, fee, slippage)
    after = rounded.qty * loss_per_unit(new_entry, rounded.stop, fee, fee, slippage)
    assert after <= before * (1 + 1e-12) + 1e-12


# --- the callers' helpers: the sizing ticket and the plan's trades --------------------------------


def test_the_sizing_ticket_becomes_an_order_on_the_grid() -> None:
    """Targets derived from R multiples fall between ticks; the order rounds them toward the entry and
    a typed limit entry never worse, and the exchange would take the result."""
    from perptui.domain.sized_order import sized_order, sized_order_refusal
    from perptui.domain.sizing import SizingRequest, TakeProfitSpec, size_position

    result = size_position(
        SizingRequest(market=BTC, side="long", entry=46_200.07, stop=45_900.0, equity=10_000.0,
                      risk_fraction=0.01, leverage=5, take_profits=(TakeProfitSpec(r=1.5),))
    )  # fmt: skip
    tp = result.take_profits[0].price
    assert round(tp, 1) != tp  # off the tick as computed
    order = sized_order(result, BTC, limit=True, mark=46_300.0)
    assert order.price == 46_200.0 and order.take_profits[0].price == math.floor(tp * 10) / 10
    assert (order.qty, order.stop, order.leverage) == (result.quantity, 45_900.0, 5.0)
    assert sized_order_refusal(result, BTC, limit=True, mark=46_300.0) is None
    tiny = size_position(
        SizingRequest(market=BTC, side="long", entry=46_200.0, stop=45_900.0, equity=10.0, risk_fraction=0.01)
    )
    found = sized_order_refusal(tiny, BTC, limit=False, mark=46_200.0)
    assert found is not None and found.rule in ("min_qty", "positive")


def test_a_plan_trade_is_checked_like_an_order() -> None:
    from perptui.domain.plan.legs import PlanTrade
    from perptui.domain.plan.trades import trade_refusal

    small = PlanTrade("TRXDEMO/USDT:USDT", "perp", "long", 10.0, 0.76, False)
    found = trade_refusal(small, TRX, 0.076)
    assert found is not None and found.rule == "min_notional" and found.nearest == 66.0
    reducing = PlanTrade("TRXDEMO/USDT:USDT", "perp", "short", 10.0, 0.76, True)
    assert trade_refusal(reducing, TRX, 0.076) is None
    assert trade_refusal(small, None, 0.076) is None and trade_refusal(small, TRX, None) is None
