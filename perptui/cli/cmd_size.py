"""`perptui size`: size a trade from its stop and the risk budget, on live or cached market data.

The market (steps, fees, leverage brackets), its mark and funding come from the configured source, or
from the cache with --offline or when the exchange cannot be reached (a note on stderr says so and how
old the numbers are). Equity, free margin and the risk % come from the configured account unless given
on the command line. The maths is ``perptui.domain.sizing``; the human output is the ticket the app
copies (``perptui.presentation.ticket``), so the two always agree.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.errors import ExchangeUnavailable, PerptuiError, UsageError
from perptui.domain.market_rules import in_contracts
from perptui.domain.sizing import (
    KellyResult,
    SizingError,
    SizingRequest,
    SizingResult,
    TakeProfitSpec,
    kelly,
    size_position,
    stop_price,
)
from perptui.domain.symbols import resolve_symbol
from perptui.domain.timeframes import iso_utc, timeframe_ms
from perptui.domain.types import Market
from perptui.presentation import numbers as fmt
from perptui.presentation.numbers import staleness
from perptui.presentation.ticket import ticket_lines
from perptui.services.clock import Clock, SystemClock
from perptui.services.sizing_inputs import AtrReading, MarketSnapshot

from .cmd_markets import cached_markets
from .context import deadline_for, open_store, settings_from_args, unreachable
from .output import err, out, print_json, say

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.live_or_cache import Deadline, Freshness
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store

MAX_ATR_PERIOD = 500


@dataclass(frozen=True, slots=True)
class Plan:
    """The flags, checked and completed from the settings before anything is opened."""

    atr_period: int
    atr_timeframe: str
    kelly: KellyResult | None


@dataclass(frozen=True, slots=True)
class AccountFigures:
    equity: float
    free_margin: float | None  # None: the equity
    risk_fraction: float  # the account's current risk per trade
    #: Maintenance margin of the account's open positions (cross liquidation); None when unknown.
    other_maintenance: float | None = 0.0


@dataclass(frozen=True, slots=True)
class Collected:
    market: Market
    snapshot: MarketSnapshot
    atr: AtrReading | None
    account: AccountFigures
    notes: tuple[str, ...] = ()  # where the numbers came from, for stderr once the sizing succeeded
    freshness: Freshness | None = None  # live, or the cache with why and its age


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    plan = check_flags(args, settings)
    if args.equity is None and settings.account == "exchange":
        if settings.offline:
            raise UsageError(
                'account = "exchange" reads the equity from the exchange: drop --offline or give --equity'
            )
        from perptui.services.accounts import check_exchange_account

        check_exchange_account(settings)  # before opening the exchange
    with open_store(settings) as store:
        collected = asyncio.run(collect(settings, store, args, plan))
    result = size_position(build_request(settings, args, plan, collected))
    for line in collected.notes:
        err().print(line, style="dim", markup=False, highlight=False, soft_wrap=True)
    if args.json:
        print_json(as_json(result, collected, args, plan))
    else:
        render(result, collected, args, plan)
    return 0


# --- the flags --------------------------------------------------------------------------------------


def check_flags(args: argparse.Namespace, settings: Settings) -> Plan:
    """What can be checked without market data; one-line UsageErrors naming the flag."""
    atr_flags = [
        f
        for f, v in (("--atr-period", args.atr_period), ("--atr-timeframe", args.atr_timeframe))
        if v is not None
    ]
    if args.stop_atr is None and atr_flags:
        raise UsageError(f"{' and '.join(atr_flags)} go with --stop-atr K (a stop K x ATR from the entry)")
    period = settings.sizing.atr_period if args.atr_period is None else args.atr_period
    if not 1 <= period <= MAX_ATR_PERIOD:
        raise UsageError(
            f"--atr-period must be a whole number of bars from 1 to {MAX_ATR_PERIOD}, not {period}"
        )
    from perptui.domain.sizing import check_fee, check_slippage, check_stop

    if args.entry is not None and args.stop is not None:
        check_stop(args.side, args.entry, args.stop)  # the side of the stop, before any market data
    if args.fee is not None:
        check_fee("fee", args.fee, None)
    if args.slippage_bps is not None:
        check_slippage(args.slippage_bps)
    timeframe = args.atr_timeframe or settings.sizing.atr_timeframe
    try:
        timeframe_ms(timeframe)
    except UsageError as exc:
        raise UsageError(f"--atr-timeframe: {exc}") from None
    return Plan(atr_period=period, atr_timeframe=timeframe, kelly=_kelly(args.kelly, settings))


def _kelly(values: tuple[float, ...] | None, settings: Settings) -> KellyResult | None:
    if values is None:
        return None
    if len(values) != 2:
        raise UsageError(
            "--kelly takes WIN%,PAYOFF: the win rate in percent and the average win / average loss, "
            "e.g. 55,1.5"
        )
    win, payoff = values
    try:
        result = kelly(
            win / 100,
            payoff,
            fraction=settings.sizing.kelly_fraction,
            cap=settings.risk.max_risk_pct / 100,
        )
    except SizingError as exc:
        raise UsageError(f"--kelly {exc}") from None
    if result.suggested <= 0:
        raise UsageError(
            f"--kelly {win:g},{payoff:g}: no edge (full Kelly is 0% at a {win:g}% win rate and a payoff "
            f"of {payoff:g}), so Kelly risks nothing on this trade"
        )
    return result


# --- market data and the account --------------------------------------------------------------------


async def collect(settings: Settings, store: Store, args: argparse.Namespace, plan: Plan) -> Collected:
    from perptui.services.sources import clock_for, open_market_data

    clock = clock_for(settings)
    source = None if settings.offline else open_market_data(settings, store, clock)
    try:
        return await _collect(settings, store, args, plan, clock, source)
    finally:
        if source is not None:
            await source.close()


async def _collect(
    settings: Settings,
    store: Store,
    args: argparse.Namespace,
    plan: Plan,
    clock: Clock,
    source: MarketData | None,
) -> Collected:
    """The market, its snapshot and ATR through ``sizing_service``: live within ``network.deadline_s``,
    else the cache (a note says why and how old it is)."""
    from perptui.services.live_or_cache import read_markets
    from perptui.services.sizing_service import from_cache, read_snapshot, with_exchange_tiers

    exchange = settings.exchange_name
    now = clock.now_ms()
    notes: list[str] = []
    opened = source  # the account reads through it, whatever the market data did
    deadline = deadline_for(settings)
    why_cached = "offline"  # why the cache stands in for the snapshot, if it must
    if source is None:
        markets = cached_markets(settings, store)
    else:
        found = await read_markets(source, store, exchange, deadline)
        markets = found.markets
        if found.error is not None and not markets:
            raise unreachable(found.error, store, exchange, "markets")
        if found.error is not None:  # the exchange failed already: the cache stands in for it all
            source, why_cached = None, found.freshness.reason
    market = _pick(markets, args.symbol, exchange)
    market = await with_exchange_tiers(source, store, exchange, market, SystemClock().now_ms(), deadline)
    if source is None:
        read = await from_cache(store, exchange, market, now, why_cached)
    else:
        read = await read_snapshot(source, store, exchange, market, now, deadline, keep_ticker=True)
    live = source if read.freshness.live else None  # None once the exchange proved unreachable
    if not read.freshness.live:
        notes.append(_cache_note(read.freshness.reason, store, exchange, read.snapshot, now))

    atr = None
    if args.stop_atr is not None:
        atr = await _read_atr(store, market, plan, now, live, clock, notes, settings, deadline)
    account = await _account(settings, store, opened, args)
    return Collected(
        market=market,
        snapshot=read.snapshot,
        atr=atr,
        account=account,
        notes=tuple(notes),
        freshness=read.freshness,
    )


def _pick(markets: list[Market], name: str, exchange: str) -> Market:
    by_symbol = {m.symbol: m for m in markets}
    return by_symbol[resolve_symbol(name, list(by_symbol), exchange)]


def _cache_note(why: str, store: Store, exchange: str, snapshot: MarketSnapshot, now: int) -> str:
    symbol = snapshot.market.symbol
    parts = [f"markets {staleness(store.cache_age_ms(exchange, 'markets', SystemClock().now_ms()))}"]
    if snapshot.mark is None:
        parts.append(f"no mark of {symbol}")
    else:
        parts.append(f"mark from a ticker {staleness(max(0, now - snapshot.as_of))}")
    bounds = store.funding_bounds(exchange, symbol)
    if snapshot.funding_rate is None or bounds is None:
        parts.append("no funding rate (perptui fetch --kind funding caches it)")
    else:
        parts.append(f"funding = the last settled print ({iso_utc(bounds[1])})")
    return f"{why}: sizing from the cache: " + ", ".join(parts)


async def _read_atr(
    store: Store,
    market: Market,
    plan: Plan,
    now: int,
    live: MarketData | None,
    clock: Clock,
    notes: list[str],
    settings: Settings,
    deadline: Deadline,
) -> AtrReading:
    from perptui.services.sizing_service import read_atr_live_or_cached

    exchange = settings.exchange_name
    symbol, timeframe, period = market.symbol, plan.atr_timeframe, plan.atr_period
    found = await read_atr_live_or_cached(
        store, exchange, market, timeframe, period, now, deadline, source=live, clock=clock
    )
    hint = "the exchange has no more of them: use a shorter --atr-period, --stop or --stop-pct"
    if found.fallback:
        notes.append(f"{found.fallback}: the ATR uses the cached candles")
        hint = f"{exchange} is unreachable: use --stop / --stop-pct"
    elif live is None:
        hint = (
            "drop --offline to fetch them, or use --stop / --stop-pct"
            if settings.offline
            else f"{exchange} is unreachable: use --stop / --stop-pct"
        )
    reading = found.reading
    if reading.value is None:
        window = staleness((3 * period + 2) * timeframe_ms(timeframe)).removesuffix(" old")
        raise PerptuiError(
            f"too few {timeframe} candles of {symbol} for ATR({period}): {reading.bars} closed bar(s) of "
            f"the last {window} in the cache, {period + 1} needed; {hint}"
        )
    return reading


async def _account(
    settings: Settings, store: Store, source: MarketData | None, args: argparse.Namespace
) -> AccountFigures:
    """Equity, free margin and risk % of the configured account; ``--equity`` stands for both amounts."""
    from perptui.services.accounts import ExchangeAccount, open_account

    if args.equity is not None:
        return AccountFigures(args.equity, None, _account_risk(settings, store))
    account = open_account(settings, store, SystemClock(), source)
    if isinstance(account, ExchangeAccount):
        try:
            summary = await account.summary()
        except ExchangeUnavailable as exc:
            raise ExchangeUnavailable(
                f"{exc}; give --equity to size without the exchange's balance"
            ) from None
    else:
        summary = account.summary()
    if summary.equity is None or summary.equity <= 0:
        equity = "unknown" if summary.equity is None else f"{summary.equity:,.2f} {summary.currency}"
        hint = "deposit with 'perptui account deposit AMOUNT' or " if account.is_paper else ""
        raise UsageError(f"the {summary.account} account's equity is {equity}: {hint}give --equity")
    return AccountFigures(summary.equity, summary.free_margin, summary.risk_pct, summary.maintenance_margin)


def _account_risk(settings: Settings, store: Store) -> float:
    """The configured account's risk per trade (as the account pane set it), without reading its balance."""
    from perptui.services.accounts import defaults_from, paper_account_name
    from perptui.services.accounts.settings import RiskAndPlan

    d = defaults_from(settings)
    exchange = settings.exchange_name
    name = paper_account_name(exchange) if settings.account == "paper" else exchange
    plan = RiskAndPlan(
        store,
        SystemClock(),
        name,
        risk_pct=d.risk_pct,
        neutral_pct=d.neutral_pct,
        directional_pct=d.directional_pct,
    )
    return plan.current()[0]


