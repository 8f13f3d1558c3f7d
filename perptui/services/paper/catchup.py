"""Catch-up: what fell due while perptui was not running, settled from the CACHE in time order.

For each symbol with an open position or a resting limit on the ledger's exchange, the cached funding
prints after the position's last settlement and the closed candles after it was last checked are
merged into one timeline. Each candle is walked as a path of marks (``paper_triggers.bar_path``); each
funding print settles at the mark of the latest path point before it (else the position's last mark).
At equal times funding goes first (a position open at a funding time pays it). Candles come from the
finest cached timeframe among the configured one and the coarser fallbacks.

The book is read once and again only after an event, so a month of 5-minute candles costs seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.paper_triggers import path_of
from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import Candle
from perptui.services.paper import funding, marks
from perptui.services.paper.events import PaperEvent
from perptui.services.paper.state import BookState

if TYPE_CHECKING:
    from perptui.services.paper.ledger import Ledger

#: Timeframes tried after the configured one, finest first.
FALLBACK_TIMEFRAMES = ("1m", "5m", "15m", "1h")
_FUNDING, _MARK = 0, 1


def _candles(ledger: Ledger, symbol: str, since: int, now: int) -> tuple[list[Candle], int]:
    """Cached candles from ``since`` in the configured timeframe, else the finest fallback that has any."""
    order = [
        ledger.config.catch_up_timeframe,
        *(t for t in FALLBACK_TIMEFRAMES if t != ledger.config.catch_up_timeframe),
    ]
    for tf in order:
        size = timeframe_ms(tf)
        bars = ledger.store.load_ohlcv(ledger.exchange, symbol, tf, since=since - size, until=now)
        if any(b.time + size > since for b in bars):
            return bars, size
    return [], timeframe_ms(ledger.config.catch_up_timeframe)


def timeline(ledger: Ledger, st: BookState, now: int) -> list[tuple[int, int, str, float]]:
    """(time, kind, symbol, value) sorted: funding prints (value = rate) and path marks (value = price)."""
    items: list[tuple[int, int, str, float]] = []
    symbols = {p.symbol for p in st.positions if p.exchange == ledger.exchange}
    symbols |= {o.symbol for o in st.orders if o.exchange == ledger.exchange}
    for symbol in sorted(symbols):
        pos = st.position(ledger.exchange, symbol)
        starts = [o.created_at for o in st.orders_of(ledger.exchange, symbol)]
        if pos is not None:
            starts.append(pos.checked_at)
            prints = ledger.store.load_funding(
                ledger.exchange, symbol, since=pos.funding_until + 1, until=now + 1
            )
            items += [(p.time, _FUNDING, symbol, p.rate) for p in prints]
        start = min(starts)
        bars, size = _candles(ledger, symbol, start, now)
        items += [(t, _MARK, symbol, price) for t, price in path_of(bars, size, start, now)]
    items.sort(key=lambda item: (item[0], item[1], item[2]))
    return items


def catch_up(ledger: Ledger, now: int) -> list[PaperEvent]:
    """Settle everything due from the cache in time order; then record the book as checked."""
    st = ledger.read_state()
    events: list[PaperEvent] = []
    last_mark: dict[str, float] = {}
    last_time = 0
    for time, kind, symbol, value in timeline(ledger, st, now):
        if kind == _MARK:
            last_mark[symbol] = value
            last_time = max(last_time, time)
            happened, st = marks.process(ledger, {symbol: value}, time, history=True, state=st)
            events += happened
            continue
        pos = st.position(ledger.exchange, symbol)
        if pos is None:
            continue
        mark = last_mark.get(symbol) or pos.last_mark or pos.entry
        settled = funding.settle(ledger, symbol, time, value, mark)
        if settled:
            events += settled
            st = ledger.read_state()
    if last_time:
        ledger.checkpoint(last_time)
    return events
