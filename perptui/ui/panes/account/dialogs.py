"""The dialogs of the account pane's edits: deposit and withdraw (an amount, then a confirmation showing
the resulting balance), risk % and the plan's split. Each validates inline, so a bad value stays in the
dialog and records nothing."""

from __future__ import annotations

from typing import Literal

from perptui.domain.account import AccountSummary, check_risk_fraction, check_split
from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.presentation.parse import PERCENT, SHARE_PERCENT, money, parse_number
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog

CashFlow = Literal["deposit", "withdraw"]


def verb(kind: CashFlow) -> str:
    return "Deposit" if kind == "deposit" else "Withdraw"


def amount_form(kind: CashFlow, s: AccountSummary, *, private: bool) -> FormDialog[float]:
    """The amount to deposit or withdraw; a withdrawal above the free margin is refused."""
    free = s.free_margin or 0.0

    def validate(texts: list[str]) -> float:
        amount = parse_number(texts[0], money(s.currency))
        if kind == "withdraw" and amount > free + 1e-9:
            raise UsageError(
                f"{fmt.money(amount, s.currency)} is more than the free margin "
                f"{fmt.money(free, s.currency, private=private)}"
            )
        return amount

    hint = f"Wallet balance {fmt.money(s.wallet_balance, s.currency, private=private)}" + (
        f" · free margin {fmt.money(free, s.currency, private=private)}" if kind == "withdraw" else ""
    )
    title = f"{verb(kind)} ({s.currency})"
    return FormDialog(title, [(f"Amount to {verb(kind).lower()}", "")], validate, hint=hint)


def amount_confirm(kind: CashFlow, s: AccountSummary, amount: float, *, private: bool) -> ConfirmDialog:
    """The confirmation of a cash flow, with the wallet balance it leaves."""
    after = (s.wallet_balance or 0.0) + (amount if kind == "deposit" else -amount)
    lines = [
        f"{verb(kind)} {fmt.money(amount, s.currency)}",
        f"Wallet balance after: {fmt.money(after, s.currency, private=private)}",
    ]
    return ConfirmDialog(f"{verb(kind)}?", lines)


def risk_form(s: AccountSummary, limit_pct: float) -> FormDialog[float]:
    """The risk per trade as a fraction of equity."""
    return FormDialog(
        "Risk per trade",
        [("Risk % of equity per trade", f"{s.risk_pct * 100:g}")],
        lambda texts: check_risk_fraction(parse_number(texts[0], PERCENT) / 100),
        hint=f"one losing trade should cost at most this; above {limit_pct:g}% is warned about",
    )


def split_form(s: AccountSummary) -> FormDialog[tuple[float, float]]:
    """The plan's neutral and directional shares, as fractions that make 1."""

    def validate(texts: list[str]) -> tuple[float, float]:
        neutral = parse_number(texts[0], SHARE_PERCENT.named("neutral base share")) / 100
        directional = parse_number(texts[1], SHARE_PERCENT.named("directional layer share")) / 100
        return check_split(neutral, directional)

    return FormDialog(
        "Hybrid plan split",
        [
            ("Neutral base % (funding carry)", f"{s.neutral_pct * 100:g}"),
            ("Directional layer % (trend)", f"{s.directional_pct * 100:g}"),
        ],
        validate,
        hint="the two must make 100%",
    )
