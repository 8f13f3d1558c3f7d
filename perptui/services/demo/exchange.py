"""``DemoExchange``: the built-in, offline, deterministic demo market (implements ``MarketData``).

Same seed and same clock time give identical answers from every method; the clock only decides how
much of the fixed hourly grid (from 2022-01-01T00:00Z) has happened. Between hourly closes the price
follows a seeded path, so ticks move as the clock does and the current bar always matches the tick.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import numpy as np

from perptui.domain.errors import AuthenticationError, ExchangeError
from perptui.domain.symbols import resolve_symbol
from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import (
    Balance,
    Candle,
    FundingPrint,
    FundingRate,
    LeverageTier,
    Market,
    Position,
    Ticker,
)
from perptui.services.clock import Clock, SystemClock
from perptui.services.demo.funding import funding_from_premium
from perptui.services.demo.intrahour import KNOT_MS, HourPath, sub_bars
from perptui.services.demo.prices import FactorSim
from perptui.services.demo.rng import hash_uniform
from perptui.services.demo.series import Bars, CoinSeries
from perptui.services.demo.universe import ORIGIN_MS, UNIVERSE, CoinSpec, build_market, build_tiers

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
_MONDAY_OFFSET_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; weekly bars open on Mondays, as Binance's do
FUNDING_PAGE = 1000
OHLCV_PAGE = 1500
_WHERE = "the demo market"

P = ParamSpec("P")
R = TypeVar("R")


def _serialised(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """One call at a time: the app's workers call the demo market from several threads (each with its
    own event loop), and its series grow and cache as they are read. The methods never await, so the
    lock is never held across a suspension."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0]._lock:  # type: ignore[attr-defined]  # args[0] is self, a DemoExchange; P.args is untyped
            return await method(*args, **kwargs)

    return call


OFFERED_TIMEFRAMES = (
    "1m, 3m, 5m, 15m, 30m (any number of minutes dividing an hour) "
    "and whole hours: 1h, 2h, 4h, 8h, 12h, 1d, 3d, 1w"
)
_MARK_NOISE = 0.00002  # mark differs from last by up to 0.2 bp


