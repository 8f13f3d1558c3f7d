"""`perptui scan`: the funding scanner on the command line, live or from the cache.

Per exchange, through ``services.scan_service`` (as the scanner pane): the markets (refreshing the
cache), the live rates and tickers, the missing funding history of the selected perps
(``backfill_history``: 90 days the first time, only new prints afterwards; a progress line on stderr
unless --json), then the rows joined with the cached history. With --offline, or when the exchange
cannot be reached within ``network.deadline_s``, the rows come from the cache as of now (``cached_scan``)
and a note on stderr says so and how old the cache is; the JSON's ``sources`` says it too. --asof
computes everything from the cache as of that time. With several exchanges the cross-exchange spreads
of every base asset listed on two or more of them are computed from all their rows (per hour, so 1h and
8h markets compare).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.carry import Spread
from perptui.domain.errors import UnknownSymbol, UsageError
from perptui.domain.scanner import (
    ASCENDING_KEYS,
    SORT_KEYS,
    CarryCosts,
    ScanRow,
    filter_rows,
    sort_rows,
    spreads,
)
from perptui.domain.symbols import resolve_symbol
from perptui.domain.timeframes import iso_utc, parse_utc
from perptui.domain.types import Market
from perptui.presentation import scan as sf
from perptui.presentation.numbers import pct, staleness
from perptui.services.clock import SystemClock
from perptui.services.scan_costs import carry_costs

from .cmd_markets import cached_markets, split_symbols
from .context import FLAG_SETTINGS, deadline_for, open_store, settings_from_args
from .flag_checks import check_flags as check_source_flags
from .output import err, out, print_json, say

if TYPE_CHECKING:
    from rich.text import Text

    from perptui.config.settings import Settings
    from perptui.services.live_or_cache import Freshness
    from perptui.services.scan import ExchangeScan
    from perptui.services.store import Store

MAX_HOLD_DAYS = 3650

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class Plan:
    """The flags, checked and completed from the settings before anything is opened."""

    asof: int | None
    sort: str
    descending: bool
    top: int | None
    min_volume: float | None
    min_abs_apr: float | None
    costs: CarryCosts


@dataclass(frozen=True, slots=True)
class Scanned:
    scan: ExchangeScan
    notes: tuple[str, ...] = ()
    freshness: Freshness | None = None  # live, or the cache with why and its age


def run(args: argparse.Namespace) -> int:
    settings = _settings_per_exchange(args)
    plan = check_flags(args, settings[0])
    names = split_symbols(args.symbols)
    with open_store(settings[0]) as store:
        scanned = asyncio.run(_collect(settings, store, plan, names, quiet=args.json))
    for item in scanned:
        for line in item.notes:
            err().print(line, style="dim", markup=False, highlight=False, soft_wrap=True)
    asof = plan.asof if plan.asof is not None else scanned[0].scan.asof
    everything = [row for item in scanned for row in item.scan.rows]
    rows = sort_rows(
        filter_rows(everything, min_volume=plan.min_volume, min_abs_apr=plan.min_abs_apr),
        plan.sort,
        descending=plan.descending,
    )
    found = spreads(everything, plan.costs) if len(scanned) > 1 else []
    if plan.top is not None:
        rows, found = rows[: plan.top], found[: plan.top]
    if args.json:
        print_json(
            {
                "asof": iso_utc(asof),
                "rows": [r.as_dict() for r in rows],
                "spreads": [s.as_dict() for s in found],
                "sources": [_source_json(item) for item in scanned],
            }
        )
    else:
        render(rows, found, scanned, asof, plan, total=len(everything))
    return 0


def _source_json(item: Scanned) -> dict[str, object]:
    """Where one exchange's rows came from: ``live``, or the ``cache`` with why and its age."""
    found = item.freshness.as_dict() if item.freshness is not None else {"source": None}
    return {"exchange": item.scan.exchange, **found}


