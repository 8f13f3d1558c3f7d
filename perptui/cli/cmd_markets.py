"""`perptui markets`: market metadata with maintenance-margin tiers, live or from the cache."""

from __future__ import annotations

import argparse

from perptui.domain.errors import PerptuiError
from perptui.domain.symbols import resolve_symbol
from perptui.domain.types import Market
from perptui.presentation.numbers import num, pct, staleness

from .context import deadline_for, open_store, settings_from_args, unreachable
from .output import note, out, print_json


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


async def load_markets(settings, store, *, cache_ok: bool = False) -> list[Market]:
    """Markets from the source (refreshing the cache), or from the cache alone when offline. With
    ``cache_ok``, also when the exchange fails or does not answer within ``network.deadline_s`` (a note
    on stderr says so and how old they are); else that is an error saying what the cache holds."""
    exchange = settings.exchange_name
    if settings.offline:
        return cached_markets(settings, store)
    from perptui.services.live_or_cache import read_markets
    from perptui.services.sources import open_market_data

    source = open_market_data(settings, store)
    try:
        read = await read_markets(source, store, exchange, deadline_for(settings))
    finally:
        await source.close()
    if read.error is not None:
        if not cache_ok or not read.markets:
            raise unreachable(read.error, store, exchange, "markets")
        note(
            f"{read.freshness.reason}: {exchange} markets from the cache, {staleness(read.freshness.age_ms)}"
        )
    return read.markets


def select(markets: list[Market], names: list[str], exchange: str) -> list[Market]:
    if not names:
        return markets
    by_symbol = {m.symbol: m for m in markets}
    chosen = [resolve_symbol(name, list(by_symbol), exchange) for name in names]
    return [by_symbol[s] for s in dict.fromkeys(chosen)]


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with open_store(settings) as store:
        if settings.offline:  # no event loop needed: the cache is all there is
            markets = cached_markets(settings, store)
        else:
            import asyncio

            markets = asyncio.run(load_markets(settings, store, cache_ok=True))
    selected = select(markets, split_symbols(args.symbols), settings.exchange_name)
    approximate = [m.symbol for m in selected if m.tiers_approximate]
    if approximate:
        note(
            f"{len(approximate)} market(s) have approximate tiers (conservative defaults; the exchange "
            f"served none without an API key): import real ones with 'perptui import --tiers FILE'"
        )
    if args.json:
        print_json([m.as_dict() for m in selected])
        return 0
    render(selected, settings.exchange_name, detail=len(selected) <= 3)
    return 0


def render(markets: list[Market], exchange: str, detail: bool) -> None:
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
