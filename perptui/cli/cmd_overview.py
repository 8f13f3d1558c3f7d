"""`perptui overview` (and `perptui` with no command): the market at a glance, busiest first."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from perptui.domain.errors import ExchangeUnavailable
from perptui.domain.funding import apr
from perptui.domain.timeframes import iso_utc
from perptui.presentation.numbers import pct, price
from perptui.presentation.scan import countdown as fmt_countdown
from perptui.services.clock import FrozenClock

from .cmd_markets import load_markets, select, split_symbols
from .context import open_store, settings_from_args, unreachable
from .output import out, print_json


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with open_store(settings) as store:
        rows, now, clock_note = asyncio.run(_collect(settings, store, args))
    if args.json:
        print_json({"exchange": settings.exchange_name, "asof": iso_utc(now), "rows": rows})
    else:
        _render(rows, settings.exchange_name, now, clock_note)
    return 0


async def _collect(settings, store, args):
    from perptui.services.sources import clock_for, open_market_data

    exchange = settings.exchange_name
    markets = select(await load_markets(settings, store), split_symbols(args.symbols), exchange)
    symbols = [m.symbol for m in markets]
    clock = clock_for(settings)
    now = clock.now_ms()
    if settings.offline:
        tickers = {s: t for s, t in store.latest_tickers(exchange).items() if s in symbols}
        funding: dict[str, Any] = {}
    else:
        source = open_market_data(settings, store, clock)
        try:
            tickers, funding = await asyncio.gather(
                source.fetch_tickers(symbols), source.fetch_funding_rates(symbols)
            )
        except ExchangeUnavailable as exc:
            raise unreachable(exc, store, exchange, "tickers") from None
        finally:
            await source.close()
        store.insert_tickers(exchange, list(tickers.values()))
    rows: list[dict[str, Any]] = []
    for m in markets:
        t = tickers.get(m.symbol)
        f = funding.get(m.symbol)
        interval = (f.interval_hours if f else None) or m.funding_interval_hours
        rate = f.rate if f else None
        rows.append(
            {
                "symbol": m.symbol,
                "last": t.last if t else None,
                "price_tick": m.price_tick,
                "mark": t.mark if t else None,
                "volume_24h_usd": t.quote_volume_24h if t else None,
                "open_interest_usd": t.open_interest_usd if t else None,
                "funding_rate": rate,
                "interval_hours": interval,
                "apr": apr(rate, interval),
                "next_funding_time": iso_utc(f.next_funding_time) if f else None,
                "next_funding_in_ms": (f.next_funding_time - now) if f and f.next_funding_time else None,
                "max_leverage": m.max_leverage,
            }
        )
    rows.sort(key=lambda r: -(r["volume_24h_usd"] or 0))
    note = f" (clock frozen at {iso_utc(now)})" if isinstance(clock, FrozenClock) else ""
    return rows[: max(args.top, 0)] if args.top else rows, now, note


def _render(rows: list[dict], exchange: str, now: int, clock_note: str) -> None:
    title = f"{exchange.upper()} USDT perpetuals, busiest first — {iso_utc(now)}{clock_note}"
    if exchange == "demo":
        title += "\nDEMO market: simulated data for practice, not real prices"
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("perp", "mark", "24h vol", "OI", "funding", "per", "next", "APR"):
        table.add_column(column, justify="left" if column == "perp" else "right", no_wrap=True)
    for r in rows:
        rate = r["funding_rate"]
        style = "" if rate is None else ("green" if rate >= 0 else "red")
        table.add_row(
            r["symbol"].split("/")[0],
            price(r["mark"], r["price_tick"]),
            _money(r["volume_24h_usd"]),
            _money(r["open_interest_usd"]),
            Text(pct(rate, 4), style=style),
            "—" if r["interval_hours"] is None else f"{r['interval_hours']:g}h",
            fmt_countdown(r["next_funding_in_ms"]),
            Text(pct(r["apr"], 1), style=style),
        )
    out().print(table)


def _money(value: float | None) -> str:
    if value is None:
        return "—"
    for suffix, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"${value / size:,.1f}{suffix}"
    return f"${value:,.0f}"
