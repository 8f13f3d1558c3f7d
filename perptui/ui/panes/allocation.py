"""The hybrid allocation pane (key 4): a capital amount turned into a market-neutral funding base (spot +
opposite perp on the best net carry) and a directional trend layer sized by the mean-variance
optimiser, scaled down when volatility spikes.

Every setting has a key: a number is typed in a dialog, a choice cycles in place; each change solves
the plan again in a worker. ``x`` sends the trades that take the paper account to the plan, after a
confirmation listing every order. ``allocation_sync`` runs the workers.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.ui.keymap import binding
from perptui.ui.panes.allocation_columns import SPECS, leg_cells, ordered_legs, row_key
from perptui.ui.panes.allocation_settings import Setting, settings
from perptui.ui.panes.allocation_sync import AllocationSync
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from perptui.ui.widgets.frontier_chart import FrontierChart
from perptui.ui.widgets.live_table import LiveTable


class AllocationPane(AllocationSync):
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
        binding("plan_reload", "r", "reload", "Reload", "Read the market data again and solve"),
        binding("plan_send", "x", "send_trades", "Trades", "Send the plan's trades to the paper account"),
        binding(
            "plan_backtest", "B", "backtest", "Backtest", "Backtest the plan over history (the results view)"
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

    def compose(self) -> ComposeResult:
        yield Static("building the plan…", id="plan-heading", markup=False)
        yield Static("", id="plan-settings")
        with Horizontal(id="plan-body"):
            with Vertical(id="plan-left"):
                yield LiveTable(SPECS, id="plan-table")
                yield Static("", id="plan-trades")
            with Vertical(id="plan-right"):
                yield Static("", id="plan-summary")
                yield FrontierChart(id="plan-frontier")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#plan-table", LiveTable)

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _: self.redraw(), init=False)

    def activated(self) -> None:
        super().activated()
        self.redraw()
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send_trades":
            return self.ctx.account_mode == "paper"
        return True

    # --- settings ----------------------------------------------------------------------------------

    def action_edit(self, key: str) -> None:
        setting = next(s for s in settings() if s.key == key)
        if self.config is None:
            self.notify("the plan is still being built", timeout=2)
        elif setting.kind == "choice":
            self.change(setting.step(self.config))
        else:
            self.edit_number(setting)

    @work(exclusive=True, group="plan-dialog")
    async def edit_number(self, setting: Setting) -> None:
        config = self.config
        assert config is not None
        dialog = FormDialog(
            f"Plan: {setting.label}",
            [(setting.label, setting.initial(config))],
            lambda texts: setting.parse(texts[0], config),
        )
        changed = await self.app.push_screen_wait(dialog)
        if changed is not None:
            self.change(changed)

    def action_reload(self) -> None:
        if self.config is not None:
            self.solve(self.config, reload=True)

    def action_backtest(self) -> None:
        from perptui.ui.screens.backtest import BacktestScreen
        from perptui.ui.screens.backtest_view import setup_from_plan

        settings = self.ctx.settings
        capital = self.config.capital if self.config else settings.paper.starting_capital
        limit = settings.risk.max_drawdown_pct / 100 or None
        setup = setup_from_plan(self.config, capital, self.ctx.clock.now_ms(), limit)
        self.app.push_screen(BacktestScreen(self.ctx, setup))

    def action_size_selected(self) -> None:
        key = self.table.cursor_key
        if key is not None:
            symbol = key.split(":", 1)[1].rsplit(":", 1)[0]
            self.app.show_pane("sizing")  # type: ignore[attr-defined]
            self.app.pane("sizing").open_symbol(symbol)  # type: ignore[attr-defined]

    def on_live_table_selected(self, event: LiveTable.Selected) -> None:
        event.stop()
        self.action_size_selected()

    # --- sending the trades ------------------------------------------------------------------------

    def action_send_trades(self) -> None:
        plan = self.plan
        if plan is None or not plan.trades:
            self.notify("no trades: the paper account already holds the plan", timeout=3)
            return
        self.send_trades(plan)

    @work(exclusive=True, group="plan-dialog")
    async def send_trades(self, plan) -> None:  # type: ignore[no-untyped-def]
        from perptui.domain.paper import OrderRequest

        steps = plan.qty_steps
        perp = [t for t in plan.trades if t.leg == "perp"]
        spot = [t for t in plan.trades if t.leg == "spot"]
        lines = [
            f"{t.side.upper():5} {fmt.qty(t.qty, steps.get(t.symbol))} {t.symbol}  ≈ {fmt.money(t.notional)}"
            + ("  reduce-only" if t.reduce_only else "")
            for t in perp
        ]
        if spot:
            lines += ["", f"not sent: {len(spot)} spot legs (the paper account trades perps only):"]
            lines += [f"  {t.side} {fmt.qty(t.qty, steps.get(t.symbol))} {t.symbol} spot" for t in spot]
        lines += ["", "MARKET orders at the mark plus slippage, on the local PAPER account only."]
        title = f"Send {len(perp)} orders to the paper account?"
        if not perp or not await self.app.push_screen_wait(ConfirmDialog(title, lines)):
            self.notify("no orders sent" if perp else "no perp trades to send", timeout=3)
            return
        engine = await asyncio.to_thread(self.ctx.paper_engine)
        inputs = self.inputs
        marks = inputs.marks if inputs is not None else {}
        if inputs is not None:
            engine.book.use(inputs.markets.values())
        done, refused = 0, []
        for t in sorted(perp, key=lambda t: not t.reduce_only):  # reduce first: frees margin
            request = OrderRequest(
                t.symbol, t.side, t.qty, reduce_only=t.reduce_only, mark=marks.get(t.symbol)
            )
            try:
                await asyncio.to_thread(engine.place_order, request)
                done += 1
            except UsageError as exc:
                refused.append(f"{t.symbol}: {exc}")
        self.notify(f"{done} paper orders filled", title="plan", timeout=5)
        for why in refused:
            self.notify(f"refused: {why}", severity="error", timeout=8)
        self.solve(self.config, reload=False)

    # --- drawing -----------------------------------------------------------------------------------

    def redraw(self) -> None:
        if not self.active or not self.is_mounted:
            return
        heading = self.query_one("#plan-heading", Static)
        config, plan = self.config, self.plan
        if config is not None:
            parts = [_setting_text(s, config) for s in settings()]
            self.query_one("#plan-settings", Static).update(Content("   ").join(parts))
        if plan is None:
            heading.update(self.error or "building the plan…")
            heading.set_class(self.error is not None, "-stale")
            return
        private = bool(getattr(self.app, "privacy", False))
        capital = fmt.money(plan.config.capital, private=private)
        state = "solving…" if self.solving else (self.error or "")
        heading.update(
            f"Plan · capital {capital} · neutral {plan.config.neutral_pct:g}% / directional "
            f"{100 - plan.config.neutral_pct:g}% · regime {plan.regime.state} (x{plan.regime.scale:.2f})"
            + (f" · {state}" if state else "")
        )
        heading.set_class(self.error is not None, "-stale")
        legs = ordered_legs(plan)
        rows = {row_key(leg): leg_cells(leg, plan.qty_steps.get(leg.symbol), private=private) for leg in legs}
        self.table.show(rows, list(rows))
        self.query_one("#plan-summary", Static).update(self._summary(plan, private))
        self.query_one("#plan-trades", Static).update(self._trades(plan))
        points = [(p.volatility, p.expected_return) for p in plan.frontier]
        chosen = (plan.chosen.volatility, plan.chosen.expected_return) if plan.chosen else None
        self.query_one(FrontierChart).show(points, chosen)

    def _summary(self, plan, private: bool) -> Content:  # type: ignore[no-untyped-def]
        def line(label: str, value: str, style: str = "bold") -> Content:
            return Content.assemble((f"{label:<18}", "$text-muted"), (value, style))

        sharpe = "—" if plan.sharpe is None else f"{plan.sharpe:.2f}"
        funding = fmt.money(plan.funding_per_day, private=private, signed=True)
        lines = [
            line("expected return", fmt.pct(plan.expected_return, 1) + " /yr"),
            line("volatility", fmt.pct(plan.volatility, 1) + " /yr"),
            line("Sharpe", sharpe),
            line("funding per day", funding, "$text-success" if plan.funding_per_day > 0 else "bold"),
            line("regime", f"{plan.regime.state} · scale {plan.regime.scale:.2f}"),
        ]
        if plan.regime.reason:
            lines.append(Content.styled(plan.regime.reason, "$text-muted"))
        lines += [Content.styled(n, "$text-warning") for n in plan.notes[:3]]
        return Content("\n").join(lines)

    def _trades(self, plan) -> Content:  # type: ignore[no-untyped-def]
        if not plan.trades:
            return Content.styled("the paper account holds the plan: no trades needed", "$text-muted")
        perp = sum(1 for t in plan.trades if t.leg == "perp")
        known = [t.notional for t in plan.trades if t.notional is not None]
        traded = f"{sum(known):,.0f} traded" if len(known) == len(plan.trades) else "a price unknown"
        return Content.assemble(
            (f"{len(plan.trades)} trades to reach the plan", "bold"),
            f" ({perp} perp, {len(plan.trades) - perp} spot; {traded}) · ",
            ("x", "bold $text-accent"),
            " sends the perp orders to the paper account",
        )


def _setting_text(setting: Setting, config) -> Content:  # type: ignore[no-untyped-def]
    return Content.assemble(
        (setting.key, "bold $text-accent"), f" {setting.label} ", (setting.text(config), "bold")
    )
