"""`perptui order`: send a ticket to the exchange (LIVE) — the entry, its reduce-only stop for the whole
position and its reduce-only take-profits — after showing every order exactly as it will be sent.

Refused before anything is opened unless live trading is on (``services.trading.gate``); ``--yes`` is
refused unless ``trading.allow_yes``; without ``--yes`` the confirmation is typed on a terminal (the
symbol or y; a bare Enter never confirms). Exit codes: 0 every order placed; 1 not confirmed, or the
entry was not placed (refused, never taken, or unknown: the message says which); 4 the entry is in but
its stop could not be placed (the position is unprotected: a critical event is logged and, on a
terminal, perptui offers to close it at once).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.domain.live.plan import OrderPlan
from perptui.domain.paper import OrderRequest
from perptui.domain.paper_orders import check_request
from perptui.domain.sized_order import rounded_request
from perptui.domain.symbols import resolve_symbol
from perptui.presentation.live_orders import confirmation_accepts, plan_lines
from perptui.presentation.paper_args import targets_of
from perptui.services.trading.gate import require_live
from perptui.services.trading.report import outcome_lines

from .context import open_store, settings_from_args
from .output import err, out, print_json, say

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.types import Market
    from perptui.services.store import Store
    from perptui.services.trading.trader import LiveTrader, PlaceOutcome

NAKED_EXIT = 4


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    require_live(settings)
    check_confirmation_mode(settings, args.yes)
    with open_store(settings) as store:
        return asyncio.run(_run(settings, store, args))


def check_confirmation_mode(settings: Settings, yes: bool) -> None:
    """``--yes`` only with ``trading.allow_yes``; without it, a terminal to type the confirmation on."""
    if yes and not settings.trading.allow_yes:
        raise UsageError(
            "--yes is refused for live orders: set [trading] allow_yes = true to send without confirming"
        )
    if not yes and not sys.stdin.isatty():
        raise UsageError(
            "a live order is confirmed on a terminal (type the symbol or y); a script needs --yes and "
            "[trading] allow_yes = true"
        )


def open_trader(settings: Settings, store: Store) -> LiveTrader:
    from perptui.services.sources import clock_for, open_market_data
    from perptui.services.trading.trader import LiveTrader

    clock = clock_for(settings)
    source = open_market_data(settings, store, clock)
    return LiveTrader(settings, store, clock, source)  # type: ignore[arg-type]  # a CcxtExchange when live


async def _run(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    trader = open_trader(settings, store)
    try:
        plan = await build_plan(trader, args)
        trader.check_breaker()
        where = "TESTNET" if settings.testnet else "LIVE (real money)"
        console = err()  # the plan on stderr: stdout keeps the outcome (JSON with --json)
        console.print(f"{plan.exchange} {where}", style="bold reverse red", markup=False, highlight=False)
        for line in plan_lines(plan, await _market(trader, plan.symbol)):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        if not args.yes and not ask_typed(plan):
            (err() if args.json else out()).print("nothing sent")
            return 1
        outcome = await trader.place(plan)
        if args.json:
            print_json(outcome.as_dict())
        else:
            for line in outcome_lines(outcome):
                say(line)
        if outcome.naked:
            return await _naked(trader, outcome, interactive=not args.yes)
        return 0 if outcome.entry.placed else 1
    finally:
        await trader.exchange.close()


async def _market(trader: LiveTrader, symbol: str) -> Market:
    markets = {m.symbol: m for m in await trader.exchange.load_markets()}
    return markets[symbol]


async def build_plan(trader: LiveTrader, args: argparse.Namespace) -> OrderPlan:
    """The ticket of the flags, sized (``--risk-*``) and rounded to the market's rules, as orders."""
    exchange = trader.exchange
    markets = {m.symbol: m for m in await exchange.load_markets()}
    symbol = resolve_symbol(args.symbol, list(markets), exchange.name)
    market = markets[symbol]
    tickers = await exchange.fetch_tickers([symbol])
    ticker = tickers.get(symbol)
    mark = ticker.mark or ticker.last if ticker is not None else None
    if mark is None:
        raise UsageError(f"{exchange.name} gave no mark price of {symbol}: nothing sent")
    qty = args.qty if args.qty is not None else await _risk_qty(trader, args, market, mark)
    req = check_request(
        OrderRequest(
            symbol=symbol,
            side=args.side,
            qty=qty,
            price=args.entry,
            leverage=args.leverage,
            margin_mode=args.margin_mode,
            stop=args.stop,
            take_profits=targets_of(args.tp or ()),
            mark=mark,
        )
    )
    return trader.plan(rounded_request(req, market), market)  # what the rules still refuse: refused there


async def _risk_qty(trader: LiveTrader, args: argparse.Namespace, market: Market, mark: float) -> float:
    """The quantity that loses ``--risk-pct`` of the exchange account's equity (or ``--risk-usd``) at the
    stop, fees included (``domain.sizing``, as ``perptui size``)."""
    from perptui.domain.sizing import SizingRequest, size_position
    from perptui.services.accounts import ExchangeAccount

    summary = await ExchangeAccount(trader.exchange, store=trader.store, clock=trader.clock).summary()
    if summary.equity is None or summary.equity <= 0:
        raise UsageError(f"the {trader.exchange.name} account's equity is unknown or zero: give --qty")
    settings = trader.settings
    result = size_position(
        SizingRequest(
            market=market,
            side=args.side,
            entry=args.entry if args.entry is not None else mark,
            stop=args.stop,
            equity=summary.equity,
            risk_fraction=None if args.risk_pct is None else args.risk_pct / 100,
            risk_amount=args.risk_usd,
            leverage=args.leverage,
            margin_mode=args.margin_mode or settings.sizing.margin_mode,
            free_margin=summary.free_margin,
            other_maintenance=summary.maintenance_margin,
            slippage_bps=settings.sizing.slippage_bps,
            mark=mark,
            max_risk_fraction=settings.risk.max_risk_pct / 100,
        )
    )
    if not result.tradable or result.quantity <= 0:
        raise UsageError(f"that risk buys less than {market.symbol}'s minimum quantity: nothing sent")
    return result.quantity


def ask_typed(plan: OrderPlan) -> bool:
    """Ask on the terminal; only the symbol (its base or the exchange's id) or y confirms."""
    base = plan.symbol.split("/")[0]
    prompt = f"type {base} or y to send it to the exchange, anything else cancels: "
    try:
        answer = input(prompt)
    except EOFError:
        return False
    return confirmation_accepts(answer, plan)


async def _naked(trader: LiveTrader, outcome: PlaceOutcome, *, interactive: bool) -> int:
    plan = outcome.plan
    err().print(
        f"!! {plan.symbol}: the entry is in but NO STOP could be placed "
        f"({outcome.stop and outcome.stop.error}). Close it (perptui orders close {plan.symbol}) "
        "or set a stop on the exchange NOW.",
        style="bold red",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if not interactive or not sys.stdin.isatty():
        return NAKED_EXIT
    try:
        answer = input(f"close the {plan.symbol} position now with a market order? type close or n: ")
    except EOFError:
        return NAKED_EXIT
    if answer.strip().lower() != "close":
        return NAKED_EXIT
    book = await trader.book()
    position = next((p for p in book.positions if p.symbol == plan.symbol), None)
    if position is None:
        say(f"no {plan.symbol} position is open on the exchange: nothing to close")
        return 0
    closed = await trader.close(position)
    say(f"close {closed.outcome}" + (f": {closed.error}" if closed.error else ""))
    return 0 if closed.placed else NAKED_EXIT
