"""The account pane's three cards: capital, risk per trade (with the PnL), and the hybrid plan's split in
percent and in capital. The pane's classes (-narrow, -wide) lay them out (app.tcss)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.widgets import Static

from perptui.domain.account import SUMMARY_KEYS, AccountSummary
from perptui.ui.widgets.stat import Stat


class AccountCards(Container):
    def compose(self) -> ComposeResult:
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

    def show(self, summary: AccountSummary) -> None:
        for key in SUMMARY_KEYS:
            self._set(key, getattr(summary, key), summary.currency)
        equity = summary.equity
        for key, share in (("neutral", summary.neutral_pct), ("directional", summary.directional_pct)):
            self._set(f"{key}_capital", None if equity is None else equity * share, summary.currency)

    def _set(self, stat_id: str, value: float | None, currency: str) -> None:
        stat = self.query_one(f"#{stat_id}", Stat)
        stat.currency = currency
        stat.value = value
