"""The loopback Binance USDⓈ-M account's orders: placement, matching against a test-set mark, fills into
positions and wallet, and the Algo Order API's conditional orders.

What ccxt 4.5.90 sends for a linear perp (``binanceusdm``, ``BTC/USDT:USDT``), all signed, POST/PUT
bodies form-encoded:

- ``create_order`` market/limit -> ``POST /fapi/v1/order`` (``newClientOrderId``,
  ``newOrderRespType=RESULT``); with ``stopLossPrice`` / ``takeProfitPrice`` / ``triggerPrice``
  -> ``POST /fapi/v1/algoOrder``
  (``algoType=CONDITIONAL``, ``type`` STOP_MARKET / TAKE_PROFIT_MARKET, ``triggerPrice``,
  ``clientAlgoId``).
- ``fetch_order`` -> ``GET /fapi/v1/order`` (``orderId`` or, with ``clientOrderId`` in params,
  ``origClientOrderId``); with ``trigger: True`` -> ``GET /fapi/v1/algoOrder`` (``algoId`` /
  ``clientAlgoId``).
- ``cancel_order`` -> ``DELETE /fapi/v1/order`` / ``DELETE /fapi/v1/algoOrder`` (same keys, same switch).
- ``fetch_open_orders`` -> ``GET /fapi/v1/openOrders``; ``trigger: True`` -> ``GET /fapi/v1/openAlgoOrders``.
- ``cancel_all_orders`` -> ``DELETE /fapi/v1/allOpenOrders``; ``trigger: True`` ->
  ``DELETE /fapi/v1/algoOpenOrders``.
- ``create_orders`` -> ``POST /fapi/v1/batchOrders`` (``batchOrders`` a JSON list; no conditional orders).
- ``edit_order`` -> ``PUT /fapi/v1/order``; ``fetch_my_trades`` -> ``GET /fapi/v1/userTrades``.

Semantics kept simple (and documented for the tests): a MARKET order fills at once, whole, at the mark
(``LoopbackAccount.set_mark``); a LIMIT order fills at once at the mark when marketable, else rests and fills
at its price when the mark crosses it; a conditional order triggers when the mark crosses its trigger and
then fills as a market order (a reduce-only one with nothing left to reduce EXPIRES). A client id is
refused (-4116) only while an OPEN order carries it, as on Binance: re-sending a filled market order's
client id places a second order. A ``partial`` fill (``FaultPlan.partial_fill``) fills a fraction of a
market order and expires the rest (final status EXPIRED with executedQty < origQty, what Binance answers
for a market order that ran out of book).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from tests.loopback import binance_format as bf
from tests.loopback.binance_format import BinanceApiError

if TYPE_CHECKING:
    from tests.loopback.server import LoopbackAccount

TAKER_FEE, MAKER_FEE = Decimal("0.0005"), Decimal("0.0002")
CONDITIONAL_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET")

#: Binance's messages for the rejections the loopback gives (and ``FaultPlan.reject`` defaults to).
MESSAGES = {
    -1111: "Precision is over the maximum defined for this asset.",
    -2019: "Margin is insufficient.",
    -2021: "Order would immediately trigger.",
    -2022: "ReduceOnly Order is rejected.",
    -4116: "ClientOrderId is duplicated.",
    -4164: "Order's notional must be no smaller than 5 (unless you choose reduce only).",
    -2011: "Unknown order sent.",
    -2013: "Order does not exist.",
}


def reject(code: int, msg: str | None = None) -> BinanceApiError:
    return BinanceApiError(400, code, msg or MESSAGES.get(code, "Rejected."))


def _now() -> int:
    return int(time.time() * 1000)


def _d(value: Any, name: str) -> Decimal:
    try:
        out = Decimal(str(value))
    except ArithmeticError:
        raise BinanceApiError(400, -1100, f"Illegal characters found in parameter '{name}'.") from None
    if not out.is_finite():
        raise BinanceApiError(400, -1100, f"Illegal characters found in parameter '{name}'.")
    return out


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


@dataclass
class Filters:
    """A symbol's order filters from exchangeInfo."""

    tick: Decimal = Decimal("0.10")
    step: Decimal = Decimal("0.001")
    min_qty: Decimal = Decimal("0.001")
    min_notional: Decimal = Decimal("5")

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Filters:
        out = cls()
        for f in entry.get("filters", []):
            kind = f.get("filterType")
            if kind == "PRICE_FILTER":
                out.tick = Decimal(str(f["tickSize"]))
            elif kind == "LOT_SIZE":
                out.step, out.min_qty = Decimal(str(f["stepSize"])), Decimal(str(f["minQty"]))
            elif kind == "MIN_NOTIONAL":
                out.min_notional = Decimal(str(f.get("notional", f.get("minNotional", "5"))))
        return out