def _settings_per_exchange(args: argparse.Namespace) -> list[Settings]:
    """The command's settings once per exchange to scan, each with that exchange as the data source:
    the --exchange ids, else the configured exchange and the config's scan.exchanges to compare."""

    from perptui.services.sources import for_other_exchange

    configured = settings_from_args(argparse.Namespace(**{**vars(args), "exchange": None}), check=False)

    def settings_for(exchange: str | None) -> Settings:
        if exchange is None or exchange == configured.exchange:
            return configured
        # An explicit --api-base-url is meant for the exchanges named on the command line.
        return for_other_exchange(
            configured, exchange, keep_base_url=bool(getattr(args, "api_base_url", None))
        )

    chosen = [settings_for(exchange) for exchange in args.exchanges or [None]]
    if not args.exchanges:
        chosen += [settings_for(other) for other in chosen[0].scan.exchanges]
    unique: dict[str, Settings] = {}
    for s in chosen:
        unique.setdefault(s.exchange_name, s)
    flags = {key: flag for dest, (key, flag) in FLAG_SETTINGS.items() if getattr(args, dest, None)}
    for s in unique.values():
        check_source_flags(s, flags)
    return list(unique.values())


# --- the flags --------------------------------------------------------------------------------------


def check_flags(args: argparse.Namespace, settings: Settings) -> Plan:
    """What can be checked before opening anything; one-line UsageErrors naming the flag."""
    scan = settings.scan
    sort = (args.sort or "abs_apr").strip().lower()
    if sort not in SORT_KEYS:
        raise UsageError(f"unknown --sort key {args.sort!r}: use one of {', '.join(SORT_KEYS)}")
    if args.top is not None and args.top <= 0:
        raise UsageError(f"--top must be a whole number of rows above 0, not {args.top}")
    hold_days = scan.hold_days if args.hold_days is None else args.hold_days
    if not 0 < hold_days <= MAX_HOLD_DAYS:
        raise UsageError(f"--hold-days must be above 0 and at most {MAX_HOLD_DAYS} days, not {hold_days:g}")
    min_volume = scan.min_volume_usd if args.min_volume is None else args.min_volume
    if min_volume < 0:
        raise UsageError(f"--min-volume must be 0 or more USD of 24h volume, not {min_volume:g}")
    min_apr = scan.min_apr_pct if args.min_apr is None else args.min_apr
    if min_apr < 0:
        raise UsageError(f"--min-apr is a minimum |APR| in percent, 0 or more (10 = 10%), not {min_apr:g}")
    asof = None
    if args.asof is not None:
        asof = parse_utc(args.asof, "--asof")
        if asof > SystemClock().now_ms():
            raise UsageError(
                f"--asof {args.asof} is in the future: give a past UTC time, e.g. 2024-05-01T08:00"
            )
    costs = carry_costs(scan, hold_days)
    descending = sort not in ASCENDING_KEYS
    return Plan(
        asof=asof,
        sort=sort,
        descending=descending != bool(args.reverse),
        top=args.top,
        min_volume=min_volume or None,  # 0 shows all, including perps whose volume is unknown
        min_abs_apr=min_apr / 100 or None,
        costs=costs,
    )


# --- collecting the rows ----------------------------------------------------------------------------


