"""The account capital pane: balances, risk budget, the hybrid plan's split, PnL, equity history;
deposit, withdraw, risk % and split edits from the keyboard (paper account only).

The summary is read in a worker (a thread on the paper account, the loop for an exchange's), then the
next read is scheduled; an equity snapshot is taken every minute and a new one reads the summary again.
Edits go through dialogs (``dialogs``) and the ledger is written in a thread."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Vertical
from textual.worker import get_current_worker

from perptui.domain.account import AccountSummary
from perptui.presentation import numbers as fmt
from perptui.ui.context import AppContext
from perptui.ui.keymap import binding
from perptui.ui.panes.account import dialogs
from perptui.ui.panes.account.cards import AccountCards
from perptui.ui.panes.account.heading import AccountHeading
from perptui.ui.panes.account.message_line import MessageLine
from perptui.ui.panes.account.messages import SnapshotTaken, SummaryFailed, SummaryRead, WriteFailed, Written
from perptui.ui.panes.base import Pane, PaneCommand
from perptui.ui.widgets.equity_chart import EquityChart

SNAPSHOT_EVERY_S = 60.0
#: Three cards side by side need about 115 columns (a 19-letter label and a 13-letter amount each);
#: below that they take two columns. From WIDE_FROM on, the cards stand in a column beside the chart.
NARROW_BELOW, WIDE_FROM, SHORT_BELOW = 116, 160, 30
_EDITS = {"deposit", "withdraw", "risk", "split"}


class AccountPane(Pane):
    TITLE = "Account"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding(
            "account_live_orders",
            "O",
            "live_orders",
            "Live orders",
            "Positions and orders on the exchange: cancel, move, close, kill switch (live trading only)",
        ),
        binding("deposit", "d", "deposit", "Deposit", "Add money to the paper account"),
        binding("withdraw", "w", "withdraw", "Withdraw", "Take money out of the paper account"),
        binding("risk", "r", "risk", "Risk %", "Change the risk per trade (% of equity)"),
        binding("split", "s", "split", "Split", "Change the plan's neutral / directional split"),
        binding("range_prev", "[", "range(-1)", "Range", "Shorter equity history range", show=False),
        binding("range_next", "]", "range(1)", "Range", "Longer equity history range"),
    ]

    def __init__(self, ctx: AppContext, *, id: str) -> None:
        super().__init__(ctx, id=id)
        self.summary: AccountSummary | None = None  # the last read, for the heading and the edits

    def compose(self) -> ComposeResult:
        yield AccountHeading(id="account-heading")
        with Container(id="account-main"):
            yield AccountCards(id="account-cards")
            with Vertical(id="account-side"):
                yield MessageLine(id="account-message")
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
        if action == "live_orders":
            return self.ctx.live
        return True

    @work(exclusive=True, group="account-live-orders")
    async def action_live_orders(self) -> None:
        from perptui.ui.live import open_live_orders

        await open_live_orders(self.app, self.ctx)

    @property
    def private(self) -> bool:
        return bool(getattr(self.app, "privacy", False))

    # --- reads --------------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        if self.ctx.read_only:
            self.load_exchange_summary()
        else:
            self.load_summary()

    @work(thread=True, exclusive=True, group="account-summary", exit_on_error=False)
    def load_summary(self) -> None:
        try:
            account = self.ctx.account()
            EquityChart.preload()
            read: SummaryRead | SummaryFailed = SummaryRead(account.summary(), account.equity_history())
        except Exception as exc:
            read = SummaryFailed(str(exc))
        if not get_current_worker().is_cancelled:  # a newer read replaced this one
            self.post_message(read)

    @work(exclusive=True, group="account-summary", exit_on_error=False)
    async def load_exchange_summary(self) -> None:
        try:
            result = self.ctx.account().summary()
            summary = await result if inspect.isawaitable(result) else result
        except Exception as exc:
            self.post_message(SummaryFailed(str(exc)))
        else:
            self.post_message(SummaryRead(summary, []))

    @work(thread=True, exclusive=True, group="account-snapshot", exit_on_error=False)
    def take_snapshot(self) -> None:
        account = self.ctx.account()
        if getattr(account, "snapshot_if_due", lambda: False)():
            self.post_message(SnapshotTaken())

    def on_summary_read(self, event: SummaryRead) -> None:
        self.summary = event.summary
        self.query_one(AccountCards).show(event.summary)
        if event.history:
            self.query_one(EquityChart).show(event.history, self.ctx.clock.now_ms())
        self.query_one(MessageLine).say("")
        self._read_done()

    def on_summary_failed(self, event: SummaryFailed) -> None:
        self.query_one(MessageLine).say(f"could not read the account: {event.error}", error=True)
        self._read_done()

    def _read_done(self) -> None:
        if self.summary is not None:
            self.query_one(AccountHeading).show(
                self.summary,
                read_only=self.ctx.read_only,
                live=self.ctx.live,
                now_ms=self.ctx.clock.now_ms(),
                refresh_s=self.ctx.settings.ui.refresh_s,
            )
        self.schedule_next()

    def on_snapshot_taken(self, event: SnapshotTaken) -> None:
        self.refresh_data()

    # --- edits --------------------------------------------------------------------------------------

    def action_deposit(self) -> None:
        self.cash_flow("deposit")

    def action_withdraw(self) -> None:
        self.cash_flow("withdraw")

    @work(exclusive=True, group="account-dialog")
    async def cash_flow(self, kind: dialogs.CashFlow) -> None:
        s = self.summary
        if s is None or self.ctx.read_only:
            self.notify("the account is not loaded yet", severity="warning")
            return
        amount = await self.app.push_screen_wait(dialogs.amount_form(kind, s, private=self.private))
        if amount is None:
            return
        if await self.app.push_screen_wait(dialogs.amount_confirm(kind, s, amount, private=self.private)):
            account = self.ctx.account()
            move = account.deposit if kind == "deposit" else account.withdraw
            self.write(move, amount, done=f"{dialogs.verb(kind)} of {fmt.money(amount, s.currency)} recorded")

    def action_risk(self) -> None:
        self.edit_risk()

    @work(exclusive=True, group="account-dialog")
    async def edit_risk(self) -> None:
        s = self.summary
        if s is None or self.ctx.read_only:
            return
        limit = self.ctx.settings.risk.max_risk_pct
        fraction = await self.app.push_screen_wait(dialogs.risk_form(s, limit))
        if fraction is not None:
            if fraction * 100 > limit:
                self.notify(
                    f"{fraction * 100:g}% is above your limit of {limit:g}% per trade", severity="warning"
                )
            self.write(self.ctx.account().set_risk_pct, fraction, done=f"risk per trade {fraction * 100:g}%")

    def action_split(self) -> None:
        self.edit_split()

    @work(exclusive=True, group="account-dialog")
    async def edit_split(self) -> None:
        s = self.summary
        if s is None or self.ctx.read_only:
            return
        split = await self.app.push_screen_wait(dialogs.split_form(s))
        if split is not None:
            self.write(
                self.ctx.account().set_split,
                *split,
                done=f"plan split {split[0] * 100:g}% / {split[1] * 100:g}%",
            )

    @work(thread=True, group="account-write", exit_on_error=False)
    def write(self, fn: Callable[..., object], *args: object, done: str) -> None:
        """Write to the ledger; ``done`` is the toast once it is recorded."""
        try:
            fn(*args)
        except Exception as exc:
            self.post_message(WriteFailed(str(exc)))
        else:
            self.post_message(Written(done))

    def on_written(self, event: Written) -> None:
        self.notify(event.done)
        self.refresh_data()

    def on_write_failed(self, event: WriteFailed) -> None:
        self.query_one(MessageLine).say(event.error, error=True)

    # --- the chart and the palette ------------------------------------------------------------------

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
