"""How each exchange takes a ``LiveOrder`` through ccxt: the unified call and its parameters, the
look-up by client order id, the open orders (regular and conditional) and cancelling them.

Only exchanges whose order flow is verified (against loopback servers speaking their REST, see the
README) have a route: Binance USD-M and Bybit. Others are refused before anything is sent.

- Binance USD-M: stops and take-profits are conditional orders, which Binance serves from its Algo Order
  API (``/fapi/v1/algoOrder``): ccxt sends them there for ``stopLossPrice``/``takeProfitPrice``, and reads
  or cancels them with ``trigger: True``; the client id travels as ``clientAlgoId``. Triggers on the mark
  price (``workingType = MARK_PRICE``) unless ``trading.trigger = "last"``.
- Bybit (v5, linear): the stop rides on the entry itself (``stopLoss``, the position's own stop: never a
  moment without it); take-profits are reduce-only conditional orders; look-ups go to
  ``/v5/order/realtime`` by ``orderLinkId`` (it answers for recent closed orders too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from perptui.domain.live.plan import LiveOrder

Trigger = Literal["mark", "last"]


@dataclass(frozen=True, slots=True)
class CreateCall:
    """The arguments of ccxt's ``create_order`` for one order."""

    symbol: str
    type: str
    side: str
    amount: float
    price: float | None
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "type": self.type,
            "side": self.side,
            "amount": self.amount,
            "price": self.price,
            "params": dict(self.params),
        }


def is_conditional(order: LiveOrder) -> bool:
    return order.type in ("stop_market", "take_profit_market")


class Route:
    """The ccxt-unified way; subclasses say where an exchange differs."""

    exchange_id = ""
    #: The entry carries the stop (the exchange's own attached stop-loss).
    attach_stop = False
    #: Leverage and margin mode are set per symbol before the entry.
    sets_margin_mode = True

    def __init__(self, trigger: Trigger = "mark") -> None:
        self.trigger = trigger

    def trigger_params(self) -> dict[str, Any]:
        return {}

    def create_call(self, order: LiveOrder) -> CreateCall:
        params: dict[str, Any] = {"clientOrderId": order.client_id}
        if order.reduce_only:
            params["reduceOnly"] = True
        price = order.price if order.type == "limit" else None
        ccxt_type = "limit" if order.type == "limit" else "market"
        if order.type == "stop_market":
            params["stopLossPrice"] = order.trigger
            params |= self.trigger_params()
        elif order.type == "take_profit_market":
            params["takeProfitPrice"] = order.trigger
            params |= self.trigger_params()
        if order.attached_stop is not None:
            params |= self.attached_stop_params(order.attached_stop)
        return CreateCall(order.symbol, ccxt_type, order.side, order.amount, price, params)

    def attached_stop_params(self, stop: float) -> dict[str, Any]:
        raise NotImplementedError(f"{self.exchange_id} does not attach a stop to the entry")

    async def lookup(self, ex: Any, order: LiveOrder) -> dict[str, Any] | None:
        """The order on the exchange with ``order``'s client id, or None when the exchange has none."""
        raise NotImplementedError

    async def open_orders(self, ex: Any, symbol: str | None) -> list[dict[str, Any]]:
        return list(await ex.fetch_open_orders(symbol))

    async def cancel(self, ex: Any, order: dict[str, Any]) -> dict[str, Any]:
        """Cancel one order; a conditional one through ccxt's ``trigger`` flag (its own endpoints)."""
        params = {"trigger": True} if order.get("conditional") else {}
        return dict(await ex.cancel_order(order["id"], order["symbol"], params))

    async def cancel_all(self, ex: Any, symbol: str) -> None:
        """Every open order of ``symbol``: the regular ones, then the conditional ones."""
        await ex.cancel_all_orders(symbol)
        await ex.cancel_all_orders(symbol, {"trigger": True})

    async def set_position_stop(self, ex: Any, symbol: str, stop: float) -> Any:
        raise NotImplementedError(f"{self.exchange_id} keeps no stop on the position")


class BinanceRoute(Route):
    exchange_id = "binanceusdm"

    def trigger_params(self) -> dict[str, Any]:
        return {"workingType": "MARK_PRICE" if self.trigger == "mark" else "CONTRACT_PRICE"}

    async def lookup(self, ex: Any, order: LiveOrder) -> dict[str, Any] | None:
        params: dict[str, Any] = {"clientOrderId": order.client_id}
        if is_conditional(order):
            params["trigger"] = True
        try:
            return dict(await ex.fetch_order("", order.symbol, params))
        except Exception as exc:
            if _is_order_not_found(exc):
                return None
            raise

    async def open_orders(self, ex: Any, symbol: str | None) -> list[dict[str, Any]]:
        regular = await ex.fetch_open_orders(symbol)
        conditional = await ex.fetch_open_orders(symbol, None, None, {"trigger": True})
        return [*regular, *({**o, "conditional": True} for o in conditional)]


class BybitRoute(Route):
    exchange_id = "bybit"
    attach_stop = True
    #: Bybit's unified account sets the margin mode for the whole account, not per symbol: left alone.
    sets_margin_mode = False

    def trigger_params(self) -> dict[str, Any]:
        return {"triggerBy": "MarkPrice" if self.trigger == "mark" else "LastPrice"}

    def attached_stop_params(self, stop: float) -> dict[str, Any]:
        by = "MarkPrice" if self.trigger == "mark" else "LastPrice"
        return {"stopLoss": {"triggerPrice": stop, "type": "market"}, "slTriggerBy": by}

    async def lookup(self, ex: Any, order: LiveOrder) -> dict[str, Any] | None:
        market = ex.market(order.symbol)
        request = {"category": "linear", "symbol": market["id"], "orderLinkId": order.client_id}
        if is_conditional(order):
            request["orderFilter"] = "StopOrder"
        answer = await ex.privateGetV5OrderRealtime(request)
        rows = ((answer or {}).get("result") or {}).get("list") or []
        found = [r for r in rows if r.get("orderLinkId") == order.client_id]
        return dict(ex.parse_order(found[0], market)) if found else None

    async def open_orders(self, ex: Any, symbol: str | None) -> list[dict[str, Any]]:
        params = {"settleCoin": "USDT"} if symbol is None else {}
        regular = await ex.fetch_open_orders(symbol, None, None, params)
        conditional = await ex.fetch_open_orders(symbol, None, None, {**params, "trigger": True})
        seen = {o["id"] for o in regular}
        return [*regular, *({**o, "conditional": True} for o in conditional if o["id"] not in seen)]

    async def set_position_stop(self, ex: Any, symbol: str, stop: float) -> Any:
        """Bybit's ``/v5/position/trading-stop``: the whole position's stop-loss (tpslMode Full)."""
        market = ex.market(symbol)
        return await ex.privatePostV5PositionTradingStop(
            {
                "category": "linear",
                "symbol": market["id"],
                "stopLoss": ex.price_to_precision(symbol, stop),
                "tpslMode": "Full",
                "slTriggerBy": "MarkPrice" if self.trigger == "mark" else "LastPrice",
                "positionIdx": 0,
            }
        )


ROUTES: dict[str, type[Route]] = {"binanceusdm": BinanceRoute, "bybit": BybitRoute}


def route_for(exchange_id: str, trigger: Trigger = "mark") -> Route | None:
    cls = ROUTES.get(exchange_id)
    return cls(trigger) if cls else None


def _is_order_not_found(exc: BaseException) -> bool:
    import ccxt

    return isinstance(exc, ccxt.OrderNotFound)