async def _collect(
    settings: list[Settings], store: Store, plan: Plan, names: list[str], quiet: bool
) -> list[Scanned]:
    """Every exchange's rows, scanned at the same time; a progress line per backfill unless quiet."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    strict = len(settings) == 1  # one exchange: an unknown symbol is an error at once
    bar = Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[symbol]}"),
        TimeRemainingColumn(),
        console=err(),
        disable=quiet,
    )

    def progress_for(exchange: str) -> Progress:
        task = None

        def update(done: int, total: int, symbol: str) -> None:
            nonlocal task
            if task is None:
                if not bar.live.is_started:  # shown once a backfill starts: nothing otherwise
                    bar.start()
                task = bar.add_task(f"{exchange} funding history", total=total, symbol="")
            bar.update(task, completed=done, total=total, symbol=symbol)

        return update

    try:
        results = await asyncio.gather(
            *(_scan_exchange(s, store, plan, names, strict, progress_for(s.exchange_name)) for s in settings),
            return_exceptions=True,
        )
    finally:
        if bar.live.is_started:
            bar.stop()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    scanned: list[Scanned] = list(results)  # type: ignore[arg-type]  # exceptions were raised just above
    if names and not strict:
        _check_symbols_somewhere(names, settings, store)
    return scanned


def _check_symbols_somewhere(names: list[str], settings: list[Settings], store: Store) -> None:
    """With several exchanges, a symbol need only be listed on one; unknown on all is an error."""
    for name in names:
        errors = []
        for s in settings:
            try:
                resolve_symbol(name, [m.symbol for m in store.load_markets(s.exchange_name)], s.exchange_name)
            except UnknownSymbol as exc:
                errors.append(exc)
        if len(errors) == len(settings):
            raise errors[0]


def _select(
    markets: list[Market], names: list[str], exchange: str, strict: bool
) -> tuple[list[Market], list[str]]:
    """The markets ``names`` pick (every one without names) and, when not strict, the names not listed."""
    if not names:
        return markets, []
    by_symbol = {m.symbol: m for m in markets}
    chosen: list[str] = []
    missing: list[str] = []
    for name in names:
        try:
            chosen.append(resolve_symbol(name, list(by_symbol), exchange))
        except UnknownSymbol:
            if strict:
                raise
            missing.append(name)
    return [by_symbol[s] for s in dict.fromkeys(chosen)], missing


async def _scan_exchange(
    settings: Settings, store: Store, plan: Plan, names: list[str], strict: bool, progress: Progress
) -> Scanned:
    """The exchange's rows through ``scan_service``: live within ``network.deadline_s``, else the cache
    (a note says why and how old it is); --asof and --offline read the cache alone."""
    from perptui.services.scan_service import Backfill, from_cache, scan_exchange
    from perptui.services.sources import clock_for, open_market_data

    exchange = settings.exchange_name
    clock = clock_for(settings)
    now = clock.now_ms()
    notes: list[str] = []

    def select(markets: list[Market]) -> list[Market]:
        selected, missing = _select(markets, names, exchange, strict)
        _note_missing(missing, exchange, notes)
        return selected

    if plan.asof is not None:
        markets = store.load_markets(exchange)
        if not markets:
            if settings.offline:
                cached_markets(settings, store)  # the error that says how to fill the cache
            from .cmd_markets import load_markets

            markets = await load_markets(settings, store)
        why = f"as of {iso_utc(plan.asof)}"
        cached = await from_cache(store, exchange, select(markets), plan.asof, why, plan.costs)
        return Scanned(cached.scan, tuple(notes), cached.freshness)

    source = None if settings.offline else open_market_data(settings, store, clock)
    try:
        found = await scan_exchange(
            source,
            store,
            exchange,
            now,
            deadline_for(settings),
            select=select,
            costs=plan.costs,
            backfill=Backfill(on_progress=progress),
        )
    finally:
        if source is not None:
            await source.close()
    result = found.result
    if result.backfill_stopped:
        notes.append(
            f"{exchange}: the history backfill stopped ({result.backfill_stopped}); the statistics use "
            "what is cached"
        )
    elif result.backfill is not None and result.backfill.skipped:
        skipped = result.backfill.skipped
        listed = ", ".join(sorted(skipped)[:3]) + (" ..." if len(skipped) > 3 else "")
        notes.append(f"{exchange}: no funding history for {len(skipped)} perp(s): {listed}")
    if not result.freshness.live:
        notes.append(_cache_note(result.freshness.reason, store, result.scan, found.selected, now))
    return Scanned(result.scan, tuple(notes), result.freshness)


def _note_missing(missing: list[str], exchange: str, notes: list[str]) -> None:
    if missing:
        notes.append(f"{exchange} lists no {', '.join(missing)}: left out there")


def _cache_note(why: str, store: Store, scan: ExchangeScan, markets: list[Market], now: int) -> str:
    """One line: why the cache is used and how old each part of it is."""
    exchange = scan.exchange
    system_now = SystemClock().now_ms()
    parts = [f"markets {staleness(store.cache_age_ms(exchange, 'markets', system_now))}"]
    if scan.cached_as_of is None:
        parts.append("no tickers cached (no mark, basis, volume or open interest)")
    else:
        parts.append(f"tickers {staleness(max(0, now - scan.cached_as_of))}")
    newest = max(
        (b[1] for m in markets if (b := store.funding_bounds(exchange, m.symbol)) is not None), default=None
    )
    if newest is None:
        parts.append("no funding history cached (run perptui scan online or perptui fetch --kind funding)")
    else:
        parts.append(f"newest funding print {staleness(max(0, now - newest))} ({iso_utc(newest)})")
    return f"{why}: {exchange} scanned from the cache: " + ", ".join(parts)


# --- output -----------------------------------------------------------------------------------------


#: The rows' columns: header, priority (0: always shown; on a narrow terminal the highest numbers go
#: first), left-justified, and the cell of a row.
Cell = Callable[[ScanRow, int], "str | Text"]


def _columns() -> list[tuple[str, int, bool, Cell]]:
    return [
        ("exch", 0, True, lambda r, now: r.exchange),
        ("perp", 0, True, lambda r, now: sf.perp_name(r.symbol)),
        ("rate", 0, False, lambda r, now: _signed(r.funding_rate, pct(r.funding_rate, 4))),
        ("per", 0, False, lambda r, now: "—" if r.interval_hours is None else f"{r.interval_hours:g}h"),
        ("APR", 0, False, lambda r, now: _signed(r.apr, pct(r.apr, 1))),
        (
            "next",
            3,
            False,
            lambda r, now: sf.countdown_to(r.next_funding_time, now),
        ),
        ("7d", 2, False, lambda r, now: _stat(r, "mean_apr_7d", pct(r.mean_apr_7d, 1))),
        ("30d", 0, False, lambda r, now: _stat(r, "mean_apr_30d", pct(r.mean_apr_30d, 1))),
        ("90d", 3, False, lambda r, now: _stat(r, "mean_apr_90d", pct(r.mean_apr_90d, 1))),
        ("+30d", 4, False, lambda r, now: _stat(r, "pct_positive_30d", sf.share(r.pct_positive_30d))),
        (
            "z30d",
            4,
            False,
            lambda r, now: _stat(r, "zscore_30d", "—" if r.zscore_30d is None else f"{r.zscore_30d:+.1f}"),
        ),
        ("basis", 6, False, lambda r, now: _signed(r.basis, pct(r.basis, 3))),
        ("24h vol", 5, False, lambda r, now: sf.money_short(r.volume_24h_usd)),
        ("OI", 6, False, lambda r, now: sf.money_short(r.open_interest_usd)),
        ("carry", 2, True, lambda r, now: sf.perp_side(r.carry_direction)),
        ("net APR", 0, False, lambda r, now: _stat(r, "carry_net_apr", pct(r.carry_net_apr, 1))),
        ("BE days", 1, False, lambda r, now: _stat(r, "breakeven_days", sf.days(r.breakeven_days))),
        ("hist", 1, False, lambda r, now: _history(r)),
    ]


#: After a figure resting on a window the cache holds only part of; explained under the table.
INCOMPLETE_MARK = "*"
SIGNED_STATS = frozenset({"mean_apr_7d", "mean_apr_30d", "mean_apr_90d", "carry_net_apr"})


def _stat(row: ScanRow, stat: str, text: str):
    """A statistic coloured by its sign, dimmed and marked when its window is incomplete."""
    from rich.text import Text

    if row.rests_on_incomplete(stat):
        return Text(text + INCOMPLETE_MARK, style="dim")
    return _signed(getattr(row, stat), text) if stat in SIGNED_STATS else Text(text)


def _history(row: ScanRow):
    """The 90-day window's prints held as a share of those expected; yellow when incomplete."""
    from rich.text import Text

    window = row.window(90)
    if window is None:
        return Text("—")
    return Text(sf.held(window), style="" if window.complete or window.expected is None else "yellow")