# --- sizing -----------------------------------------------------------------------------------------


def build_request(settings: Settings, args: argparse.Namespace, plan: Plan, c: Collected) -> SizingRequest:
    market, snapshot = c.market, c.snapshot
    entry = args.entry if args.entry is not None else snapshot.mark
    if entry is None:
        where = "in the cache" if snapshot.cached else f"from {market.exchange}"
        raise UsageError(
            f"no mark price of {market.symbol} is known {where}: give the entry with --entry PRICE"
        )
    stop = stop_price(
        args.side,
        entry,
        price=args.stop,
        pct=None if args.stop_pct is None else args.stop_pct / 100,
        atr=c.atr.value if c.atr is not None else None,
        atr_mult=args.stop_atr,
        tick=market.price_tick,
    )
    risk_fraction: float | None = None
    risk_amount: float | None = None
    if plan.kelly is not None:
        risk_fraction = plan.kelly.suggested
    elif args.risk_usd is not None:
        risk_amount = args.risk_usd
    elif args.risk_pct is not None:
        risk_fraction = args.risk_pct / 100
    else:
        risk_fraction = c.account.risk_fraction
    if args.leverage == "auto":
        leverage = None
    else:
        leverage = args.leverage if args.leverage is not None else settings.sizing.leverage
    take_profits = tuple(TakeProfitSpec(r=r) for r in args.tp or ()) + tuple(
        TakeProfitSpec(price=p) for p in args.tp_price or ()
    )
    return SizingRequest(
        market=market,
        side=args.side,
        entry=entry,
        stop=stop,
        equity=c.account.equity,
        risk_fraction=risk_fraction,
        risk_amount=risk_amount,
        leverage=leverage,
        margin_mode=args.margin_mode or settings.sizing.margin_mode,
        free_margin=c.account.free_margin,
        other_maintenance=c.account.other_maintenance,
        fee_entry=args.fee,
        fee_exit=args.fee,
        slippage_bps=settings.sizing.slippage_bps if args.slippage_bps is None else args.slippage_bps,
        take_profits=take_profits,
        funding_rate=snapshot.funding_rate,
        funding_interval_hours=snapshot.funding_interval_hours,
        mark=snapshot.mark,
        max_risk_fraction=settings.risk.max_risk_pct / 100,
        funding_warn_apr=settings.sizing.funding_warn_apr_pct / 100,
    )