@dataclass
class Trade:
    id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    realized: Decimal
    maker: bool
    time: int

    def wire(self) -> dict[str, Any]:
        return {
            "buyer": self.side == "BUY",
            "commission": bf.dec(str(self.fee)),
            "commissionAsset": "USDT",
            "id": self.id,
            "maker": self.maker,
            "orderId": self.order_id,
            "price": bf.dec(str(self.price)),
            "qty": bf.dec(str(self.qty)),
            "quoteQty": bf.dec(str(self.price * self.qty)),
            "realizedPnl": bf.dec(str(self.realized)),
            "side": self.side,
            "positionSide": "BOTH",
            "symbol": self.symbol,
            "time": self.time,
        }


@dataclass
class Order:
    """A regular order (``algo`` False) or an Algo Order API conditional order."""

    id: int
    client_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    price: Decimal = Decimal(0)
    trigger: Decimal = Decimal(0)
    reduce_only: bool = False
    close_position: bool = False
    time_in_force: str = "GTC"
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    algo: bool = False
    actual_order_id: int | None = None
    created: int = field(default_factory=_now)
    updated: int = field(default_factory=_now)

    @property
    def open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    def wire(self) -> dict[str, Any]:
        if self.algo:
            return self._algo_wire()
        avg = self.cum_quote / self.executed if self.executed else Decimal(0)
        return {
            "orderId": self.id,
            "symbol": self.symbol,
            "status": self.status,
            "clientOrderId": self.client_id,
            "price": bf.dec(str(self.price)),
            "avgPrice": bf.dec(str(avg)),
            "origQty": bf.dec(str(self.qty)),
            "executedQty": bf.dec(str(self.executed)),
            "cumQty": bf.dec(str(self.executed)),
            "cumQuote": bf.dec(str(self.cum_quote)),
            "timeInForce": self.time_in_force,
            "type": self.type,
            "reduceOnly": self.reduce_only,
            "closePosition": self.close_position,
            "side": self.side,
            "positionSide": "BOTH",
            "stopPrice": bf.dec(str(self.trigger)),
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": self.type,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": self.created,
            "updateTime": self.updated,
        }

    def _algo_wire(self) -> dict[str, Any]:
        return {
            "algoId": self.id,
            "clientAlgoId": self.client_id,
            "algoType": "CONDITIONAL",
            "orderType": self.type,
            "symbol": self.symbol,
            "side": self.side,
            "positionSide": "BOTH",
            "timeInForce": self.time_in_force,
            "quantity": bf.dec(str(self.qty)),
            "algoStatus": self.status,
            "actualOrderId": "" if self.actual_order_id is None else str(self.actual_order_id),
            "actualPrice": bf.dec(str(self.cum_quote / self.executed)) if self.executed else "",
            "triggerPrice": bf.dec(str(self.trigger)),
            "price": bf.dec(str(self.price)),
            "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": "CONTRACT_PRICE",
            "priceMatch": "NONE",
            "closePosition": self.close_position,
            "priceProtect": False,
            "reduceOnly": self.reduce_only,
            "createTime": self.created,
            "updateTime": self.updated,
            "triggerTime": self.updated if self.actual_order_id is not None else 0,
            "goodTillDate": 0,
        }


