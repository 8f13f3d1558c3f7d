"""Rounding target notionals to the markets' steps, minimum sizes, and the trades from current positions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.plan import CurrentPosition, PlanLeg
from perptui.domain.plan.rounding import round_down, sized
from perptui.domain.plan.trades import trades_to
from tests.plan_data import market

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
MARKETS = {BTC: market(BTC, step=0.001), ETH: market(ETH, step=0.01, min_qty=0.01, min_notional=20.0)}
MARKS = {BTC: 50_000.0, ETH: 2_000.0}


def test_quantity_is_rounded_down_to_the_step() -> None:
    assert sized(MARKETS[BTC], 1_234.0, 50_000.0) == (0.024, None)  # 0.02468 -> 0.024
    assert sized(MARKETS[ETH], 1_000.0, 2_000.0) == (0.5, None)  # exactly 50 steps, not 49
    assert round_down(0.3, 0.1) == 0.3 and round_down(0.7, 0.1) == 0.7


def test_under_the_minimums_the_leg_is_dropped_with_the_reason() -> None:
    """The one line of the market rules (the paper engine refuses the same order with it)."""
    qty, why = sized(MARKETS[BTC], 40.0, 50_000.0)
    assert qty == 0.0 and "below BTC/USDT:USDT's minimum quantity 0.001" in str(why)
    qty, why = sized(MARKETS[ETH], 30.0, 2_000.0)  # 0.015 -> 0.01 = 20 ... and 19.99 at 1999
    assert qty == 0.01 and why is None
    qty, why = sized(MARKETS[ETH], 30.0, 1_999.0)
    assert qty == 0.0 and "minimum order of 20 USDT: the smallest valid quantity is 0.02" in str(why)
    tiny = market("X/USDT:USDT", step=0.001, min_qty=0.01, min_notional=None)
    qty, why = sized(tiny, 5.0, 1_000.0)
    assert qty == 0.0 and "minimum quantity 0.01" in str(why)


@settings(max_examples=200, deadline=None)
@given(
    notional=st.floats(1.0, 1e6),
    mark=st.floats(1e-4, 1e5),
    step=st.sampled_from([1e-8, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0]),
)
def test_quantities_are_whole_steps_never_above_the_target(notional: float, mark: float, step: float) -> None:
    m = market("X/USDT:USDT", step=step, min_qty=None, min_notional=None)
    qty, why = sized(m, notional, mark)
    if why is None:
        steps = qty / step
        assert abs(steps - round(steps)) <= 1e-6 * max(1.0, steps)
        assert qty * mark <= notional * (1 + 1e-9)
        assert (qty + step) * mark > notional * (1 - 1e-9)


def leg(symbol: str, side: str, qty: float, layer: str = "directional", kind: str = "perp") -> PlanLeg:
    return PlanLeg(symbol, kind, side, qty, qty * MARKS[symbol], 0.0, None, None, None, layer)  # type: ignore[arg-type]


def test_trades_open_close_adjust_and_flip() -> None:
    target = [leg(BTC, "long", 0.05), leg(ETH, "short", 1.0)]
    current = [CurrentPosition(BTC, "long", 0.02), CurrentPosition("SOL/USDT:USDT", "short", 3.0)]
    trades = trades_to(target, current, MARKS, MARKETS)
    assert [(t.symbol, t.side, t.qty, t.reduce_only) for t in trades] == [
        ("SOL/USDT:USDT", "long", 3.0, True),  # closed: not in the target
        (BTC, "long", 0.03, False),  # added to
        (ETH, "short", 1.0, False),  # opened
    ]
    assert trades[1].notional == pytest.approx(0.03 * 50_000)


def test_reduce_and_flip() -> None:
    current = [CurrentPosition(BTC, "long", 0.05), CurrentPosition(ETH, "long", 2.0)]
    trades = trades_to([leg(BTC, "long", 0.02), leg(ETH, "short", 0.5)], current, MARKS, MARKETS)
    assert [(t.symbol, t.side, t.qty, t.reduce_only) for t in trades] == [
        (BTC, "short", 0.03, True),
        (ETH, "short", 2.0, True),  # a flip: close the long ...
        (ETH, "short", 0.5, False),  # ... then open the short
    ]


def test_matching_positions_need_no_trade_and_layers_net_per_perp() -> None:
    assert trades_to([leg(BTC, "long", 0.05)], [CurrentPosition(BTC, "long", 0.05)], MARKS, MARKETS) == ()
    # a neutral short perp and a directional long of the same perp: one net position
    target = [
        leg(BTC, "short", 0.05, "neutral"),
        leg(BTC, "long", 0.02),
        leg(BTC, "long", 0.05, "neutral", "spot"),
    ]
    trades = trades_to(target, [], MARKS, MARKETS)
    assert [(t.leg, t.side, t.qty) for t in trades] == [("perp", "short", 0.03), ("spot", "long", 0.05)]


def test_a_trade_without_a_known_mark_has_no_notional() -> None:
    (trade,) = trades_to([], [CurrentPosition("SOL/USDT:USDT", "long", 3.0)], MARKS, MARKETS)
    assert (trade.side, trade.qty, trade.notional, trade.reduce_only) == ("short", 3.0, None, True)
