"""``PaperEngine``: paper trading on the paper account's ledger. Nothing is ever sent to an exchange.

The service API the CLI, the sizing pane and the risk pane call. Synchronous and thread-safe (one lock):
each call is a few SQLite statements, so the app calls it from a thread worker. Every event (order,
fill, cancel, stop/take-profit trigger, liquidation, funding settlement) is ONE transaction writing the
fill, the position, the cash flows and an equity snapshot together: a kill leaves all or nothing.

One engine trades one exchange's markets on that exchange's paper account (``account.exchange``: the
configured source, ``demo`` by default). Marks come in through ``place_order(mark=...)``, ``on_marks`` and
``on_funding_rates``; the engine remembers the latest (and shares them with the account's summary).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Literal, TypeVar, cast

from perptui.domain.errors import UsageError
from perptui.domain.paper import (
    FundingPayment,
    OrderRequest,
    PaperFill,
    PaperOrder,
    PaperPosition,
    TakeProfitTarget,
    Trail,
    opposite,
)
from perptui.domain.paper_orders import check_request
from perptui.domain.paper_spot import CarryPair, SpotHolding, SpotSide
from perptui.domain.risk_position import PositionInput
from perptui.domain.types import FundingRate, Market
from perptui.presentation.numbers import market_qty
from perptui.services.paper import carry, catchup, funding, marks, orders
from perptui.services.paper import spot as _spot
from perptui.services.paper.book import MarketBook
from perptui.services.paper.carry import PairResult
from perptui.services.paper.config import PaperConfig
from perptui.services.paper.events import OrderResult, PaperEvent
from perptui.services.paper.ledger import Ledger
from perptui.services.paper.spot import SpotResult
from perptui.services.paper.state import BookState, TiersOf
from perptui.services.store import paper_book, paper_spot
from perptui.services.store.paper_spot import SpotFill, SpotOrder

if TYPE_CHECKING:
    import sqlite3

    from perptui.domain.risk_breaker import BreakerState
    from perptui.services.accounts.paper import PaperAccount
    from perptui.services.clock import Clock
    from perptui.services.store import Store

T = TypeVar("T")


class _Rehearsed(Exception):
    """Carries a rehearsal's result out of the transaction it rolls back."""

    def __init__(self, result: object) -> None:
        super().__init__("rehearsal")
        self.result = result


#: ``on_marks`` records the marks it saw (for catch-up after a restart) at most this often.
CHECKPOINT_EVERY_MS = 60_000


