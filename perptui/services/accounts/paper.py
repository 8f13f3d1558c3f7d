"""The paper account: a local ledger in the store, opened with the configured starting capital.

Synchronous on purpose: every call is a few small SQLite statements, and the app runs them in thread
workers. Each change (deposit, withdrawal) is one transaction that appends the cash flow and records an
equity snapshot, so a kill leaves either both or neither. Positions arrive in a later issue: until then
unrealised PnL and used margin are 0 and equity is the wallet's cash balance.
"""

from __future__ import annotations

import threading

from perptui.domain.account import (
    MINUTE_MS,
    AccountInfo,
    AccountSummary,
    CashFlow,
    check_amount,
    day_start,
    effective_leverage,
    period_pnl,
    risk_budget,
    to_units,
    week_start,
)
from perptui.domain.errors import UsageError
from perptui.services.accounts.settings import RiskAndPlan
from perptui.services.clock import Clock
from perptui.services.store import Store

#: Snapshots taken by ``snapshot_if_due`` are at least this far apart.
SNAPSHOT_EVERY_MS = MINUTE_MS


class PaperAccount:
    """The local paper account ``name`` (default "paper").

    ``risk_pct``, ``neutral_pct`` and ``directional_pct`` are FRACTIONS (0.01 = 1%): the config's
    defaults, converted once by ``accounts.defaults_from``. ``set_risk_pct`` and ``set_split`` persist
    new values in the store, and those win over the defaults from then on.
    """

    is_paper = True

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        starting_capital: float,
        risk_pct: float,
        neutral_pct: float,
        directional_pct: float,
        currency: str = "USDT",
        name: str = "paper",
    ) -> None:
        self._store = store
        self._clock = clock
        self.name = name
        self.currency = currency
        self._starting_capital = check_amount(starting_capital, "paper.starting_capital", currency)
        self._plan = RiskAndPlan(
            store,
            clock,
            name,
            risk_pct=risk_pct,
            neutral_pct=neutral_pct,
            directional_pct=directional_pct,
        )
        self._info: AccountInfo | None = None
        self._lock = threading.Lock()

    # --- the account ------------------------------------------------------------------------------

    def open(self) -> AccountInfo:
        """The account's ledger record, creating it (opening balance + first snapshot) on first use.

        The starting capital only matters then: changing it in the config later does not touch an
        existing account (deposit or withdraw instead).
        """
        with self._lock:
            if self._info is None:
                info = self._store.load_account(self.name)
                if info is None:
                    self._store.create_account(
                        self.name, self.currency, self._clock.now_ms(), self._starting_capital
                    )
                    info = self._store.load_account(self.name)
                assert info is not None
                self._info = info
                self.currency = info.currency
            return self._info

    def summary(self) -> AccountSummary:
        info = self.open()
        with self._store.read():  # balance, snapshots and flows from one consistent state
            now = self._clock.now_ms()
            wallet = self._wallet()
            unrealized = 0.0  # no positions yet (a later issue adds them to this ledger)
            used = 0.0
            equity = wallet + unrealized
            risk, neutral, directional = self._plan.current()
            pnl_today = self._pnl_since(day_start(now), equity, info)
            pnl_week = self._pnl_since(week_start(now), equity, info)
        return AccountSummary(
            account=self.name,
            currency=info.currency,
            as_of=now,
            equity=equity,
            wallet_balance=wallet,
            free_margin=equity - used,
            used_margin=used,
            unrealized_pnl=unrealized,
            leverage=effective_leverage(0.0, equity),
            risk_pct=risk,
            risk_budget=risk_budget(risk, equity),
            neutral_pct=neutral,
            directional_pct=directional,
            pnl_today=pnl_today,
            pnl_week=pnl_week,
            maintenance_margin=0.0,
        )

    def _wallet(self) -> float:
        balance = self._store.cash_balance(self.name)
        return 0.0 if balance is None else balance

    def _pnl_since(self, start: int, equity: float, info: AccountInfo) -> float:
        base = self._store.equity_at(self.name, start)
        flows = self._store.load_cash_flows(self.name, since=None if base is None else base[0])
        pnl = period_pnl(equity, start, [base] if base else [], flows, info.opening_balance)
        assert pnl is not None
        return round(pnl, 8) + 0.0  # no -0.0 or 1e-13 noise from float arithmetic

    # --- cash -------------------------------------------------------------------------------------

    def deposit(self, amount: float | str) -> CashFlow:
        """Add ``amount`` (> 0; text is parsed with ``parse_amount``) to the wallet; returns the flow."""
        return self._move("deposit", amount)

    def withdraw(self, amount: float | str) -> CashFlow:
        """Take ``amount`` from the wallet; more than the free margin is refused (UsageError, nothing
        recorded) with the amount that is free."""
        return self._move("withdrawal", amount)

    def _move(self, kind: str, amount: float | str) -> CashFlow:
        value = check_amount(amount, "amount", self.currency)
        self.open()
        now = self._clock.now_ms()
        used = 0.0
        with self._store.transaction():
            if kind == "withdrawal":
                free = self._wallet() - used
                if to_units(value) > to_units(free):
                    raise UsageError(
                        f"cannot withdraw {value:,.2f} {self.currency}: only {max(free, 0.0):,.2f} "
                        f"{self.currency} is free"
                    )
            flow = self._store.add_cash_flow(self.name, now, kind, value, min_balance=used)
            self._store.record_equity(self.name, now, flow.balance_after, flow.balance_after)
        return flow

    def cash_flows(self) -> list[CashFlow]:
        """Every flow (opening, deposits, withdrawals) in the order recorded."""
        self.open()
        return self._store.load_cash_flows(self.name)

    # --- snapshots --------------------------------------------------------------------------------

    def snapshot_if_due(self) -> bool:
        """Record an equity snapshot unless one was taken in the last minute; True when recorded.

        The app calls this on a timer; changes record their own snapshot whatever the timer does.
        """
        self.open()
        with self._store.transaction():
            now = self._clock.now_ms()
            last = self._store.last_equity_time(self.name)
            if last is not None and now - last < SNAPSHOT_EVERY_MS:
                return False
            wallet = self._wallet()
            self._store.record_equity(self.name, now, wallet, wallet)
        return True

    def equity_history(self, since: int | None = None) -> list[tuple[int, float]]:
        """(time, equity) snapshots, oldest first; ``since``: only those at or after it."""
        self.open()
        return self._store.load_equity(self.name, since)

    # --- risk and plan ----------------------------------------------------------------------------

    def set_risk_pct(self, fraction: float) -> None:
        """Risk per trade as a FRACTION of equity, in (0, 1]; persisted, overrides the config."""
        self._plan.set_risk_pct(fraction)

    def set_split(self, neutral_fraction: float, directional_fraction: float) -> None:
        """The plan's split as FRACTIONS summing to 1; persisted, overrides the config."""
        self._plan.set_split(neutral_fraction, directional_fraction)
