"""The hybrid allocation pane (key 4): a capital amount turned into a market-neutral funding base (spot +
opposite perp on the best net carry) and a directional trend layer sized by the mean-variance
optimiser, scaled down when volatility spikes.

Every setting has a key: a number is typed in a dialog, a choice cycles in place; each change solves
the plan again in a worker (``solve``: the inputs are read again only when the window or the universe
changes; a newer solve replaces a running one, and a hidden pane keeps the result and draws it when
shown). The capital and the split are the account's (its equity, its split) and follow it while the
pane is shown, until a capital is typed here (``c``; ``r`` follows the account again); a split set here
becomes the account's. ``x`` sends the trades that take the paper account to the plan, after a
confirmation listing every order."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.widget import Widget

from perptui.ui.context import AppContext
from perptui.ui.keymap import binding
from perptui.ui.panes.allocation.columns import SPECS, plan_rows
from perptui.ui.panes.allocation.figures import PlanFigures
from perptui.ui.panes.allocation.fold_cue import FoldCue
from perptui.ui.panes.allocation.heading import PlanHeading
from perptui.ui.panes.allocation.messages import BasisRead, PlanFailed, PlanSolved
from perptui.ui.panes.allocation.notes import PlanNotes
from perptui.ui.panes.allocation.send import place_all, rehearse, send_items
from perptui.ui.panes.allocation.settings import Setting, settings
from perptui.ui.panes.allocation.settings_bar import SettingsBar
from perptui.ui.panes.allocation.solve import account_basis, needs_reload, save_split, solve_plan
from perptui.ui.panes.allocation.trades import confirm_lines
from perptui.ui.panes.allocation.trades_line import TradesLine
from perptui.ui.panes.base import Pane
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from perptui.ui.widgets.frontier_chart import FrontierChart
from perptui.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan, PlanConfig, PlanInputs

#: Under NARROW_BELOW columns the side column folds (figures under the table, notes and frontier behind
#: ``i``); from WIDE_FROM on it widens; under SHORT_BELOW rows the blank rows go.
NARROW_BELOW, WIDE_FROM, SHORT_BELOW = 100, 160, 30


class AllocationPane(Pane):
    TITLE = "Plan"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("plan_capital", "c", "edit('c')", "Capital", "The capital the plan allocates"),
        binding("plan_split", "s", "edit('s')", "Split", "Neutral / directional split, in %"),
        binding(
            "plan_universe",
            "u",
            "edit('u')",
            "Universe",
            "How many perps the directional layer considers",
            show=False,
        ),
        binding(
            "plan_min_carry",
            "m",
            "edit('m')",
            "Min carry",
            "Net carry APR a neutral pair needs, in %",
            show=False,
        ),
        binding("plan_objective", "o", "edit('o')", "Objective", "Cycle the optimiser's objective"),
        binding(
            "plan_risk_aversion", "a", "edit('a')", "Aversion", "Risk aversion (max_utility)", show=False
        ),
        binding(
            "plan_leverage",
            "l",
            "edit('l')",
            "Lev cap",
            "Gross leverage cap of the directional layer",
            show=False,
        ),
        binding(
            "plan_vol",
            "v",
            "edit('v')",
            "Vol",
            "Volatility target of the directional layer, in %",
            show=False,
        ),
        binding(
            "plan_target_return",
            "g",
            "edit('g')",
            "Target",
            "Target return of the directional layer, in % (efficient_return)",
            show=False,
        ),
        binding(
            "plan_lookback", "b", "edit('b')", "Lookback", "Cycle the lookback: 7, 30 or 90 days", show=False
        ),
        binding(
            "plan_reload", "r", "reload", "Reload", "Read the account and the market data again and solve"
        ),
        binding("plan_send", "x", "send_trades", "Trades", "Send the plan's trades to the paper account"),
        binding(
            "plan_backtest", "B", "backtest", "Backtest", "Backtest the plan over history (the results view)"
        ),
        binding(
            "plan_details",
            "i",
            "toggle_details",
            "Details",
            "Narrow terminal: the notes and the frontier in place of the table, and back",
        ),
        binding(
            "plan_size",
            "enter",
            "size_selected",
            "Size it",
            "Open the sizing pane on this symbol",
            show=False,
        ),
    ]

    def __init__(self, ctx: AppContext, *, id: str) -> None:
        super().__init__(ctx, id=id)
        self.config: PlanConfig | None = None  # None until the first solve chose the capital
        self.inputs: PlanInputs | None = None
        self.plan: HybridPlan | None = None
        self.warm: Any = None  # the last solution, to warm-start the next solve
        self.error: str | None = None
        self.solving = False
        #: The capital follows the account's equity until one is typed here (``c``); ``r`` follows again.
        self.follow_capital = True

    def compose(self) -> ComposeResult:
        yield PlanHeading(id="plan-heading")
        yield SettingsBar(id="plan-settings")
        with Container(id="plan-body"):
            yield LiveTable(SPECS, id="plan-table")
            yield PlanFigures(id="plan-figures")
            yield FoldCue(id="plan-fold")
            yield PlanNotes(id="plan-notes")
            yield FrontierChart(id="plan-frontier")
        yield TradesLine(id="plan-trades")

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _: self.redraw(), init=False)

    def on_resize(self, event: events.Resize) -> None:
        """Narrow: the figures under the table, the notes and the frontier folded behind ``i``."""
        width, height = event.size
        narrow = width < NARROW_BELOW
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            self.remove_class("-details")  # the table comes back (and keeps the focus it may have)
            self.refresh_bindings()
        self.set_class(width >= WIDE_FROM, "-wide")
        self.set_class(height < SHORT_BELOW, "-short")
        self.redraw()

    @property
    def table(self) -> LiveTable:
        return self.query_one("#plan-table", LiveTable)

    def focus_target(self) -> Widget:
        return self.table

    def activated(self) -> None:
        super().activated()
        self.redraw()

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send_trades":
            return self.ctx.account_mode == "paper"
        if action == "toggle_details":  # wider, everything is on screen
            return self.has_class("-narrow")
        return True

    # --- solving ------------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Shown, and then every refresh: the first solve, else a read of the account to follow."""
        if self.plan is None and not self.solving:
            self.solve(self.config, reload=False)
        elif not self.solving:
            self.read_basis(reread=False)
        self.schedule_next()

    @work(exclusive=True, group="plan-basis", exit_on_error=False)
    async def read_basis(self, *, reread: bool) -> None:
        try:
            basis = await asyncio.to_thread(account_basis, self.ctx)
        except Exception as exc:
            self.notify(f"could not read the account: {exc}", severity="error", timeout=5)
        else:
            self.post_message(BasisRead(basis, reread=reread))

    def on_basis_read(self, event: BasisRead) -> None:
        config, basis = self.config, event.basis
        if config is None or (self.solving and not event.reread):
            return
        if event.reread:
            self.follow_capital = True
            self.config = basis.apply(config, follow_capital=True)
            self.solve(self.config, reload=True)
        elif basis.moved_from(config, follow_capital=self.follow_capital):
            followed = basis.apply(config, follow_capital=self.follow_capital)
            self.change(followed)
            split = f"split {followed.neutral_pct:g}/{100 - followed.neutral_pct:g}"
            self.notify(f"re-planned on the account: capital {followed.capital:,.2f}, {split}", timeout=4)

    def change(self, config: PlanConfig) -> None:
        """Solve again with ``config`` (reading the inputs again when the window or universe changed)."""
        reload = needs_reload(self.config, config)
        self.config = config
        self.solve(config, reload=reload)

    def solve(self, config: PlanConfig | None, *, reload: bool) -> None:
        self.solving = True
        self.redraw()
        self.solve_worker(config, None if reload else self.inputs)

    @work(exclusive=True, group="plan-solve", exit_on_error=False)
    async def solve_worker(self, config: PlanConfig | None, inputs: PlanInputs | None) -> None:
        try:
            solved = await solve_plan(self.ctx, config, inputs, self.warm)
        except Exception as exc:
            self.post_message(PlanFailed(f"no plan: {exc}"))
        else:
            self.post_message(PlanSolved(solved))

    def on_plan_solved(self, event: PlanSolved) -> None:
        solved = event.solved
        self.solving = False
        self.config, self.inputs, self.plan = solved.config, solved.inputs, solved.plan
        self.warm = solved.plan.warm
        self.error = None
        if solved.capital_from:
            self.notify(f"capital: {solved.config.capital:,.2f}, {solved.capital_from}", timeout=4)
        self.redraw()

    def on_plan_failed(self, event: PlanFailed) -> None:
        self.solving = False
        self.error = event.error
        self.redraw()

    # --- settings -----------------------------------------------------------------------------------

    def action_edit(self, key: str) -> None:
        setting = next(s for s in settings() if s.key == key)
        if self.config is None:
            self.notify("the plan is still being built", timeout=2)
        elif setting.kind == "choice":
            self.change(setting.step(self.config))
        else:
            self.edit_number(setting, self.config)

    @work(exclusive=True, group="plan-dialog")
    async def edit_number(self, setting: Setting, config: PlanConfig) -> None:
        dialog = FormDialog(
            f"Plan: {setting.label}",
            [(setting.label, setting.initial(config))],
            lambda texts: setting.parse(texts[0], config),
        )
        changed = await self.app.push_screen_wait(dialog)
        if changed is None:
            return
        if setting.field == "capital":
            self.follow_capital = False  # a what-if capital, kept until ``r``
        if setting.field == "neutral_pct" and self.ctx.account_mode == "paper":
            await asyncio.to_thread(save_split, self.ctx, changed.neutral_pct)
        self.change(changed)

    def action_reload(self) -> None:
        """Read the account (its equity and split) and the market again, and solve."""
        if self.config is not None:
            self.read_basis(reread=True)

    # --- elsewhere: the backtest, the sizing pane ---------------------------------------------------

    def action_backtest(self) -> None:
        from perptui.ui.screens.backtest import BacktestScreen
        from perptui.ui.screens.backtest.setup import setup_from_plan

        settings = self.ctx.settings
        capital = self.config.capital if self.config else settings.paper.starting_capital
        limit = settings.risk.max_drawdown_pct / 100 or None
        setup = setup_from_plan(self.config, capital, self.ctx.clock.now_ms(), limit)
        self.app.push_screen(BacktestScreen(self.ctx, setup))

    def action_size_selected(self) -> None:
        key = self.table.cursor_key
        if key is not None:
            symbol = key.split(":", 1)[1].rsplit(":", 1)[0]
            self.app.show_pane("sizing")  # type: ignore[attr-defined]  # textual's Widget.app is App; show_pane() is PerptuiApp's
            self.app.pane("sizing").open_symbol(symbol)  # type: ignore[attr-defined]  # PerptuiApp.pane(); the sizing pane's own method

    def on_live_table_selected(self, event: LiveTable.Selected) -> None:
        event.stop()
        self.action_size_selected()

    # --- sending the trades -------------------------------------------------------------------------

    def action_send_trades(self) -> None:
        plan = self.plan
        if plan is None:
            self.notify("no trades yet: the plan is still being built", timeout=3)
            return
        if not plan.trades:
            self.notify("no trades: the paper account already holds the plan", timeout=3)
            return
        self.send_trades(plan)

    @work(exclusive=True, group="plan-dialog")
    async def send_trades(self, plan: HybridPlan) -> None:
        """Rehearse first: what the paper account would refuse (and the rule) is said before the
        confirmation, with the cost of the rebalance and the exposure it leaves; a carry pair goes as a
        pair (both legs or neither); when it would refuse everything, no confirmation."""
        items = send_items(plan.trades, self.inputs)
        if not items:
            self.notify("no trades to send", timeout=3)
            return
        engine = await asyncio.to_thread(self.ctx.paper_engine)
        rehearsal = await asyncio.to_thread(rehearse, engine, items, self.inputs)
        refused = rehearsal.refused
        if len(refused) == len(items):
            self.notify(f"nothing sent: the paper account refuses it all ({refused[0]})", severity="error")
            return
        dialog = ConfirmDialog(
            f"Send {len(items) - len(refused)} of {len(items)} to the paper account?",
            confirm_lines(
                items,
                plan.qty_steps,
                refused=rehearsal.refused_keys,
                cost=(rehearsal.fees, rehearsal.slippage),
                exposure=(rehearsal.gross, rehearsal.net),
            ),
            warnings=[f"refused, would not be sent: {why}" for why in refused],
            action="send them",
        )
        if not await self.app.push_screen_wait(dialog):
            self.notify("nothing sent", timeout=3)
            return
        sendable = rehearsal.sendable
        failed = await asyncio.to_thread(place_all, engine, sendable)
        pairs = sum(1 for i, why in zip(sendable, failed, strict=True) if not why and i.kind != "order")
        done = sum(1 for why in failed if not why)
        self.notify(f"{done} sent to the paper account ({pairs} carry pairs)", title="plan", timeout=5)
        for item, why in zip(sendable, failed, strict=True):
            if why:
                self.notify(f"refused: {item.symbol}: {why}", severity="error", timeout=8)
        self.solve(self.config, reload=False)

    # --- drawing ------------------------------------------------------------------------------------

    def action_toggle_details(self) -> None:
        self.toggle_class("-details")
        details = self.has_class("-details")
        (self if details else self.table).focus()  # a hidden table would take the pane's keys with it
        self.redraw()

    def redraw(self) -> None:
        """Hand the plan to every child; a hidden pane draws when shown again."""
        if not self.active or not self.is_mounted:
            return
        if self.config is not None:
            self.query_one(SettingsBar).show(self.config, self.size.width)
        plan = self.plan
        if plan is None:
            self.query_one(PlanHeading).waiting(self.error)
            return
        private = bool(getattr(self.app, "privacy", False))
        self.query_one(PlanHeading).show(
            plan, solving=self.solving, error=self.error, narrow=self.has_class("-narrow"), private=private
        )
        rows = plan_rows(plan, private=private)
        self.table.show(rows, list(rows))
        self.query_one(PlanFigures).show(plan)
        self.query_one(PlanNotes).show(plan)
        self.query_one(FoldCue).show(plan, details=self.has_class("-details"))
        self.query_one(TradesLine).show(plan, self.size.width)
        points = [(p.volatility, p.expected_return) for p in plan.frontier]
        chosen = (plan.chosen.volatility, plan.chosen.expected_return) if plan.chosen else None
        self.query_one(FrontierChart).show(points, chosen)
