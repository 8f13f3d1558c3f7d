"""`perptui markets`: market metadata with maintenance-margin tiers, live or from the cache."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from perptui.domain.errors import PerptuiError
from perptui.domain.symbols import resolve_symbol
from perptui.domain.types import Market
from perptui.presentation.numbers import num, pct, staleness
from perptui.presentation.scan import coverage_line
from perptui.services.clock import SystemClock

from .context import deadline_for, open_store, settings_from_args, unreachable
from .output import note, out, print_json

if TYPE_CHECKING:
    from perptui.services.cache_report import PerpCache


def split_symbols(values: list[str] | None) -> list[str]:
    """``--symbols BTCUSDT ETHUSDT`` and ``--symbols BTCUSDT,ETHUSDT`` alike."""
    return [part for value in values or [] for part in value.split(",") if part.strip()]


def cached_markets(settings, store) -> list[Market]:
    exchange = settings.exchange_name
    markets = store.load_markets(exchange)
    if not markets:
        raise PerptuiError(
            f"the cache holds no markets for {exchange}; run 'perptui markets --exchange {exchange}' "
            "online once first"
        )
    return markets


async def load_markets(
    settings, store, names: list[str] | None = None, *, cache_ok: bool = False
) -> list[Market]:
    """Markets from the source (refreshing the cache), or from the cache alone when offline. The markets
    ``names`` picks get the tiers the exchange serves per symbol (where it has no bulk endpoint), and
    those go to the cache with the markets. With ``cache_ok``, the cache also stands in when the exchange
    fails or does not answer within ``network.deadline_s`` (a note on stderr says so and how old they
    are); else that is an error saying what the cache holds."""
    exchange = settings.exchange_name
    if settings.offline:
        return cached_markets(settings, store)
    from perptui.services.live_or_cache import read_markets
    from perptui.services.sources import open_market_data
    from perptui.services.symbol_tiers import fetch_symbol_tiers

    source = open_market_data(settings, store)
    try:
        deadline = deadline_for(settings)
        read = await read_markets(source, store, exchange, deadline)
        markets = read.markets
        if read.error is None and names:
            wanted = [m.symbol for m in select(markets, names, exchange)]
            try:
                markets, problem = await deadline.run(lambda: fetch_symbol_tiers(source, markets, wanted))
            except PerptuiError as exc:
                problem = f"leverage tiers of {', '.join(wanted)} not read ({exc})"
            if problem:
                note(f"{exchange}: {problem}")
            else:
                store.upsert_markets(exchange, markets, SystemClock().now_ms())
    finally:
        await source.close()
    if read.error is not None:
        if not cache_ok or not read.markets:
            raise unreachable(read.error, store, exchange, "markets")
        note(
            f"{read.freshness.reason}: {exchange} markets from the cache, {staleness(read.freshness.age_ms)}"
        )
    return markets


def select(markets: list[Market], names: list[str], exchange: str) -> list[Market]:
    if not names:
        return markets
    by_symbol = {m.symbol: m for m in markets}
    chosen = [resolve_symbol(name, list(by_symbol), exchange) for name in names]
    return [by_symbol[s] for s in dict.fromkeys(chosen)]


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    names = split_symbols(args.symbols)
    with open_store(settings) as store:
        if settings.offline:  # no event loop needed: the cache is all there is
            markets = cached_markets(settings, store)
        else:
            import asyncio

            markets = asyncio.run(load_markets(settings, store, names, cache_ok=True))
        selected = select(markets, names, settings.exchange_name)
        held = _cached(settings, store, selected) if args.json or len(selected) <= 3 else {}
    approximate = [m.symbol for m in selected if m.tiers_approximate]
    if approximate:
        note(
            f"{len(approximate)} market(s) have approximate tiers (conservative defaults; the exchange "
            f"served none, e.g. without an API key): import real ones with 'perptui import --tiers FILE'"
        )
    if args.json:
        print_json([{**m.as_dict(), "cached": held[m.symbol].as_dict()} for m in selected])
        return 0
    render(selected, settings.exchange_name, detail=len(selected) <= 3, held=held)
    return 0


def _cached(settings, store, markets: list[Market]) -> dict[str, PerpCache]:
    """What the cache holds of each market, as of the source's clock (the demo market's may be frozen)."""
    from perptui.services.cache_report import cache_report
    from perptui.services.sources import clock_for

    return cache_report(store, settings.exchange_name, markets, clock_for(settings).now_ms())


def render(
    markets: list[Market], exchange: str, detail: bool, held: dict[str, PerpCache] | None = None
) -> None:
    from rich.table import Table

    console = out()
    title = f"{exchange.upper()} — {len(markets)} linear perpetuals"
    if exchange == "demo":
        title += " (DEMO data: simulated, not a real market)"
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in (
        "symbol",
        "step",
        "tick",
        "min qty",
        "min notional",
        "taker",
        "maker",
        "max lev",
        "funding",
    ):
        table.add_column(column, justify="left" if column == "symbol" else "right")
    for m in markets:
        table.add_row(
            m.symbol,
            num(m.amount_step),
            num(m.price_tick),
            num(m.min_qty),
            num(m.min_notional),
            pct(m.taker_fee, 3),
            pct(m.maker_fee, 3),
            "—" if m.max_leverage is None else f"{m.max_leverage:g}x",
            "—" if m.funding_interval_hours is None else f"{m.funding_interval_hours:g}h",
        )
    console.print(table)
    if not detail:
        return
    for m in markets:
        if held and m.symbol in held:
            console.print(cache_line(held[m.symbol]), markup=False, highlight=False, soft_wrap=True)
        tiers = Table(
            title=f"{m.symbol} maintenance margin tiers"
            + (" (approximate: the exchange served none)" if m.tiers_approximate else ""),
            title_justify="left",
            header_style="bold",
        )
        for column in ("notional from", "to", "MMR", "maint. amount", "max lev"):
            tiers.add_column(column, justify="right")
        for t in m.tiers:
            tiers.add_row(
                f"{t.min_notional:,.0f}",
                "∞" if t.max_notional == float("inf") else f"{t.max_notional:,.0f}",
                pct(t.mmr, 2),
                f"{t.maint_amount:,.2f}",
                f"{t.max_leverage:g}x",
            )
        console.print(tiers)


def cache_line(held: PerpCache) -> str:
    """``BTC/USDT:USDT cached: funding 7d 21/21 · 30d 90/90 · 90d 270/270, newest print ...; ticker ...``."""
    from perptui.domain.timeframes import iso_utc

    newest = "" if held.last_print is None else f", newest print {iso_utc(held.last_print)}"
    t = held.ticker
    ticker = "no ticker" if t is None else f"ticker {iso_utc(t.timestamp)}"
    age = "" if t is None else f" ({staleness(max(0, held.asof - t.timestamp))})"
    return f"{held.symbol} cached: funding prints {coverage_line(held.coverage)}{newest}; {ticker}{age}"
