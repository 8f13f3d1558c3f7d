"""The allocation pane's workers: read the plan's inputs (markets, funding and candles of the universe;
only when the window or the universe changes), then solve the plan in a thread on every change of a
setting. A newer solve replaces a running one; the UI never waits on either. Results come back to
``on_worker_state_changed`` on the UI thread; a hidden pane keeps them and draws them when shown."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work
from textual.worker import Worker, WorkerState

from perptui.ui.panes.base import Pane
from perptui.ui.reads import on_source, source_of

if TYPE_CHECKING:
    from perptui.domain.plan import CurrentPosition, HybridPlan, PlanConfig, PlanInputs


@dataclass(frozen=True, slots=True)
class Solved:
    config: PlanConfig
    inputs: PlanInputs
    plan: HybridPlan
    capital_from: str  # where the capital came from, when the pane chose it


class AllocationSync(Pane):
    def __init__(self, ctx, *, id: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx, id=id)
        self.config: PlanConfig | None = None
        self.inputs: PlanInputs | None = None
        self.plan: HybridPlan | None = None
        self.error: str | None = None
        self.solving = False
        self.warm: Any = None

    def redraw(self) -> None: ...

    def refresh_data(self) -> None:
        if self.plan is None and not self.solving:
            self.solve(self.config, reload=False)

    def change(self, config: PlanConfig) -> None:
        """Solve again with ``config`` (reading the inputs again when the window or universe changed)."""
        from perptui.services.allocation import inputs_key

        reload = self.config is not None and inputs_key(config) != inputs_key(self.config)
        self.config = config
        self.solve(config, reload=reload)

    def solve(self, config: PlanConfig | None, *, reload: bool) -> None:
        self.solving = True
        self.redraw()
        self.solve_worker(config, None if reload else self.inputs)

    @work(exclusive=True, group="plan-solve", exit_on_error=False, name="plan-solve")
    async def solve_worker(self, config: PlanConfig | None, inputs: PlanInputs | None) -> Solved:
        from perptui.domain.plan import build_plan
        from perptui.services.allocation import load_plan_inputs, plan_config

        ctx = self.ctx
        capital_from = ""
        if config is None:
            capital, capital_from = await asyncio.to_thread(self._capital)
            config = await asyncio.to_thread(plan_config, ctx.settings, capital=capital)
        if inputs is None:
            source = await source_of(ctx)
            store = await asyncio.to_thread(ctx.store)
            args = (store, ctx.exchange_name, config, ctx.clock)
            if source is None:
                inputs = await load_plan_inputs(None, *args)
            else:
                inputs = await on_source(source, lambda: load_plan_inputs(source, *args))
        current = await asyncio.to_thread(self._current_positions)
        plan = await asyncio.to_thread(build_plan, inputs, config, current, self.warm)
        return Solved(config, inputs, plan, capital_from)

    def _capital(self) -> tuple[float, str]:
        """The paper account's equity (the exchange's with ``account = "exchange"``)."""
        if self.ctx.account_mode == "paper":
            engine = self.ctx.paper_engine()
            equity = engine.account.summary(engine.marks).equity
            if equity is not None and equity > 0:
                return float(equity), "the paper account's equity"
        return float(self.ctx.settings.paper.starting_capital), "paper.starting_capital"

    def _current_positions(self) -> list[CurrentPosition]:
        from perptui.domain.plan import CurrentPosition

        if self.ctx.account_mode != "paper":
            return []
        return [CurrentPosition(p.symbol, p.side, p.qty) for p in self.ctx.paper_engine().positions()]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "plan-solve" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.solving = False
        if event.state is WorkerState.SUCCESS:
            solved: Solved = event.worker.result
            self.config, self.inputs, self.plan = solved.config, solved.inputs, solved.plan
            self.warm = solved.plan.warm
            self.error = None
            if solved.capital_from:
                self.notify(f"capital: {solved.config.capital:,.2f}, {solved.capital_from}", timeout=4)
        else:
            self.error = f"no plan: {event.worker.error}"
        self.redraw()
