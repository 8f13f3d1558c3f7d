"""``RiskContext``: what the risk service keeps between refreshes of one account.

The paper account: its ``PaperEngine`` (marks, funding rates, the ledger); share the app's engine so the
monitor and the order keys see the same marks. The exchange's account: the last read of its balance,
positions and funding rates (``ExchangeRead``), set by ``refresh_inputs``. Both: the limits from
``[risk]``, the symbols whose daily candles are known complete today, and why the marks are stale.

``refresh_inputs`` writes the context on the event loop; ``build_report`` reads it in a worker thread.
Each field is replaced whole (never mutated in place), so a reader sees one refresh or the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.domain.limits import Limits
from perptui.domain.types import Balance, FundingRate, Market, Position
from perptui.services.risk.report import AccountKind

if TYPE_CHECKING:
    from collections.abc import Iterable

    from perptui.config.settings import Settings
    from perptui.services.clock import Clock
    from perptui.services.paper.engine import PaperEngine
    from perptui.services.store import Store


@dataclass(frozen=True, slots=True)
class ExchangeRead:
    """One read of the exchange's account (read-only: nothing is ever sent but reads)."""

    time: int
    balance: Balance
    positions: tuple[Position, ...]
    rates: dict[str, FundingRate]


@dataclass
class RiskContext:
    kind: AccountKind
    account: str  # "paper" or the exchange's name (the risk event log's account)
    exchange: str  # where the marks and candles come from (the engine's exchange for paper)
    store: Store
    clock: Clock
    limits: Limits
    engine: PaperEngine | None = None  # the paper account's engine
    markets: dict[str, Market] = field(default_factory=dict)  # exchange mode: brackets of the positions
    read: ExchangeRead | None = None  # exchange mode: the last read
    #: Symbols whose daily candles were found complete for the day start stored with them.
    history_checked: dict[str, int] = field(default_factory=dict)
    live: bool = False  # the last refresh reached the source
    stale: str | None = None  # why the last refresh did not (offline, unreachable)

    def now(self) -> int:
        return self.clock.now_ms()


def open_context(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    engine: PaperEngine | None = None,
    markets: Iterable[Market] = (),
) -> RiskContext:
    """The context of the configured account (``settings.account``): the paper engine (``engine``, or one
    opened on ``markets`` / the cached markets), or the exchange's account, which needs a real exchange
    and API keys (a one-line UsageError otherwise)."""
    from perptui.services.paper import limits_from

    limits = limits_from(settings)
    if settings.account == "exchange":
        from perptui.services.accounts import check_exchange_account

        check_exchange_account(settings)
        name = settings.exchange_name
        ctx = RiskContext("exchange", name, name, store, clock, limits)
        ctx.markets = {m.symbol: m for m in [*store.load_markets(name), *markets]}
        return ctx
    if engine is None:
        from perptui.services.paper import open_engine

        engine = open_engine(settings, store, clock, markets)
    if engine.exchange != settings.exchange_name:
        raise UsageError(f"the paper engine trades {engine.exchange}, not {settings.exchange_name}")
    return RiskContext("paper", engine.account.name, engine.exchange, store, clock, limits, engine=engine)
