"""The history a backtest runs on, from the cache (``history_from_store``), after fetching what the
cache lacks (``fetch_history``, online: the demo market or a ccxt exchange).

Per symbol: perp bars of the run's timeframe; when the cache has none at that timeframe, bars built
from a finer one (1h -> 4h/8h/1d, 4h -> 8h/1d, 8h -> 1d; complete groups only, said in the notes); the
spot twin's bars the same way (carry legs); every settled funding print in the span; the leverage
brackets (the exchange's or imported; else the conservative default ladder, said in the notes). The
grid runs from the first to the last bar of any symbol in [since, until); a symbol's missing bars stay
NaN (the engine reports gaps; nothing is filled in).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.errors import ExchangeError, ExchangeUnavailable, UnknownSymbol, UsageError
from perptui.domain.market_rules import MarketRules, rules_of
from perptui.domain.resample import can_resample, resample
from perptui.domain.symbols import spot_of
from perptui.domain.tiers import default_tiers
from perptui.domain.timeframes import iso_utc, timeframe_ms
from perptui.domain.types import Candle, LeverageTier, Market
from perptui.services.clock import Clock
from perptui.services.marketdata import MarketData
from perptui.services.store import Store

#: Finer timeframes a bar can be built from, coarsest first (fewer rows to read).
_FINER: tuple[str, ...] = ("8h", "4h", "1h")


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    exchange: str
    symbols: tuple[str, ...]
    timeframe: str
    since: int
    until: int
    spot: bool = True
    """Also the spot twins' bars (the carry needs them)."""


def _bars(store: Store, exchange: str, symbol: str, req: HistoryRequest) -> tuple[list[Candle], str | None]:
    """The bars at the request's timeframe, else built from the coarsest finer timeframe cached; with
    the timeframe they came from when built."""
    bars = store.load_ohlcv(exchange, symbol, req.timeframe, req.since, req.until)
    if bars:
        return bars, None
    for fine in _FINER:
        if can_resample(fine, req.timeframe):
            fine_bars = store.load_ohlcv(exchange, symbol, fine, req.since, req.until)
            if fine_bars:
                return resample(fine_bars, fine, req.timeframe), fine
    return [], None


def history_from_store(store: Store, req: HistoryRequest, notes: Sequence[str] = ()) -> MarketHistory:
    """Read the request's span from the cache (blocking: SQLite). Raises UsageError when no symbol has
    a bar in it."""
    tf = timeframe_ms(req.timeframe)
    notes = list(notes)
    perp: dict[str, list[Candle]] = {}
    spot: dict[str, list[Candle]] = {}
    built: dict[str, list[str]] = {}
    for symbol in req.symbols:
        bars, fine = _bars(store, req.exchange, symbol, req)
        if not bars:
            notes.append(f"{symbol}: no {req.timeframe} bars cached in the span: left out")
            continue
        perp[symbol] = bars
        if fine:
            built.setdefault(fine, []).append(symbol)
        if req.spot:
            spot_bars, spot_fine = _bars(store, req.exchange, spot_of(symbol), req)
            spot[symbol] = spot_bars
            if not spot_bars:
                notes.append(f"{symbol}: no spot bars cached: it cannot be carried")
            elif spot_fine:
                built.setdefault(spot_fine, []).append(spot_of(symbol))
    for fine, names in built.items():
        notes.append(f"{req.timeframe} bars built from {fine} bars (whole groups only): {', '.join(names)}")
    if not perp:
        raise UsageError(
            f"no {req.timeframe} bars of {', '.join(req.symbols) or 'any symbol'} on {req.exchange} between "
            f"{iso_utc(req.since)} and {iso_utc(req.until)} in the cache: fetch them (run online, or "
            "perptui fetch / perptui import)"
        )
    symbols = tuple(perp)
    first = min(b[0].time for b in perp.values())
    last = max(b[-1].time for b in perp.values())
    times = np.arange(first, last + tf, tf, dtype=np.int64)
    shape = (len(times), len(symbols))
    o, h, lo, c, so, sc = (np.full(shape, np.nan) for _ in range(6))
    for j, symbol in enumerate(symbols):
        _fill(times, first, tf, perp[symbol], j, o, h, lo, c)
        _fill(times, first, tf, spot.get(symbol, []), j, so, None, None, sc)
    f_time, f_sym, f_rate = _funding(store, req, symbols)
    return MarketHistory(
        timeframe=req.timeframe,
        times=times,
        symbols=symbols,
        open=o,
        high=h,
        low=lo,
        close=c,
        spot_open=so,
        spot_close=sc,
        funding_time=f_time,
        funding_symbol=f_sym,
        funding_rate=f_rate,
        tiers=_tiers(store, req.exchange, symbols, notes),
        notes=tuple(notes),
        rules=_rules(store, req.exchange, symbols),
    )


