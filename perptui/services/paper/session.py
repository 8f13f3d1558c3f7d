"""A one-shot session for commands (``perptui paper ...``): markets, the engine, catch-up, current marks.

Online: markets from the source (cached for later), the history the book needs backfilled and caught
up, then one poll of the book's symbols and the ones asked for. Offline (or with the source
unreachable): cached markets, catch-up from the cache, and each symbol's newest cached ticker as its
mark; ``notes`` say where the numbers came from and how old they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perptui.domain.errors import ExchangeUnavailable, PerptuiError
from perptui.presentation.numbers import staleness
from perptui.services.paper import live
from perptui.services.paper.events import PaperEvent
from perptui.services.store import paper_book

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.paper.engine import PaperEngine
    from perptui.services.store import Store


@dataclass
class Session:
    engine: PaperEngine
    symbols: list[str]  # the names asked for, resolved
    live: bool
    events: list[PaperEvent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def cached_marks(
    engine: PaperEngine, symbols: Sequence[str]
) -> tuple[dict[str, tuple[int, float]], list[str]]:
    """Each symbol's newest cached ticker (time, mark), and a note of their ages."""
    now = engine.now()
    marks: dict[str, tuple[int, float]] = {}
    ages: list[str] = []
    with engine.store.reading() as conn:
        for symbol in symbols:
            seen = paper_book.latest_mark(conn, engine.exchange, symbol)
            if seen is None:
                ages.append(f"no cached mark of {symbol}")
            else:
                marks[symbol] = seen
                ages.append(f"{symbol} ticker {staleness(max(0, now - seen[0]))}")
    return marks, ages


def _apply_cached(engine: PaperEngine, marks: dict[str, tuple[int, float]]) -> list[PaperEvent]:
    """Cached marks newer than what the book already applied move it (as of the ticker's time); an
    older one only stands in as the symbol's mark behind the position's own last mark."""
    events: list[PaperEvent] = []
    st = engine.read_state()
    for symbol, (time, mark) in sorted(marks.items(), key=lambda item: item[1][0]):
        pos = st.position(engine.exchange, symbol)
        if pos is not None and pos.checked_at >= time and pos.last_mark:
            engine.note_marks({symbol: pos.last_mark}, pos.checked_at)
        else:
            events += engine.on_marks({symbol: mark}, time)
    return events


async def open_session(
    settings: Settings, store: Store, clock: Clock, names: Sequence[str] = (), offline: bool | None = None
) -> Session:
    from perptui.services.paper import open_engine
    from perptui.services.sources import open_market_data

    offline = settings.offline if offline is None else offline
    exchange = settings.exchange_name
    opened: MarketData | None = None if offline else open_market_data(settings, store, clock)
    source = opened
    why = "offline"
    try:
        markets = []
        if source is not None:
            try:
                markets = await source.load_markets()
                store.upsert_markets(exchange, markets, clock.now_ms())
            except ExchangeUnavailable as exc:
                source, why = None, f"{exchange} is unreachable ({exc})"
        if source is None and not store.load_markets(exchange):
            raise PerptuiError(
                f"the cache holds no markets for {exchange}; run 'perptui markets --exchange {exchange}' "
                "online once first"
            )
        engine = open_engine(settings, store, clock, markets)
        symbols = [engine.book.market(n).symbol for n in names]
        session = Session(engine, symbols, live=source is not None)
        if source is not None:
            try:
                session.events += await live.prepare(engine, source)
                session.events += await live.refresh(engine, source, extra=symbols, cache_tickers=True)
                return session
            except ExchangeUnavailable as exc:
                session.live, why = False, f"{exchange} is unreachable ({exc})"
        else:
            session.events += engine.catch_up()
        watched = sorted(set(engine.watched_symbols()) | set(symbols))
        marks, ages = cached_marks(engine, watched)
        session.events += _apply_cached(engine, marks)
        if watched:
            session.notes.append(f"{why}: marks from the cache: " + ", ".join(ages))
        return session
    finally:
        if opened is not None:
            await opened.close()
