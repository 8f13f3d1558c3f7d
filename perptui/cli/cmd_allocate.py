"""`perptui allocate`: the hybrid plan for a capital: the neutral funding base and the directional trend
layer as target legs (rounded to the markets' steps), the plan's expected return, volatility, Sharpe and
funding per day, the regime filter's state and the trades from the paper account's positions.

Capital: ``--capital``, else the paper account's equity, else (no paper account yet)
``paper.starting_capital``; the split: ``--neutral-pct``, else the account's (set in the app), else
``plan.neutral_pct``. A note on stderr says which. The rest of the plan's settings come from ``[plan]``
and the carry costs from ``[scan]``. Online the missing history is fetched first; with --offline or an
unreachable exchange the cache is used and a note says so. ``--json`` prints ``HybridPlan.as_dict()``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.presentation.numbers import money, pct, qty

from .context import open_store, settings_from_args
from .output import err, out, print_json, say

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.plan import CurrentPosition, HybridPlan, PlanLeg
    from perptui.services.clock import Clock
    from perptui.services.store import Store


def check_flags(args: argparse.Namespace) -> None:
    if args.capital is not None and not (math.isfinite(args.capital) and args.capital > 0):
        raise UsageError(f"--capital must be an amount above 0, not {args.capital:g}")
    if args.neutral_pct is not None and not 0 <= args.neutral_pct <= 100:
        raise UsageError(f"--neutral-pct must be between 0 and 100, not {args.neutral_pct:g}")


def run(args: argparse.Namespace) -> int:
    from perptui.domain.plan import build_plan
    from perptui.services.allocation import load_plan_inputs, plan_config
    from perptui.services.sources import clock_for, open_market_data

    check_flags(args)
    settings = settings_from_args(args)
    clock = clock_for(settings)
    exchange = settings.exchange_name
    notes: list[str] = []
    with open_store(settings) as store:
        if settings.offline:
            from .cmd_markets import cached_markets

            cached_markets(settings, store)  # none cached: an error (exit 1), as size, scan and risk give
        capital, neutral_pct, current = account_basis(settings, store, clock, args, notes)
        config = plan_config(settings, capital=capital, neutral_pct=neutral_pct)

        async def gather():
            source = None if settings.offline else open_market_data(settings, store, clock)
            try:
                return await load_plan_inputs(source, store, exchange, config, clock)
            finally:
                if source is not None:
                    await source.close()

        inputs = asyncio.run(gather())
    plan = build_plan(inputs, config, current)
    for line in [*notes, *plan.notes]:
        err().print(line, style="dim", markup=False, highlight=False, soft_wrap=True)
    if args.json:
        print_json(plan.as_dict())
    else:
        render(plan, exchange)
    return 0


def account_basis(
    settings: Settings, store: Store, clock: Clock, args: argparse.Namespace, notes: list[str]
) -> tuple[float, float, list[CurrentPosition]]:
    """(capital, neutral %, the paper positions on this exchange) and notes on where they come from."""
    from perptui.domain.plan import CurrentPosition
    from perptui.domain.risk_pairs import perp_of
    from perptui.services.accounts import paper_account

    account = paper_account(settings, store, clock)
    exists = store.load_account(account.name) is not None
    capital, neutral_pct = args.capital, args.neutral_pct
    current: list[CurrentPosition] = []
    if exists:
        summary = account.summary()
        if capital is None:
            capital = summary.equity
            notes.append(f"capital: the {account.title} account's equity, {capital:,.2f} {summary.currency}")
        if neutral_pct is None:
            neutral_pct = summary.neutral_pct * 100
        current = [
            CurrentPosition(p.symbol, p.side, p.qty)
            for p in account.positions()
            if p.exchange == settings.exchange_name
        ]
        current += [
            CurrentPosition(perp_of(h.symbol), "long", h.qty, leg="spot") for h in account.spot_holdings()
        ]
    else:
        if capital is None:
            capital = settings.paper.starting_capital
            notes.append(f"capital: no paper account yet, paper.starting_capital = {capital:,.2f}")
        if neutral_pct is None:
            neutral_pct = settings.plan.neutral_pct
    if not capital > 0:
        raise UsageError(f"the capital is {capital:,.2f}: give --capital (an amount above 0)")
    return float(capital), float(neutral_pct), current


# --- the tables ------------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return pct(x, 1)


def _ratio(x: float | None, *, signed: bool = False) -> str:
    """A ratio (Sharpe, a signal) to two decimals, ``—`` when unknown."""
    return money(x, signed=signed)


def _legs_table(title: str, legs: tuple[PlanLeg, ...], steps: dict[str, float | None]):
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, title_justify="left")
    heads = ("symbol", "leg", "side", "qty", "notional", "weight", "margin", "exp. return", "risk", "signal")
    for i, h in enumerate(heads):
        table.add_column(h, justify="left" if i < 3 else "right", no_wrap=True)
    for leg in legs:
        table.add_row(
            leg.symbol, leg.leg, leg.side, qty(leg.qty, steps.get(leg.symbol)), money(leg.notional),
            _pct(leg.weight), money(leg.margin), _pct(leg.expected_return), _pct(leg.risk_contribution),
            _ratio(leg.signal, signed=True), style="green" if leg.side == "long" else "red",
        )  # fmt: skip
    return table


def render(plan: HybridPlan, exchange: str) -> None:
    from rich.console import Console

    c = plan.config
    console = out()
    if not console.is_terminal:
        console = Console(width=max(console.width, 130), highlight=False, file=console.file)
    say(
        f"hybrid plan on {exchange}: capital {c.capital:,.2f}, neutral {c.neutral_pct:g}% / directional "
        f"{100 - c.neutral_pct:g}%, {c.objective}, {c.lookback_days}-day lookback on {c.timeframe} bars"
    )
    for title, legs in (("neutral funding base", plan.neutral), ("directional layer", plan.directional)):
        if legs:
            console.print(_legs_table(title, legs, plan.qty_steps))
        else:
            say(f"{title}: no positions")
    say(
        f"expected return {_pct(plan.expected_return)}/yr  volatility {_pct(plan.volatility)}  "
        f"Sharpe {_ratio(plan.sharpe)}  funding {plan.funding_per_day:+,.2f}/day"
    )
    r = plan.regime
    say(f"regime: {r.state} (directional layer x {r.scale:.2f}): {r.reason}")
    if plan.trades:
        say("trades from the paper positions:")
        for t in plan.trades:
            flag = " (reduce-only)" if t.reduce_only else ""
            amount = qty(t.qty, plan.qty_steps.get(t.symbol))
            say(f"  {t.side:5} {amount} {t.symbol} {t.leg} ~{money(t.notional)}{flag}")
    else:
        say("no trades: the paper positions already match")
