"""The hybrid plan's inputs: settings to ``PlanConfig``, and the market data to ``PlanInputs``.

``load_plan_inputs(source, store, exchange, config, clock)``. Online: the markets, the current funding
rates and tickers (marks, 24h volume), then the history the plan needs, only what the cache lacks:

- candidates: the ``2 x universe_size`` busiest perps (the directional universe is picked from them)
  and the ``3 x neutral_count`` perps with a spot twin whose current funding is largest in size (the
  neutral base's); 40 to 60 series on a large exchange, not all 500;
- their funding prints over the lookback (+ a day) and closed bars of ``config.timeframe`` covering
  the signals' windows and the lookback; daily bars over the regime's history (a year) for the
  directional candidates.

The network is awaited on the caller's loop and every SQLite read and write runs in a thread
(``asyncio.to_thread``; the backfill's with ``offload=True``), so the app's loop is never held up by the
store. Offline (``source`` None) or unreachable (ExchangeUnavailable, said in a note): everything from
the cache; marks are the newest cached ticker's, else the last cached close (said in a note); the 24h
volume is the ticker's, else the last day of cached bars.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from perptui.domain.errors import ExchangeError, ExchangeUnavailable, UnknownSymbol
from perptui.domain.funding import apr
from perptui.domain.plan import PlanConfig, PlanInputs
from perptui.domain.plan.directional import lookback_bars
from perptui.domain.plan.signals import min_closes
from perptui.domain.timeframes import DAY_MS, timeframe_ms
from perptui.domain.types import FundingRate, Market
from perptui.services.backfill import CLOSE_MARGIN_MS

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store

Series = list[tuple[int, float]]
#: Bars beyond the strict minimum fetched for the signals (a missing bar or two must not starve them).
SPARE_BARS = 5


def plan_config(settings: Settings, **overrides: object) -> PlanConfig:
    """``[plan]`` (and the carry costs of ``[scan]``) as a PlanConfig, with ``overrides`` on top; the
    caller passes ``capital``. Percents of the config file become fractions here."""
    p, s = settings.plan, settings.scan
    values: dict[str, object] = {
        "neutral_pct": p.neutral_pct,
        "universe_size": p.universe_size,
        "neutral_count": p.neutral_count,
        "min_carry_apr": p.min_carry_apr_pct / 100,
        "objective": p.objective,
        "risk_aversion": p.risk_aversion,
        "leverage_cap": p.leverage_cap,
        "max_weight": p.max_weight_pct / 100,
        "vol_target": p.vol_target_pct / 100,
        "lookback_days": p.lookback_days,
        "timeframe": p.timeframe,
        "regime_k": p.regime_k,
        "regime_zero_at": p.regime_zero_at,
        "hold_days": s.hold_days,
        "spot_taker": s.spot_taker_fee_pct / 100,
        "slippage": s.slippage_bps / 10_000,
        "borrow_apr": s.borrow_apr_pct / 100,
    }
    return PlanConfig(**(values | overrides))  # type: ignore[arg-type]  # PlanConfig checks each value


def inputs_key(config: PlanConfig) -> tuple[object, ...]:
    """The settings ``load_plan_inputs`` depends on: when one of them changes, load the inputs again;
    any other change only needs ``build_plan`` on the same inputs."""
    return (
        config.universe_size,
        config.neutral_count,
        config.lookback_days,
        config.timeframe,
        config.ma_slow,
        config.donchian_bars,
        config.momentum_bars,
        config.regime_window_days,
        config.regime_history_days,
    )


def history_spans(config: PlanConfig, now: int) -> tuple[int, int, int]:
    """(funding since, bars since, daily bars since) the plan reads."""
    tf = timeframe_ms(config.timeframe)
    bars = max(
        min_closes(config.ma_fast, config.ma_slow, config.donchian_bars, config.momentum_bars),
        lookback_bars(config) + 1,
    )
    funding_since = now - (config.lookback_days + 1) * DAY_MS
    bars_since = now - (bars + SPARE_BARS + 1) * tf
    daily_since = now - (config.regime_history_days + config.regime_window_days + SPARE_BARS) * DAY_MS
    return funding_since, bars_since, daily_since


def candidates(
    perps: Sequence[Market], volume: dict[str, float], rates: dict[str, FundingRate], config: PlanConfig
) -> tuple[list[str], list[str]]:
    """(directional candidates: the busiest, neutral candidates: spot twins with the largest |APR|)."""
    busiest = sorted((m.symbol for m in perps if m.symbol in volume), key=lambda s: (-volume[s], s))
    carry: list[tuple[float, str]] = []
    for m in perps:
        if m.spot_symbol is None:
            continue
        fr = rates.get(m.symbol)
        a = apr(fr.rate, fr.interval_hours or m.funding_interval_hours) if fr is not None else None
        carry.append((-abs(a) if a is not None else math.inf, m.symbol))
    carry.sort()
    return busiest[: 2 * config.universe_size], [s for _, s in carry[: 3 * config.neutral_count]]


def linear_perps(markets: Iterable[Market]) -> list[Market]:
    from perptui.services.scan import linear_perps as perps

    return perps(list(markets))


async def load_plan_inputs(
    source: MarketData | None, store: Store, exchange: str, config: PlanConfig, clock: Clock
) -> PlanInputs:
    """Everything ``build_plan`` needs, fetched (online) or from the cache (offline / unreachable)."""
    now = clock.now_ms()
    if source is None:
        return await asyncio.to_thread(
            cached_inputs, store, exchange, config, now, ("offline: from the cache",)
        )
    try:
        return await _live_inputs(source, store, exchange, config, clock, now)
    except ExchangeUnavailable as exc:
        why = f"{exchange} is unreachable ({exc}): the plan uses the cache"
        return await asyncio.to_thread(cached_inputs, store, exchange, config, now, (why,))


async def _live_inputs(
    source: MarketData, store: Store, exchange: str, config: PlanConfig, clock: Clock, now: int
) -> PlanInputs:
    from perptui.services.scan import fetch_live, keep_ticker_snapshot

    markets = await source.load_markets()
    await asyncio.to_thread(store.upsert_markets, exchange, markets, now)
    rates, tickers = await fetch_live(source)
    await asyncio.to_thread(keep_ticker_snapshot, store, exchange, tickers, now)
    perps = linear_perps(markets)
    volume = {s: t.quote_volume_24h for s, t in tickers.items() if t.quote_volume_24h is not None}
    directional, neutral = candidates(perps, volume, rates, config)
    notes = await _backfill(source, store, config, now, clock, directional, neutral)
    marks = {s: m for s, t in tickers.items() if (m := t.mark or t.last)}
    marks |= {s: r.mark for s, r in rates.items() if r.mark}
    return await asyncio.to_thread(
        read_inputs, store, exchange, config, now, perps, directional, neutral, rates, marks, volume, notes
    )


async def _backfill(
    source: MarketData,
    store: Store,
    config: PlanConfig,
    now: int,
    clock: Clock,
    directional: list[str],
    neutral: list[str],
) -> list[str]:
    """Fetch the missing funding and bars of the candidates; notes on symbols the exchange refused."""
    from perptui.services.backfill import backfill_funding, backfill_ohlcv

    funding_since, bars_since, daily_since = history_spans(config, now)
    refused: list[str] = []
    for symbol in dict.fromkeys([*directional, *neutral]):
        try:
            await backfill_funding(source, store, symbol, funding_since, None, clock=clock, offload=True)
            if symbol in directional:
                await backfill_ohlcv(
                    source, store, symbol, config.timeframe, bars_since, None, clock=clock, offload=True
                )
                await backfill_ohlcv(
                    source, store, symbol, "1d", daily_since, None, clock=clock, offload=True
                )
        except ExchangeUnavailable:
            raise
        except (UnknownSymbol, ExchangeError) as exc:
            refused.append(f"{symbol}: {exc}")
    return [f"no history for {r}" for r in refused]


def cached_inputs(
    store: Store, exchange: str, config: PlanConfig, now: int, notes: Sequence[str]
) -> PlanInputs:
    """The inputs from the cache alone (blocking: SQLite)."""
    perps = linear_perps(store.load_markets(exchange))
    tickers = store.latest_tickers(exchange, now)
    notes = list(notes)
    if not perps:
        notes.append(f"the cache holds no markets of {exchange}: run online once (or perptui markets)")
    volume = {s: t.quote_volume_24h for s, t in tickers.items() if t.quote_volume_24h is not None}
    missing = [m.symbol for m in perps if m.symbol not in volume]
    if missing:
        found = _volume_from_bars(store, exchange, missing, now)
        if found:
            notes.append(f"24h volume of {len(found)} perp(s) from the last day of cached bars (no ticker)")
        volume |= found
    directional = candidates(perps, volume, {}, config)[0]
    neutral = [m.symbol for m in perps if m.spot_symbol is not None]  # no current rates: rank them all
    marks = {s: m for s, t in tickers.items() if (m := t.mark or t.last)}
    return read_inputs(store, exchange, config, now, perps, directional, neutral, {}, marks, volume, notes)


def _volume_from_bars(store: Store, exchange: str, symbols: list[str], now: int) -> dict[str, float]:
    """Quote volume of the last closed day (daily bars, else the last 24h of 1h bars)."""
    out: dict[str, float] = {}
    for symbol in symbols:
        for tf in ("1d", "1h", "8h"):
            span = timeframe_ms(tf)
            bars = [
                c
                for c in store.load_ohlcv(exchange, symbol, tf, since=now - DAY_MS - span, until=now)
                if c.time + span <= now
            ]
            if bars:
                last = bars[-1].time + span
                out[symbol] = sum(c.volume * c.close for c in bars if c.time + span > last - DAY_MS)
                break
    return out


def closed_closes(store: Store, exchange: str, symbol: str, timeframe: str, since: int, now: int) -> Series:
    """(open time, close) of the closed bars opened at or after ``since``."""
    span = timeframe_ms(timeframe)
    until = now - span - CLOSE_MARGIN_MS + 1
    return [(c.time, c.close) for c in store.load_ohlcv(exchange, symbol, timeframe, since, until)]


def _last_close(store: Store, exchange: str, symbol: str, now: int) -> float | None:
    for tf in ("1h", "8h", "1d"):
        bars = store.load_ohlcv(exchange, symbol, tf, since=now - 3 * DAY_MS, until=now + 1)
        if bars:
            return bars[-1].close
    return None


def read_inputs(
    store: Store,
    exchange: str,
    config: PlanConfig,
    now: int,
    perps: Sequence[Market],
    directional: Sequence[str],
    neutral: Sequence[str],
    rates: dict[str, FundingRate],
    marks: dict[str, float],
    volume: dict[str, float],
    notes: Sequence[str],
) -> PlanInputs:
    """Join the cached series of the candidates with what was fetched (blocking: SQLite)."""
    by_symbol = {m.symbol: m for m in perps}
    funding_since, bars_since, daily_since = history_spans(config, now)
    wanted = [s for s in dict.fromkeys([*directional, *neutral]) if s in by_symbol]
    if config.timeframe == "1d":  # one read serves both
        daily = {
            s: closed_closes(store, exchange, s, "1d", min(daily_since, bars_since), now) for s in directional
        }
        closes = {s: [c for c in daily[s] if c[0] >= bars_since] for s in directional}
    else:
        closes = {
            s: closed_closes(store, exchange, s, config.timeframe, bars_since, now) for s in directional
        }
        daily = {s: closed_closes(store, exchange, s, "1d", daily_since, now) for s in directional}
    funding = {
        s: [(p.time, p.rate) for p in store.load_funding(exchange, s, funding_since, now + 1)] for s in wanted
    }
    notes = list(notes)
    marks = dict(marks)
    from_closes = 0
    for s in wanted:
        if s not in marks:
            last = closes[s][-1][1] if closes.get(s) else _last_close(store, exchange, s, now)
            if last is not None:
                marks[s], from_closes = last, from_closes + 1
    if from_closes:
        notes.append(f"{from_closes} mark(s) are the last cached close: no ticker for them")
    intervals = {s: (r.interval_hours if (r := rates.get(s)) else None) or by_symbol[s].funding_interval_hours
                 for s in wanted}  # fmt: skip
    return PlanInputs(
        markets=by_symbol,  # every perp: a held one outside the candidates still has its step
        closes=closes,
        funding=funding,
        intervals_h=intervals,
        current_rates={s: rates[s] for s in wanted if s in rates},
        marks=marks,
        spot_available={s for s in wanted if by_symbol[s].spot_symbol is not None},
        volume_usd={s: volume[s] for s in directional if s in volume},
        now=now,
        notes=tuple(notes),
        daily_closes=daily,
    )
