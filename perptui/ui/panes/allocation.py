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

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.ui.keymap import binding
from perptui.ui.panes.allocation_columns import SPECS, leg_cells, ordered_legs, row_key
from perptui.ui.panes.allocation_settings import Setting, settings
from perptui.ui.panes.allocation_sync import AllocationSync
from perptui.ui.panes.allocation_trades import confirm_lines, send_order, trades_summary
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from perptui.ui.widgets.frontier_chart import FrontierChart
from perptui.ui.widgets.live_table import LiveTable
from perptui.ui.widgets.stat import Stat

#: Under NARROW_BELOW columns the side column folds (figures under the table, notes and frontier behind
#: ``i``); from WIDE_FROM on it widens; under SHORT_BELOW rows the blank rows go.
NARROW_BELOW, WIDE_FROM, SHORT_BELOW = 100, 160, 30


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

    def compose(self) -> ComposeResult:
        yield Static("building the plan…", id="plan-heading", markup=False)
        yield Static("", id="plan-settings")
        with Container(id="plan-body"):
            yield LiveTable(SPECS, id="plan-table")
            with Container(id="plan-figures"):
                yield Stat("expected return", "text", id="plan-return")
                yield Stat("volatility", "text", id="plan-volatility")
                yield Stat("Sharpe", "text", id="plan-sharpe")
                yield Stat("funding per day", currency="", signed=True, id="plan-funding")
                yield Stat("regime", "text", id="plan-regime")
            yield Static("", id="plan-fold")
            yield Static("", id="plan-notes")
            yield FrontierChart(id="plan-frontier")
        yield Static("", id="plan-trades")

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

    def action_toggle_details(self) -> None:
        self.toggle_class("-details")
        details = self.has_class("-details")
        (self if details else self.table).focus()  # a hidden table would take the pane's keys with it
        self.redraw()

    @property
    def table(self) -> LiveTable:
        return self.query_one("#plan-table", LiveTable)

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _: self.redraw(), init=False)

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
            self.app.show_pane("sizing")  # type: ignore[attr-defined]
            self.app.pane("sizing").open_symbol(symbol)  # type: ignore[attr-defined]

    def on_live_table_selected(self, event: LiveTable.Selected) -> None:
        event.stop()
        self.action_size_selected()

    # --- sending the trades ------------------------------------------------------------------------

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
    async def send_trades(self, plan) -> None:  # type: ignore[no-untyped-def]
        """Rehearse the perp orders on the paper engine first: what it would refuse (a tripped circuit
        breaker refuses every order that opens or adds) is said before the confirmation, which then
        defaults to No; when it would refuse them all, no confirmation is shown."""
        from perptui.domain.paper import OrderRequest

        perp = send_order(plan.trades)
        if not perp:
            self.notify("no perp trades to send", timeout=3)
            return
        engine = await asyncio.to_thread(self.ctx.paper_engine)
        inputs = self.inputs
        marks = inputs.marks if inputs is not None else {}
        if inputs is not None:
            engine.book.use(inputs.markets.values())
        requests = [  # reduce first: frees margin
            OrderRequest(t.symbol, t.side, t.qty, reduce_only=t.reduce_only, mark=marks.get(t.symbol))
            for t in perp
        ]
        refusals = await asyncio.to_thread(engine.rehearse, lambda: _try_all(engine, requests))
        refused = [f"{t.symbol}: {why}" for t, why in zip(perp, refusals, strict=True) if why]
        if len(refused) == len(perp):
            self.notify(f"no orders sent: the paper account refuses them ({refused[0]})", severity="error")
            return
        refused_symbols = frozenset(t.symbol for t, why in zip(perp, refusals, strict=True) if why)
        lines = confirm_lines(plan.trades, plan.qty_steps, refused=refused_symbols)
        warnings = [f"refused, would not be sent: {why}" for why in refused]
        title = f"Send {len(perp) - len(refused)} orders to the paper account?"
        dialog = ConfirmDialog(title, lines, warnings=warnings, action="send them")
        if not await self.app.push_screen_wait(dialog):
            self.notify("no orders sent", timeout=3)
            return
        sendable = [r for r, why in zip(requests, refusals, strict=True) if not why]
        failed = await asyncio.to_thread(_try_all, engine, sendable)
        done = sum(1 for why in failed if not why)
        self.notify(f"{done} paper orders filled", title="plan", timeout=5)
        for request, why in zip(sendable, failed, strict=True):
            if why:
                self.notify(f"refused: {request.symbol}: {why}", severity="error", timeout=8)
        self.solve(self.config, reload=False)

    # --- drawing -----------------------------------------------------------------------------------

    def redraw(self) -> None:
        if not self.active or not self.is_mounted:
            return
        heading = self.query_one("#plan-heading", Static)
        config, plan = self.config, self.plan
        if config is not None:
            self.query_one("#plan-settings", Static).update(settings_bar(config, self.size.width))
        if plan is None:
            heading.update(self.error or "building the plan…")
            heading.set_class(self.error is not None, "-stale")
            return
        narrow = self.has_class("-narrow")
        private = bool(getattr(self.app, "privacy", False))
        capital = fmt.money(plan.config.capital, private=private)
        state = "solving…" if self.solving else (self.error or "")
        split = f"neutral {plan.config.neutral_pct:g}% / directional {100 - plan.config.neutral_pct:g}%"
        parts = [] if narrow else [f"capital {capital}", split]  # narrow: the settings bar has them
        parts += [f"regime {plan.regime.state} (x{plan.regime.scale:.2f})", state]
        heading.update(" · ".join(["Plan", *filter(None, parts)]))
        heading.set_class(self.error is not None, "-stale")
        legs = ordered_legs(plan)
        rows = {row_key(leg): leg_cells(leg, plan.qty_steps.get(leg.symbol), private=private) for leg in legs}
        self.table.show(rows, list(rows))
        self._figures(plan)
        notes = self._notes(plan)
        self.query_one("#plan-notes", Static).update(notes)
        self.query_one("#plan-fold", Static).update(self._fold_cue(plan))
        summary = trades_summary(plan, short=False)
        if summary.cell_length > self.size.width:
            summary = trades_summary(plan, short=True)
        self.query_one("#plan-trades", Static).update(summary)
        points = [(p.volatility, p.expected_return) for p in plan.frontier]
        chosen = (plan.chosen.volatility, plan.chosen.expected_return) if plan.chosen else None
        self.query_one(FrontierChart).show(points, chosen)

    def _figures(self, plan) -> None:  # type: ignore[no-untyped-def]
        """The plan's key figures, each a ``Stat`` (the value is never cut)."""
        figures = {
            "return": fmt.pct(plan.expected_return, 1) + " /yr",
            "volatility": fmt.pct(plan.volatility, 1) + " /yr",
            "sharpe": "—" if plan.sharpe is None else f"{plan.sharpe:.2f}",
            "funding": plan.funding_per_day,
            "regime": f"{plan.regime.state} · scale {plan.regime.scale:.2f}",
        }
        for key, value in figures.items():
            self.query_one(f"#plan-{key}", Stat).value = value

    def _notes(self, plan) -> Content:  # type: ignore[no-untyped-def]
        lines = [Content.styled(plan.regime.reason, "$text-muted")] if plan.regime.reason else []
        lines += [Content.styled(n, "$text-warning") for n in plan.notes[:3]]
        return Content("\n").join(lines)

    def _fold_cue(self, plan) -> Content:  # type: ignore[no-untyped-def]
        """Narrow terminals: what ``i`` shows or hides."""
        if self.has_class("-details"):
            return Content.assemble(("i", "bold $text-accent"), (" back to the legs table", "$text-muted"))
        count = len(plan.notes[:3]) + bool(plan.regime.reason)
        what = f"{count} note{'s' if count != 1 else ''} and the frontier" if count else "the frontier"
        return Content.assemble(
            ("▸ ", "$text-muted"), ("i", "bold $text-accent"), (f" shows {what}", "$text-muted")
        )