class BinanceOrders:
    """Orders, algo orders and trades of one loopback account. Thread-safe: the server thread places
    orders while a test moves the mark."""

    def __init__(self, account: LoopbackAccount) -> None:
        self.account = account
        self.filters: dict[str, Filters] = {}
        self.orders: dict[int, Order] = {}
        self.algo_orders: dict[int, Order] = {}
        self.trades: list[Trade] = []
        self._ids = itertools.count(8_389_765_000_000)
        self._algo_ids = itertools.count(1_000_000_001)
        self._trade_ids = itertools.count(900_000_001)
        self._lock = threading.RLock()

    # ---------------------------------------------------------------------------------- test surface

    def by_client_id(self, client_id: str) -> list[Order]:
        """Every order (regular and algo) placed with ``client_id``, oldest first."""
        with self._lock:
            both = [*self.orders.values(), *self.algo_orders.values()]
        return sorted((o for o in both if o.client_id == client_id), key=lambda o: (o.created, o.id))

    def open_orders(self, symbol: str | None = None, *, algo: bool = False) -> list[Order]:
        with self._lock:
            book = self.algo_orders if algo else self.orders
            return [o for o in book.values() if o.open and (symbol is None or o.symbol == symbol)]

    def on_mark(self, symbol: str) -> None:
        """Fill resting limits and trigger conditional orders the new mark crosses."""
        with self._lock:
            mark = self._mark(symbol)
            for order in self.open_orders(symbol, algo=True):
                rising = (order.type == "STOP_MARKET") == (order.side == "BUY")
                if (mark >= order.trigger) if rising else (mark <= order.trigger):
                    self._trigger(order, mark)
            for order in self.open_orders(symbol):
                if order.type == "LIMIT" and self._crosses(order, mark):
                    self._fill(order, order.qty - order.executed, order.price, maker=True)

    # ------------------------------------------------------------------------------------ endpoints

    def new_order(self, q: Mapping[str, Any], partial: float | None = None) -> dict[str, Any]:
        with self._lock:
            order = self._parse(q, algo=False)
            self._check_duplicate(order)
            self._validate(order)
            self.orders[order.id] = order
            mark = self._mark(order.symbol)
            if order.type == "MARKET":
                qty = order.qty
                if partial is not None:
                    qty = (order.qty * Decimal(str(partial))).quantize(self._filters(order).step, ROUND_DOWN)
                self._fill(order, qty, mark, maker=False)
            elif self._crosses(order, mark):
                self._fill(order, order.qty, mark, maker=False)
            return order.wire()

    def new_algo_order(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            if q.get("algoType") != "CONDITIONAL":
                raise BinanceApiError(
                    400, -1102, "Mandatory parameter 'algoType' was not sent or is invalid."
                )
            order = self._parse(q, algo=True)
            self._check_duplicate(order)
            self._validate(order)
            mark = self._mark(order.symbol)
            rising = (order.type == "STOP_MARKET") == (order.side == "BUY")
            if (mark >= order.trigger) if rising else (mark <= order.trigger):
                raise reject(-2021)
            self.algo_orders[order.id] = order
            return order.wire()

    def batch(self, q: Mapping[str, Any], partial: float | None = None) -> list[dict[str, Any]]:
        try:
            entries = json.loads(q.get("batchOrders") or "[]")
        except ValueError:
            raise BinanceApiError(400, -1130, "Data sent for parameter 'batchOrders' is not valid.") from None
        if not isinstance(entries, list) or not 1 <= len(entries) <= 5:
            raise BinanceApiError(400, -1130, "Data sent for parameter 'batchOrders' is not valid.")
        out: list[dict[str, Any]] = []
        for entry in entries:
            try:
                out.append(self.new_order({k: str(v) for k, v in entry.items()}, partial))
            except BinanceApiError as err:
                out.append({"code": err.code, "msg": err.msg})
        return out

    def query(self, q: Mapping[str, Any], *, algo: bool) -> dict[str, Any]:
        with self._lock:
            return self._find(q, algo=algo, code=-2013).wire()

    def cancel(self, q: Mapping[str, Any], *, algo: bool) -> dict[str, Any]:
        with self._lock:
            order = self._find(q, algo=algo, code=-2011)
            if not order.open:
                raise reject(-2011)
            order.status, order.updated = "CANCELED", _now()
            return order.wire()

    def cancel_all(self, q: Mapping[str, Any], *, algo: bool) -> dict[str, Any]:
        symbol = self._symbol(q)
        with self._lock:
            for order in self.open_orders(symbol, algo=algo):
                order.status, order.updated = "CANCELED", _now()
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def open_list(self, q: Mapping[str, Any], *, algo: bool) -> list[dict[str, Any]]:
        return [o.wire() for o in self.open_orders(q.get("symbol") or None, algo=algo)]

    def edit(self, q: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            order = self._find(q, algo=False, code=-2013)
            if not order.open or order.type != "LIMIT":
                raise reject(-2013)
            order.qty = _d(q.get("quantity", order.qty), "quantity")
            order.price = _d(q.get("price", order.price), "price")
            self._validate(order)
            order.updated = _now()
            if self._crosses(order, self._mark(order.symbol)):
                self._fill(order, order.qty - order.executed, self._mark(order.symbol), maker=False)
            return order.wire()

    def user_trades(self, q: Mapping[str, Any]) -> list[dict[str, Any]]:
        symbol = self._symbol(q)
        start = bf.opt_int(q.get("startTime"), "startTime")
        end = bf.opt_int(q.get("endTime"), "endTime")
        limit = bf.clamp_limit(q.get("limit"), 500, 1000)
        with self._lock:
            rows = [
                t
                for t in self.trades
                if t.symbol == symbol
                and (start is None or t.time >= start)
                and (end is None or t.time <= end)
            ]
        return [t.wire() for t in rows[-limit:]]

    # --------------------------------------------------------------------------------------- helpers

    @staticmethod
    def _symbol(q: Mapping[str, Any]) -> str:
        symbol = q.get("symbol")
        if not symbol:
            raise BinanceApiError(
                400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        return str(symbol)

    def _filters(self, order: Order) -> Filters:
        return self.filters.get(order.symbol) or Filters()

    def _mark(self, symbol: str) -> Decimal:
        mark = self.account.marks.get(symbol)
        if mark is None:
            raise bf.bad_symbol()
        return Decimal(str(mark))

    def _parse(self, q: Mapping[str, Any], *, algo: bool) -> Order:
        symbol = self._symbol(q)
        side = str(q.get("side", "")).upper()
        if side not in ("BUY", "SELL"):
            raise BinanceApiError(
                400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed."
            )
        kind = str(q.get("type", "")).upper()
        allowed = CONDITIONAL_TYPES if algo else ("MARKET", "LIMIT")
        if kind not in allowed:
            raise BinanceApiError(400, -1116, "Invalid orderType.")
        close_position = _flag(q.get("closePosition"))
        reduce_only = _flag(q.get("reduceOnly"))
        if close_position and reduce_only:
            raise BinanceApiError(400, -1106, "Parameter 'reduceOnly' sent when not required.")
        raw_qty = q.get("quantity")
        if raw_qty is None and not close_position:
            raise BinanceApiError(
                400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."
            )
        client_key = "clientAlgoId" if algo else "newClientOrderId"
        client_id = str(q.get(client_key) or f"loopback-{next(self._trade_ids)}")
        order = Order(
            id=next(self._algo_ids if algo else self._ids),
            client_id=client_id,
            symbol=symbol,
            side=side,
            type=kind,
            qty=_d(raw_qty, "quantity") if raw_qty is not None else Decimal(0),
            reduce_only=reduce_only,
            close_position=close_position,
            time_in_force=str(q.get("timeInForce") or "GTC"),
            algo=algo,
        )
        if kind == "LIMIT":
            if q.get("price") is None:
                raise BinanceApiError(
                    400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."
                )
            order.price = _d(q["price"], "price")
        if algo:
            if q.get("triggerPrice") is None:
                raise BinanceApiError(
                    400,
                    -1102,
                    "Mandatory parameter 'triggerPrice' was not sent, was empty/null, or malformed.",
                )
            order.trigger = _d(q["triggerPrice"], "triggerPrice")
        return order

    def _check_duplicate(self, order: Order) -> None:
        if any(o.open for o in self.by_client_id(order.client_id)):
            raise reject(-4116)

    def _validate(self, order: Order) -> None:
        f = self._filters(order)
        for value in (order.price, order.trigger):
            if value and value % f.tick:
                raise reject(-1111)
        if order.qty % f.step:
            raise reject(-1111)
        if order.close_position:
            return
        if order.qty < f.min_qty:
            raise BinanceApiError(400, -4003, "Quantity less than or equal to zero.")
        position = self._position_amount(order.symbol)
        signed = order.qty if order.side == "BUY" else -order.qty
        reduces = position != 0 and (position > 0) != (signed > 0)
        if order.reduce_only:
            if not reduces:
                raise reject(-2022)
            return
        price = order.price or order.trigger or self._mark(order.symbol)
        if order.qty * price < f.min_notional:
            raise reject(-4164)
        opening = order.qty - (abs(position) if reduces else Decimal(0))
        if opening > 0:
            needed = opening * price / self._leverage(order.symbol)
            if needed > Decimal(str(self.account.totals()["free"])):
                raise reject(-2019)

    def _find(self, q: Mapping[str, Any], *, algo: bool, code: int) -> Order:
        symbol = self._symbol(q)
        id_key, client_key = ("algoId", "clientAlgoId") if algo else ("orderId", "origClientOrderId")
        book = self.algo_orders if algo else self.orders
        found: Order | None = None
        if q.get(id_key):
            try:
                found = book.get(int(q[id_key]))
            except ValueError:
                raise BinanceApiError(
                    400, -1100, f"Illegal characters found in parameter '{id_key}'."
                ) from None
        elif q.get(client_key):
            matches = [o for o in book.values() if o.client_id == q[client_key]]
            found = max(matches, key=lambda o: o.id) if matches else None
        else:
            raise BinanceApiError(
                400, -1102, f"Param '{id_key}' or '{client_key}' must be sent, but both were empty/null!"
            )
        if found is None or found.symbol != symbol:
            raise reject(code)
        return found

    @staticmethod
    def _crosses(order: Order, mark: Decimal) -> bool:
        return mark <= order.price if order.side == "BUY" else mark >= order.price

    def _position(self, symbol: str) -> dict[str, Any] | None:
        return next((p for p in self.account.positions if p["symbol"] == symbol), None)

    def _position_amount(self, symbol: str) -> Decimal:
        pos = self._position(symbol)
        return Decimal(str(pos["positionAmt"])) if pos else Decimal(0)

    def _leverage(self, symbol: str) -> Decimal:
        pos = self._position(symbol)
        if pos:
            return Decimal(str(pos.get("leverage", 10)))
        return Decimal(str(self.account.symbol_leverage.get(symbol, self.account.leverage)))

    def _trigger(self, algo: Order, mark: Decimal) -> None:
        algo.updated = _now()
        position = self._position_amount(algo.symbol)
        closing = position != 0 and (position > 0) != (algo.side == "BUY")
        qty = abs(position) if algo.close_position else algo.qty
        if (algo.reduce_only or algo.close_position) and not closing:
            algo.status = "EXPIRED"
            return
        actual = Order(
            id=next(self._ids),
            client_id=algo.client_id,
            symbol=algo.symbol,
            side=algo.side,
            type="MARKET",
            qty=qty,
            reduce_only=algo.reduce_only or algo.close_position,
            close_position=algo.close_position,
        )
        self.orders[actual.id] = actual
        algo.actual_order_id = actual.id
        self._fill(actual, qty, mark, maker=False)
        algo.status = "FINISHED"
        algo.executed, algo.cum_quote = actual.executed, actual.cum_quote

    def _fill(self, order: Order, qty: Decimal, price: Decimal, *, maker: bool) -> None:
        """Fill ``qty`` of ``order`` at ``price``: position, wallet (realised PnL, fee), a trade."""
        position = self._position_amount(order.symbol)
        if order.reduce_only:
            reducible = abs(position) if position and (position > 0) != (order.side == "BUY") else Decimal(0)
            qty = min(qty, reducible)
        if qty > 0:
            signed = qty if order.side == "BUY" else -qty
            realized = self._apply(order.symbol, signed, price)
            fee = qty * price * (MAKER_FEE if maker else TAKER_FEE)
            self.account.wallet_balance = float(Decimal(str(self.account.wallet_balance)) + realized - fee)
            now = _now()
            trade = Trade(
                next(self._trade_ids),
                order.id,
                order.symbol,
                order.side,
                price,
                qty,
                fee,
                realized,
                maker,
                now,
            )
            self.trades.append(trade)
            order.executed += qty
            order.cum_quote += qty * price
        order.updated = _now()
        if order.executed >= order.qty:
            order.status = "FILLED"
        elif order.executed > 0:
            order.status = "PARTIALLY_FILLED"
        if order.type == "MARKET" and order.open:
            order.status = "EXPIRED"  # a market order's unfilled rest (no book left, nothing to reduce)

    def _apply(self, symbol: str, signed: Decimal, price: Decimal) -> Decimal:
        """Move the position by ``signed`` at ``price``; the realised PnL of the part it closes."""
        pos = self._position(symbol)
        amount = Decimal(str(pos["positionAmt"])) if pos else Decimal(0)
        entry = Decimal(str(pos["entryPrice"])) if pos else Decimal(0)
        realized = Decimal(0)
        new = amount + signed
        if amount == 0 or (amount > 0) == (signed > 0):
            entry = (amount * entry + signed * price) / new
        else:
            closed = min(abs(signed), abs(amount))
            realized = closed * (price - entry) * (1 if amount > 0 else -1)
            if new != 0 and (new > 0) != (amount > 0):
                entry = price
        if new == 0:
            if pos is not None:
                self.account.positions.remove(pos)
            return realized
        if pos is None:
            pos = {"symbol": symbol, "leverage": str(self.account.leverage), "marginType": "cross",
                   "positionSide": "BOTH"}  # fmt: skip
            self.account.positions.append(pos)
        pos["positionAmt"] = bf.dec(str(new))
        pos["entryPrice"] = bf.dec(str(entry.quantize(Decimal("0.00000001"))))
        pos["markPrice"] = bf.dec(str(self._mark(symbol)))
        return realized
