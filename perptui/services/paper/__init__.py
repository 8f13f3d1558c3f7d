"""Paper trading: the engine on the paper account's ledger, its circuit breaker, and live helpers.

Entry points:

- ``open_engine(settings, store, clock, markets)`` -> ``PaperEngine`` on the paper account and the
  configured exchange's markets (demo by default), with ``[paper]`` and ``[risk]`` from the settings.
- ``PaperEngine``: ``place_order(OrderRequest)``, ``close``, ``cancel``, ``set_stop``,
  ``set_take_profit``, ``positions``, ``orders``, ``fills``, ``funding_payments``, ``on_marks``,
  ``on_funding_rates``, ``settle_funding``, ``catch_up``, ``breaker``, ``position_inputs``.
- ``Ledger`` (``ledger.py``): what the event modules (orders, marks, funding, catchup) receive instead of
  the engine; they import each other one way only (catchup -> funding -> marks -> orders -> execute).
- ``live.prepare(engine, source)`` at start-up, ``live.refresh(engine, source)`` on each poll.
- ``check_breaker`` / ``breaker_now`` / ``reset_breaker`` on the risk event log; for the paper account
  ``engine.breaker()`` (checks the limits; a trip cancels or holds resting limits that open or add) and
  ``engine.reset_breaker()`` (records the equity new losses are measured from).

Nothing here ever sends an order to an exchange.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from perptui.domain.paper import OrderRequest
from perptui.services.paper.breaker import breaker_now, check_breaker, reset_breaker
from perptui.services.paper.config import PaperConfig, config_from, limits_from
from perptui.services.paper.engine import PaperEngine
from perptui.services.paper.events import OrderResult, PaperEvent

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.types import Market
    from perptui.services.clock import Clock
    from perptui.services.store import Store

__all__ = [
    "OrderRequest",
    "OrderResult",
    "PaperConfig",
    "PaperEngine",
    "PaperEvent",
    "breaker_now",
    "check_breaker",
    "config_from",
    "limits_from",
    "open_engine",
    "reset_breaker",
]


def open_engine(
    settings: Settings, store: Store, clock: Clock, markets: Iterable[Market] = ()
) -> PaperEngine:
    """The paper engine of the paper account on the configured exchange (``settings.exchange_name``)."""
    from perptui.services.accounts import paper_account

    account = paper_account(settings, store, clock)
    return PaperEngine(
        account, exchange=settings.exchange_name, config=config_from(settings), markets=markets
    )
