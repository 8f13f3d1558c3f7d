"""Accounts: the local paper account (the default) and the exchange's own account, read-only.

``open_account(settings, store, clock, source)`` picks one from the settings. The config's percents
(``risk.risk_pct``, ``plan.*_pct``) become fractions in ``defaults_from``, the one place that converts;
from there on every share is a fraction (0.01 = 1%).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.services.accounts.exchange import ExchangeAccount
from perptui.services.accounts.paper import SNAPSHOT_EVERY_MS, PaperAccount, paper_account_name
from perptui.services.accounts.settings import AccountDefaults, defaults_from

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store

__all__ = [
    "SNAPSHOT_EVERY_MS",
    "AccountDefaults",
    "ExchangeAccount",
    "PaperAccount",
    "check_exchange_account",
    "defaults_from",
    "open_account",
    "paper_account",
    "paper_account_name",
]


def paper_account(settings: Settings, store: Store, clock: Clock) -> PaperAccount:
    """The paper account of the configured exchange (``settings.exchange_name``: one per exchange)."""
    d = defaults_from(settings)
    return PaperAccount(
        store,
        clock,
        exchange=settings.exchange_name,
        starting_capital=d.starting_capital,
        risk_pct=d.risk_pct,
        neutral_pct=d.neutral_pct,
        directional_pct=d.directional_pct,
    )


def open_account(
    settings: Settings, store: Store, clock: Clock, source: MarketData | None = None
) -> PaperAccount | ExchangeAccount:
    """The account the settings ask for: the paper account unless ``account = "exchange"``, which needs
    a real exchange, API keys and ``source`` (its market data). Raises a one-line UsageError otherwise."""
    if settings.account == "paper":
        return paper_account(settings, store, clock)
    check_exchange_account(settings)
    if source is None:
        raise ValueError("open_account needs the exchange's market data source in exchange mode")
    d = defaults_from(settings)
    return ExchangeAccount(
        source,
        store=store,
        clock=clock,
        risk_pct=d.risk_pct,
        neutral_pct=d.neutral_pct,
        directional_pct=d.directional_pct,
        name=settings.exchange_name,
    )


def check_exchange_account(settings: Settings) -> None:
    """Raise a one-line UsageError unless the settings can read an exchange account."""
    if not settings.exchange:
        raise UsageError(
            'account = "exchange" needs a real exchange: set exchange (e.g. --exchange binanceusdm); '
            "the demo market has no account"
        )
    if settings.api_key is None or settings.api_secret is None:
        raise UsageError(
            'account = "exchange" needs API keys: set PERPTUI_API_KEY and PERPTUI_API_SECRET '
            "(read-only permissions are enough)"
        )
