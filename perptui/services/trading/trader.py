"""``LiveTrader``: sends a ticket's orders to the exchange, never twice and never leaving a position
without its stop; reads back what is open; cancels, moves, closes; the kill switch.

Never twice: each order carries its client order id (``domain.live.client_ids``). An order is sent once
per attempt through ccxt without ccxt-level or adapter-level retries; when the answer is lost (a timeout,
a dropped connection, a 5xx, a rate limit) the order is looked up by its id before anything else, and
sent again only when the exchange says it has no such order. A look-up that cannot reach the exchange
leaves the order "unknown": it is reported, never re-sent.

Never naked: the stop goes right after the entry (or rides on it, where the exchange attaches it); if
the stop cannot be placed after ``trading.stop_retries`` tries, the outcome says so (``naked``), a
critical event is logged for the risk monitor and the alerts, and the caller offers to close.

Every request is written to the order log before it is sent and completed with the answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from perptui.domain.errors import UsageError
from perptui.domain.live.book import OpenOrder, Protection, is_stop, protection_of
from perptui.domain.live.client_ids import client_order_id, is_ours, ticket_id
from perptui.domain.live.plan import LiveOrder, OrderPlan, order_side, plan_orders, replacement
from perptui.domain.market_rules import in_contracts
from perptui.domain.paper_orders import check_stop, check_take_profit
from perptui.domain.risk_breaker import order_allowed
from perptui.domain.types import Position
from perptui.services.exchanges.ccxt_convert import num
from perptui.services.exchanges.ccxt_errors import exchange_reason
from perptui.services.trading import log as order_log
from perptui.services.trading.gate import require_live
from perptui.services.trading.routes import CreateCall, Route, route_for

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.paper import OrderRequest
    from perptui.domain.types import Market
    from perptui.services.clock import Clock
    from perptui.services.exchanges.ccxt_adapter import CcxtExchange
    from perptui.services.store import Store

log = logging.getLogger(__name__)

SentOutcome = Literal["ok", "found", "rejected", "failed", "unknown"]
#: The risk event of a live position left without its stop (read by the risk monitor and the alerts).
NAKED_POSITION = "live_no_stop"


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of one order. ``ok``: accepted; ``found``: its answer was lost but the look-up found
    it; ``rejected``: the exchange refused it (``error`` says why); ``failed``: the exchange has no such
    order after every resend; ``unknown``: neither an answer nor a look-up came back."""

    order: LiveOrder
    outcome: SentOutcome
    answer: dict[str, Any] | None = None
    error: str | None = None
    sends: int = 1

    @property
    def placed(self) -> bool:
        return self.outcome in ("ok", "found")

    @property
    def filled(self) -> float:
        """Base units filled, from the answer (0 when it does not say)."""
        value = (self.answer or {}).get("filled")
        try:
            contracts = float(value) if value is not None else 0.0
        except (TypeError, ValueError):
            return 0.0
        return contracts * (self.order.qty / self.order.amount) if self.order.amount else contracts

    @property
    def exchange_id(self) -> str | None:
        value = (self.answer or {}).get("id")
        return None if value in (None, "") else str(value)

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.order.label,
            "client_id": self.order.client_id,
            "outcome": self.outcome,
            "order_id": self.exchange_id,
            "status": (self.answer or {}).get("status"),
            "filled": self.filled,
            "average": (self.answer or {}).get("average"),
            "error": self.error,
            "sends": self.sends,
        }


