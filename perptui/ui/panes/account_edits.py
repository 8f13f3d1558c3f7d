"""The account pane's keyboard edits: deposit and withdraw (amount, then a confirmation showing the
resulting balance), risk % and the plan's split. Dialogs validate inline, so a bad value records nothing;
the ledger is written in a thread worker."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.worker import Worker, WorkerState

from perptui.domain.account import AccountSummary, check_risk_fraction, check_split
from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.presentation.parse import PERCENT, SHARE_PERCENT, money, parse_number
from perptui.ui.panes.base import Pane
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog


class AccountEdits(Pane):
    summary: AccountSummary | None

    def message(self, text: str, *, error: bool = False) -> None: ...

    def _money(self, value: float | None) -> str:
        currency = self.summary.currency if self.summary else "USDT"
        return fmt.money(value, currency, private=bool(getattr(self.app, "privacy", False)))

    def action_deposit(self) -> None:
        self.cash_flow("deposit")

    def action_withdraw(self) -> None:
        self.cash_flow("withdraw")

    @work(exclusive=True, group="account-dialog")
    async def cash_flow(self, kind: str) -> None:
        s = self.summary
        if s is None or self.ctx.read_only:
            self.notify("the account is not loaded yet", severity="warning")
            return
        free = s.free_margin or 0.0

        def validate(texts: list[str]) -> float:
            amount = parse_number(texts[0], money(s.currency))
            if kind == "withdraw" and amount > free + 1e-9:
                raise UsageError(
                    f"{fmt.money(amount, s.currency)} is more than the free margin {self._money(free)}"
                )
            return amount

        verb = "Deposit" if kind == "deposit" else "Withdraw"
        hint = f"Wallet balance {self._money(s.wallet_balance)}" + (
            f" · free margin {self._money(free)}" if kind == "withdraw" else ""
        )
        amount = await self.app.push_screen_wait(
            FormDialog(f"{verb} ({s.currency})", [(f"Amount to {verb.lower()}", "")], validate, hint=hint)
        )
        if amount is None:
            return
        after = (s.wallet_balance or 0.0) + (amount if kind == "deposit" else -amount)
        lines = [f"{verb} {fmt.money(amount, s.currency)}", f"Wallet balance after: {self._money(after)}"]
        if await self.app.push_screen_wait(ConfirmDialog(f"{verb}?", lines)):
            account = self.ctx.account()
            move = account.deposit if kind == "deposit" else account.withdraw
            self.write(move, amount, done=f"{verb} of {fmt.money(amount, s.currency)} recorded")

    def action_risk(self) -> None:
        self.edit_risk()

    @work(exclusive=True, group="account-dialog")
    async def edit_risk(self) -> None:
        s = self.summary
        if s is None or self.ctx.read_only:
            return
        limit = self.ctx.settings.risk.max_risk_pct
        fraction = await self.app.push_screen_wait(
            FormDialog(
                "Risk per trade",
                [("Risk % of equity per trade", f"{s.risk_pct * 100:g}")],
                lambda texts: check_risk_fraction(parse_number(texts[0], PERCENT) / 100),
                hint=f"one losing trade should cost at most this; above {limit:g}% is warned about",
            )
        )
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

        def validate(texts: list[str]) -> tuple[float, float]:
            neutral = parse_number(texts[0], SHARE_PERCENT.named("neutral base share")) / 100
            directional = parse_number(texts[1], SHARE_PERCENT.named("directional layer share")) / 100
            return check_split(neutral, directional)

        split = await self.app.push_screen_wait(
            FormDialog(
                "Hybrid plan split",
                [
                    ("Neutral base % (funding carry)", f"{s.neutral_pct * 100:g}"),
                    ("Directional layer % (trend)", f"{s.directional_pct * 100:g}"),
                ],
                validate,
                hint="the two must make 100%",
            )
        )
        if split is not None:
            self.write(
                self.ctx.account().set_split,
                *split,
                done=f"plan split {split[0] * 100:g}% / {split[1] * 100:g}%",
            )

    def write(self, fn: Callable[..., object], *args: object, done: str) -> None:
        self._done = done
        self.run_worker(
            lambda: fn(*args), thread=True, group="account-write", name="write", exit_on_error=False
        )

    def write_finished(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            self.notify(self._done)
            self.refresh_data()
        elif event.state is WorkerState.ERROR:
            self.message(str(event.worker.error), error=True)
