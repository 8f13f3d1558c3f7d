"""The exchange's own account, read-only: balance and positions through the market data source.

Nothing is ever sent to the exchange but reads (``fetch_balance``, ``fetch_positions``). Equity
snapshots go to the local store (at most once a minute) so the app can chart them; deposits and
withdrawals on the exchange are not known, so today's and this week's PnL are None (not a guess).
"""

from __future__ import annotations

import math

from perptui.domain.account import MINUTE_MS, AccountSummary, effective_leverage, risk_budget
from perptui.domain.errors import AuthenticationError, ExchangeError
from perptui.domain.types import Balance, Position
from perptui.services.accounts.settings import RiskAndPlan
from perptui.services.clock import Clock, SystemClock
from perptui.services.marketdata import MarketData
from perptui.services.store import Store


class ExchangeAccount:
    """The account of ``source`` (a ccxt exchange with API keys). ``risk_pct``, ``neutral_pct`` and
    ``directional_pct`` are fractions; ``set_*`` persist overrides per exchange when a store is given."""

    is_paper = False

    def __init__(
        self,
        source: MarketData,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        risk_pct: float = 0.01,
        neutral_pct: float = 0.7,
        directional_pct: float = 0.3,
        name: str | None = None,
    ) -> None:
        self._source = source
        self._store = store
        self._clock = clock or SystemClock()
        self.name = name or source.name
        self.currency = "USDT"  # until the first balance says otherwise
        self._plan = RiskAndPlan(
            store,
            self._clock,
            self.name,
            risk_pct=risk_pct,
            neutral_pct=neutral_pct,
            directional_pct=directional_pct,
        )

    async def summary(self) -> AccountSummary:
        """Read balance and positions. A failed balance read raises (ExchangeError); failed positions
        leave unrealised PnL, wallet balance and leverage None."""
        balance = await self._source.fetch_balance()
        try:
            positions: list[Position] | None = await self._source.fetch_positions()
        except AuthenticationError:
            raise
        except ExchangeError:
            positions = None
        summary = self._summarize(balance, positions, self._clock.now_ms())
        if self._store is not None and summary.equity is not None:
            self._snapshot_if_due(summary)
        return summary

    def _summarize(self, balance: Balance, positions: list[Position] | None, now: int) -> AccountSummary:
        self.currency = balance.currency
        equity = balance.total
        unrealized = _unrealized(positions)
        wallet = None if equity is None or unrealized is None else equity - unrealized
        risk, neutral, directional = self._plan.current()
        return AccountSummary(
            account=self.name,
            exchange=self.name,
            currency=balance.currency,
            as_of=now,
            equity=equity,
            wallet_balance=wallet,
            free_margin=balance.free,
            used_margin=balance.used,
            unrealized_pnl=unrealized,
            leverage=effective_leverage(_gross_notional(positions), equity),
            risk_pct=risk,
            risk_budget=risk_budget(risk, equity),
            neutral_pct=neutral,
            directional_pct=directional,
            pnl_today=None,
            pnl_week=None,
            maintenance_margin=_maintenance(positions),
        )

    def _snapshot_if_due(self, summary: AccountSummary) -> bool:
        assert self._store is not None and summary.equity is not None
        with self._store.transaction():
            last = self._store.last_equity_time(self.name)
            if last is not None and summary.as_of - last < MINUTE_MS:
                return False
            self._store.record_equity(self.name, summary.as_of, summary.equity, summary.wallet_balance)
        return True

    def equity_history(self, since: int | None = None) -> list[tuple[int, float]]:
        """Snapshots recorded by earlier ``summary()`` calls (none without a store)."""
        return [] if self._store is None else self._store.load_equity(self.name, since)

    def set_risk_pct(self, fraction: float) -> None:
        self._plan.set_risk_pct(fraction)

    def set_split(self, neutral_fraction: float, directional_fraction: float) -> None:
        self._plan.set_split(neutral_fraction, directional_fraction)


def _unrealized(positions: list[Position] | None) -> float | None:
    if positions is None:
        return None
    values = [p.unrealized_pnl for p in positions]
    if any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None)


def _maintenance(positions: list[Position] | None) -> float | None:
    """Total maintenance margin of the open positions; None when positions or any one's is unknown."""
    if positions is None:
        return None
    values = [p.maintenance_margin for p in positions]
    if any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None)


def _gross_notional(positions: list[Position] | None) -> float | None:
    if positions is None:
        return None
    total = 0.0
    for p in positions:
        if p.mark_price is None:
            return None  # the entry price would be a guess
        total += abs(p.qty) * p.mark_price
    return total
