"""The Bybit loopback's account: v5 orders, positions (with their stopLoss / takeProfit), executions and
the unified wallet, as ccxt 4.5.90 calls them for linear perps (requests in
../shared/data/ccxt_static/request/bybit.json).

- ``create_order`` -> ``POST /v5/order/create`` (JSON body; ``triggerPrice`` + ``triggerDirection`` 1 rising /
  2 falling for conditional orders, ccxt adds ``reduceOnly`` for stopLossPrice / takeProfitPrice;
  ``stopLoss`` / ``takeProfit`` attached to an entry become the position's stops). A create with
  stopLossPrice/takeProfitPrice and ``tpslMode`` goes to ``POST /v5/position/trading-stop``.
- ``fetch_order`` (params ``acknowledged: True``) and ``fetch_open_orders`` -> ``GET /v5/order/realtime``
  (``orderId`` or ``orderLinkId``; ``orderFilter`` StopOrder / Order narrows open orders).
- ``cancel_order`` -> ``POST /v5/order/cancel``; ``cancel_all_orders`` -> ``POST /v5/order/cancel-all``.
- ``fetch_positions`` -> ``GET /v5/position/list``; ``fetch_my_trades`` -> ``GET /v5/execution/list``;
  ``fetch_balance`` -> ``GET /v5/account/wallet-balance`` after ``/v5/user/query-api`` and
  ``/v5/account/info`` (ccxt's unified-account probe).

Semantics as the Binance book's (tests/loopback/binance_orders.py): market orders fill at the mark
(``set_mark``), limits rest until the mark crosses, conditional orders are ``Untriggered`` until the mark
crosses their trigger (a reduce-only one with nothing to reduce is then ``Deactivated``), position stops
close the whole position when crossed. Bybit refuses any orderLinkId it has seen (110072).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from tests.loopback.venues.common import dec

TAKER_FEE, MAKER_FEE = Decimal("0.00055"), Decimal("0.0002")
OPEN_STATUSES = ("New", "PartiallyFilled", "Untriggered")

#: Bybit's messages for the rejections the loopback gives (and ``FaultPlan.reject`` defaults to).
MESSAGES = {
    10001: "params error: Qty invalid",
    10006: "Too many visits. Exceeded the API Rate Limit.",
    110001: "Order does not exist",
    110007: "ab not enough for new order",
    110017: "Reduce-only rule not satisfied",
    110072: "OrderLinkedID is duplicate",
    110094: "Order does not meet minimum order value 5USDT",
}


class BybitOrderError(Exception):
    def __init__(self, code: int, msg: str | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg or MESSAGES.get(code, "rejected")


def _now() -> int:
    return int(time.time() * 1000)


def _d(value: Any, name: str) -> Decimal:
    try:
        out = Decimal(str(value))
    except ArithmeticError:
        raise BybitOrderError(10001, f"params error: {name} invalid") from None
    if not out.is_finite():
        raise BybitOrderError(10001, f"params error: {name} invalid")
    return out


def _s(value: Decimal) -> str:
    return dec(float(value)) if value else "0"


@dataclass
class Lot:
    """A market's lot rules (from its instruments-info record)."""

    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal


@dataclass
class BybitOrder:
    order_id: str
    link_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    price: Decimal = Decimal(0)
    trigger: Decimal = Decimal(0)
    direction: int = 0
    reduce_only: bool = False
    stop_loss: Decimal = Decimal(0)
    take_profit: Decimal = Decimal(0)
    status: str = "New"
    executed: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    created: int = field(default_factory=_now)
    updated: int = field(default_factory=_now)

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    def wire(self) -> dict[str, Any]:
        leaves = self.qty - self.executed if self.open else Decimal(0)
        return {
            "orderId": self.order_id,
            "orderLinkId": self.link_id,
            "blockTradeId": "",
            "symbol": self.symbol,
            "price": _s(self.price),
            "qty": _s(self.qty),
            "side": self.side,
            "isLeverage": "",
            "positionIdx": 0,
            "orderStatus": self.status,
            "cancelType": "CancelByUser" if self.status == "Cancelled" else "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": _s(self.value / self.executed) if self.executed else "",
            "leavesQty": _s(leaves),
            "leavesValue": _s(leaves * self.price),
            "cumExecQty": _s(self.executed),
            "cumExecValue": _s(self.value),
            "cumExecFee": _s(self.fee),
            "timeInForce": "IOC" if self.type == "Market" else "GTC",
            "orderType": self.type,
            "stopOrderType": "Stop" if self.trigger else "",
            "orderIv": "",
            "triggerPrice": _s(self.trigger),
            "takeProfit": _s(self.take_profit),
            "stopLoss": _s(self.stop_loss),
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": self.direction,
            "triggerBy": "MarkPrice" if self.trigger else "",
            "lastPriceOnCreated": "",
            "reduceOnly": self.reduce_only,
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "tpslMode": "Full" if self.stop_loss or self.take_profit else "",
            "tpLimitPrice": "",
            "slLimitPrice": "",
            "placeType": "",
            "createdTime": str(self.created),
            "updatedTime": str(self.updated),
        }