def settings_bar(config, width: int) -> Content:  # type: ignore[no-untyped-def]
    """The settings, each with its key, packed into lines of ``width`` without cutting one; the long
    labels unless the short ones take fewer lines."""
    full = pack([_setting_text(s, config, short=False) for s in settings()], width, gap=3)
    short = pack([_setting_text(s, config, short=True) for s in settings()], width, gap=2)
    return Content("\n").join(full if len(full) <= len(short) else short)


def pack(parts: list[Content], width: int, *, gap: int) -> list[Content]:
    """``parts`` joined on lines of at most ``width`` cells (a part longer than a line stands alone)."""
    lines: list[list[Content]] = [[]]
    used = 0
    for part in parts:
        need = part.cell_length + (gap if lines[-1] else 0)
        if lines[-1] and used + need > width:
            lines.append([])
            used, need = 0, part.cell_length
        lines[-1].append(part)
        used += need
    return [Content(" " * gap).join(line) for line in lines]


def _setting_text(setting: Setting, config, *, short: bool) -> Content:  # type: ignore[no-untyped-def]
    label = setting.short if short else setting.label
    return Content.assemble(
        (setting.key, "bold $text-accent"),
        f" {label} " if label else " ",
        (setting.text(config), "bold"),
    )


def _try_all(engine, requests: list) -> list[str | None]:  # type: ignore[no-untyped-def]
    """Place each order in turn: None where it filled, the refusal where the engine refused it."""
    outcome: list[str | None] = []
    for request in requests:
        try:
            engine.place_order(request)
        except UsageError as exc:
            outcome.append(str(exc))
        else:
            outcome.append(None)
    return outcome
