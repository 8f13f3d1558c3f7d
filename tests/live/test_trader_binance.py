"""LiveTrader through real ccxt against the loopback Binance USDⓈ-M (tests/loopback/binance_orders.py):
a ticket goes in as its entry, a reduce-only stop for the whole position and its take-profits; a lost
answer is looked up by the client id and never doubles a position; a refused stop after a filled entry
raises the alarm and leaves a clear state; the kill switch leaves nothing open; every request is logged
with its answer and without a secret. The demo market in Binance's format: no ../shared needed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

import pytest

from perptui.config.settings import Settings
from perptui.domain.errors import UsageError
from perptui.domain.live.plan import OrderPlan, plan_orders
from perptui.domain.paper import OrderRequest, TakeProfitTarget
from perptui.services.clock import FrozenClock
from perptui.services.exchanges import CcxtExchange
from perptui.services.store import Store, risk_events
from perptui.services.trading import log as order_log
from perptui.services.trading.trader import NAKED_POSITION, LiveTrader
from tests.conftest import FROZEN_NOW_MS
from tests.live import harness
from tests.live.harness import KEY, SECRET, run_trader
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

T = TypeVar("T")
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
SYMBOL, ID = "BTCDEMO/USDT:USDT", "BTCDEMOUSDT"  # the demo market in Binance's format


@pytest.fixture
def server() -> Iterator[LoopbackExchange]:
    loop = fixtures.make_demo()
    loop.account.positions = []
    loop.account.wallet_balance = 10_000.0
    yield from fixtures.serve(loop)


def live_settings(server: LoopbackExchange, timeout_ms: int = 10_000, **trading: Any) -> Settings:
    return harness.live_settings("binanceusdm", server, timeout_ms, **trading)


def run(
    server: LoopbackExchange,
    store: Store,
    scenario: Callable[[LiveTrader], Awaitable[T]],
    timeout_ms: int = 10_000,
    **trading: Any,
) -> T:
    return run_trader(live_settings(server, timeout_ms, **trading), store, scenario)


async def btc_plan(trader: LiveTrader, **changes: Any) -> OrderPlan:
    markets = {m.symbol: m for m in await trader.exchange.load_markets()}
    mark = 60_000.0
    symbol = changes.get("symbol", SYMBOL)
    fields: dict[str, Any] = {
        "symbol": SYMBOL, "side": "long", "qty": 0.01, "stop": 57_000.0, "mark": mark, "leverage": 5.0,
        "margin_mode": "isolated",
        "take_profits": (TakeProfitTarget(63_000.0, 0.5), TakeProfitTarget(66_000.0, 0.5)),
    }  # fmt: skip
    req = OrderRequest(**(fields | changes))
    return plan_orders(req, markets[symbol], confirmed_at=FROZEN_NOW_MS, attach_stop=trader.route.attach_stop)


def set_mark(server: LoopbackExchange, price: float) -> None:
    server.account.set_mark(ID, price)
    server.account.set_mark("ETHDEMOUSDT", 3_000.0)


def test_a_ticket_becomes_entry_stop_and_targets_and_the_stop_closes_it(
    server: LoopbackExchange, store: Store
) -> None:
    set_mark(server, 60_000)

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader))
        before = await trader.book()
        set_mark(server, 56_500)  # through the stop
        return outcome, before, await trader.book()

    outcome, before, after = run(server, store, scenario)
    assert outcome.entry.outcome == "ok" and outcome.entry.filled == pytest.approx(0.01)
    assert [s.outcome for s in outcome.protective] == ["ok", "ok", "ok"] and not outcome.naked
    [position] = before.positions
    assert (position.side, position.qty) == ("long", pytest.approx(0.01))
    [protection] = before.protections
    assert protection.protected and protection.stop_price == 57_000.0
    assert sorted(o.trigger for o in before.orders) == [57_000.0, 63_000.0, 66_000.0]
    assert all(o.reduce_only for o in before.orders)
    assert server.account.symbol_leverage[ID] == 5 and server.account.margin_types[ID] == "ISOLATED"
    # the stop fired: no position; the take-profits, reduce-only, have nothing left to close
    assert after.positions == ()
    # what was sent: the terms, then the entry, the stop and the targets, each with the ticket's client id
    sent = [(r.method, r.path) for r in server.non_get_requests()]
    assert sent == [
        ("POST", "/fapi/v1/marginType"),
        ("POST", "/fapi/v1/leverage"),
        ("POST", "/fapi/v1/order"),
        ("POST", "/fapi/v1/algoOrder"),
        ("POST", "/fapi/v1/algoOrder"),
        ("POST", "/fapi/v1/algoOrder"),
    ]
    algo = [r.body for r in server.non_get_requests() if r.path == "/fapi/v1/algoOrder"]
    assert [b["clientAlgoId"] for b in algo] == [o.client_id for o in outcome.plan.protective]
    assert all(b["reduceOnly"] == "true" and b["workingType"] == "MARK_PRICE" for b in algo)


def test_a_lost_answer_is_looked_up_and_the_order_is_placed_exactly_once(
    server: LoopbackExchange, store: Store
) -> None:
    set_mark(server, 60_000)
    server.faults.accept_then_timeout("/fapi/v1/order", times=1, hold_s=5.0)

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        return outcome, await trader.book()

    outcome, book = run(server, store, scenario, timeout_ms=1_000)
    assert outcome.entry.outcome == "found" and outcome.entry.sends == 1
    [position] = book.positions
    assert position.qty == pytest.approx(0.01)  # one entry, not two
    entries = [r for r in server.non_get_requests() if r.path == "/fapi/v1/order"]
    assert len(entries) == 1
    lookups = [r for r in server.requests_to("/fapi/v1/order") if r.method == "GET"]
    assert lookups and lookups[0].query["origClientOrderId"] == outcome.plan.entry.client_id
    with store.reading() as conn:
        placed = [r for r in order_log.load_log(conn) if r.action == "place" and r.label == "entry"]
    assert [(r.outcome, r.client_id) for r in placed] == [("found", outcome.plan.entry.client_id)]


def test_an_order_the_exchange_never_got_is_sent_again_under_the_same_id(
    server: LoopbackExchange, store: Store
) -> None:
    """A 503 before the exchange acted: the look-up finds nothing, so it is sent again (same client id:
    the exchange itself would refuse a second one)."""
    set_mark(server, 60_000)
    server.faults.http(503, "/fapi/v1/order", times=1)

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        return outcome, await trader.book()

    outcome, book = run(server, store, scenario)
    assert outcome.entry.outcome == "ok" and outcome.entry.sends == 2
    assert book.positions[0].qty == pytest.approx(0.01)
    ids = [r.body["newClientOrderId"] for r in server.non_get_requests() if r.path == "/fapi/v1/order"]
    assert ids == [outcome.plan.entry.client_id] * 2


def test_a_refused_stop_after_a_filled_entry_raises_the_alarm_and_leaves_a_clear_state(
    server: LoopbackExchange, store: Store
) -> None:
    set_mark(server, 60_000)
    server.faults.reject(-2022, "/fapi/v1/algoOrder", times=None)  # every stop refused

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        return outcome, await trader.book()

    outcome, book = run(server, store, scenario, stop_retries=2)
    assert outcome.entry.placed and outcome.naked
    assert outcome.stop is not None and outcome.stop.outcome == "rejected"
    assert "ReduceOnly Order is rejected" in (outcome.stop.error or "")
    stops = [r for r in server.non_get_requests() if r.path == "/fapi/v1/algoOrder"]
    assert len(stops) == 3  # the first try and two retries
    [unprotected] = book.unprotected
    assert unprotected.symbol == SYMBOL and unprotected.describe() == "NO STOP"
    with store.reading() as conn:
        events = risk_events.load_events(conn, "binanceusdm", kinds=[NAKED_POSITION])
    assert [e.severity for e in events] == ["critical"] and "NO STOP" in events[0].message


def test_a_refused_entry_sends_nothing_else(server: LoopbackExchange, store: Store) -> None:
    set_mark(server, 60_000)
    server.faults.reject(-2019, "/fapi/v1/order")

    async def scenario(trader: LiveTrader) -> Any:
        return await trader.place(await btc_plan(trader))

    outcome = run(server, store, scenario)
    assert outcome.entry.outcome == "rejected" and "Margin is insufficient" in (outcome.entry.error or "")
    assert outcome.protective == () and not outcome.naked
    assert not [r for r in server.non_get_requests() if r.path == "/fapi/v1/algoOrder"]


def test_the_kill_switch_leaves_nothing_open(server: LoopbackExchange, store: Store) -> None:
    set_mark(server, 60_000)

    async def scenario(trader: LiveTrader) -> Any:
        await trader.place(await btc_plan(trader))
        short = {"side": "short", "qty": 0.005, "price": 64_000.0, "stop": 66_000.0, "take_profits": ()}
        await trader.place(await btc_plan(trader, **short))
        eth = {
            "symbol": "ETHDEMO/USDT:USDT",
            "qty": 0.1,
            "stop": 2_000.0,
            "mark": 3_000.0,
            "take_profits": (),
        }
        await trader.place(await btc_plan(trader, **eth))
        before = await trader.book()
        return before, await trader.kill()

    before, kill = run(server, store, scenario)
    assert len(before.positions) == 2 and len(before.orders) >= 5
    assert kill.clean, (kill.errors, kill.left)
    assert kill.left.positions == () and kill.left.orders == ()


def test_moving_the_stop_places_the_new_one_before_cancelling_the_old(
    server: LoopbackExchange, store: Store
) -> None:
    set_mark(server, 60_000)

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        book = await trader.book()
        [protection] = book.protections
        moved = await trader.move(protection.stops[0], 58_500.0, book.positions[0])
        return outcome, moved, await trader.book()

    outcome, moved, after = run(server, store, scenario)
    assert moved.placed and moved.order.client_id == outcome.plan.stop.client_id + "r2"
    [protection] = after.protections
    assert protection.protected and [o.trigger for o in protection.stops] == [58_500.0]
    order = [(r.method, r.path) for r in server.non_get_requests()][-2:]
    assert order == [("POST", "/fapi/v1/algoOrder"), ("DELETE", "/fapi/v1/algoOrder")]


def test_the_log_holds_every_request_and_answer_and_no_secret(server: LoopbackExchange, store: Store) -> None:
    set_mark(server, 60_000)

    async def scenario(trader: LiveTrader) -> Any:
        return await trader.place(await btc_plan(trader))

    outcome = run(server, store, scenario)
    with store.reading() as conn:
        rows = order_log.load_log(conn)
        dump = "\n".join(str(r) for r in conn.execute("SELECT * FROM order_log"))
    assert [r.action for r in rows] == ["margin_mode", "leverage", "place", "place", "place", "place"]
    assert all(r.outcome == "ok" and r.answered_at is not None for r in rows)
    entry = rows[2]
    assert entry.order_id == outcome.entry.exchange_id and entry.filled == pytest.approx(0.01)
    assert entry.fee == pytest.approx(0.01 * 60_000 * 0.0005)
    assert KEY not in dump and SECRET not in dump and "signature" not in dump


def test_a_tripped_breaker_refuses_a_new_live_position_before_anything_is_sent(
    server: LoopbackExchange, store: Store
) -> None:
    with store.writing() as conn:
        risk_events.log_event(
            conn, "binanceusdm", FROZEN_NOW_MS, risk_events.BREAKER_TRIP, "critical", "daily loss 5%"
        )

    async def scenario(trader: LiveTrader) -> Any:
        return await trader.place(await btc_plan(trader))

    with pytest.raises(UsageError, match="circuit breaker tripped"):
        run(server, store, scenario)
    assert server.non_get_requests() == []


def test_no_trader_exists_unless_live_trading_is_on(server: LoopbackExchange, store: Store) -> None:
    settings = live_settings(server)
    exchange = CcxtExchange("binanceusdm", api_base_url=server.base_url)
    for changes, message in (
        ({"trading": settings.trading.model_copy(update={"live": False})}, "live orders are off"),
        ({"account": "paper"}, 'account = "exchange"'),
        ({"api_key": None}, "API keys"),
        ({"exchange": "okx"}, "verified on binanceusdm and bybit only"),
    ):
        with pytest.raises(UsageError, match=message):
            LiveTrader(settings.model_copy(update=changes), store, FrozenClock(0), exchange)


def test_perptui_watch_alerts_a_live_position_without_a_stop(server: LoopbackExchange, store: Store) -> None:
    """The no-stop rule on the exchange's own positions: an entry whose stop is gone (cancelled on the
    exchange) fires the alert on the next tick; the stop back in place clears it."""
    from perptui.services.alerts.watch import Watcher

    set_mark(server, 60_000)
    settings = live_settings(server)
    lines: list[dict[str, Any]] = []

    async def go() -> list[tuple[str, str]]:
        watcher = Watcher(settings, store, FrozenClock(FROZEN_NOW_MS), None, lines.append)
        await watcher.open()
        assert watcher.trader is not None and watcher.source is not None
        trader = watcher.trader
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        seen = [(r.alert.notification.rule_id, r.alert.notification.kind) for r in await watcher.tick()]
        [stop] = (await trader.book()).orders
        await trader.cancel(stop)  # the position is naked now
        seen += [(r.alert.notification.rule_id, r.alert.notification.kind) for r in await watcher.tick()]
        await trader.send(replace(outcome.plan.stop, client_id=outcome.plan.stop.client_id + "r2"))
        seen += [(r.alert.notification.rule_id, r.alert.notification.kind) for r in await watcher.tick()]
        await watcher.source.close()
        return seen

    seen = asyncio.run(go())
    assert [s for s in seen if s[0] == "no-stop"] == [("no-stop", "fired"), ("no-stop", "cleared")]


@pytest.mark.parametrize(
    ("exchange", "api", "host"),
    [("binanceusdm", "fapiPrivate", "testnet.binancefuture.com"), ("bybit", "private", "api-testnet.")],
)
def test_testnet_sends_orders_to_the_exchanges_testnet(
    store: Store, exchange: str, api: str, host: str
) -> None:
    """testnet = true: the trader's ccxt is in sandbox mode, so its order endpoints are the testnet's
    (what the README's first steps rely on; the testnets themselves are not reachable from here)."""
    settings = Settings(
        exchange=exchange,
        api_key=KEY,  # type: ignore[arg-type]
        api_secret=SECRET,  # type: ignore[arg-type]
        account="exchange",
        testnet=True,
        trading={"live": True},  # type: ignore[arg-type]
    )
    source = CcxtExchange(exchange, api_key=settings.api_key, api_secret=settings.api_secret, testnet=True)
    trader = LiveTrader(settings, store, FrozenClock(FROZEN_NOW_MS), source)
    assert trader.testnet and host in str(trader.exchange.ex.urls["api"][api])
    asyncio.run(source.close())


def test_a_rate_limited_order_is_looked_up_then_sent_again_once(
    server: LoopbackExchange, store: Store
) -> None:
    set_mark(server, 60_000)
    server.faults.http(429, "/fapi/v1/order", times=1)

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        return outcome, await trader.book()

    outcome, book = run(server, store, scenario)
    assert outcome.entry.outcome == "ok" and outcome.entry.sends == 2
    assert book.positions[0].qty == pytest.approx(0.01)
    with store.reading() as conn:
        entry_rows = [r.outcome for r in order_log.load_log(conn) if r.label == "entry"]
    # the lost send (then known absent), two look-ups a pause apart that found nothing, the second send
    assert entry_rows == ["absent", "absent", "absent", "ok"]


def test_an_order_whose_fate_cannot_be_learnt_is_never_sent_again(
    server: LoopbackExchange, store: Store
) -> None:
    """The answer is lost and every look-up fails too: the order is reported unknown, with its client id
    to look for, and nothing more is sent (no second entry, no stop for a position that may not exist)."""
    set_mark(server, 60_000)
    server.faults.accept_then_timeout("/fapi/v1/order", times=1, hold_s=5.0)
    server.faults.http(503, "/fapi/v1/order", times=None)

    async def scenario(trader: LiveTrader) -> Any:
        return await trader.place(await btc_plan(trader))

    outcome = run(server, store, scenario, timeout_ms=1_000)
    assert outcome.entry.outcome == "unknown" and outcome.protective == ()
    assert outcome.plan.entry.client_id in (outcome.entry.error or "")
    assert [r.method for r in server.requests_to("/fapi/v1/order")] == ["POST"] + ["GET"] * 4


def test_a_partly_filled_entry_is_said_and_its_stop_still_covers_what_filled(
    server: LoopbackExchange, store: Store
) -> None:
    set_mark(server, 60_000)
    server.faults.partial_fill(0.5, "/fapi/v1/order")

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        return outcome, await trader.book()

    outcome, book = run(server, store, scenario)
    assert outcome.entry.placed and outcome.entry.filled == pytest.approx(0.005)
    assert outcome.entry.answer is not None and outcome.entry.answer["status"] == "expired"
    [position] = book.positions
    [protection] = book.protections
    assert position.qty == pytest.approx(0.005) and protection.protected  # reduce-only: closes what is there
    from perptui.services.trading.report import sent_line

    assert "PARTLY filled: 0.005 of 0.01 at 60000" in sent_line(outcome.entry)


def test_an_unknown_order_is_settled_by_a_later_look_up(server: LoopbackExchange, store: Store) -> None:
    """perptui could not learn an entry's fate (the exchange was unreachable for the look-ups too); once it
    answers again, ``reconcile`` (``perptui orders open``) looks the order up and records it as found."""
    set_mark(server, 60_000)
    server.faults.accept_then_timeout("/fapi/v1/order", times=1, hold_s=5.0)
    lookups_fail = server.faults.http(503, "/fapi/v1/order", times=None)

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        with store.reading() as conn:
            before = [r.client_id for r in order_log.unresolved(conn, "binanceusdm")]
        server.faults.clear()
        notes = await trader.reconcile()
        with store.reading() as conn:
            after = order_log.unresolved(conn, "binanceusdm")
        return outcome, before, notes, after

    outcome, before, notes, after = run(server, store, scenario, timeout_ms=1_000)
    assert lookups_fail is not None and outcome.entry.outcome == "unknown"
    assert before == [outcome.plan.entry.client_id] and after == []
    assert notes == [f"{outcome.plan.entry.client_id} (entry {SYMBOL}): on the exchange, closed"]


def test_an_answer_that_cannot_be_read_is_looked_up_not_taken_for_a_refusal(
    server: LoopbackExchange, store: Store
) -> None:
    """The exchange placed the entry but its answer arrived cut in half: not a refusal (the stop would then
    never be sent for a position that exists), a lost answer, so the look-up finds the entry and the
    stop follows."""
    set_mark(server, 60_000)
    server.faults.truncated("/fapi/v1/order", times=1)

    async def scenario(trader: LiveTrader) -> Any:
        outcome = await trader.place(await btc_plan(trader, take_profits=()))
        return outcome, await trader.book()

    outcome, book = run(server, store, scenario)
    assert outcome.entry.outcome == "found" and outcome.stop is not None and outcome.stop.placed
    assert book.positions[0].qty == pytest.approx(0.01) and book.protections[0].protected
