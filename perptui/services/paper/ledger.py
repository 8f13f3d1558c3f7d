"""``Ledger``: what the event modules (orders, marks, funding, catchup) need, and nothing more.

One exchange's markets on the paper account's ledger: the store, the market book, the settings, the
latest marks and funding rates, and the reads every event starts from. The engine owns one and hands it
to the event modules, which never see the engine: they import this module and each other in one
direction only (``catchup -> funding -> marks -> orders -> execute``), and the engine imports them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from perptui.domain.liquidation import max_leverage
from perptui.domain.paper import PaperPosition
from perptui.domain.risk_pairs import perp_of
from perptui.domain.types import FundingRate, Market
from perptui.services.paper import breaker
from perptui.services.paper.book import MarketBook, fees_of, tiers_lookup
from perptui.services.paper.config import PaperConfig
from perptui.services.paper.state import BookState, TiersOf, load_state
from perptui.services.store import paper_book

if TYPE_CHECKING:
    import sqlite3

    from perptui.domain.risk_breaker import BreakerState
    from perptui.services.accounts.paper import PaperAccount


class Ledger:
    """The paper account's book on ``exchange``'s markets, the marks and rates seen, and the settings."""

    def __init__(
        self, account: PaperAccount, exchange: str, config: PaperConfig, markets: Iterable[Market] = ()
    ) -> None:
        self.account = account
        self.store = account.store
        self.clock = account.clock
        self.exchange = exchange
        self.config = config
        self.book = MarketBook(self.store, exchange, markets)
        account.attach_book(self.book)
        self.marks: dict[str, float] = {}
        self.rates: dict[str, FundingRate] = {}
        #: The latest spot price of each spot symbol (the perps' spot twins) the engine has seen.
        self.spot_marks: dict[str, float] = {}
        self.last_checkpoint = 0

    def now(self, now: int | None = None) -> int:
        return self.clock.now_ms() if now is None else int(now)

    def tiers_of(self, positions: Iterable[PaperPosition]) -> TiersOf:
        return tiers_lookup(self.store, list(positions), {self.exchange: self.book})

    def fees(self, symbol: str) -> tuple[float, float]:
        """(taker, maker) of ``symbol``: the market's, else the configured fallback."""
        return fees_of(self.book.get(symbol), self.config.taker_fee, self.config.maker_fee)

    def max_leverage(self, symbol: str) -> float | None:
        market = self.book.get(symbol)
        return max_leverage(self.book.tiers(symbol), market.max_leverage if market else None)

    def state(self, conn: sqlite3.Connection) -> BookState:
        """The book in this transaction, this exchange's positions at the latest marks."""
        st = load_state(conn, self.account.name).with_marks(self.exchange, self.marks)
        return st.with_spot_marks(self.exchange, self.spot_marks)

    def read_state(self) -> BookState:
        self.account.open()
        with self.store.reading() as conn:
            return self.state(conn)

    def note_marks(self, new: Mapping[str, float], now: int) -> None:
        clean = {s: float(m) for s, m in new.items() if m is not None and m > 0}
        self.marks.update(clean)
        self.account.note_marks(self.exchange, clean, now)

    def note_spot_marks(self, new: Mapping[str, float]) -> None:
        """Remember spot prices (by spot symbol); the account's summaries use them too."""
        clean = {s: float(m) for s, m in new.items() if m is not None and m > 0}
        self.spot_marks.update(clean)
        self.account.note_spot_marks(self.exchange, clean)

    def watched_symbols(self) -> list[str]:
        """Symbols with an open position or a resting order: the ones to poll marks for."""
        st = self.read_state()
        symbols = {p.symbol for p in st.positions if p.exchange == self.exchange}
        symbols |= {o.symbol for o in st.orders if o.exchange == self.exchange}
        symbols |= {p.symbol for p in st.pairs if p.exchange == self.exchange}
        # spot held: its perp's poll brings the spot price (the index)
        symbols |= {
            perp_of(h.symbol)
            for h in st.spot
            if h.exchange == self.exchange and self.book.get(perp_of(h.symbol))
        }
        return sorted(symbols)

    def breaker(self, now: int) -> BreakerState:
        """The circuit breaker after checking the daily loss and drawdown limits (may trip it; a trip
        cancels or holds the resting limits that open or add, as ``config.breaker_limit_orders`` says)."""
        limits, resting = self.config.limits, self.config.breaker_limit_orders
        return breaker.check_breaker(self.store, self.account, now, limits, self.marks, resting=resting)

    def tripped(self, now: int) -> bool:
        """The breaker is tripped now (from the log, without checking the limits)."""
        return breaker.breaker_now(self.store, self.account.name, now).tripped

    def reset_breaker(self, now: int) -> BreakerState:
        """Reset a tripped breaker, recording the equity now (at the latest marks) as the point new
        losses are measured from."""
        ms = self.account.margin(self.marks)
        return breaker.reset_breaker(self.store, self.account.name, now, equity=(ms.equity, ms.wallet))

    def checkpoint(self, now: int) -> None:
        """Record that marks were applied up to ``now`` (catch-up after a restart starts there)."""
        self.last_checkpoint = now
        with self.store.writing() as conn:
            paper_book.checkpoint(conn, self.account.name, self.exchange, dict(self.marks), now)