# --- output -----------------------------------------------------------------------------------------


def as_json(result: SizingResult, c: Collected, args: argparse.Namespace, plan: Plan) -> dict[str, object]:
    data = result.as_dict()
    # The quantity as the exchange's order box takes it: contracts of ``contract_size`` base units.
    data["contracts"] = in_contracts(result.quantity, c.market)
    data["contract_size"] = c.market.contract_size
    # A cache without a ticker has no time, and a time of 0 is none (never 1970).
    known = (c.snapshot.mark is not None or not c.snapshot.cached) and c.snapshot.as_of > 0
    data["market_data"] = {
        "mark": c.snapshot.mark,
        "as_of": iso_utc(c.snapshot.as_of) if known else None,
        "cached": c.snapshot.cached,
        **(c.freshness.as_dict() if c.freshness is not None else {}),
    }
    if c.atr is not None:
        data["atr"] = {
            "value": c.atr.value,
            "timeframe": c.atr.timeframe,
            "period": c.atr.period,
            "multiple": args.stop_atr,
            "bars": c.atr.bars,
            "last_close": iso_utc(c.atr.last_close_time),
        }
    if plan.kelly is not None:
        k = plan.kelly
        data["kelly"] = {"full": k.full, "fraction": k.fraction, "suggested": k.suggested, "capped": k.capped}
    return data


