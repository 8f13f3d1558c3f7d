"""The account capital pane: balances, risk budget, the hybrid plan's split, PnL, equity history;
deposit, withdraw, risk % and split edits from the keyboard (paper account only)."""

from __future__ import annotations

import inspect
import time
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Vertical
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from perptui.domain.account import SUMMARY_KEYS, AccountSummary
from perptui.presentation import numbers as fmt
from perptui.ui.keymap import binding
from perptui.ui.panes.account_edits import AccountEdits
from perptui.ui.panes.base import PaneCommand
from perptui.ui.widgets.equity_chart import EquityChart
from perptui.ui.widgets.stat import Stat

SNAPSHOT_EVERY_S = 60.0
#: Three cards side by side need about 115 columns (a 19-letter label and a 13-letter amount each);
#: below that they take two columns. From WIDE_FROM on, the cards stand in a column beside the chart.
NARROW_BELOW, WIDE_FROM, SHORT_BELOW = 116, 160, 30
_EDITS = {"deposit", "withdraw", "risk", "split"}


class AccountPane(AccountEdits):
    TITLE = "Account"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("deposit", "d", "deposit", "Deposit", "Add money to the paper account"),
        binding("withdraw", "w", "withdraw", "Withdraw", "Take money out of the paper account"),
        binding("risk", "r", "risk", "Risk %", "Change the risk per trade (% of equity)"),
        binding("split", "s", "split", "Split", "Change the plan's neutral / directional split"),
        binding("range_prev", "[", "range(-1)", "Range", "Shorter equity history range", show=False),
        binding("range_next", "]", "range(1)", "Range", "Longer equity history range"),
    ]

    summary: AccountSummary | None = None

    def compose(self) -> ComposeResult:
        yield Static("loading the account…", id="account-heading", markup=False)
        with Container(id="account-main"):
            with Container(id="account-cards"):
                with Vertical(id="capital", classes="card") as card:
                    card.border_title = "Capital"
                    yield Stat("Equity", id="equity")
                    yield Stat("Wallet balance", id="wallet_balance")
                    yield Stat("Free margin", id="free_margin")
                    yield Stat("Used margin", id="used_margin")
                    yield Stat("Unrealised PnL", signed=True, id="unrealized_pnl")
                    yield Stat("Effective leverage", "leverage", id="leverage")
                with Vertical(id="risk", classes="card") as card:
                    card.border_title = "Risk per trade"
                    yield Stat("Risk % of equity", "pct", id="risk_pct")
                    yield Stat("Risk budget", id="risk_budget")
                    yield Static("", classes="card-gap")
                    yield Stat("PnL today", signed=True, id="pnl_today")
                    yield Stat("PnL this week", signed=True, id="pnl_week")
                with Container(id="plan", classes="card") as card:
                    card.border_title = "Hybrid plan"
                    yield Stat("Neutral base", "pct", id="neutral_pct")
                    yield Stat("Neutral capital", id="neutral_capital")
                    yield Stat("Directional layer", "pct", id="directional_pct")
                    yield Stat("Directional capital", id="directional_capital")
            with Vertical(id="account-side"):
                yield Static("", id="account-message", markup=False)
                yield EquityChart(id="equity-chart")

    def on_resize(self, event: events.Resize) -> None:
        """Fold the layout to the terminal: cards in two columns when narrow, beside the chart when wide."""
        width, height = event.size
        self.set_class(width < NARROW_BELOW, "-narrow")
        self.set_class(width >= WIDE_FROM, "-wide")
        self.set_class(height < SHORT_BELOW, "-short")

    def on_mount(self) -> None:
        self.set_interval(SNAPSHOT_EVERY_S, self.take_snapshot, name="equity snapshot")

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only (exchange) accounts hide the edit keys."""
        if action in _EDITS:
            return not self.ctx.read_only
        return True

    # --- refreshes --------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        if self.ctx.read_only:
            self.load_exchange_summary()
        else:
            self.load_summary()

    @work(thread=True, exclusive=True, group="account-summary", exit_on_error=False, name="summary")
    def load_summary(self) -> tuple[AccountSummary, list[tuple[int, float]]]:
        account = self.ctx.account()
        EquityChart.preload()
        return account.summary(), account.equity_history()

    @work(exclusive=True, group="account-summary", exit_on_error=False, name="summary")
    async def load_exchange_summary(self) -> tuple[AccountSummary, list[tuple[int, float]]]:
        account = self.ctx.account()
        result = account.summary()
        summary = await result if inspect.isawaitable(result) else result
        return summary, []

    @work(thread=True, exclusive=True, group="account-snapshot", exit_on_error=False, name="snapshot")
    def take_snapshot(self) -> bool:
        account = self.ctx.account()
        return bool(getattr(account, "snapshot_if_due", lambda: False)())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.name == "summary" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            if event.state is WorkerState.SUCCESS:
                self.show(*worker.result)
                self.message("")
            else:
                self.message(f"could not read the account: {worker.error}", error=True)
            self._heading()
            self.schedule_next()
        elif worker.name == "snapshot" and event.state is WorkerState.SUCCESS and worker.result:
            self.refresh_data()
        elif worker.name == "write":
            self.write_finished(event)

    # --- drawing ----------------------------------------------------------------------------------

    def show(self, summary: AccountSummary, history: list[tuple[int, float]]) -> None:
        self.summary = summary
        for key in SUMMARY_KEYS:
            stat = self.query_one(f"#{key}", Stat)
            stat.currency = summary.currency
            stat.value = getattr(summary, key)
        equity = summary.equity
        for key, share in (("neutral", summary.neutral_pct), ("directional", summary.directional_pct)):
            stat = self.query_one(f"#{key}_capital", Stat)
            stat.currency = summary.currency
            stat.value = None if equity is None else equity * share
        if history:
            self.query_one(EquityChart).show(history, self.ctx.clock.now_ms())

    def _heading(self) -> None:
        s = self.summary
        if s is None:
            return
        kind = "Paper account" if not self.ctx.read_only else f"{s.account} account (read-only)"
        now = self.ctx.clock.now_ms()
        age = now - s.as_of
        stale = age > 3 * 1000 * self.ctx.settings.ui.refresh_s
        when = f"as of {fmt_time(s.as_of)} UTC" + (f" · stale, {fmt.age(age)} old" if stale else "")
        heading = self.query_one("#account-heading", Static)
        heading.update(f"{kind} · {s.currency} · {when}")
        heading.set_class(stale, "-stale")

    def message(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#account-message", Static)
        line.update(text)
        line.set_class(error, "-error")
        line.display = bool(text)  # an empty line would take a row from the chart

    def action_range(self, step: int) -> None:
        self.query_one(EquityChart).cycle(step)

    def commands(self) -> list[PaneCommand]:
        if self.ctx.read_only:
            return []
        return [
            PaneCommand(
                "Deposit to the paper account", "Add money, with a confirmation", self.action_deposit
            ),
            PaneCommand(
                "Withdraw from the paper account", "Take money out, with a confirmation", self.action_withdraw
            ),
            PaneCommand("Change risk per trade", "Risk % of equity per trade", self.action_risk),
            PaneCommand(
                "Change the hybrid plan split", "Neutral base % / directional layer %", self.action_split
            ),
        ]


def fmt_time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))