class PaperEngine:
    """Paper trading for ``account`` on ``exchange``'s markets (``markets``: fresh metadata; otherwise
    the cached markets are used). From a worker thread the UI calls ``place_order``/``close``/``cancel``/
    ``set_stop``/``set_take_profits``/``set_trail`` for the trader's actions, and on each poll
    ``on_marks`` and ``on_funding_rates`` (or ``live.refresh``); ``catch_up`` (or ``live.prepare``) once
    at start-up.

    The event modules get ``ledger`` (``services.paper.ledger.Ledger``), never the engine; the engine's
    attributes below are the ledger's."""

    def __init__(
        self,
        account: PaperAccount,
        *,
        exchange: str | None = None,
        config: PaperConfig | None = None,
        markets: Iterable[Market] = (),
    ) -> None:
        exchange = account.exchange if exchange is None else exchange
        if exchange != account.exchange:
            raise ValueError(f"the paper account {account.name!r} trades {account.exchange}, not {exchange}")
        self.ledger = Ledger(account, exchange, config or PaperConfig(), markets)
        self.lock = threading.RLock()

    # --- the ledger's state and helpers -------------------------------------------------------------

    @property
    def account(self) -> PaperAccount:
        return self.ledger.account

    @property
    def store(self) -> Store:
        return self.ledger.store

    @property
    def clock(self) -> Clock:
        return self.ledger.clock

    @property
    def exchange(self) -> str:
        return self.ledger.exchange

    @property
    def config(self) -> PaperConfig:
        return self.ledger.config

    @property
    def book(self) -> MarketBook:
        return self.ledger.book

    @property
    def marks(self) -> dict[str, float]:
        """The latest mark of each symbol the engine has seen."""
        return self.ledger.marks

    @property
    def rates(self) -> dict[str, FundingRate]:
        return self.ledger.rates

    def now(self, now: int | None = None) -> int:
        return self.ledger.now(now)

    def tiers_of(self, positions: Iterable[PaperPosition]) -> TiersOf:
        return self.ledger.tiers_of(positions)

    def fees(self, symbol: str) -> tuple[float, float]:
        """(taker, maker) of ``symbol``: the market's, else the configured fallback."""
        return self.ledger.fees(symbol)

    def max_leverage(self, symbol: str) -> float | None:
        return self.ledger.max_leverage(symbol)

    def state(self, conn: sqlite3.Connection) -> BookState:
        """The book in this transaction, this exchange's positions at the latest marks."""
        return self.ledger.state(conn)

    def read_state(self) -> BookState:
        return self.ledger.read_state()

    def note_marks(self, new: Mapping[str, float], now: int) -> None:
        self.ledger.note_marks(new, now)

    # --- reads --------------------------------------------------------------------------------------

    def positions(self) -> list[PaperPosition]:
        """Open positions on this exchange, ``last_mark`` = the newest mark known (live, cached ticker,
        or the last the engine saw)."""
        return [p for p in self.account.positions() if p.exchange == self.exchange]

    def position(self, symbol: str) -> PaperPosition | None:
        return next((p for p in self.positions() if p.symbol == symbol), None)

    def orders(self, *, open_only: bool = True, limit: int | None = None) -> list[PaperOrder]:
        self.account.open()
        with self.store.reading() as conn:
            return paper_book.load_orders(
                conn, self.account.name, self.exchange, open_only=open_only, limit=limit
            )

    def fills(self, *, since: int | None = None, limit: int | None = None) -> list[PaperFill]:
        self.account.open()
        with self.store.reading() as conn:
            return paper_book.load_fills(conn, self.account.name, self.exchange, since=since, limit=limit)

    def funding_payments(self, since: int | None = None) -> list[FundingPayment]:
        self.account.open()
        with self.store.reading() as conn:
            return paper_book.load_funding_payments(conn, self.account.name, self.exchange, since)

    def watched_symbols(self) -> list[str]:
        """Symbols with an open position or a resting order: the ones to poll marks for."""
        return self.ledger.watched_symbols()

    def position_inputs(self) -> list[PositionInput]:
        """This exchange's positions as the risk metrics take them (cross wallets filled in), with the
        funding rate, interval and next time from the last ``on_funding_rates``."""
        return funding.position_inputs(self.ledger)

    def breaker(self, now: int | None = None) -> BreakerState:
        """The circuit breaker now, after checking the daily loss and drawdown limits (may trip it, which
        cancels or holds the resting limits that open or add: ``risk.breaker_limit_orders``)."""
        with self.lock:
            return self.ledger.breaker(self.now(now))

    def reset_breaker(self, now: int | None = None) -> BreakerState:
        """Reset a tripped circuit breaker (ask the trader first): armed again at once, against new losses
        measured from the equity now. A breaker that is not tripped is left alone."""
        with self.lock:
            return self.ledger.reset_breaker(self.now(now))

    # --- the trader's actions -----------------------------------------------------------------------

    def rehearse(self, action: Callable[[], T]) -> T:
        """Run ``action`` (calls of this engine) and undo everything it wrote: what the trader's action
        would do, shown before the confirmation. Its refusals come out as they would (UsageError: the
        circuit breaker, free margin, brackets, an immediate liquidation, a stop on the wrong side)."""
        self.account.open()  # the account is created for good, outside the rehearsal
        with self.lock:
            try:
                with self.store.writing():
                    raise _Rehearsed(action())
            except _Rehearsed as done:
                return cast(T, done.result)  # the value action() returned, raised to undo the writes

    def place_order(self, req: OrderRequest, *, now: int | None = None) -> OrderResult:
        """A market order fills now at the mark plus slippage (taker fee); a limit order rests until the
        mark crosses its price (maker fee), or fills at once as a taker when marketable. Orders that open
        or add are refused (UsageError, one line, nothing recorded) while the circuit breaker is tripped,
        without enough free margin, above the market's leverage brackets, or if they would be liquidated
        at once; reducing and closing are always allowed."""
        check_request(req)
        with self.lock:
            self.account.open()
            now = self.now(now)
            market = self.book.market(req.symbol)
            mark = req.mark if req.mark is not None else self.marks.get(market.symbol)
            if mark is None:
                raise UsageError(f"no mark of {market.symbol} is known yet: fetch one before ordering")
            self.note_marks({market.symbol: mark}, now)
            if not req.reduce_only:
                self.ledger.breaker(now)
            return orders.place(self.ledger, req, market, mark, now)

    def close(
        self, symbol: str, qty: float | None = None, *, mark: float | None = None, now: int | None = None
    ) -> OrderResult:
        """Close the position (or ``qty`` of it) with a reduce-only market order: always allowed."""
        market = self.book.market(symbol)
        pos = self.read_state().position(self.exchange, market.symbol)
        if pos is None:
            raise UsageError(f"there is no open paper position in {market.symbol}")
        if qty is not None and qty > pos.qty * (1 + 1e-12):
            raise UsageError(
                f"only {market_qty(pos.qty, market)} {market.base} of {market.symbol} is open; "
                "close at most that"
            )
        req = OrderRequest(
            market.symbol, opposite(pos.side), pos.qty if qty is None else qty, reduce_only=True, mark=mark
        )
        return self.place_order(req, now=now)

    def cancel(self, order_id: int, *, now: int | None = None) -> PaperOrder:
        """Cancel a resting limit order (one transaction, no cash moves)."""
        with self.lock:
            return orders.cancel(self.ledger, order_id, self.now(now))

    def set_stop(
        self,
        symbol: str,
        price: float | Literal["breakeven"] | None,
        *,
        mark: float | None = None,
        now: int | None = None,
    ) -> tuple[PaperPosition, tuple[str, ...]]:
        """Move the position's stop-loss to ``price`` or ``"breakeven"`` (the entry on the tick), or with
        None remove it (a fixed stop ends a trail); returns the position and any warning (a stop beyond
        the liquidation price can never fill). Off the tick or on the wrong side of the mark: refused."""
        with self.lock:
            return orders.set_stop(self.ledger, symbol, price, mark, self.now(now))

    def set_take_profits(
        self,
        symbol: str,
        targets: tuple[TakeProfitTarget, ...],
        *,
        mark: float | None = None,
        now: int | None = None,
    ) -> tuple[PaperPosition, tuple[str, ...]]:
        """Replace the position's take-profit levels: each target's share of the quantity (rounded down
        to the step), the last the rest; () removes them."""
        with self.lock:
            return orders.set_take_profits(self.ledger, symbol, targets, mark, self.now(now))

    def set_take_profit(
        self, symbol: str, price: float | None, *, mark: float | None = None, now: int | None = None
    ) -> tuple[PaperPosition, tuple[str, ...]]:
        """One take-profit for the whole position (None: none)."""
        targets = () if price is None else (TakeProfitTarget(price),)
        return self.set_take_profits(symbol, targets, mark=mark, now=now)

    def set_trail(
        self, symbol: str, trail: Trail | None, *, mark: float | None = None, now: int | None = None
    ) -> tuple[PaperPosition, tuple[str, ...]]:
        """Trail the position's stop (None: stop trailing): it follows the mark on every mark update and
        catch-up, only toward profit."""
        with self.lock:
            return orders.set_trail(self.ledger, symbol, trail, mark, self.now(now))

    # --- spot and carry pairs -----------------------------------------------------------------------

    def spot_holdings(self) -> list[SpotHolding]:
        """Spot held on this exchange, at the newest spot prices seen."""
        return [h for h in self.read_state().spot if h.exchange == self.exchange]

    def spot_fills(self) -> list[SpotFill]:
        self.account.open()
        with self.store.reading() as conn:
            return paper_spot.load_fills(conn, self.account.name, self.exchange)

    def spot_orders(self, *, open_only: bool = True) -> list[SpotOrder]:
        self.account.open()
        with self.store.reading() as conn:
            return paper_spot.load_orders(conn, self.account.name, self.exchange, open_only=open_only)

    def pairs(self) -> list[CarryPair]:
        return [p for p in self.read_state().pairs if p.exchange == self.exchange]

    def _spot_price(self, market: Market, given: float | None) -> float:
        assert market.spot_symbol is not None
        price = given if given is not None else self.ledger.spot_marks.get(market.spot_symbol)
        if price is None or not price > 0:
            raise UsageError(f"no spot price of {market.spot_symbol} is known yet: fetch one before ordering")
        self.ledger.note_spot_marks({market.spot_symbol: price})
        return price

    def _mark(self, market: Market, given: float | None, now: int) -> float:
        mark = given if given is not None else self.marks.get(market.symbol)
        if mark is None:
            raise UsageError(f"no mark of {market.symbol} is known yet: fetch one before ordering")
        self.note_marks({market.symbol: mark}, now)
        return mark

    def place_spot(
        self,
        name: str,
        side: SpotSide,
        qty: float,
        *,
        price: float | None = None,
        spot: float | None = None,
        now: int | None = None,
    ) -> SpotResult:
        """Buy or sell ``qty`` on the spot twin of ``name`` (a market order, or a limit at ``price``) at
        the spot price ``spot`` (else the latest seen); one transaction."""
        with self.lock:
            self.account.open()
            now = self.now(now)
            perp = self.spot_market(name)
            spot_price = self._spot_price(perp, spot)
            with self.store.writing() as conn:
                return _spot.order_in(
                    self.ledger, conn, self.state(conn), perp, side, qty, spot_price, now, price=price
                )

    def spot_market(self, name: str) -> Market:
        """The perp whose spot twin ``name`` names (a perp's names or its spot symbol); UsageError when it
        has no spot market."""
        return _spot.spot_market(self.ledger, name)

    def open_pair(
        self,
        name: str,
        qty: float,
        *,
        mark: float | None = None,
        spot: float | None = None,
        reverse: bool = False,
        leverage: float | None = None,
        now: int | None = None,
    ) -> PairResult:
        """Open (or add to) the carry pair on ``name``: buy ``qty`` spot and short ``qty`` of the perp in
        one transaction; a refusal of either leg leaves nothing (``carry.PairRefused`` says why)."""
        with self.lock:
            self.account.open()
            now = self.now(now)
            perp = self.spot_market(name)
            mark_now = self._mark(perp, mark, now)
            spot_price = self._spot_price(perp, spot)
            return carry.open_pair(
                self.ledger, perp, qty, mark_now, spot_price, now, reverse=reverse, leverage=leverage
            )

    def close_pair(
        self,
        name: str,
        qty: float | None = None,
        *,
        mark: float | None = None,
        spot: float | None = None,
        now: int | None = None,
    ) -> PairResult:
        """Close the carry pair on ``name`` (or ``qty`` of it): both legs in one transaction."""
        with self.lock:
            self.account.open()
            now = self.now(now)
            perp = self.spot_market(name)
            return carry.close_pair(
                self.ledger, perp, qty, self._mark(perp, mark, now), self._spot_price(perp, spot), now
            )

    def on_spot_marks(self, prices: Mapping[str, float], now: int | None = None) -> list[SpotResult]:
        """New spot prices (by spot symbol): value the holdings and fill the resting spot limits reached."""
        with self.lock:
            self.ledger.note_spot_marks(prices)
            return _spot.fill_resting(self.ledger, dict(self.ledger.spot_marks), self.now(now))

    # --- the market moves ---------------------------------------------------------------------------

    def on_marks(self, new_marks: Mapping[str, float], now: int | None = None) -> list[PaperEvent]:
        """Apply new marks: resting limits, stops, take-profits and liquidations they reach, each its own
        transaction, in the order the move meets them. Returns what happened (for alerts)."""
        with self.lock:
            now = self.now(now)
            events = marks.process(self.ledger, new_marks, now)[0]
            if now - self.ledger.last_checkpoint >= CHECKPOINT_EVERY_MS:
                self.checkpoint(now)
            return events

    def on_funding_rates(self, rates: Mapping[str, FundingRate], now: int | None = None) -> list[PaperEvent]:
        """Remember each symbol's live funding state; when a remembered funding time has passed, settle
        it on the open position with the rate that was announced for it."""
        with self.lock:
            return funding.on_rates(self.ledger, rates, self.now(now))

    def settle_funding(self, symbol: str, time: int, rate: float, mark: float) -> list[PaperEvent]:
        """Settle the funding of ``time`` on the position (if it was open before then and that time is
        not settled yet), then check its liquidation at ``mark``."""
        with self.lock:
            return funding.settle(self.ledger, symbol, time, rate, mark)

    def catch_up(self, now: int | None = None) -> list[PaperEvent]:
        """Settle, in time order, the funding prints and the limits, stops, take-profits and liquidations
        that the CACHED history (funding prints, candles) says fell due since the book was last checked."""
        with self.lock:
            return catchup.catch_up(self.ledger, self.now(now))

    def checkpoint(self, now: int | None = None) -> None:
        """Record that marks were applied up to ``now`` (catch-up after a restart starts there)."""
        with self.lock:
            self.ledger.checkpoint(self.now(now))