def render(result: SizingResult, c: Collected, args: argparse.Namespace, plan: Plan) -> None:
    m = c.market
    lines = ticket_lines(result, m.price_tick, m.amount_step, m.settle, m.contract_size)
    ticket = [line for line in lines if not line.startswith("! ")]
    warnings = [line for line in lines if line.startswith("! ")]
    width = len(ticket[0]) - len(ticket[0][len("Market") :].lstrip())  # where the ticket's values start
    extra: list[tuple[str, str]] = []
    if c.atr is not None and c.atr.value is not None:
        atr, tick = c.atr, m.price_tick
        distance = fmt.price(args.stop_atr * atr.value, tick)
        extra.append(
            (
                "ATR",
                f"{fmt.price(atr.value, tick)} (ATR({atr.period}) of {atr.timeframe} candles); "
                f"the stop is {args.stop_atr:g} x ATR = {distance} from the entry",
            )
        )
    if plan.kelly is not None:
        k = plan.kelly
        value = f"full {k.full * 100:.2f}% x {k.fraction:g} = {k.full * k.fraction * 100:.2f}%"
        if k.capped:
            value += f", capped at the {k.suggested * 100:.2f}% maximum per trade"
        extra.append(("Kelly", value))
    for line in ticket:
        say(line)
    for label, value in extra:
        say(f"{label:<{width - 2}}  {value}")
    console = out()
    for line in warnings:
        console.print(line, style="bold yellow", markup=False, highlight=False, soft_wrap=True)
