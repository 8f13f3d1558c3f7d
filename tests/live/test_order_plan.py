"""The orders a ticket becomes on the exchange (``domain.live.plan``): what a trader relies on before
anything is sent. The take-profits close exactly the position, every price is on its side, the ids are
the ticket's (the same ticket, the same ids: what makes a retry safe) and the exchange accepts them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.errors import UsageError
from perptui.domain.live.book import OpenOrder, protection_of, unprotected
from perptui.domain.live.client_ids import client_order_id, is_ours, ticket_of
from perptui.domain.live.plan import plan_orders, replacement
from perptui.domain.market_rules import on_grid
from perptui.domain.paper import OrderRequest, TakeProfitTarget
from perptui.domain.types import Market, Position

BTC = Market(
    "binanceusdm",
    "BTC/USDT:USDT",
    "BTCUSDT",
    "BTC",
    "USDT",
    "USDT",
    amount_step=0.001,
    price_tick=0.1,
    min_qty=0.001,
    min_notional=100,
)
# OKX-style: 0.01 BTC a contract, lots of 0.01 contracts
OKX_BTC = Market(
    "okx",
    "BTC/USDT:USDT",
    "BTC-USDT-SWAP",
    "BTC",
    "USDT",
    "USDT",
    contract_size=0.01,
    amount_step=0.0001,
    price_tick=0.1,
)
#: Only a step: the invariants below hold for any price (the tick and the minimums are checked above).
STEP_ONLY = Market("binanceusdm", "BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT", "USDT", amount_step=0.001)
BINANCE_ID = r"[.A-Z:/a-z0-9_-]{1,36}"  # newClientOrderId's pattern; Bybit's orderLinkId: 36 at most


def ticket(**changes: object) -> OrderRequest:
    fields: dict[str, object] = {
        "symbol": "BTC/USDT:USDT",
        "side": "long",
        "qty": 0.013,
        "stop": 58_000.0,
        "mark": 60_000.0,
        "leverage": 5.0,
        "margin_mode": "isolated",
        "take_profits": (TakeProfitTarget(62_000.0, 0.5), TakeProfitTarget(64_000.0, 0.5)),
    }
    return OrderRequest(**(fields | changes))  # type: ignore[arg-type]


def test_a_long_ticket_is_an_entry_a_stop_for_all_of_it_and_its_targets() -> None:
    plan = plan_orders(ticket(), BTC, confirmed_at=1)
    entry, stop, tp1, tp2 = plan.orders
    assert (entry.side, entry.type, entry.amount, entry.reduce_only) == ("buy", "market", 0.013, False)
    assert (stop.side, stop.type, stop.trigger, stop.amount, stop.reduce_only) == (
        "sell",
        "stop_market",
        58_000.0,
        0.013,
        True,
    )
    # 50% of 0.013 rounded DOWN to the step, the last takes the rest (the paper engine's split)
    assert (tp1.trigger, tp1.qty, tp2.trigger, tp2.qty) == (62_000.0, 0.006, 64_000.0, 0.007)
    assert all(o.reduce_only and o.side == "sell" for o in plan.orders[1:])
    assert plan.protective == (stop, tp1, tp2) and plan.entry.exchange_symbol == "BTCUSDT"


def test_a_limit_short_sells_at_its_price_and_buys_back_above_and_below() -> None:
    plan = plan_orders(
        ticket(side="short", price=61_000.0, stop=63_000.0, take_profits=(TakeProfitTarget(57_000.0),)),
        BTC,
        confirmed_at=1,
    )
    entry, stop, tp = plan.orders
    assert (entry.side, entry.type, entry.price) == ("sell", "limit", 61_000.0)
    assert (stop.side, tp.side) == ("buy", "buy") and stop.trigger == 63_000.0 and tp.qty == 0.013


def test_a_venue_that_attaches_the_stop_sends_it_with_the_entry_not_on_its_own() -> None:
    plan = plan_orders(ticket(), BTC, confirmed_at=1, attach_stop=True)
    assert plan.entry.attached_stop == 58_000.0 and plan.stop.attached
    assert plan.stop not in plan.protective  # nothing to send: the position is born with its stop


def test_amounts_are_in_the_exchanges_contracts() -> None:
    plan = plan_orders(ticket(qty=0.013, take_profits=()), OKX_BTC, confirmed_at=1)
    assert plan.entry.qty == 0.013 and plan.entry.amount == pytest.approx(1.3)
    assert plan.stop.amount == pytest.approx(1.3)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stop": None}, "needs a stop"),
        ({"stop": 61_000.0}, "stop 61,000 must be below the mark 60,000"),
        ({"side": "short"}, "stop 58,000 must be above"),
        ({"take_profits": (TakeProfitTarget(59_000.0),)}, "take-profit 59,000 must be above"),
        ({"reduce_only": True, "stop": None, "take_profits": ()}, "opens a position"),
        ({"price": 57_000.0}, "below the entry 57,000"),
        ({"qty": 0.001, "take_profits": ()}, "notional"),  # 60 USDT: BTC's minimum is 100
        ({"qty": 0.0135}, "step"),
        ({"stop": 58_000.05}, "tick"),
        ({"mark": None}, "needs the mark price"),
    ],
)
def test_what_no_live_order_may_be_is_refused_before_anything_is_sent(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        plan_orders(ticket(**changes), BTC, confirmed_at=1)


def test_the_same_ticket_names_the_same_orders_and_another_confirmation_others() -> None:
    first, again = plan_orders(ticket(), BTC, confirmed_at=1), plan_orders(ticket(), BTC, confirmed_at=1)
    later = plan_orders(ticket(), BTC, confirmed_at=2)
    ids = [o.client_id for o in first.orders]
    assert ids == [o.client_id for o in again.orders]
    assert not set(ids) & {o.client_id for o in later.orders}
    assert len(set(ids)) == len(ids) and all(is_ours(i) and ticket_of(i) == first.ticket for i in ids)


def test_a_replacement_gets_the_next_id_of_its_leg() -> None:
    plan = plan_orders(ticket(), BTC, confirmed_at=1)
    moved = replacement(plan.stop, 2, trigger=59_000.0)
    assert moved.client_id == plan.stop.client_id + "r2" and moved.trigger == 59_000.0
    assert replacement(moved, 3).client_id == plan.stop.client_id + "r3"
    with pytest.raises(ValueError):
        client_order_id("not-hex", "e")


prices = st.floats(1e-4, 1e6, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    side=st.sampled_from(["long", "short"]),
    steps=st.integers(1, 10**6),
    mark=prices,
    stop_frac=st.floats(0.001, 0.5),
    shares=st.lists(st.floats(0.01, 1.0), min_size=0, max_size=5),
    limit=st.booleans(),
)
def test_plan_invariants(
    side: str, steps: int, mark: float, stop_frac: float, shares: list[float], limit: bool
) -> None:
    """For any ticket: the targets close exactly the position (at the step), the stop covers all of it,
    every level is on its side of the entry, amounts are whole steps, every id is valid and unique."""
    step = 0.001
    qty = round(steps * step, 3)
    sign = 1 if side == "long" else -1
    stop = mark * (1 - sign * stop_frac)
    total = sum(shares)
    if total > 1:
        shares = [s / total * 0.999 for s in shares]
    targets = tuple(TakeProfitTarget(mark * (1 + sign * 0.01 * (i + 1)), s) for i, s in enumerate(shares))
    req = OrderRequest(
        "BTC/USDT:USDT",
        side,
        qty,  # type: ignore[arg-type]
        price=mark if limit else None,
        stop=stop,
        take_profits=targets,
        mark=mark,
    )
    plan = plan_orders(req, STEP_ONLY, confirmed_at=7)
    tps = plan.take_profits
    if tps:
        assert math.isclose(sum(o.qty for o in tps), qty, abs_tol=1e-9)
        assert all(on_grid(o.qty, step) for o in tps)
    assert plan.stop.qty == qty and plan.entry.qty == qty
    for o in tps:
        assert (o.trigger - mark) * sign > 0
    assert (plan.stop.trigger - mark) * sign < 0  # type: ignore[operator]
    ids = [o.client_id for o in plan.orders]
    assert len(set(ids)) == len(ids)
    import re

    assert all(re.fullmatch(BINANCE_ID, i) for i in ids)


def _position(side: str, qty: float, mark: float, **extra: object) -> Position:
    return Position("BTC/USDT:USDT", side, qty, 60_000.0, mark, extra=dict(extra))  # type: ignore[arg-type]


def _order(side: str, trigger: float, qty: float, reduce_only: bool = True) -> OpenOrder:
    return OpenOrder("1", None, "BTC/USDT:USDT", side, "stop_market", qty, None, trigger, reduce_only, True)  # type: ignore[arg-type]


def test_a_position_is_protected_only_by_a_stop_for_all_of_it() -> None:
    long = _position("long", 0.01, 60_500.0)
    assert not protection_of(long, []).protected
    assert protection_of(long, [_order("sell", 58_000.0, 0.01)]).protected
    half = protection_of(long, [_order("sell", 58_000.0, 0.005)])
    assert not half.protected and half.describe() == "stop covers 0.005 of 0.01"
    # a sell trigger above the mark is a take-profit, not a stop; a buy is not closing at all
    assert not protection_of(long, [_order("sell", 62_000.0, 0.01)]).protected
    assert not protection_of(long, [_order("buy", 58_000.0, 0.01)]).protected
    # not reduce-only: it could open a short, it protects nothing
    assert not protection_of(long, [_order("sell", 58_000.0, 0.01, reduce_only=False)]).protected
    # the exchange's stop on the position itself (Bybit's stopLoss)
    assert protection_of(_position("long", 0.01, 60_500.0, stop_loss=58_000.0), []).protected
    short = _position("short", 0.01, 60_500.0)
    assert [p.symbol for p in unprotected([long, short], [_order("buy", 62_000.0, 0.01)])] == [
        "BTC/USDT:USDT"
    ]
