"""LiveTrader through real ccxt against the loopback Bybit v5 (tests/loopback/venues/bybit_orders.py), with
the request shapes ccxt sends: the stop rides on the entry (the position's own stopLoss: never a moment
without it), take-profits are reduce-only conditional orders, a lost answer is found by its orderLinkId,
the position's stop moves through /v5/position/trading-stop, the kill switch leaves nothing open.
Needs ../shared (ccxt's Bybit markets fixture); skips without it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from perptui.domain.live.plan import OrderPlan, plan_orders
from perptui.domain.paper import OrderRequest, TakeProfitTarget
from perptui.services.store import Store
from perptui.services.trading import log as order_log
from perptui.services.trading.trader import LiveTrader
from tests.conftest import FROZEN_NOW_MS
from tests.live.harness import live_settings, run_trader
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.bybit import make_bybit

T = TypeVar("T")
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
SYMBOL, ID = "BTC/USDT:USDT", "BTCUSDT"


@pytest.fixture
def bybit() -> Iterator[LoopbackExchange]:
    server = LoopbackExchange(make_bybit(None), mode="bybit")
    server.source.account.marks[ID] = 60_000
    yield from serve(server)


def run(
    server: LoopbackExchange,
    store: Store,
    scenario: Callable[[LiveTrader], Awaitable[T]],
    timeout_ms: int = 10_000,
) -> T:
    return run_trader(live_settings("bybit", server, timeout_ms), store, scenario)


async def plan_of(trader: LiveTrader, **changes: Any) -> OrderPlan:
    markets = {m.symbol: m for m in await trader.exchange.load_markets()}
    fields: dict[str, Any] = {
        "symbol": SYMBOL, "side": "long", "qty": 0.01, "stop": 57_000.0, "mark": 60_000.0, "leverage": 5.0,
        "take_profits": (TakeProfitTarget(63_000.0, 0.5), TakeProfitTarget(66_000.0, 0.5)),
    }  # fmt: skip
    req = OrderRequest(**(fields | changes))
    return plan_orders(req, markets[SYMBOL], confirmed_at=FROZEN_NOW_MS, attach_stop=trader.route.attach_stop)


def test_the_entry_carries_the_stop_and_the_targets_rest_reduce_only(
    bybit: LoopbackExchange, store: Store
) -> None:
    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await plan_of(trader))
        return outcome, await trader.book()

    outcome, book = run(bybit, store, scenario)
    assert outcome.entry.placed and not outcome.naked
    assert [s.order.label for s in outcome.protective] == ["TP1", "TP2"]  # the stop went with the entry
    creates = [r.body for r in bybit.non_get_requests() if r.path == "/v5/order/create"]
    entry = creates[0]
    assert (entry["side"], entry["orderType"], entry["qty"], entry["stopLoss"], entry["slTriggerBy"]) == (
        "Buy", "Market", "0.01", "57000", "MarkPrice",
    )  # fmt: skip
    assert entry["orderLinkId"] == outcome.plan.entry.client_id
    assert all(b["reduceOnly"] is True and b["triggerBy"] == "MarkPrice" for b in creates[1:])
    assert [b["orderLinkId"] for b in creates[1:]] == [o.client_id for o in outcome.plan.take_profits]
    [position] = book.positions
    [protection] = book.protections
    assert position.qty == pytest.approx(0.01) and protection.protected
    assert protection.position_stop == 57_000.0 and protection.describe() == "stop 57000 on the position"
    assert sorted(o.trigger for o in book.orders) == [63_000.0, 66_000.0]
    leverage = [r for r in bybit.non_get_requests() if r.path == "/v5/position/set-leverage"]
    assert [r.body["buyLeverage"] for r in leverage] == ["5"]


def test_a_lost_answer_is_found_by_its_order_link_id_and_placed_once(
    bybit: LoopbackExchange, store: Store
) -> None:
    bybit.faults.accept_then_timeout("/v5/order/create", times=1, hold_s=5.0)

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await plan_of(trader, take_profits=()))
        return outcome, await trader.book()

    outcome, book = run(bybit, store, scenario, timeout_ms=1_000)
    assert outcome.entry.outcome == "found" and outcome.entry.sends == 1
    assert book.positions[0].qty == pytest.approx(0.01) and book.protections[0].protected
    assert len([r for r in bybit.non_get_requests() if r.path == "/v5/order/create"]) == 1
    lookup = [r for r in bybit.requests_to("/v5/order/realtime") if "orderLinkId" in r.query]
    assert lookup[0].query["orderLinkId"] == outcome.plan.entry.client_id


def test_the_positions_stop_moves_and_the_kill_switch_leaves_nothing_open(
    bybit: LoopbackExchange, store: Store
) -> None:
    async def scenario(trader: LiveTrader) -> Any:
        await trader.place(await plan_of(trader))
        book = await trader.book()
        await trader.move_position_stop(book.positions[0], 58_500.0)
        moved = await trader.book()
        return moved, await trader.kill()

    moved, kill = run(bybit, store, scenario)
    assert moved.protections[0].position_stop == 58_500.0
    assert kill.clean, (kill.errors, kill.left)
    with store.reading() as conn:
        actions = [r.action for r in order_log.load_log(conn)]
    assert "position_stop" in actions and "cancel_all" in actions


def test_bybit_plans_no_margin_mode_it_would_not_set(bybit: LoopbackExchange, store: Store) -> None:
    """Bybit's unified account sets the margin mode for the whole account: the plan (and so the
    confirmation) carries none, and nothing tries to change it."""

    async def scenario(trader: LiveTrader) -> Any:
        markets = {m.symbol: m for m in await trader.exchange.load_markets()}
        req = OrderRequest(SYMBOL, "long", 0.01, stop=57_000.0, mark=60_000.0, margin_mode="isolated")
        plan = trader.plan(req, markets[SYMBOL])
        await trader.place(plan)
        return plan

    plan = run(bybit, store, scenario)
    assert plan.margin_mode is None and plan.entry.attached_stop == 57_000.0
    assert not [r for r in bybit.non_get_requests() if "margin" in r.path.lower()]
