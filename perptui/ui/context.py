"""What the app runs on: settings, clock, store, market source and account.

The store, the source and the account are built on first use, from a worker thread, so opening the
database and the heavy libraries (numpy for the demo market, ccxt for exchanges) come after the first
frame.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store
    from perptui.services.trading.trader import LiveTrader

Badge = Literal["DEMO", "PAPER", "EXCHANGE", "LIVE", "LIVE TESTNET"]


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    store_factory: Callable[[], Store]
    source_factory: Callable[[], MarketData]
    account_factory: Callable[[MarketData | None], Any]
    #: Close the store on exit (the factory opened it).
    owns_store: bool = False
    #: The source of another exchange the scanner compares funding with (``[scan] exchanges``).
    other_source_factory: Callable[[str], MarketData] | None = None
    _store: Store | None = None
    _source: MarketData | None = None
    _others: dict[str, MarketData] = field(default_factory=dict)
    _engine: Any = None
    _account: Any = None
    #: Builds the live trader (tests give a fake one); None: the real ``LiveTrader`` on the ccxt source.
    #: Only ever called when the settings switch live trading on (``live_trader``).
    trader_factory: Callable[[], LiveTrader] | None = None
    _trader: LiveTrader | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def exchange_name(self) -> str:
        return self.settings.exchange_name

    @property
    def is_demo(self) -> bool:
        return not self.settings.exchange

    @property
    def account_mode(self) -> Literal["paper", "exchange"]:
        return "paper" if self.is_demo else self.settings.account

    @property
    def live(self) -> bool:
        """Live orders are switched on and possible (``trading.gate``): the only mode with an order path."""
        from perptui.services.trading.gate import is_live

        return is_live(self.settings)

    @property
    def badge(self) -> Badge:
        """DEMO on the demo market, PAPER for the paper account, EXCHANGE for the exchange's own account
        read only, LIVE (LIVE TESTNET on the sandbox) only when live orders can be sent."""
        if self.is_demo:
            return "DEMO"
        if self.account_mode == "paper":
            return "PAPER"
        if not self.live:
            return "EXCHANGE"
        return "LIVE TESTNET" if self.settings.testnet else "LIVE"

    @property
    def read_only(self) -> bool:
        """The exchange's own account is shown, never changed."""
        return self.account_mode == "exchange"

    def store(self) -> Store:
        """The SQLite cache, opened on first call (from a worker: opening checks and migrates it)."""
        with self._lock:
            if self._store is None:
                self._store = self.store_factory()
            return self._store

    def source(self) -> MarketData:
        """The market source, built on first call (call from a worker: it may import ccxt)."""
        with self._lock:
            if self._source is None:
                self._source = self.source_factory()
            return self._source

    def paper_engine(self) -> Any:
        """The paper trading engine on the paper account, built on first call (from a worker thread)."""
        from perptui.services.paper import open_engine

        store = self.store()
        with self._lock:
            if self._engine is None:
                self._engine = open_engine(self.settings, store, self.clock)
            return self._engine

    def other_source(self, exchange: str) -> MarketData:
        """The market source of another exchange (a ccxt id), built on first call (from a worker)."""
        with self._lock:
            if exchange not in self._others:
                if self.other_source_factory is None:
                    raise RuntimeError("this app was built without other exchanges")
                self._others[exchange] = self.other_source_factory(exchange)
            return self._others[exchange]

    def account(self) -> Any:
        """The paper or exchange account, built on first call (from a worker)."""
        source = self.source() if self.account_mode == "exchange" else None
        with self._lock:
            if self._account is None:
                self._account = self.account_factory(source)
            return self._account

    def live_trader(self) -> LiveTrader:
        """The live trader, built on first call (from a worker: it may import ccxt). Raises a one-line
        UsageError unless live trading is on: no object that reaches an order endpoint exists otherwise."""
        from perptui.services.trading.gate import require_live

        require_live(self.settings)
        store = self.store()
        with self._lock:
            if self._trader is None:
                self._trader = self.trader_factory() if self.trader_factory else self._real_trader(store)
            return self._trader

    def _real_trader(self, store: Store) -> LiveTrader:
        from perptui.services.exchanges.ccxt_adapter import CcxtExchange
        from perptui.services.trading.trader import LiveTrader

        source = self.source()
        if not isinstance(source, CcxtExchange):
            raise RuntimeError(f"live orders need the ccxt exchange, not {type(source).__name__}")
        return LiveTrader(self.settings, store, self.clock, source)

    async def close(self) -> None:
        for source in [self._source, *self._others.values()]:
            if source is not None:
                await source.close()
        if self.owns_store and self._store is not None:
            self._store.close()
