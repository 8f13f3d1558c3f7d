"""Solving the plan off the UI thread. Everything a solve reads is gathered here: the capital (the paper
account's equity on the first solve), the market inputs (markets, funding and candles of the universe,
read again only when the window or the universe changes), the paper account's positions (the trades
are the difference), and the previous solution to warm-start from. No Textual; the maths and the cache
are imported when a solve runs, not before the first frame."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perptui.ui.context import AppContext
from perptui.ui.reads import on_source, source_of

if TYPE_CHECKING:
    from perptui.domain.plan import CurrentPosition, HybridPlan, PlanConfig, PlanInputs


@dataclass(frozen=True, slots=True)
class Solved:
    config: PlanConfig
    inputs: PlanInputs
    plan: HybridPlan
    capital_from: str  # where the capital came from, when the solve chose it ("" when it was given)


async def solve_plan(
    ctx: AppContext, config: PlanConfig | None, inputs: PlanInputs | None, warm: Any
) -> Solved:
    """The plan for ``config`` (None: the settings' config on the account's capital) on ``inputs`` (None:
    read them), warm-started from ``warm`` (the previous plan's ``warm``, or None)."""
    from perptui.domain.plan import build_plan

    capital_from = ""
    if config is None:
        config, capital_from = await asyncio.to_thread(first_config, ctx)
    if inputs is None:
        inputs = await read_inputs(ctx, config)
    current = await asyncio.to_thread(current_positions, ctx)
    plan = await asyncio.to_thread(build_plan, inputs, config, current, warm)
    return Solved(config, inputs, plan, capital_from)


def needs_reload(old: PlanConfig | None, new: PlanConfig) -> bool:
    """A change of ``new`` from ``old`` that moves the window or the universe, so the inputs are stale."""
    from perptui.services.allocation import inputs_key

    return old is not None and inputs_key(new) != inputs_key(old)


def first_config(ctx: AppContext) -> tuple[PlanConfig, str]:
    """The settings' plan on the account's capital, and where that capital came from. Blocking."""
    from perptui.services.allocation import plan_config

    capital, capital_from = account_capital(ctx)
    return plan_config(ctx.settings, capital=capital), capital_from


def account_capital(ctx: AppContext) -> tuple[float, str]:
    """The paper account's equity (``paper.starting_capital`` with ``account = "exchange"`` or without
    equity), and where it came from. Blocking."""
    if ctx.account_mode == "paper":
        engine = ctx.paper_engine()
        equity = engine.account.summary(engine.marks).equity
        if equity is not None and equity > 0:
            return float(equity), "the paper account's equity"
    return float(ctx.settings.paper.starting_capital), "paper.starting_capital"


async def read_inputs(ctx: AppContext, config: PlanConfig) -> PlanInputs:
    """The universe's markets, funding and candles: from the market source, or the cache when offline."""
    from perptui.services.allocation import load_plan_inputs

    source = await source_of(ctx)
    store = await asyncio.to_thread(ctx.store)
    args = (store, ctx.exchange_name, config, ctx.clock)
    if source is None:
        return await load_plan_inputs(None, *args)
    return await on_source(source, lambda: load_plan_inputs(source, *args))


def current_positions(ctx: AppContext) -> list[CurrentPosition]:
    """The paper account's positions (none on an exchange's account: the plan then trades from flat).
    Blocking."""
    from perptui.domain.plan import CurrentPosition

    if ctx.account_mode != "paper":
        return []
    return [CurrentPosition(p.symbol, p.side, p.qty) for p in ctx.paper_engine().positions()]
