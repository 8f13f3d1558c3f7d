"""Orders through real ccxt (bybit) against the Bybit v5 loopback's account
(tests/loopback/venues/bybit_orders.py): the request bodies ccxt's fixtures show, fills into positions,
conditional and attached stops, accept-then-timeout, rejections as ccxt's classes, cancel all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from ccxt.base import errors as ccxt_errors
from pydantic import SecretStr

from perptui.services.exchanges import CcxtExchange
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.bybit import SERVED, make_bybit
from tests.loopback.venues.common import static

SYMBOL, ID = "BTC/USDT:USDT", "BTCUSDT"
T = TypeVar("T")
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")


@pytest.fixture
def bybit() -> Iterator[LoopbackExchange]:
    server = LoopbackExchange(make_bybit(None), mode="bybit")
    server.source.account.marks[ID] = 60_000
    yield from serve(server)


def run(server: LoopbackExchange, scenario: Callable[[Any], Awaitable[T]]) -> T:
    async def go() -> T:
        adapter = CcxtExchange(
            "bybit",
            api_base_url=server.base_url,
            api_key=SecretStr("loopback-key"),
            api_secret=SecretStr("loopback-secret"),
            timeout_ms=10_000,
        )
        ex = adapter.ex
        try:
            await ex.load_markets()
            return await scenario(ex)
        finally:
            await ex.close()

    return asyncio.run(go())


def served_cases(method: str) -> list[dict[str, Any]]:
    cases = static("request", "bybit")["methods"][method]
    return [c for c in cases if c["input"] and c["input"][0] in SERVED and "output" in c and c["output"]]


def test_the_loopback_accepts_the_bodies_ccxt_sends_in_its_fixtures(bybit: LoopbackExchange) -> None:
    """Each served linear-perp createOrder case of ccxt's request fixture: ccxt sends exactly the fixture's
    body (bar the generated orderLinkId) and the loopback takes it."""
    import json

    # ccxt 4.5.90 sends a stopLossPrice / takeProfitPrice with tpslMode to /v5/order/create, where the
    # fixture (an older ccxt) shows /v5/position/trading-stop; trailing stops are not served.
    cases = [
        c
        for c in served_cases("createOrder")
        if "trailingAmount" not in json.dumps(c["input"]) and "tpslMode" not in json.dumps(c["input"])
    ]
    assert cases, "no served linear case in the fixture"
    account = bybit.source.account
    account.wallet = account.wallet * 1000  # room for every case's margin
    for symbol in ("BTCUSDT", "ETHUSDT"):
        account.open_position(symbol, 1.0, 1_000.0)

    async def scenario(ex: Any) -> list[Any]:
        sent = []
        for case in cases:
            await ex.create_order(*case["input"])
            last = bybit.non_get_requests()[-1]
            sent.append((last.path, last.body))
        return sent

    for case, (path, body) in zip(cases, run(bybit, scenario), strict=True):
        expected = json.loads(case["output"])
        assert (path, {k: v for k, v in body.items() if k != "orderLinkId"}) == (
            urlsplit(case["url"]).path,
            expected,
        ), case["input"]


def test_market_entry_with_an_attached_stop_then_the_mark_hits_the_stop(bybit: LoopbackExchange) -> None:
    account = bybit.source.account

    async def scenario(ex: Any) -> tuple[Any, ...]:
        entry = await ex.create_order(
            SYMBOL,
            "market",
            "buy",
            0.01,
            None,
            {"clientOrderId": "entry-1", "stopLoss": {"triggerPrice": 58_000}},
        )
        held = await ex.fetch_positions([SYMBOL])
        account.set_mark(ID, 57_900)
        return entry, held, await ex.fetch_positions([SYMBOL]), await ex.fetch_my_trades(SYMBOL)

    entry, held, after, trades = run(bybit, scenario)
    assert entry["clientOrderId"] == "entry-1"
    [pos] = held
    assert (pos["side"], pos["contracts"], pos["entryPrice"], pos["stopLossPrice"]) == (
        "long",
        0.01,
        60_000.0,
        58_000.0,
    )
    assert after == []
    assert sorted((t["side"], t["price"]) for t in trades) == [("buy", 60_000.0), ("sell", 57_900.0)]


def test_reduce_only_conditional_orders_rest_trigger_and_cancel_all_clears_them(
    bybit: LoopbackExchange,
) -> None:
    account = bybit.source.account

    async def scenario(ex: Any) -> tuple[Any, ...]:
        await ex.create_order(SYMBOL, "market", "buy", 0.02)
        stop = await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"stopLossPrice": 58_000})
        await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"takeProfitPrice": 65_000})
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50_000)
        resting = await ex.fetch_open_orders(SYMBOL)
        account.set_mark(ID, 57_000)
        fired = await ex.fetch_order(stop["id"], SYMBOL, {"acknowledged": True})
        await ex.cancel_all_orders(SYMBOL)
        return resting, fired, await ex.fetch_open_orders(SYMBOL), await ex.fetch_positions([SYMBOL])

    resting, fired, left, positions = run(bybit, scenario)
    assert sorted((o["type"], o["triggerPrice"]) for o in resting) == sorted(
        [("market", 58_000.0), ("market", 65_000.0), ("limit", None)]
    )
    assert (fired["status"], fired["filled"]) == ("closed", 0.01)
    assert left == [] and positions[0]["contracts"] == 0.01


def test_accepted_but_timed_out_order_is_found_by_its_order_link_id(bybit: LoopbackExchange) -> None:
    bybit.faults.accept_then_timeout("/v5/order/create")

    async def scenario(ex: Any) -> Any:
        ex.timeout = 300
        with pytest.raises(ccxt_errors.RequestTimeout):
            await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "lost-1"})
        ex.timeout = 10_000
        # ccxt's bybit fetch_order ignores clientOrderId and sends orderId=None as the text "None", so
        # the lookup by orderLinkId goes through the implicit API.
        response = await ex.privateGetV5OrderRealtime(
            {"category": "linear", "symbol": ID, "orderLinkId": "lost-1"}
        )
        return ex.parse_order(response["result"]["list"][0], ex.market(SYMBOL))

    found = run(bybit, scenario)
    assert (found["status"], found["filled"], found["clientOrderId"]) == ("closed", 0.01, "lost-1")
    assert len(bybit.source.account.by_link_id("lost-1")) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (110007, ccxt_errors.InsufficientFunds),
        (110017, ccxt_errors.InvalidOrder),
        (110094, ccxt_errors.InvalidOrder),
        (10001, ccxt_errors.BadRequest),
        (10006, ccxt_errors.RateLimitExceeded),
        (110072, ccxt_errors.InvalidOrder),
    ],
)
def test_a_forced_rejection_surfaces_as_its_ccxt_class(
    bybit: LoopbackExchange, code: int, error: type[Exception]
) -> None:
    bybit.faults.reject(code, "/v5/order/create")

    async def scenario(ex: Any) -> None:
        with pytest.raises(error, match=str(code)):
            await ex.create_order(SYMBOL, "market", "buy", 0.01)

    run(bybit, scenario)
    assert bybit.source.account.orders == {}


def test_real_validation_and_duplicate_link_ids(bybit: LoopbackExchange) -> None:
    async def scenario(ex: Any) -> None:
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50_000, {"clientOrderId": "dup"})
        with pytest.raises(ccxt_errors.InvalidOrder, match="110072"):
            await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50_000, {"clientOrderId": "dup"})
        with pytest.raises(ccxt_errors.InvalidOrder, match="110017"):
            await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
        with pytest.raises(ccxt_errors.InsufficientFunds, match="110007"):
            await ex.create_order(SYMBOL, "market", "buy", 1.0)

    run(bybit, scenario)
    assert len(bybit.source.account.orders) == 1


def test_a_partial_market_fill(bybit: LoopbackExchange) -> None:
    bybit.faults.partial_fill(0.5, "/v5/order/create")

    async def scenario(ex: Any) -> Any:
        order = await ex.create_order(SYMBOL, "market", "buy", 0.02)
        return await ex.fetch_order(order["id"], SYMBOL, {"acknowledged": True})

    order = run(bybit, scenario)
    assert (order["filled"], order["amount"]) == (0.01, 0.02)
    assert order["info"]["orderStatus"] == "PartiallyFilledCanceled"