def _rules(store: Store, exchange: str, symbols: tuple[str, ...]) -> tuple[MarketRules | None, ...]:
    """Each symbol's order rules from the cached markets (None for a market not cached)."""
    markets = {m.symbol: m for m in store.load_markets(exchange)}
    return tuple(rules_of(markets[s]) if s in markets else None for s in symbols)


def _fill(
    times: np.ndarray,
    first: int,
    tf: int,
    bars: list[Candle],
    j: int,
    o: np.ndarray,
    h: np.ndarray | None,
    lo: np.ndarray | None,
    c: np.ndarray,
) -> None:
    if not bars:
        return
    at = np.array([b.time for b in bars], dtype=np.int64)
    keep = (at >= first) & (at <= times[-1]) & ((at - first) % tf == 0)
    rows = (at[keep] - first) // tf
    pick = np.flatnonzero(keep)
    o[rows, j] = [bars[i].open for i in pick]
    c[rows, j] = [bars[i].close for i in pick]
    if h is not None and lo is not None:
        h[rows, j] = [bars[i].high for i in pick]
        lo[rows, j] = [bars[i].low for i in pick]


def _funding(store: Store, req: HistoryRequest, symbols: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    series = store.load_funding_many(req.exchange, req.since, req.until)
    times: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    rates: list[np.ndarray] = []
    for j, symbol in enumerate(symbols):
        if symbol in series:
            t, r = series[symbol]
            times.append(np.asarray(t, dtype=np.int64))
            rates.append(np.asarray(r, dtype=float))
            cols.append(np.full(len(t), j, dtype=np.int64))
    if not times:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    all_t, all_s, all_r = np.concatenate(times), np.concatenate(cols), np.concatenate(rates)
    order = np.lexsort((all_s, all_t))
    return all_t[order], all_s[order], all_r[order]


def _tiers(
    store: Store, exchange: str, symbols: tuple[str, ...], notes: list[str]
) -> tuple[tuple[LeverageTier, ...], ...]:
    stored = store.load_tiers(exchange, list(symbols))
    markets = {m.symbol: m for m in store.load_markets(exchange)}
    out: list[tuple[LeverageTier, ...]] = []
    approximate: list[str] = []
    for symbol in symbols:
        tiers = stored.get(symbol)
        if not tiers:
            market = markets.get(symbol)
            tiers = default_tiers(market.max_leverage if market else None)
            approximate.append(symbol)
        out.append(tuple(tiers))
    if approximate:
        notes.append(
            "no leverage brackets cached for "
            f"{', '.join(approximate)}: liquidation uses the conservative default ladder"
        )
    return tuple(out)


# --- online: fetch what the cache lacks ------------------------------------------------------------

Progress = Callable[[int, int, str], None]
"""(step, steps, what): called before each symbol's fetch."""


async def fetch_history(
    source: MarketData,
    store: Store,
    req: HistoryRequest,
    clock: Clock,
    progress: Progress | None = None,
) -> list[str]:
    """Fetch the request's bars (perp and spot) and funding prints the cache lacks; notes on symbols
    the exchange refused. Network errors other than a refused symbol propagate (the caller falls back
    to the cache and says so)."""
    from perptui.services.backfill import backfill_funding, backfill_ohlcv

    notes: list[str] = []
    listed = await source.load_markets()
    store.upsert_markets(req.exchange, listed, clock.now_ms())  # their order rules go with the history
    markets = {m.symbol: m for m in listed}
    for i, symbol in enumerate(req.symbols):
        if progress is not None:
            progress(i, len(req.symbols), symbol)
        market = markets.get(symbol)
        if market is None:
            notes.append(f"{symbol}: not a market of {source.name}: left out")
            continue
        try:
            await backfill_funding(source, store, symbol, req.since, req.until, clock=clock, offload=True)
            await backfill_ohlcv(
                source, store, symbol, req.timeframe, req.since, req.until, clock=clock, offload=True
            )
            if req.spot and market.spot_symbol is not None:
                await backfill_ohlcv(
                    source, store, market.spot_symbol, req.timeframe, req.since, req.until,
                    clock=clock, offload=True,
                )  # fmt: skip
        except ExchangeUnavailable:
            raise
        except (UnknownSymbol, ExchangeError) as exc:
            notes.append(f"{symbol}: not fetched ({exc})")
    await _fetch_tiers(source, store, [s for s in req.symbols if s in markets], clock, notes)
    if progress is not None:
        progress(len(req.symbols), len(req.symbols), "done")
    return notes


async def _fetch_tiers(
    source: MarketData, store: Store, symbols: list[str], clock: Clock, notes: list[str]
) -> None:
    import asyncio

    if not symbols:
        return
    try:
        tiers = await source.fetch_leverage_tiers(symbols)
    except ExchangeUnavailable:
        raise
    except ExchangeError as exc:
        notes.append(f"leverage brackets not fetched ({exc})")
        return
    now = clock.now_ms()
    for symbol, brackets in tiers.items():
        if brackets:
            await asyncio.to_thread(store.upsert_tiers, source.name, symbol, brackets, "exchange", now)


def resolve_symbols(names: Sequence[str], known: Sequence[str], where: str) -> tuple[str, ...]:
    """The unified symbols of ``names`` (``BTC``, ``BTCUSDT``, ``BTC/USDT:USDT``); UnknownSymbol with
    suggestions for one that is not among ``known``."""
    from perptui.domain.symbols import resolve_symbol

    return tuple(dict.fromkeys(resolve_symbol(n, list(known), where) for n in names))


def busiest_cached(store: Store, exchange: str, timeframe: str, count: int) -> list[str]:
    """Up to ``count`` cached perps with bars at ``timeframe`` or finer, by the quote volume of their
    last cached day (blocking: SQLite)."""
    tf = timeframe_ms(timeframe)
    volume: dict[str, float] = {}
    for symbol, frames in store.ohlcv_symbols(exchange).items():
        usable = [f for f in frames if f == timeframe or (f in _FINER and can_resample(f, timeframe))]
        if ":" not in symbol or not usable:
            continue
        fine = min(usable, key=timeframe_ms)
        bounds = store.ohlcv_bounds(exchange, symbol, fine)
        if bounds is None:
            continue
        bars = store.load_ohlcv(exchange, symbol, fine, bounds[1] - max(tf, 86_400_000) + 1, bounds[1] + 1)
        volume[symbol] = sum(b.volume * b.close for b in bars)
    return sorted(volume, key=lambda s: (-volume[s], s))[:count]


#: The default universe's size: the busiest perps (the allocation pane's universe plus room for carry).
DEFAULT_UNIVERSE = 10


async def load_history(
    source: MarketData | None,
    store: Store,
    exchange: str,
    names: Sequence[str] | None,
    timeframe: str,
    span: tuple[int, int],
    clock: Clock,
    *,
    spot: bool = True,
    progress: Progress | None = None,
) -> MarketHistory:
    """The history of ``names`` (default: the busiest perps) over ``span``: online (``source``) the
    missing bars and prints are fetched first; offline, or when the exchange is unreachable, the cache
    alone is read and a note says so."""
    import asyncio

    since, until = span
    if since >= until:
        raise UsageError(
            f"the backtest span is empty: --from {iso_utc(since)} is not before --to {iso_utc(until)}"
        )
    notes: list[str] = []
    if source is not None:
        try:
            markets = await source.load_markets()
            known = [m.symbol for m in markets]
            if names:
                symbols = resolve_symbols(names, known, source.name)
            else:
                symbols = await _busiest_online(source, markets)
            req = HistoryRequest(exchange, symbols, timeframe, since, until, spot)
            notes += await fetch_history(source, store, req, clock, progress)
            return await asyncio.to_thread(history_from_store, store, req, notes)
        except ExchangeUnavailable as exc:
            notes.append(f"{exchange} is unreachable ({exc}): the backtest uses the cache")
    else:
        notes.append("offline: from the cache")

    def cached() -> MarketHistory:
        cached_symbols = [s for s in store.ohlcv_symbols(exchange) if ":" in s]
        known = list(dict.fromkeys([*(m.symbol for m in store.load_markets(exchange)), *cached_symbols]))
        symbols = (
            resolve_symbols(names, known, f"the {exchange} cache")
            if names
            else tuple(busiest_cached(store, exchange, timeframe, DEFAULT_UNIVERSE))
        )
        req = HistoryRequest(exchange, symbols, timeframe, since, until, spot)
        return history_from_store(store, req, notes)

    return await asyncio.to_thread(cached)


async def _busiest_online(source: MarketData, markets: Sequence[Market]) -> tuple[str, ...]:
    from perptui.services.scan import linear_perps

    perps = {m.symbol for m in linear_perps(list(markets))}
    tickers = await source.fetch_tickers()
    volume = {s: t.quote_volume_24h for s, t in tickers.items() if s in perps and t.quote_volume_24h}
    return tuple(sorted(volume, key=lambda s: (-volume[s], s))[:DEFAULT_UNIVERSE])