@dataclass(frozen=True, slots=True)
class PlaceOutcome:
    plan: OrderPlan
    entry: Sent
    protective: tuple[Sent, ...] = ()
    #: The entry is (or may be) in and no stop protects it: alert and offer to close.
    naked: bool = False
    notes: tuple[str, ...] = ()

    @property
    def stop(self) -> Sent | None:
        return next((s for s in self.protective if s.order.leg == "stop"), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "ticket": self.plan.ticket,
            "entry": self.entry.as_dict(),
            "protective": [s.as_dict() for s in self.protective],
            "naked": self.naked,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class LiveBook:
    """The account's positions and open orders, read back, with each position's protection."""

    positions: tuple[Position, ...]
    orders: tuple[OpenOrder, ...]
    protections: tuple[Protection, ...]  # one per position, in the same order

    @property
    def unprotected(self) -> list[Protection]:
        return [p for p in self.protections if not p.protected]

    def as_dict(self) -> dict[str, object]:
        return {
            "positions": [
                {
                    "symbol": p.symbol,
                    "side": p.side,
                    "qty": p.qty,
                    "entry_price": p.entry_price,
                    "mark_price": p.mark_price,
                    "unrealized_pnl": p.unrealized_pnl,
                    "liquidation_price": p.liquidation_price,
                    "stop": pr.stop_price,
                    "protected": pr.protected,
                }
                for p, pr in zip(self.positions, self.protections, strict=True)
            ],
            "orders": [o.as_dict() for o in self.orders],
        }


@dataclass(frozen=True, slots=True)
class KillOutcome:
    cancelled_symbols: tuple[str, ...]
    closes: tuple[Sent, ...]
    left: LiveBook  # what the exchange shows afterwards: empty when the kill switch did its job
    errors: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.left.positions and not self.left.orders and not self.errors


class LiveTrader:
    """Live orders on ``exchange`` (a ccxt exchange with keys). Raises UsageError unless the settings
    switch live trading on (``gate.require_live``): this check is the only door to an order endpoint."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        exchange: CcxtExchange,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        require_live(settings)
        if exchange.name != settings.exchange or getattr(exchange, "is_demo", False):
            raise UsageError(f"live orders go to {settings.exchange}, not {exchange.name}")
        route = route_for(settings.exchange, settings.trading.trigger)
        assert route is not None  # require_live refused exchanges without one
        self.route: Route = route
        self.settings = settings
        self.store = store
        self.clock = clock
        self.exchange = exchange
        self.account = settings.exchange_name
        self._sleep = sleep
        self._backoff_s = settings.network.backoff_s
        self._secrets = tuple(
            s.get_secret_value()
            for s in (settings.api_key, settings.api_secret, settings.api_password)
            if s is not None
        )
        # Orders go through ccxt once per attempt: its own rate limiter paces them, nothing retries.
        exchange.ex.options["warnOnFetchOpenOrdersWithoutSymbol"] = False

    @property
    def testnet(self) -> bool:
        return self.settings.testnet

    # ---------------------------------------------------------------------------------- the log

    def _log_request(
        self, action: str, request: dict[str, Any], order: LiveOrder | None = None, **kw: Any
    ) -> int:
        with self.store.writing() as conn:
            return order_log.log_request(
                conn,
                time=self.clock.now_ms(),
                exchange=self.settings.exchange,
                testnet=self.testnet,
                action=action,
                request=request,
                symbol=order.symbol if order else kw.get("symbol"),
                ticket=order.client_id[2:14] if order else kw.get("ticket"),
                client_id=order.client_id if order else None,
                label=order.label if order else kw.get("label"),
            )

    def _log_answer(
        self, row: int, outcome: str, answer: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        with self.store.writing() as conn:
            order_log.log_answer(
                conn, row, time=self.clock.now_ms(), outcome=outcome, answer=answer, error=error
            )

    def _reason(self, exc: BaseException) -> str:
        reason = exchange_reason(str(exc), self._secrets)
        return reason or type(exc).__name__

    # ------------------------------------------------------------------------------ sending once

    def _lost(self, exc: BaseException) -> bool:
        """Whether the order may be on the exchange after ``exc``: anything but a refusal the exchange
        stated (a bad order, not enough margin, a bad key). A network failure, a timeout, a 5xx, a rate
        limit, an answer that could not be read, an error perptui cannot class: all are looked up by the
        client id before anything else is sent, never taken for "not placed"."""
        import ccxt

        refused = (
            ccxt.InvalidOrder,
            ccxt.InsufficientFunds,
            ccxt.BadRequest,
            ccxt.BadSymbol,
            ccxt.AuthenticationError,
            ccxt.AccountSuspended,
            ccxt.NotSupported,
            ccxt.ArgumentsRequired,
        )
        return isinstance(exc, ccxt.DuplicateOrderId) or not isinstance(exc, refused)

    async def _lookup(
        self, order: LiveOrder
    ) -> tuple[Literal["found", "absent", "unknown"], dict[str, Any] | None]:
        """Find ``order`` on the exchange by its client id. "absent" only when two look-ups, a pause apart,
        both miss it: an exchange may take a moment to show an order it accepted while the answer was
        lost. Network failures are tried again, up to ``trading.lookup_attempts`` look-ups in all."""
        misses = 0
        for attempt in range(self.settings.trading.lookup_attempts):
            await self._sleep(self._backoff_s * 2**attempt)
            row = self._log_request("lookup", {"client_id": order.client_id}, order)
            try:
                found = await self.route.lookup(self.exchange.ex, order)
            except Exception as exc:
                self._log_answer(row, "failed", error=self._reason(exc))
                if self._lost(exc):
                    continue
                return "unknown", None
            self._log_answer(row, "found" if found else "absent", answer=found)
            if found:
                return "found", found
            misses += 1
            if misses == 2:
                return "absent", None
        return ("absent", None) if misses else ("unknown", None)

    async def send(self, order: LiveOrder) -> Sent:
        """Send ``order`` so that it is on the exchange at most once."""
        call = self.route.create_call(order)
        await self.exchange.load_markets()  # before anything is sent: a failure here sent nothing
        sends, lost_before = 0, False
        while True:
            sends += 1
            row = self._log_request("place", call.as_dict(), order)
            try:
                answer = dict(await self._create(call))
            except Exception as exc:
                reason = self._reason(exc)
                if not self._lost(exc):
                    self._log_answer(row, "rejected", error=reason)
                    if lost_before:  # the refusal may be of a duplicate id: an earlier send did land
                        state, found = await self._lookup(order)
                        if state == "found":
                            return Sent(order, "found", found, sends=sends)
                    return Sent(order, "rejected", error=reason, sends=sends)
                self._log_answer(row, "lost", error=reason)
                lost_before = True
                state, found = await self._lookup(order)
                # the send's row says what the look-up learnt: found, absent, or still lost (unknown)
                self._log_answer(row, "lost" if state == "unknown" else state, answer=found, error=reason)
                if state == "found":
                    sent = Sent(order, "found", found, sends=sends)
                    await self._record_fills(row, sent)
                    return sent
                if state == "unknown":
                    return Sent(
                        order,
                        "unknown",
                        error=f"{reason}; and the exchange could not be asked whether it has the order: "
                        f"look for {order.client_id} on the exchange before trying again",
                        sends=sends,
                    )
                if sends > self.settings.trading.order_retries:
                    return Sent(
                        order, "failed", error=f"{reason} (sent {sends} times, never taken)", sends=sends
                    )
                continue
            self._log_answer(row, "ok", answer=answer)
            sent = Sent(order, "ok", answer, sends=sends)
            await self._record_fills(row, sent)
            return sent

    async def _record_fills(self, row: int, sent: Sent) -> None:
        """The fees of what filled, from the exchange's trades of the order (an order's answer has none).
        A failed read leaves the fee unknown in the log: the order itself is already recorded."""
        if not sent.filled or sent.exchange_id is None:
            return
        try:
            trades = await self.exchange.ex.fetch_my_trades(
                sent.order.symbol, None, None, {"orderId": sent.exchange_id}
            )
        except Exception as exc:
            log.info("fills of %s not read: %s", sent.order.client_id, self._reason(exc))
            return
        mine = [t for t in trades if str(t.get("order")) == sent.exchange_id]
        with self.store.writing() as conn:
            order_log.log_fills(conn, row, mine)

    async def _create(self, call: CreateCall) -> Any:
        return await self.exchange.ex.create_order(
            call.symbol, call.type, call.side, call.amount, call.price, dict(call.params)
        )

    # ------------------------------------------------------------------------------ a whole ticket

    def plan(self, req: OrderRequest, market: Market) -> OrderPlan:
        """The orders of the ticket ``req`` as this exchange takes them (its stop attached to the entry
        where it can be; no margin mode where the exchange sets it for the whole account, as Bybit's
        unified account does: the confirmation then says nothing it will not do)."""
        if not self.route.sets_margin_mode:
            req = replace(req, margin_mode=None)
        return plan_orders(req, market, confirmed_at=self.clock.now_ms(), attach_stop=self.route.attach_stop)

    def check_breaker(self) -> None:
        """Refuse a new position while the circuit breaker is tripped, as the paper account does."""
        from perptui.services.paper.breaker import breaker_now

        allowed, why = order_allowed(breaker_now(self.store, self.account, self.clock.now_ms()), False)
        if not allowed:
            raise UsageError(why or "circuit breaker tripped")

    async def _terms(self, plan: OrderPlan) -> list[str]:
        """Leverage (and, where it is per symbol, the margin mode) of the symbol before the entry."""
        notes: list[str] = []
        ex = self.exchange.ex
        if plan.margin_mode and self.route.sets_margin_mode:
            row = self._log_request(
                "margin_mode",
                {"symbol": plan.symbol, "mode": plan.margin_mode},
                symbol=plan.symbol,
                ticket=plan.ticket,
            )
            try:
                answer = await ex.set_margin_mode(plan.margin_mode, plan.symbol)
                self._log_answer(row, "ok", answer=_plain(answer))
            except Exception as exc:
                reason = self._reason(exc)
                if "no need to change" not in reason.lower():
                    self._log_answer(row, "rejected", error=reason)
                    raise UsageError(
                        f"could not set {plan.margin_mode} margin on {plan.symbol}: {reason}"
                    ) from None
                self._log_answer(row, "ok", error=reason)
        if plan.leverage:
            lev = int(plan.leverage) if float(plan.leverage).is_integer() else plan.leverage
            row = self._log_request(
                "leverage", {"symbol": plan.symbol, "leverage": lev}, symbol=plan.symbol, ticket=plan.ticket
            )
            try:
                answer = await ex.set_leverage(lev, plan.symbol)
                self._log_answer(row, "ok", answer=_plain(answer))
            except Exception as exc:
                reason = self._reason(exc)
                if "not modified" not in reason.lower():
                    self._log_answer(row, "rejected", error=reason)
                    raise UsageError(f"could not set {lev}x leverage on {plan.symbol}: {reason}") from None
                self._log_answer(row, "ok", error=reason)
        return notes

    async def place(self, plan: OrderPlan) -> PlaceOutcome:
        """Send ``plan``: the leverage, the entry, then its stop and take-profits. Nothing after a refused
        or unknown entry; a stop that will not go in makes the outcome ``naked``."""
        self.check_breaker()
        await self.exchange.load_markets()
        notes = await self._terms(plan)
        entry = await self.send(plan.entry)
        if not entry.placed:
            return PlaceOutcome(plan, entry, notes=tuple(notes))
        sent: list[Sent] = []
        naked = False
        for order in plan.protective:
            if order.leg == "stop":
                stop = await self._send_stop(order)
                sent.append(stop)
                naked = not stop.placed
                if naked:
                    self._log_naked(plan, stop)
            else:
                sent.append(await self.send(order))
        return PlaceOutcome(plan, entry, tuple(sent), naked=naked, notes=tuple(notes))

    async def _send_stop(self, order: LiveOrder) -> Sent:
        tries = self.settings.trading.stop_retries + 1
        last: Sent | None = None
        for attempt in range(tries):
            if attempt:
                await self._sleep(self._backoff_s * 2 ** (attempt - 1))
            last = await self.send(order)
            if last.placed or last.outcome == "unknown":
                return last
        assert last is not None
        return last

    def _log_naked(self, plan: OrderPlan, stop: Sent) -> None:
        from perptui.services.store import risk_events

        message = (
            f"LIVE {plan.symbol} {plan.side} has NO STOP: the stop at {plan.stop.trigger:g} was not placed "
            f"({stop.error}); close the position or set a stop on the exchange now"
        )
        with self.store.writing() as conn:
            risk_events.log_event(
                conn, self.account, self.clock.now_ms(), NAKED_POSITION, "critical", message, plan.symbol
            )

    # -------------------------------------------------------------------------- what is open now

    async def book(self, symbols: list[str] | None = None) -> LiveBook:
        """Positions and open orders, read back from the exchange: every symbol's orders (one read the
        exchange weighs heavily: Binance paces it to one in 2 s), or only ``symbols``' (``[]``: those of
        the open positions)."""
        await self.exchange.load_markets()
        positions = await self.exchange.fetch_positions()
        if symbols is None:
            raw = await self.route.open_orders(self.exchange.ex, None)
        else:
            raw = []
            for symbol in sorted({*symbols, *(p.symbol for p in positions)}):
                raw += await self.route.open_orders(self.exchange.ex, symbol)
        orders = tuple(o for o in (self._open_order(r) for r in raw) if o is not None)
        return LiveBook(tuple(positions), orders, tuple(protection_of(p, list(orders)) for p in positions))

    async def reconcile(self) -> list[str]:
        """Look up, by client id, every order the log still calls lost (its answer never came and no look-up
        settled it, or perptui stopped in between) and record what the exchange says. One line each."""
        with self.store.reading() as conn:
            rows = order_log.unresolved(conn, self.settings.exchange)
        notes = []
        for row in rows:
            if not row.client_id or not row.symbol:
                continue
            params = row.request.get("params") or {}
            conditional = any(k in params for k in ("stopLossPrice", "takeProfitPrice", "triggerPrice"))
            probe = LiveOrder(
                leg="entry",
                label=row.label or "order",
                client_id=row.client_id,
                symbol=row.symbol,
                exchange_symbol=row.symbol,
                side="sell" if row.request.get("side") == "sell" else "buy",
                type="stop_market" if conditional else "market",
                qty=0.0,
                amount=0.0,
            )
            try:
                found = await self.route.lookup(self.exchange.ex, probe)
            except Exception as exc:
                notes.append(f"{row.client_id} ({row.label}): still unknown: {self._reason(exc)}")
                continue
            self._log_answer(row.id, "found" if found else "absent", answer=found)
            state = f"on the exchange, {found.get('status')}" if found else "never reached the exchange"
            notes.append(f"{row.client_id} ({row.label} {row.symbol}): {state}")
        return notes

    async def stops(self) -> dict[str, bool]:
        """Whether a stop covers each position on the exchange (for the no-stop alert rule)."""
        book = await self.book([])
        return {p.symbol: p.protected for p in book.protections}

    def _open_order(self, raw: dict[str, Any]) -> OpenOrder | None:
        symbol = raw.get("symbol")
        if not symbol or raw.get("side") not in ("buy", "sell"):
            return None
        size = num(self.exchange.ex.market(symbol).get("contractSize")) or 1.0
        trigger = next(
            (
                v
                for k in ("triggerPrice", "stopLossPrice", "takeProfitPrice", "stopPrice")
                if (v := num(raw.get(k)))
            ),
            None,
        )
        conditional = bool(raw.get("conditional")) or trigger is not None
        info = raw.get("info") or {}
        # The exchange's own name of the type where ccxt's says only "market" (a triggered stop-market):
        # Binance's orderType / type (STOP_MARKET), Bybit's stopOrderType (StopLoss, TakeProfit).
        native = info.get("orderType") or info.get("type") or info.get("stopOrderType")
        kind = str(native).lower() if conditional and native else str(raw.get("type") or "")
        reduce_only = bool(raw.get("reduceOnly")) or str(info.get("closePosition", "")).lower() == "true"
        return OpenOrder(
            id=str(raw.get("id")),
            client_id=raw.get("clientOrderId"),
            symbol=symbol,
            side=raw["side"],
            type=kind,
            qty=(num(raw.get("amount")) or 0.0) * size,
            price=num(raw.get("price")),
            trigger=trigger,
            reduce_only=reduce_only,
            conditional=conditional,
            status=raw.get("status"),
            filled=(num(raw.get("filled")) or 0.0) * size,
        )

    # ----------------------------------------------------------------------- after the trade

    async def cancel(self, order: OpenOrder) -> dict[str, Any]:
        row = self._log_request(
            "cancel", {"id": order.id, "symbol": order.symbol}, symbol=order.symbol, label=order.client_id
        )
        raw = {"id": order.id, "symbol": order.symbol, "conditional": order.conditional}
        try:
            answer = await self.route.cancel(self.exchange.ex, raw)
        except Exception as exc:
            self._log_answer(row, "rejected" if not self._lost(exc) else "lost", error=self._reason(exc))
            raise UsageError(
                f"could not cancel order {order.id} on {order.symbol}: {self._reason(exc)}"
            ) from None
        self._log_answer(row, "ok", answer=_plain(answer))
        return answer

    async def move(self, order: OpenOrder, trigger: float, position: Position) -> Sent:
        """Move a stop or take-profit to ``trigger``: the new order first, then the old one cancelled (the
        position is never without a stop in between). The new order's id is the old one's next version
        (``-sr2``), or a fresh id for an order perptui did not place."""
        market = await self._market(order.symbol)
        stop = is_stop(position, order)
        _check_level(position, trigger, stop=stop)
        tag = "s" if stop else "t1"
        client_id = (
            order.client_id
            if order.client_id and is_ours(order.client_id)
            else client_order_id(ticket_id({"move": order.id, "at": self.clock.now_ms()}), tag)
        )
        current = LiveOrder(
            leg="stop" if stop else "take_profit",
            label="stop" if stop else "TP",
            client_id=client_id,
            symbol=market.symbol,
            exchange_symbol=market.id,
            side=order.side,
            type="stop_market" if stop else "take_profit_market",
            qty=order.qty,
            amount=in_contracts(order.qty, market),
            trigger=order.trigger,
            reduce_only=True,
        )
        new = await self.send(replacement(current, self._next_version(current), trigger=trigger))
        if new.placed:
            await self.cancel(order)
        return new

    async def move_position_stop(self, position: Position, trigger: float) -> None:
        """Move the stop the exchange keeps on ``position`` itself (Bybit's, set with the entry)."""
        _check_level(position, trigger, stop=True)
        request = {"symbol": position.symbol, "stop": trigger}
        row = self._log_request("position_stop", request, symbol=position.symbol, label="stop")
        try:
            answer = await self.route.set_position_stop(self.exchange.ex, position.symbol, trigger)
        except Exception as exc:
            self._log_answer(row, "rejected" if not self._lost(exc) else "lost", error=self._reason(exc))
            raise UsageError(f"could not move the {position.symbol} stop: {self._reason(exc)}") from None
        self._log_answer(row, "ok", answer=_plain(answer))

    def _next_version(self, order: LiveOrder) -> int:
        with self.store.reading() as conn:
            return order_log.last_version(conn, order.client_id) + 1

    async def _market(self, symbol: str) -> Any:
        markets = {m.symbol: m for m in await self.exchange.load_markets()}
        if symbol not in markets:
            raise UsageError(f"{symbol} is not a perp of {self.exchange.name}")
        return markets[symbol]

    async def close(self, position: Position, qty: float | None = None) -> Sent:
        """Close ``position`` (or ``qty`` of it) with a reduce-only market order."""
        market = await self._market(position.symbol)
        qty = position.qty if qty is None else min(qty, position.qty)
        ticket = ticket_id({"close": position.symbol, "qty": qty, "at": self.clock.now_ms()})
        order = LiveOrder(
            leg="close",
            label="close",
            client_id=client_order_id(ticket, "c"),
            symbol=market.symbol,
            exchange_symbol=market.id,
            side=order_side(position.side, closing=True),
            type="market",
            qty=qty,
            amount=in_contracts(qty, market),
            reduce_only=True,
        )
        return await self.send(order)

    async def kill(self) -> KillOutcome:
        """Cancel every open order and close every position of the account, then read it back."""
        before = await self.book()
        symbols = sorted({o.symbol for o in before.orders} | {p.symbol for p in before.positions})
        errors: list[str] = []
        cancelled: list[str] = []
        for symbol in symbols:
            row = self._log_request("cancel_all", {"symbol": symbol}, symbol=symbol, label="kill switch")
            try:
                await self.route.cancel_all(self.exchange.ex, symbol)
            except Exception as exc:
                self._log_answer(row, "failed", error=self._reason(exc))
                errors.append(f"{symbol}: orders not cancelled ({self._reason(exc)})")
                continue
            self._log_answer(row, "ok")
            cancelled.append(symbol)
        closes = []
        for position in before.positions:
            sent = await self.close(position)
            closes.append(sent)
            if not sent.placed:
                errors.append(f"{position.symbol}: not closed ({sent.error})")
        after = await self.book()
        return KillOutcome(tuple(cancelled), tuple(closes), after, tuple(errors))


def _check_level(position: Position, trigger: float, *, stop: bool) -> None:
    """A stop on the losing side of the mark, a take-profit on the winning side (else it fires at once)."""
    if position.mark_price is None:
        return
    check = check_stop if stop else check_take_profit
    check(position.side, trigger, position.mark_price)


def _plain(answer: Any) -> dict[str, Any] | None:
    return dict(answer) if isinstance(answer, dict) else ({"answer": answer} if answer is not None else None)