@dataclass
class BybitPosition:
    symbol: str
    size: Decimal  # signed: long > 0
    entry: Decimal
    stop_loss: Decimal = Decimal(0)
    take_profit: Decimal = Decimal(0)
    realised: Decimal = Decimal(0)


class BybitAccount:
    """Orders, positions, executions and the USDT wallet of the Bybit loopback. ``lot_of`` gives a market
    id's lot rules (None for an unserved symbol), ``mark_of`` its starting mark."""

    def __init__(
        self, lot_of: Callable[[str], Lot | None], mark_of: Callable[[str], float], wallet: float = 1000.0
    ) -> None:
        self.lot_of, self.mark_of = lot_of, mark_of
        self.wallet = Decimal(str(wallet))
        self.leverage = Decimal(10)
        self.marks: dict[str, Decimal] = {}
        self.orders: dict[str, BybitOrder] = {}
        self.positions: dict[str, BybitPosition] = {}
        self.executions: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # ---------------------------------------------------------------------------------- test surface

    def set_mark(self, symbol: str, price: float) -> None:
        """Move a market's mark (Bybit id, e.g. BTCUSDT): conditional orders, resting limits and position
        stops it crosses act."""
        with self._lock:
            self.marks[symbol] = Decimal(str(price))
            self._on_mark(symbol)

    def open_position(self, symbol: str, size: float, entry: float) -> None:
        """Start a test with a position (signed size: long > 0)."""
        with self._lock:
            self.positions[symbol] = BybitPosition(symbol, Decimal(str(size)), Decimal(str(entry)))

    def by_link_id(self, link_id: str) -> list[BybitOrder]:
        with self._lock:
            return [o for o in self.orders.values() if o.link_id == link_id]

    def open_orders(self, symbol: str | None = None) -> list[BybitOrder]:
        with self._lock:
            return [o for o in self.orders.values() if o.open and (symbol is None or o.symbol == symbol)]

    # ------------------------------------------------------------------------------------ endpoints

    def create(self, q: Mapping[str, Any], partial: float | None = None) -> dict[str, Any]:
        """Place an order; ``partial`` (a fault) fills only that fraction of a market order."""
        with self._lock:
            order = self._parse(q)
            if order.link_id and self.by_link_id(order.link_id):
                raise BybitOrderError(110072)
            self._validate(order)
            self.orders[order.order_id] = order
            mark = self._mark(order.symbol)
            if order.trigger:
                order.status = "Untriggered"
            elif order.type == "Market" and partial is not None:
                lot = self.lot_of(order.symbol)
                assert lot is not None
                self._fill(order, partial_qty(order.qty, partial, lot.step), mark, maker=False)
            elif order.type == "Market" or self._crosses(order, mark):
                self._fill(order, order.qty, mark, maker=False)
            return {"orderId": order.order_id, "orderLinkId": order.link_id}

    def realtime(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            if q.get("orderId") or q.get("orderLinkId"):
                found = [o for o in self.orders.values() if self._is(o, q)]
            else:
                found = self.open_orders(q.get("symbol") or None)
                kind = q.get("orderFilter")
                if kind == "StopOrder":
                    found = [o for o in found if o.trigger]
                elif kind == "Order":
                    found = [o for o in found if not o.trigger]
            rows = [o.wire() for o in sorted(found, key=lambda o: o.created, reverse=True)]
        return {"list": rows, "nextPageCursor": "", "category": q.get("category", "linear")}

    def cancel(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            found = [o for o in self.orders.values() if self._is(o, q)]
            if not found:
                raise BybitOrderError(110001)
            order = found[-1]
            if not order.open:
                raise BybitOrderError(110001)
            order.status, order.updated = ("Deactivated" if order.trigger else "Cancelled"), _now()
            return {"orderId": order.order_id, "orderLinkId": order.link_id}

    def cancel_all(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            gone = self.open_orders(q.get("symbol") or None)
            kind = q.get("orderFilter")
            if kind == "StopOrder":
                gone = [o for o in gone if o.trigger]
            elif kind == "Order":
                gone = [o for o in gone if not o.trigger]
            for order in gone:
                order.status, order.updated = ("Deactivated" if order.trigger else "Cancelled"), _now()
            return {"list": [{"orderId": o.order_id, "orderLinkId": o.link_id} for o in gone], "success": "1"}

    def trading_stop(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            symbol = self._symbol(q)
            pos = self.positions.get(symbol)
            if pos is None or pos.size == 0:
                raise BybitOrderError(10001, "can not set tp/sl/ts for zero position")
            if q.get("stopLoss") is not None:
                pos.stop_loss = _d(q["stopLoss"], "stopLoss")
            if q.get("takeProfit") is not None:
                pos.take_profit = _d(q["takeProfit"], "takeProfit")
            return {}

    def set_leverage(self, q: Mapping[str, Any]) -> dict[str, Any]:
        """/v5/position/set-leverage: the account's leverage (one for every symbol here); the same again
        is 110043 "leverage not modified", as Bybit answers."""
        with self._lock:
            wanted = _d(q.get("buyLeverage"), "buyLeverage")
            if wanted != _d(q.get("sellLeverage"), "sellLeverage") or not 1 <= wanted <= 100:
                raise BybitOrderError(10001, "params error: buy and sell leverage must match, 1 to 100")
            if wanted == self.leverage:
                raise BybitOrderError(110043, "leverage not modified")
            self.leverage = wanted
            return {}

    def position_list(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            rows = [self._position_wire(p) for p in self.positions.values() if p.size != 0]
            if q.get("symbol"):
                rows = [r for r in rows if r["symbol"] == q["symbol"]]
        return {"list": rows, "nextPageCursor": "", "category": q.get("category", "linear")}

    def execution_list(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            rows = [e for e in self.executions if not q.get("symbol") or e["symbol"] == q["symbol"]]
        return {"list": list(reversed(rows)), "nextPageCursor": "", "category": q.get("category", "linear")}

    def wallet_balance(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            upl = sum((self._upl(p) for p in self.positions.values()), Decimal(0))
            im = sum(
                (abs(p.size) * self._mark(p.symbol) / self.leverage for p in self.positions.values()),
                Decimal(0),
            )
            equity = self.wallet + upl
            coin = {
                "coin": "USDT",
                "equity": _s(equity),
                "usdValue": _s(equity),
                "walletBalance": _s(self.wallet),
                "availableToWithdraw": _s(equity - im),
                "availableToBorrow": "",
                "borrowAmount": "0",
                "accruedInterest": "0",
                "totalOrderIM": "0",
                "totalPositionIM": _s(im),
                "totalPositionMM": "0",
                "unrealisedPnl": _s(upl),
                "cumRealisedPnl": "0",
                "bonus": "0",
                "collateralSwitch": True,
                "marginCollateral": True,
                "locked": "0",
                "spotHedgingQty": "0",
            }
            account = {
                "accountType": "UNIFIED",
                "totalEquity": _s(equity),
                "totalWalletBalance": _s(self.wallet),
                "totalMarginBalance": _s(equity),
                "totalAvailableBalance": _s(equity - im),
                "totalPerpUPL": _s(upl),
                "totalInitialMargin": _s(im),
                "totalMaintenanceMargin": "0",
                "accountIMRate": "0",
                "accountMMRate": "0",
                "accountLTV": "0",
                "coin": [coin],
            }
        return {"list": [account]}

    # --------------------------------------------------------------------------------------- helpers

    @staticmethod
    def _symbol(q: Mapping[str, Any]) -> str:
        if q.get("category") != "linear":
            raise BybitOrderError(10001, "params error: category only linear is served by the loopback")
        if not q.get("symbol"):
            raise BybitOrderError(10001, "params error: symbol is required")
        return str(q["symbol"])

    @staticmethod
    def _is(order: BybitOrder, q: Mapping[str, Any]) -> bool:
        if q.get("orderId"):
            return order.order_id == q["orderId"]
        return bool(q.get("orderLinkId")) and order.link_id == q["orderLinkId"]

    def _mark(self, symbol: str) -> Decimal:
        if symbol not in self.marks:
            self.marks[symbol] = Decimal(str(self.mark_of(symbol)))
        return self.marks[symbol]

    def _parse(self, q: Mapping[str, Any]) -> BybitOrder:
        symbol = self._symbol(q)
        side, kind = q.get("side"), q.get("orderType")
        if side not in ("Buy", "Sell") or kind not in ("Market", "Limit"):
            raise BybitOrderError(10001, "params error: side or orderType invalid")
        order = BybitOrder(
            order_id=f"loopback-{next(self._ids):08d}",
            link_id=str(q.get("orderLinkId") or ""),
            symbol=symbol,
            side=side,
            type=kind,
            qty=_d(q.get("qty"), "qty"),
            reduce_only=q.get("reduceOnly") in (True, "true"),
        )
        if kind == "Limit":
            order.price = _d(q.get("price"), "price")
        if q.get("triggerPrice") is not None:
            order.trigger = _d(q["triggerPrice"], "triggerPrice")
            order.direction = int(q.get("triggerDirection") or 0)
            if order.direction not in (1, 2):
                raise BybitOrderError(10001, "params error: triggerDirection invalid")
        if q.get("stopLoss") is not None:
            order.stop_loss = _d(q["stopLoss"], "stopLoss")
        if q.get("takeProfit") is not None:
            order.take_profit = _d(q["takeProfit"], "takeProfit")
        return order

    def _validate(self, order: BybitOrder) -> None:
        lot = self.lot_of(order.symbol)
        if lot is None:
            raise BybitOrderError(10001, "params error: symbol invalid")
        if order.qty % lot.step or order.qty < lot.min_qty:
            raise BybitOrderError(10001)
        for value in (order.price, order.trigger):
            if value and value % lot.tick:
                raise BybitOrderError(10001, "params error: price invalid")
        pos = self.positions.get(order.symbol)
        size = pos.size if pos else Decimal(0)
        reduces = size != 0 and (size > 0) != (order.side == "Buy")
        if order.reduce_only:
            if not reduces and not order.trigger:
                raise BybitOrderError(110017)
            return
        price = order.price or order.trigger or self._mark(order.symbol)
        if order.qty * price < lot.min_notional:
            raise BybitOrderError(110094)
        opening = order.qty - (abs(size) if reduces else Decimal(0))
        if opening > 0:
            equity = self.wallet + sum((self._upl(p) for p in self.positions.values()), Decimal(0))
            used = sum(
                (abs(p.size) * self._mark(p.symbol) / self.leverage for p in self.positions.values()),
                Decimal(0),
            )
            if opening * price / self.leverage > equity - used:
                raise BybitOrderError(110007)

    @staticmethod
    def _crosses(order: BybitOrder, mark: Decimal) -> bool:
        return mark <= order.price if order.side == "Buy" else mark >= order.price

    def _upl(self, pos: BybitPosition) -> Decimal:
        return pos.size * (self._mark(pos.symbol) - pos.entry)

    def _on_mark(self, symbol: str) -> None:
        mark = self._mark(symbol)
        for order in self.open_orders(symbol):
            if order.status == "Untriggered":
                if (mark >= order.trigger) if order.direction == 1 else (mark <= order.trigger):
                    order.status = "New"
                    if order.type == "Market" or self._crosses(order, mark):
                        self._fill(order, order.qty, mark, maker=False)
            elif order.type == "Limit" and self._crosses(order, mark):
                self._fill(order, order.qty - order.executed, order.price, maker=True)
        pos = self.positions.get(symbol)
        if pos is not None and pos.size != 0:
            long = pos.size > 0
            hit_stop = pos.stop_loss and ((mark <= pos.stop_loss) if long else (mark >= pos.stop_loss))
            hit_take = pos.take_profit and ((mark >= pos.take_profit) if long else (mark <= pos.take_profit))
            if hit_stop or hit_take:
                close = BybitOrder(
                    order_id=f"loopback-{next(self._ids):08d}",
                    link_id="",
                    symbol=symbol,
                    side="Sell" if long else "Buy",
                    type="Market",
                    qty=abs(pos.size),
                    reduce_only=True,
                )
                self.orders[close.order_id] = close
                self._fill(close, close.qty, mark, maker=False)

    def _fill(self, order: BybitOrder, qty: Decimal, price: Decimal, *, maker: bool) -> None:
        pos = self.positions.get(order.symbol)
        size = pos.size if pos else Decimal(0)
        if order.reduce_only:
            reducible = abs(size) if size and (size > 0) != (order.side == "Buy") else Decimal(0)
            qty = min(qty, reducible)
        order.updated = _now()
        if qty > 0:
            signed = qty if order.side == "Buy" else -qty
            realised = self._apply(order.symbol, signed, price)
            fee = qty * price * (MAKER_FEE if maker else TAKER_FEE)
            self.wallet += realised - fee
            order.executed += qty
            order.value += qty * price
            order.fee += fee
            self.executions.append(self._execution(order, qty, price, fee, maker))
            if order.stop_loss or order.take_profit:
                held = self.positions.get(order.symbol)
                if held is not None:
                    held.stop_loss = order.stop_loss or held.stop_loss
                    held.take_profit = order.take_profit or held.take_profit
        if order.executed >= order.qty:
            order.status = "Filled"
        elif order.executed > 0:
            order.status = "PartiallyFilled"
        if order.type == "Market" and order.open:
            # The unfilled rest of a market order (no book left, nothing left to reduce).
            if order.executed:
                order.status = "PartiallyFilledCanceled"
            else:
                order.status = "Deactivated" if order.trigger else "Cancelled"

    def _apply(self, symbol: str, signed: Decimal, price: Decimal) -> Decimal:
        pos = self.positions.get(symbol) or BybitPosition(symbol, Decimal(0), Decimal(0))
        realised = Decimal(0)
        new = pos.size + signed
        if pos.size == 0 or (pos.size > 0) == (signed > 0):
            pos.entry = (pos.size * pos.entry + signed * price) / new
        else:
            closed = min(abs(signed), abs(pos.size))
            realised = closed * (price - pos.entry) * (1 if pos.size > 0 else -1)
            if new != 0 and (new > 0) != (pos.size > 0):
                pos.entry = price
        pos.size = new
        pos.realised += realised
        if new == 0:
            self.positions.pop(symbol, None)
        else:
            self.positions[symbol] = pos
        return realised

    def _execution(self, order: BybitOrder, qty: Decimal, price: Decimal, fee: Decimal, maker: bool) -> Any:
        return {
            "symbol": order.symbol,
            "orderType": order.type,
            "underlyingPrice": "",
            "orderLinkId": order.link_id,
            "side": order.side,
            "indexPrice": "",
            "orderId": order.order_id,
            "stopOrderType": "UNKNOWN",
            "leavesQty": _s(order.qty - order.executed),
            "execTime": str(_now()),
            "isMaker": maker,
            "execFee": _s(fee),
            "feeRate": _s(MAKER_FEE if maker else TAKER_FEE),
            "execId": f"exec-{next(self._ids):08d}",
            "tradeIv": "",
            "blockTradeId": "",
            "markPrice": _s(self._mark(order.symbol)),
            "execPrice": _s(price),
            "markIv": "",
            "orderQty": _s(order.qty),
            "orderPrice": _s(order.price),
            "execValue": _s(qty * price),
            "execType": "Trade",
            "execQty": _s(qty),
            "closedSize": "0",
            "seq": next(self._ids),
        }

    def _position_wire(self, pos: BybitPosition) -> dict[str, Any]:
        mark = self._mark(pos.symbol)
        value = abs(pos.size) * mark
        return {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": pos.symbol,
            "side": "Buy" if pos.size > 0 else "Sell",
            "size": _s(abs(pos.size)),
            "avgPrice": _s(pos.entry),
            "positionValue": _s(value),
            "tradeMode": 0,
            "positionStatus": "Normal",
            "autoAddMargin": 0,
            "adlRankIndicator": 2,
            "leverage": _s(self.leverage),
            "positionBalance": _s(value / self.leverage),
            "markPrice": _s(mark),
            "liqPrice": "",
            "bustPrice": "",
            "positionMM": "0",
            "positionIM": _s(value / self.leverage),
            "tpslMode": "Full",
            "takeProfit": _s(pos.take_profit),
            "stopLoss": _s(pos.stop_loss),
            "trailingStop": "0",
            "unrealisedPnl": _s(self._upl(pos)),
            "curRealisedPnl": _s(pos.realised),
            "cumRealisedPnl": _s(pos.realised),
            "seq": 1,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "createdTime": str(_now()),
            "updatedTime": str(_now()),
        }


def partial_qty(qty: Decimal, fraction: float, step: Decimal) -> Decimal:
    return (qty * Decimal(str(fraction))).quantize(step, ROUND_DOWN)
