"""Orders through real ccxt (binanceusdm) against the loopback's Binance USDⓈ-M order book
(tests/loopback/binance_orders.py): fills into positions and wallet, conditional orders through the Algo
Order API, the accept-then-timeout case, rejections as ccxt's exception classes, cancel all, partial fills."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import ccxt.async_support as ccxt_async
import pytest
from ccxt.base import errors as ccxt_errors
from pydantic import SecretStr

from perptui.services.exchanges import CcxtExchange
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

SYMBOL, ID = "BTC/USDT:USDT", "BTCUSDT"
T = TypeVar("T")
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")


@pytest.fixture
def server() -> Iterator[LoopbackExchange]:
    """The real-data Binance loopback with a flat account: 1,000 USDT, no position, BTC marked at 60,000."""
    loop = fixtures.make_real()
    loop.account.positions = []
    loop.account.marks["BTCUSDT"] = 60_000.0
    yield from fixtures.serve(loop)


def run(server: LoopbackExchange, scenario: Callable[[Any], Awaitable[T]]) -> T:
    async def go() -> T:
        adapter = CcxtExchange(
            "binanceusdm",
            api_base_url=server.base_url,
            api_key=SecretStr("loopback-key"),
            api_secret=SecretStr("loopback-secret"),
            timeout_ms=10_000,
        )
        ex = adapter.ex  # the adapter picks Binance's fapi error table by the path behind a rebased URL
        try:
            await ex.load_markets()
            return await scenario(ex)
        finally:
            await ex.close()

    return asyncio.run(go())


def test_a_market_entry_fills_at_the_mark_and_the_position_appears(server: LoopbackExchange) -> None:
    async def scenario(ex: Any) -> tuple[Any, Any, Any]:
        order = await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "entry-1"})
        return order, await ex.fetch_positions([SYMBOL]), await ex.fetch_my_trades(SYMBOL)

    order, positions, trades = run(server, scenario)
    assert (order["status"], order["filled"], order["average"], order["clientOrderId"]) == (
        "closed",
        0.01,
        60_000.0,
        "entry-1",
    )
    [pos] = positions
    assert (pos["side"], pos["contracts"], pos["entryPrice"]) == ("long", 0.01, 60_000.0)
    assert [(t["side"], t["amount"], t["price"], t["fee"]["cost"]) for t in trades] == [
        ("buy", 0.01, 60_000.0, pytest.approx(0.3))
    ]
    assert server.account.wallet_balance == pytest.approx(1000 - 0.3)  # the taker fee
    [sent] = server.non_get_requests()
    assert (sent.method, sent.path, sent.signed, sent.body["newClientOrderId"]) == (
        "POST",
        "/fapi/v1/order",
        True,
        "entry-1",
    )


def test_entries_average_and_a_reduce_only_close_realises_the_pnl(server: LoopbackExchange) -> None:
    async def scenario(ex: Any) -> Any:
        await ex.create_order(SYMBOL, "market", "buy", 0.01)
        server.account.set_mark(ID, 62_000)
        await ex.create_order(SYMBOL, "market", "buy", 0.01)
        entry = (await ex.fetch_positions([SYMBOL]))[0]["entryPrice"]
        server.account.set_mark(ID, 63_000)
        await ex.create_order(SYMBOL, "market", "sell", 0.05, None, {"reduceOnly": True})
        return entry, await ex.fetch_positions([SYMBOL]), await ex.fetch_balance()

    entry, positions, balance = run(server, scenario)
    assert entry == pytest.approx(61_000)
    assert positions == []  # the reduce-only sell closed 0.02, not the 0.05 asked
    fees = 0.0005 * (0.01 * 60_000 + 0.01 * 62_000 + 0.02 * 63_000)
    assert balance["USDT"]["total"] == pytest.approx(1000 + 0.02 * 2_000 - fees)


def test_reduce_only_stop_and_take_profit_rest_then_the_stop_closes_on_a_mark_move(
    server: LoopbackExchange,
) -> None:
    async def scenario(ex: Any) -> dict[str, Any]:
        await ex.create_order(SYMBOL, "market", "buy", 0.01)
        stop = await ex.create_order(
            SYMBOL,
            "market",
            "sell",
            0.01,
            None,
            {"stopLossPrice": 58_000, "reduceOnly": True, "clientOrderId": "stop-1"},
        )
        take = await ex.create_order(
            SYMBOL, "market", "sell", 0.01, None, {"takeProfitPrice": 65_000, "reduceOnly": True}
        )
        resting = await ex.fetch_open_orders(SYMBOL, params={"trigger": True})
        server.account.set_mark(ID, 57_900)
        after = await ex.fetch_order(None, SYMBOL, {"trigger": True, "clientOrderId": "stop-1"})
        return {
            "stop": stop,
            "take": take,
            "resting": resting,
            "after": after,
            # The triggered algo order names the market order it became (actualOrderId).
            "fill": await ex.fetch_order(after["info"]["actualOrderId"], SYMBOL),
            "positions": await ex.fetch_positions([SYMBOL]),
        }

    got = run(server, scenario)
    assert (got["stop"]["status"], got["stop"]["triggerPrice"], got["stop"]["clientOrderId"]) == (
        "open",
        58_000.0,
        "stop-1",
    )
    assert got["take"]["takeProfitPrice"] == 65_000.0
    assert sorted(o["id"] for o in got["resting"]) == sorted([got["stop"]["id"], got["take"]["id"]])
    assert got["after"]["status"] == "closed"
    assert (got["fill"]["status"], got["fill"]["filled"], got["fill"]["average"]) == (
        "closed",
        0.01,
        57_900.0,
    )
    assert got["positions"] == []
    assert [r.path for r in server.non_get_requests()].count("/fapi/v1/algoOrder") == 2
    # The take-profit, left with nothing to reduce, expires when the mark reaches it.
    server.account.set_mark(ID, 65_500)
    [take] = [o for o in server.account.orders.algo_orders.values() if o.id == int(got["take"]["id"])]
    assert take.status == "EXPIRED"


def test_accepted_but_timed_out_order_is_found_by_its_client_id(server: LoopbackExchange) -> None:
    """The key case: the order is placed and filled, the answer never comes. Looking it up by client id
    finds it; nothing is sent twice."""
    server.faults.accept_then_timeout("/fapi/v1/order", hold_s=30)

    async def scenario(ex: Any) -> Any:
        ex.timeout = 300
        with pytest.raises(ccxt_errors.RequestTimeout):
            await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "lost-1"})
        ex.timeout = 10_000
        return await ex.fetch_order(None, SYMBOL, {"clientOrderId": "lost-1"})

    found = run(server, scenario)
    assert (found["status"], found["filled"], found["clientOrderId"]) == ("closed", 0.01, "lost-1")
    assert len(server.account.orders.by_client_id("lost-1")) == 1
    assert server.requests_to("/fapi/v1/order")[-1].query["origClientOrderId"] == "lost-1"


def test_a_client_id_of_an_open_order_is_refused(server: LoopbackExchange) -> None:
    async def scenario(ex: Any) -> None:
        params = {"clientOrderId": "limit-1"}
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 55_000, params)
        with pytest.raises(ccxt_errors.InvalidOrder, match="-4116"):
            await ex.create_order(SYMBOL, "limit", "buy", 0.01, 55_000, params)

    run(server, scenario)
    assert len(server.account.orders.open_orders(ID)) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (-1111, ccxt_errors.BadRequest),
        (-4164, ccxt_errors.InvalidOrder),
        (-2022, ccxt_errors.InvalidOrder),
        (-2019, ccxt_errors.InsufficientFunds),
    ],
)
def test_a_forced_rejection_surfaces_as_its_ccxt_class(
    server: LoopbackExchange, code: int, error: type[Exception]
) -> None:
    server.faults.reject(code, "/fapi/v1/algoOrder")

    async def scenario(ex: Any) -> None:
        await ex.create_order(SYMBOL, "market", "buy", 0.01)
        with pytest.raises(error, match=str(code)):
            await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"stopLossPrice": 58_000,
                                                                        "reduceOnly": True})  # fmt: skip

    run(server, scenario)
    assert server.account.orders.open_orders(ID, algo=True) == []
    assert float(server.account.positions[0]["positionAmt"]) == 0.01  # the entry stands, unprotected


def test_real_validation_rejects_small_unfunded_and_increasing_reduce_only_orders(
    server: LoopbackExchange,
) -> None:
    async def scenario(ex: Any) -> None:
        with pytest.raises(ccxt_errors.InvalidOrder, match="-4164"):
            await ex.create_order(SYMBOL, "market", "buy", 0.001, None, {"reduceOnly": False})
        with pytest.raises(ccxt_errors.InsufficientFunds, match="-2019"):
            await ex.create_order(SYMBOL, "market", "buy", 3.0)  # 12,000 at 10x > 1,000 free
        with pytest.raises(ccxt_errors.InvalidOrder, match="-2022"):
            await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})

    server.account.marks[ID] = 4_000.0  # 0.001 BTC = 4 USDT, under the 5 USDT minimum
    run(server, scenario)
    assert server.account.orders.trades == []


def test_cancel_all_leaves_no_regular_or_conditional_order_open(server: LoopbackExchange) -> None:
    async def scenario(ex: Any) -> tuple[list[Any], list[Any]]:
        await ex.create_order(SYMBOL, "market", "buy", 0.01)
        await ex.create_orders([
            {"symbol": SYMBOL, "type": "limit", "side": "buy", "amount": 0.01, "price": 55_000},
            {"symbol": SYMBOL, "type": "limit", "side": "sell", "amount": 0.01, "price": 66_000,
             "params": {"reduceOnly": True}},
        ])  # fmt: skip
        await ex.create_order(
            SYMBOL, "market", "sell", 0.01, None, {"stopLossPrice": 58_000, "reduceOnly": True}
        )
        await ex.cancel_all_orders(SYMBOL)
        await ex.cancel_all_orders(SYMBOL, {"trigger": True})
        return await ex.fetch_open_orders(SYMBOL), await ex.fetch_open_orders(
            SYMBOL, params={"trigger": True}
        )

    regular, conditional = run(server, scenario)
    assert (regular, conditional) == ([], [])
    assert {(r.method, r.path) for r in server.non_get_requests()} >= {
        ("DELETE", "/fapi/v1/allOpenOrders"),
        ("DELETE", "/fapi/v1/algoOpenOrders"),
    }
    assert len(server.account.orders.orders) == 3  # the market entry and the batch's two limits


def test_a_resting_limit_fills_when_the_mark_crosses_and_cancel_by_client_id(
    server: LoopbackExchange,
) -> None:
    async def scenario(ex: Any) -> tuple[Any, Any]:
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 59_000, {"clientOrderId": "dip"})
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50_000, {"clientOrderId": "deep"})
        server.account.set_mark(ID, 58_500)
        dip = await ex.fetch_order(None, SYMBOL, {"clientOrderId": "dip"})
        cancelled = await ex.cancel_order(None, SYMBOL, {"clientOrderId": "deep"})
        return dip, cancelled

    dip, cancelled = run(server, scenario)
    assert (dip["status"], dip["average"]) == ("closed", 59_000.0)  # at its limit, a maker fill
    assert cancelled["status"] == "canceled"
    assert server.account.wallet_balance == pytest.approx(1000 - 0.0002 * 590)


def test_a_partial_market_fill_expires_the_rest(server: LoopbackExchange) -> None:
    server.faults.partial_fill(0.4, "/fapi/v1/order")

    async def scenario(ex: Any) -> tuple[Any, Any]:
        order = await ex.create_order(SYMBOL, "market", "buy", 0.01)
        return order, await ex.fetch_positions([SYMBOL])

    order, positions = run(server, scenario)
    assert (order["status"], order["amount"], order["filled"]) == ("expired", 0.01, 0.004)
    assert positions[0]["contracts"] == 0.004


@pytest.mark.parametrize("status", [503, 429])
def test_server_errors_and_rate_limits_place_nothing(server: LoopbackExchange, status: int) -> None:
    server.faults.http(status, "/fapi/v1/order")
    expected = ccxt_errors.DDoSProtection if status == 429 else ccxt_errors.ExchangeNotAvailable

    async def scenario(ex: Any) -> None:
        with pytest.raises(expected):
            await ex.create_order(SYMBOL, "market", "buy", 0.01)

    run(server, scenario)
    assert server.account.orders.orders == {} and server.account.positions == []


def test_order_routes_need_a_signature(server: LoopbackExchange) -> None:
    async def scenario() -> Any:
        ex = ccxt_async.binanceusdm()
        try:
            return await ex.fetch(f"{server.base_url}/fapi/v1/openOrders?symbol=BTCUSDT", "GET")
        except ccxt_errors.ExchangeError as err:
            return str(err)
        finally:
            await ex.close()

    assert "-2014" in asyncio.run(scenario())
