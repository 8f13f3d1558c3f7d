"""`perptui fetch`: resumable backfill of funding and OHLCV history into the cache."""

from __future__ import annotations

import argparse
import asyncio

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from perptui.domain.errors import ExchangeError, ExchangeUnavailable, UsageError
from perptui.domain.timeframes import parse_utc, timeframe_ms
from perptui.domain.types import Market
from perptui.services.clock import SystemClock

from .cmd_markets import cache_line, load_markets, select, split_symbols
from .context import open_store, settings_from_args, unreachable
from .output import err, print_json, say

KINDS = ("funding", "ohlcv")


def parse_kinds(text: str) -> list[str]:
    kinds = [k.strip().lower() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise UsageError(f"bad --kind {text!r}: use funding, ohlcv or funding,ohlcv")
    return list(dict.fromkeys(kinds))


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if settings.offline:
        raise UsageError("fetch downloads history from the exchange, so it cannot run with --offline")
    kinds = parse_kinds(args.kind)
    timeframe_ms(args.timeframe)
    since = parse_utc(args.since, "--since")
    until = parse_utc(args.until, "--until") if args.until else None
    now = SystemClock().now_ms()
    if until is not None and until <= since:
        raise UsageError("--until must be after --since")
    if since >= now:
        raise UsageError("--since is in the future")
    from perptui.services.cache_report import cache_report
    from perptui.services.sources import clock_for

    with open_store(settings) as store:
        added, markets = asyncio.run(_fetch(settings, store, args, kinds, since, until))
        held = cache_report(store, settings.exchange_name, markets, clock_for(settings).now_ms())
    total = sum(n for per_kind in added.values() for n in per_kind.values())
    if args.json:
        print_json(
            {
                "exchange": settings.exchange_name,
                "rows_added": added,
                "total_rows_added": total,
                "cached": {symbol: h.as_dict() for symbol, h in held.items()},
            }
        )
    else:
        for symbol, per_kind in added.items():
            parts = ", ".join(f"{n:,} {kind}" for kind, n in per_kind.items())
            say(f"{symbol}: {parts} rows added")
        say(f"{total:,} rows added in all")
        for h in held.values():
            say(cache_line(h))
    return 0


async def _check_timeframe(source, symbol: str, timeframe: str, since: int) -> None:
    """Ask the source for one bar first, so that a timeframe it does not offer is refused before any
    history (the funding fetched first) is stored."""
    try:
        await source.fetch_ohlcv(symbol, timeframe, since, since + timeframe_ms(timeframe), limit=1)
    except ExchangeUnavailable:
        raise
    except ExchangeError as exc:
        raise UsageError(f"--timeframe {timeframe}: {exc}") from None


async def _fetch(
    settings, store, args, kinds, since, until
) -> tuple[dict[str, dict[str, int]], list[Market]]:
    """Rows added per symbol and kind, and the markets fetched for."""
    from perptui.services.backfill import backfill_funding, backfill_ohlcv
    from perptui.services.sources import open_market_data

    markets = await load_markets(settings, store)
    chosen = select(markets, split_symbols(args.symbols), settings.exchange_name)
    symbols = [m.symbol for m in chosen]
    source = open_market_data(settings, store)
    end = until or SystemClock().now_ms()
    added: dict[str, dict[str, int]] = {}
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rows]:>9,} rows"),
        TimeRemainingColumn(),
        console=err(),
        transient=False,
    )
    try:
        if "ohlcv" in kinds and symbols:
            await _check_timeframe(source, symbols[0], args.timeframe, since)
        with progress:
            for symbol in symbols:
                added[symbol] = {}
                for kind in kinds:
                    label = f"{symbol} {kind}" + (f" {args.timeframe}" if kind == "ohlcv" else "")
                    task = progress.add_task(label, total=end - since, rows=0)

                    def on_progress(rows: int, cursor: int, task=task) -> None:
                        progress.update(task, completed=max(0, min(cursor, end) - since), rows=rows)

                    if kind == "funding":
                        n = await backfill_funding(source, store, symbol, since, until, on_progress)
                    else:
                        n = await backfill_ohlcv(
                            source, store, symbol, args.timeframe, since, until, on_progress
                        )
                    progress.update(task, completed=end - since, rows=n)
                    added[symbol][kind] = n
    except ExchangeUnavailable as exc:
        raise unreachable(exc, store, settings.exchange_name, "funding") from None
    finally:
        await source.close()
    return added, chosen