def render(
    rows: list[ScanRow], found: list[Spread], scanned: list[Scanned], asof: int, plan: Plan, total: int
) -> None:
    from rich import box
    from rich.table import Table

    console = out()
    exchanges = ", ".join(item.scan.exchange for item in scanned)
    order = "" if plan.sort == "abs_apr" else f", by {plan.sort}"
    say(f"{exchanges} funding — {iso_utc(asof)} — {len(rows)} of {total} perps{order}")
    for item in scanned:
        if not item.scan.live:
            console.print(f"CACHED {item.scan.exchange}: {item.scan.cached_reason}", style="bold yellow",
                          markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    if any(item.scan.exchange == "demo" for item in scanned):
        say("DEMO market: simulated data for practice, not real prices")
    if not rows:
        say("no perp passes the filters (--min-volume, --min-apr, --symbols)")
    else:
        columns = [c for c in _columns() if c[0] != "exch" or len(scanned) > 1]
        cells = [[cell(r, asof) for *_, cell in columns] for r in rows]
        widths = [max(len(c[0]), *(len(str(row[i])) for row in cells)) for i, c in enumerate(columns)]
        shown = list(range(len(columns)))
        # On a terminal narrower than every column, the least important go (a pipe gets them all).
        room = console.width if console.is_terminal else None
        while room is not None and sum(widths[i] for i in shown) + 3 * len(shown) - 1 > room:
            drop = max(shown, key=lambda i: (columns[i][1], i))
            if columns[drop][1] == 0:
                break
            shown.remove(drop)
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
        for i in shown:
            header, _, left, _ = columns[i]
            table.add_column(header, justify="left" if left else "right", no_wrap=True)
        for row in cells:
            table.add_row(*(row[i] for i in shown))
        if room is None:  # not a terminal: as wide as the table needs, never wrapped
            from rich.console import Console

            width = sum(widths) + 3 * len(widths)
            console = Console(width=max(width, console.width), highlight=False, file=console.file)
        console.print(table)
        short = [r for r in rows if r.incomplete]
        if short:
            say(
                f"{INCOMPLETE_MARK} rests on an incomplete window: the cache lacks funding prints of "
                f"{len(short)} perp(s) (hist: the last 90 days' prints held); perptui fetch --kind funding "
                "fills them"
            )
    if found:
        console.print(_spread_table(found, plan))


def _spread_table(found: list[Spread], plan: Plan):
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"Cross-exchange funding spreads, per hour, net of four taker fills and slippage, "
        f"held {plan.costs.hold_days:g} days",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    left = ("base", "long perp on", "short perp on")
    for column in (*left, "long /8h", "short /8h", "spread APR", "cost", "net APR", "BE days"):
        table.add_column(column, justify="left" if column in left else "right", no_wrap=True)
    for s in found:
        table.add_row(
            s.base,
            s.long.exchange,
            s.short.exchange,
            _signed(s.long.rate_per_hour, pct(s.long.rate_per_hour * 8, 4)),
            _signed(s.short.rate_per_hour, pct(s.short.rate_per_hour * 8, 4)),
            _signed(s.spread_apr, pct(s.spread_apr, 1)),
            pct(s.round_trip_cost, 3),
            _signed(s.net_apr, pct(s.net_apr, 1)),
            sf.days(s.breakeven_days),
        )
    return table


def _signed(value: float | None, text: str):
    from rich.text import Text

    style = "" if value is None or value == 0 else ("green" if value > 0 else "red")
    return Text(text, style=style)