class DemoExchange:
    """Simulated USDT-margined perps named ``<COIN>DEMO/USDT:USDT``, each with a ``<COIN>DEMO/USDT`` spot."""

    name = "demo"
    is_demo = True

    def __init__(self, seed: int = 7, clock: Clock | None = None) -> None:
        self.seed = int(seed)
        self.clock: Clock = clock if clock is not None else SystemClock()
        factor = FactorSim(self.seed)
        self._specs: dict[str, CoinSpec] = {s.symbol: s for s in UNIVERSE}
        self._series: dict[str, CoinSeries] = {s.symbol: CoinSeries(s, self.seed, factor) for s in UNIVERSE}
        self._tiers: dict[str, tuple[LeverageTier, ...]] = {s.symbol: build_tiers(s) for s in UNIVERSE}
        self._spot_to_perp = {s.spot_symbol.upper(): s.symbol for s in UNIVERSE}
        self._perps = [s.symbol for s in UNIVERSE]
        self._lock = threading.RLock()

    # -- symbols ------------------------------------------------------------------------------------

    def resolve(self, name: str, allow_spot: bool = False) -> tuple[str, bool]:
        """``(perp symbol, is_spot)`` for a user's name: ``BTCDEMO``, ``BTCDEMOUSDT``, ``BTCDEMO/USDT:USDT``
        (and ``BTCDEMO/USDT``, the spot market, when ``allow_spot``). Raises UnknownSymbol."""
        text = name.strip().upper()
        if allow_spot and text in self._spot_to_perp:
            return self._spot_to_perp[text], True
        return resolve_symbol(name, self._perps, _WHERE), False

    def _resolve_many(self, symbols: list[str] | None) -> list[str]:
        return list(self._perps) if symbols is None else [self.resolve(s)[0] for s in symbols]

    # -- time ---------------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock.now_ms())

    def _series_to(self, symbol: str, now: int, extra_hours: int = 1) -> CoinSeries:
        series = self._series[symbol]
        series.ensure(max(now - ORIGIN_MS, 0) // HOUR_MS + extra_hours)
        return series

    # -- live state ---------------------------------------------------------------------------------

    def _hour_path(self, series: CoinSeries, hour: int, spot: bool) -> tuple[HourPath, Bars]:
        """The path and stored bar of one hour, for the perp (last price) or its spot market."""
        path = series.path(hour)
        if not spot:
            return path, series.perp_bars(hour, hour + 1)
        bar = series.spot_bars(hour, hour + 1)
        basis = float(series.basis(hour, hour + 1)[0])
        knots = np.round(path.knots / basis, series.decimals)
        knots[0] = bar.open[0]
        return HourPath(knots, path.cum_volume), bar

    def _partial(self, series: CoinSeries, hour: int, offset_ms: int, spot: bool) -> Bars:
        """The bar of ``hour`` as it stands ``offset_ms`` into it."""
        path, bar = self._hour_path(series, hour, spot)
        price, high, low, vol_frac = path.at(offset_ms, series.decimals)
        volume = round(float(bar.volume[0]) * vol_frac, series.vol_decimals)
        return Bars(bar.open[:1], np.array([high]), np.array([low]), np.array([price]), np.array([volume]))

    def _live(self, symbol: str, now: int) -> tuple[float, float, float]:
        """(last, mark, index) at ``now``."""
        series = self._series_to(symbol, now)
        t = max(now, ORIGIN_MS)
        hour, offset = divmod(t - ORIGIN_MS, HOUR_MS)
        last, _, _, _ = series.path(hour).at(offset, series.decimals)
        basis = float(series.basis(hour, hour + 1)[0])
        dec = series.decimals + 2
        index = round(last / basis, dec)
        wiggle = _MARK_NOISE * (2.0 * hash_uniform(self.seed, series.key, t // 1000) - 1.0)
        mark = round(last * (1.0 + wiggle), dec)
        return last, mark, index

    # -- MarketData ---------------------------------------------------------------------------------

    @_serialised
    async def load_markets(self) -> list[Market]:
        """Every market, sorted by symbol (as the ccxt adapter and the cache return them)."""
        now = self._now()
        return sorted((build_market(spec, now) for spec in UNIVERSE), key=lambda m: m.symbol)

    @_serialised
    async def fetch_leverage_tiers(self, symbols: list[str] | None = None) -> dict[str, list[LeverageTier]]:
        return {s: list(self._tiers[s]) for s in self._resolve_many(symbols)}

    @_serialised
    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Last (the path of the current hour at the clock's ms), mark (last within 0.2 bp), index (the
        spot price: last / (1 + premium)), 24h quote volume and open interest."""
        now = self._now()
        out: dict[str, Ticker] = {}
        for symbol in self._resolve_many(symbols):
            series = self._series_to(symbol, now)
            last, mark, index = self._live(symbol, now)
            t = max(now, ORIGIN_MS)
            hour, offset = divmod(t - ORIGIN_MS, HOUR_MS)
            # 24h quote volume: the part of the hour a day ago still in the window, the full hours since,
            # and the current hour so far.
            lo = max(hour - 24, 0)
            full = series.perp_bars(lo, hour)
            typical = (full.high + full.low + full.close) / 3.0
            quote = typical * full.volume
            if hour >= 24:
                quote[0] *= 1.0 - offset / HOUR_MS
            part = self._partial(series, hour, offset, spot=False)
            qv = float(quote.sum()) + float(part.volume[0]) * last
            oi_usd = float(series.oi_usd[hour])
            oi = round(oi_usd / mark, series.vol_decimals)
            out[symbol] = Ticker(
                symbol=symbol,
                timestamp=now,
                last=last,
                mark=mark,
                index=index,
                quote_volume_24h=round(qv, 2),
                open_interest=oi,
                open_interest_usd=round(oi * mark, 2),
            )
        return out

    @_serialised
    async def fetch_funding_rates(self, symbols: list[str] | None = None) -> dict[str, FundingRate]:
        """The current period: ``rate`` is the accruing rate (Binance's formula on the premium of the
        period's completed hours), ``predicted_rate`` what a period at the latest hour's premium would
        settle at, ``next_funding_time`` when the current period settles."""
        now = self._now()
        out: dict[str, FundingRate] = {}
        for symbol in self._resolve_many(symbols):
            spec = self._specs[symbol]
            series = self._series_to(symbol, now, extra_hours=9)
            times, _, intervals = series.prints()
            t = max(now, ORIGIN_MS)
            i = int(np.searchsorted(times, t, side="right"))
            next_time = int(times[i])
            k = int(intervals[i])
            hour = (t - ORIGIN_MS) // HOUR_MS
            start = (next_time - k * HOUR_MS - ORIGIN_MS) // HOUR_MS
            premium = series.premium
            # The accruing rate: Binance's formula on the premium of the period's completed hours so far.
            done = premium[start:hour]
            avg = float(done.mean()) if len(done) else float(premium[max(hour - 1, 0)])
            cap8 = spec.params.funding_cap8
            rate = float(funding_from_premium(avg, k, cap8))
            predicted = float(funding_from_premium(float(premium[max(hour - 1, 0)]), k, cap8))
            _, mark, index = self._live(symbol, now)
            out[symbol] = FundingRate(
                symbol=symbol,
                timestamp=now,
                rate=rate,
                next_funding_time=next_time,
                predicted_rate=predicted,
                interval_hours=float(k),
                mark=mark,
                index=index,
            )
        return out

    @_serialised
    async def fetch_funding_history(
        self, symbol: str, since: int, until: int | None = None, limit: int | None = None
    ) -> list[FundingPrint]:
        perp, _ = self.resolve(symbol)
        now = self._now()
        if now < ORIGIN_MS:
            return []
        page = _page(limit, FUNDING_PAGE)
        times, rates, _ = self._series_to(perp, now).prints()
        end = now + 1 if until is None else min(until, now + 1)  # prints at time <= now exist
        lo = int(np.searchsorted(times, since, side="left"))
        hi = int(np.searchsorted(times, end, side="left"))
        hi = min(hi, lo + page)
        return [FundingPrint(perp, int(times[j]), float(rates[j])) for j in range(lo, hi)]

    @_serialised
    async def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str,
        since: int,
        until: int | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        perp, spot = self.resolve(symbol, allow_spot=True)
        tf = timeframe_ms(timeframe)
        now = self._now()
        page = _page(limit, OHLCV_PAGE)
        if tf % HOUR_MS == 0:
            return self._ohlcv_hours(perp, spot, tf, since, until, page, now)
        if HOUR_MS % tf == 0 and tf % KNOT_MS == 0:
            return self._ohlcv_minutes(perp, spot, tf, since, until, page, now)
        raise ExchangeError(f"the demo market has no {timeframe} bars; it offers {OFFERED_TIMEFRAMES}")

    async def fetch_balance(self) -> Balance:
        raise AuthenticationError(_NO_ACCOUNT)

    async def fetch_positions(self) -> list[Position]:
        raise AuthenticationError(_NO_ACCOUNT)

    async def close(self) -> None:
        return None

    # -- bars ---------------------------------------------------------------------------------------

    def _bar_opens(
        self, tf: int, since: int, until: int | None, page: int, now: int
    ) -> tuple[int, int] | None:
        """(first open, number of bars) of the bars to return, or None when there are none."""
        offset = _MONDAY_OFFSET_MS if tf % WEEK_MS == 0 else 0
        first_with_data = offset + (ORIGIN_MS - offset) // tf * tf  # the bar holding the origin
        first = max(offset + -(-(since - offset) // tf) * tf, first_with_data)
        last = offset + (now - offset) // tf * tf  # bars whose open <= now exist
        if until is not None:
            last = min(last, offset + -(-(until - offset) // tf) * tf - tf)  # open < until
        if now < ORIGIN_MS or last < first:
            return None
        return first, min((last - first) // tf + 1, page)

    def _hours(self, series: CoinSeries, spot: bool, lo: int, hi: int, now: int) -> Bars:
        """Hourly bars of hours [lo, hi], the one holding ``now`` as it stands at ``now``."""
        h_now, offset = divmod(now - ORIGIN_MS, HOUR_MS)
        full_hi = min(hi + 1, h_now)
        parts = [(series.spot_bars if spot else series.perp_bars)(lo, full_hi)] if full_hi > lo else []
        if hi >= h_now:
            parts.append(self._partial(series, h_now, offset, spot))
        return Bars(*(np.concatenate([getattr(p, f) for p in parts]) for f in Bars.__dataclass_fields__))

    def _ohlcv_hours(
        self, perp: str, spot: bool, tf: int, since: int, until: int | None, page: int, now: int
    ) -> list[Candle]:
        span = self._bar_opens(tf, since, until, page, now)
        if span is None:
            return []
        first, n = span
        series = self._series_to(perp, now)
        end = first + n * tf  # exclusive
        lo = max(first - ORIGIN_MS, 0) // HOUR_MS
        hi = min((end - ORIGIN_MS) // HOUR_MS - 1, (now - ORIGIN_MS) // HOUR_MS)
        bars = self._hours(series, spot, lo, hi, now)
        hour_times = ORIGIN_MS + (lo + np.arange(len(bars.close), dtype=np.int64)) * HOUR_MS
        which = (hour_times - first) // tf
        starts = np.flatnonzero(np.concatenate(([True], which[1:] != which[:-1])))
        ends = np.concatenate((starts[1:], [len(which)])) - 1
        highs = np.maximum.reduceat(bars.high, starts)
        lows = np.minimum.reduceat(bars.low, starts)
        vols = np.round(np.add.reduceat(bars.volume, starts), series.vol_decimals)
        return [
            Candle(
                int(first + which[s] * tf),
                float(bars.open[s]),
                float(highs[j]),
                float(lows[j]),
                float(bars.close[e]),
                float(vols[j]),
            )
            for j, (s, e) in enumerate(zip(starts, ends, strict=True))
        ]

    def _ohlcv_minutes(
        self, perp: str, spot: bool, tf: int, since: int, until: int | None, page: int, now: int
    ) -> list[Candle]:
        span = self._bar_opens(tf, since, until, page, now)
        if span is None:
            return []
        first, n = span
        series = self._series_to(perp, now)
        end = first + n * tf
        h_now, offset = divmod(now - ORIGIN_MS, HOUR_MS)
        out: list[Candle] = []
        for hour in range((first - ORIGIN_MS) // HOUR_MS, (end - 1 - ORIGIN_MS) // HOUR_MS + 1):
            path, bar = self._hour_path(series, hour, spot)
            upto = offset if hour == h_now else None
            start = ORIGIN_MS + hour * HOUR_MS
            bars = sub_bars(
                path, float(bar.volume[0]), tf // KNOT_MS, series.decimals, series.vol_decimals, upto
            )
            for off, o, h, lo_, c, v in bars:
                if first <= start + off < end:
                    out.append(Candle(start + off, o, h, lo_, c, v))
        return out


_NO_ACCOUNT = "the demo market has no exchange account (balance, positions): use the paper account instead"


def _page(limit: int | None, default: int) -> int:
    """The page size: ``limit`` when given, never more than the exchange's maximum (like Binance)."""
    if limit is None:
        return default
    if limit < 1:
        raise ExchangeError(f"limit must be at least 1 (got {limit})")
    return min(int(limit), default)


__all__ = ["OFFERED_TIMEFRAMES", "DemoExchange"]
