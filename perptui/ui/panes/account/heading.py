"""The account pane's heading: which account, its currency, and when it was read (flagged stale when the
last read is older than three refreshes)."""

from __future__ import annotations

import time

from textual.widgets import Static

from perptui.domain.account import AccountSummary
from perptui.presentation import numbers as fmt


class AccountHeading(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("loading the account…", id=id, markup=False)

    def show(
        self, summary: AccountSummary, *, read_only: bool, now_ms: int, refresh_s: float, live: bool = False
    ) -> None:
        if read_only:
            what = "LIVE trading: O opens the orders" if live else "read-only"
            kind = f"{summary.account} account ({what})"
        else:  # one paper account per exchange: say whose
            kind = "Paper account" + (f" · {summary.exchange}" if summary.exchange else "")
        age = now_ms - summary.as_of
        stale = age > 3 * 1000 * refresh_s
        when = f"as of {utc_time(summary.as_of)} UTC" + (f" · stale, {fmt.age(age)} old" if stale else "")
        self.update(f"{kind} · {summary.currency} · {when}")
        self.set_class(stale, "-stale")


def utc_time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))
