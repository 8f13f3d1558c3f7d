"""One ``Observation`` for the alert rules, from what the risk monitor already has: its report (positions,
loss today, drawdown, breaker), the paper engine's events (stop and take-profit fills), the funding of
the watched perps (held, in a carry pair, or named by a funding or price rule) and the data's age.

Unknown stays None: a figure the report could not compute, a rate the exchange did not give.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from perptui.domain.alerts.evaluate import symbol_matches
from perptui.domain.alerts.observe import CarryObs, FillObs, FundingObs, Observation, PositionObs, PriceObs
from perptui.domain.alerts.rules import EVERY_PERP, AlertRule
from perptui.domain.funding import apr

if TYPE_CHECKING:
    from perptui.domain.funding_stats import FundingHistoryStats
    from perptui.domain.types import FundingRate, Market
    from perptui.services.marketdata import MarketData
    from perptui.services.paper.events import PaperEvent
    from perptui.services.risk import RiskContext, RiskReport

FUNDING_KINDS = frozenset({"funding_flip", "funding_z", "funding_apr", "carry_predicted_against",
                           "carry_below_breakeven"})  # fmt: skip
PRICE_KINDS = frozenset({"price_above", "price_below"})


def positions_of(report: RiskReport, stops: Mapping[str, bool] | None = None) -> tuple[PositionObs, ...]:
    """The report's positions; ``stops``: whether a stop protects each exchange position, read back from
    the exchange (live trading, ``LiveTrader.book``), for the no-stop rule the report cannot answer."""
    stops = stops or {}
    return tuple(
        PositionObs(
            p.symbol,
            p.side,
            p.mark,
            None if p.liq_distance is None else p.liq_distance * 100,
            p.liq_distance_sigma,
            p.margin_ratio,
            p.has_stop if p.has_stop is not None else stops.get(p.symbol),
        )
        for p in report.positions
    )


def fills_of(events: Iterable[PaperEvent]) -> tuple[FillObs, ...]:
    out = []
    for e in events:
        if e.kind in ("stop", "take_profit"):
            qty = sum(f.qty for f in e.fills)
            price = e.fills[-1].price if e.fills else 0.0
            out.append(FillObs(e.symbol, e.kind, price, qty, e.time))
    return tuple(out)


def watched(rules: Sequence[AlertRule], held: Iterable[str], markets: Iterable[Market]) -> tuple[list, list]:
    """(perps whose funding is watched, perps whose price is watched): held perps and those a funding
    rule names watch funding (``*``: every perp of the exchange, the scanner's list); a price rule's
    market is read for its mark. A funding rule without a market watches the held ones."""
    held = set(held)
    names = [m.symbol for m in markets]
    funding = set(held)
    prices: set[str] = set()
    for rule in rules:
        if rule.muted or rule.symbol is None:
            continue
        found = names if rule.symbol == EVERY_PERP else [s for s in names if symbol_matches(rule.symbol, s)]
        if rule.kind in FUNDING_KINDS:
            funding.update(found)
        elif rule.kind in PRICE_KINDS:
            prices.update(s for s in found if s not in held)
    return sorted(funding), sorted(prices)


async def observe(
    ctx: RiskContext,
    report: RiskReport,
    events: Sequence[PaperEvent],
    source: MarketData | None,
    rules: Sequence[AlertRule],
    stops: Mapping[str, bool] | None = None,
) -> Observation:
    """The observation at the report's time. Funding and marks of the watched perps come from
    ``source`` (one request), their z-scores from the cached history; without a source (offline, or
    the exchange unreachable) they are unknown."""
    from perptui.services.scan import history_stats_of

    now = report.as_of
    positions = positions_of(report, stops)
    held = [p.symbol for p in positions]
    pairs = ctx.engine.pairs() if ctx.engine is not None else []
    markets = await asyncio.to_thread(ctx.store.load_markets, ctx.exchange) or list(ctx.markets.values())
    funding_symbols, price_symbols = watched(rules, [*held, *(p.symbol for p in pairs)], markets)
    rates: dict[str, FundingRate] = {}
    if source is not None and ctx.live and (funding_symbols or price_symbols):
        from perptui.domain.errors import PerptuiError

        try:
            rates = await source.fetch_funding_rates(sorted({*funding_symbols, *price_symbols}))
        except PerptuiError:
            rates = {}
    by_symbol = {m.symbol: m for m in markets}
    chosen = [by_symbol[s] for s in funding_symbols if s in by_symbol]
    stats = (
        await asyncio.to_thread(history_stats_of, ctx.store, ctx.exchange, chosen, now, rates)
        if chosen
        else {}
    )
    funding = tuple(_funding(s, rates.get(s), stats.get(s)) for s in funding_symbols)
    carries = tuple(_carry(p.symbol, rates.get(p.symbol), stats.get(p.symbol)) for p in pairs)
    prices = tuple(PriceObs(s, rates[s].mark if s in rates else None) for s in price_symbols)
    p = report.portfolio
    return Observation(
        now=now,
        positions=positions,
        fills=fills_of(events),
        daily_loss_pct=None if p.daily_loss is None else p.daily_loss * 100,
        drawdown_pct=None if p.drawdown is None else p.drawdown * 100,
        breaker_tripped=report.breaker.tripped,
        funding=funding,
        carries=carries,
        data_age_ms=_data_age(ctx, now),
        reachable=ctx.live,
        prices=prices,
    )


def _interval(rate: FundingRate, stats: FundingHistoryStats | None) -> float | None:
    """The rate's interval: the exchange's, else the spacing of the cached prints; else unknown."""
    return rate.interval_hours or (stats.last_interval_h if stats is not None else None)


def _funding(symbol: str, rate: FundingRate | None, stats: FundingHistoryStats | None) -> FundingObs:
    last = stats.last_rate if stats is not None else None
    if rate is None:
        return FundingObs(symbol, previous_rate=last)
    yearly = apr(rate.rate, _interval(rate, stats))
    return FundingObs(
        symbol,
        rate=rate.rate,
        apr_pct=None if yearly is None else yearly * 100,
        z=stats.zscore_30d if stats is not None else None,
        predicted_rate=rate.predicted_rate,
        previous_rate=last,
    )


def _carry(symbol: str, rate: FundingRate | None, stats: FundingHistoryStats | None) -> CarryObs:
    """A pair (spot long + perp short) earns the funding rate: its fees were paid when it opened, so it
    breaks even while the rate's APR stays above 0."""
    if rate is None:
        return CarryObs(symbol)
    yearly = apr(rate.rate, _interval(rate, stats))
    predicted = rate.predicted_rate if rate.predicted_rate is not None else rate.rate
    return CarryObs(symbol, None if yearly is None else yearly * 100, 0.0, predicted)


def _data_age(ctx: RiskContext, now: int) -> int | None:
    """How old the newest market data is: 0 after a live refresh, else the cached tickers' age."""
    if ctx.live:
        return 0
    return ctx.store.cache_age_ms(ctx.exchange, "tickers", now)
