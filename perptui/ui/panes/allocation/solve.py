"""Solving the plan off the UI thread. Everything a solve reads is gathered here: the account's basis
(its equity as the capital and its neutral / directional split), the market inputs (markets, funding
and candles of the universe, read again only when the window or the universe changes), the paper
account's positions (the trades are the difference), and the previous solution to warm-start from. No
Textual; the maths and the cache are imported when a solve runs, not before the first frame."""

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
        first, capital_from = await asyncio.to_thread(first_config, ctx)
        config = first  # apart from the unpacking, so mypy narrows config to PlanConfig
    if inputs is None:
        inputs = await read_inputs(ctx, config)
    current = await asyncio.to_thread(current_positions, ctx)
    plan = await asyncio.to_thread(build_plan, inputs, config, current, warm)
    return Solved(config, inputs, plan, capital_from)


def needs_reload(old: PlanConfig | None, new: PlanConfig) -> bool:
    """A change of ``new`` from ``old`` that moves the window or the universe, so the inputs are stale."""
    from perptui.services.allocation import inputs_key

    return old is not None and inputs_key(new) != inputs_key(old)


#: The plan follows the account's equity when it moves by more than this share of the plan's capital
#: (a deposit, a withdrawal, a realised loss), not on every tick of the unrealised PnL.
FOLLOW_EQUITY_BY = 0.005


@dataclass(frozen=True, slots=True)
class AccountBasis:
    """What the plan takes from the account: the capital, the split (neutral %, as ``PlanConfig``), and
    where the capital came from."""

    capital: float
    neutral_pct: float
    capital_from: str

    def moved_from(self, config: PlanConfig, *, follow_capital: bool) -> bool:
        """The split differs from ``config``'s, or (when the plan follows the account's capital) the equity
        moved by more than ``FOLLOW_EQUITY_BY``."""
        if abs(self.neutral_pct - config.neutral_pct) > 1e-9:
            return True
        return follow_capital and abs(self.capital - config.capital) > FOLLOW_EQUITY_BY * config.capital

    def apply(self, config: PlanConfig, *, follow_capital: bool) -> PlanConfig:
        from dataclasses import replace

        capital = self.capital if follow_capital else config.capital
        return replace(config, capital=capital, neutral_pct=self.neutral_pct)


def first_config(ctx: AppContext) -> tuple[PlanConfig, str]:
    """The settings' plan on the account's capital and split, and where that capital came from.
    Blocking."""
    from perptui.services.allocation import plan_config

    basis = account_basis(ctx)
    return plan_config(ctx.settings, capital=basis.capital, neutral_pct=basis.neutral_pct), basis.capital_from


def account_basis(ctx: AppContext) -> AccountBasis:
    """The paper account's equity and split (set with ``s`` on the account pane or ``perptui account``);
    ``paper.starting_capital`` while it has no equity, and the config's split with ``account =
    "exchange"`` (the plan's trades go to the paper account only). Blocking."""
    settings = ctx.settings
    if ctx.account_mode == "paper":
        engine = ctx.paper_engine()
        summary = engine.account.summary(engine.marks)
        neutral = float(summary.neutral_pct) * 100
        if summary.equity is not None and summary.equity > 0:
            return AccountBasis(float(summary.equity), neutral, "the paper account's equity")
        return AccountBasis(float(settings.paper.starting_capital), neutral, "paper.starting_capital")
    return AccountBasis(
        float(settings.paper.starting_capital), settings.plan.neutral_pct, "paper.starting_capital"
    )


def save_split(ctx: AppContext, neutral_pct: float) -> None:
    """The plan's split becomes the account's (what the account pane and ``perptui allocate`` use).
    Blocking."""
    ctx.account().set_split(neutral_pct / 100, (100 - neutral_pct) / 100)


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
    from perptui.domain.risk_pairs import perp_of

    engine = ctx.paper_engine()
    held = [CurrentPosition(p.symbol, p.side, p.qty) for p in engine.positions()]
    return held + [
        CurrentPosition(perp_of(h.symbol), "long", h.qty, leg="spot") for h in engine.spot_holdings()
    ]
