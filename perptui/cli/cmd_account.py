"""`perptui account`: the account's capital; `deposit` / `withdraw AMOUNT` on the paper account."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from perptui.domain.account import AccountSummary
from perptui.domain.errors import UsageError
from perptui.services.clock import SystemClock

from .context import open_store, settings_from_args
from .output import out, print_json, say

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.store import Store

NOT_ON_EXCHANGE = (
    "deposits and withdrawals are for the paper account; perptui never moves money on an exchange"
)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    action = getattr(args, "action", "show")
    if action in ("deposit", "withdraw"):
        if settings.account != "paper":
            raise UsageError(NOT_ON_EXCHANGE)
        amount = args.amount  # read by the parser, before anything opens: a bad amount records nothing
        with open_store(settings) as store:
            from perptui.services.accounts import paper_account

            account = paper_account(settings, store, SystemClock())
            flow = account.deposit(amount) if action == "deposit" else account.withdraw(amount)
            summary = account.summary()
        if args.json:
            print_json(summary.as_dict())
        else:
            verb = "deposited" if action == "deposit" else "withdrew"
            say(
                f"{verb} {flow.amount:,.2f} {summary.currency}; paper wallet balance on "
                f"{account.exchange} now {flow.balance_after:,.2f} {summary.currency}"
            )
        return 0
    with open_store(settings) as store:
        summary = load_summary(settings, store)
    if args.json:
        print_json(summary.as_dict())
    else:
        render(summary)
    return 0


def load_summary(settings: Settings, store: Store) -> AccountSummary:
    from perptui.services.accounts import check_exchange_account, open_account

    clock = SystemClock()
    if settings.account == "paper":
        return open_account(settings, store, clock).summary()  # type: ignore[return-value]  # account "paper": a PaperAccount, whose summary() is synchronous
    if settings.offline:
        raise UsageError('account = "exchange" reads the balance from the exchange: drop --offline')
    check_exchange_account(settings)  # before opening the exchange
    from perptui.services.accounts import ExchangeAccount
    from perptui.services.sources import open_market_data

    source = open_market_data(settings, store)

    async def read() -> AccountSummary:
        try:
            account = open_account(settings, store, clock, source)
            assert isinstance(account, ExchangeAccount)
            return await account.summary()
        finally:
            await source.close()

    return asyncio.run(read())


def money(value: float | None, currency: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}"
    return f"{text} {currency}" if currency else text


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+,.2f}"


def render(s: AccountSummary) -> None:
    from rich.table import Table

    paper = s.account == "paper" or s.account.startswith("paper:")
    label = f"paper account on {s.exchange}" if paper else f"{s.account} account (read-only)"
    table = Table(title=f"{label} — {s.currency}", title_justify="left", header_style="bold")
    table.add_column("", justify="left")
    table.add_column("value", justify="right")
    rows = [
        ("equity", money(s.equity)),
        ("wallet balance", money(s.wallet_balance)),
        ("free margin", money(s.free_margin)),
        ("used margin", money(s.used_margin)),
        ("unrealised PnL", signed(s.unrealized_pnl)),
        ("effective leverage", "—" if s.leverage is None else f"{s.leverage:.2f}x"),
        ("risk per trade", f"{pct(s.risk_pct)} = {money(s.risk_budget)}"),
        ("neutral base", f"{pct(s.neutral_pct)} = {money(_share(s.equity, s.neutral_pct))}"),
        ("directional layer", f"{pct(s.directional_pct)} = {money(_share(s.equity, s.directional_pct))}"),
        ("PnL today (UTC)", signed(s.pnl_today)),
        ("PnL this week", signed(s.pnl_week)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out().print(table)


def _share(equity: float | None, fraction: float) -> float | None:
    return None if equity is None else equity * fraction
