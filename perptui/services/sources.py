"""Build the market data source the settings ask for: the demo market or a ccxt exchange.

The heavy libraries (numpy for the demo market, ccxt for exchanges) are imported here, inside the
functions, so nothing on the start-up path pays for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.services.clock import Clock, FrozenClock, SystemClock

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store


def for_other_exchange(settings: Settings, exchange: str, *, keep_base_url: bool = False) -> Settings:
    """The settings to read another exchange's public data with: the configured exchange's API keys
    (and its mirror URL, unless ``keep_base_url``) never go to another exchange."""
    exchange = exchange.strip().lower()
    exchange = "" if exchange == "demo" else exchange
    if exchange == settings.exchange:
        return settings
    cleared = dict.fromkeys(("api_key", "api_secret", "api_password"))
    if not keep_base_url:
        cleared["api_base_url"] = None
    return settings.model_copy(update={"exchange": exchange, **cleared})


def clock_for(settings: Settings) -> Clock:
    """The demo market's clock: frozen when ``demo.frozen_at`` is set, else the system's."""
    frozen = settings.demo.frozen_at_ms() if not settings.exchange else None
    return FrozenClock(frozen) if frozen is not None else SystemClock()


def open_market_data(
    settings: Settings, store: Store | None = None, clock: Clock | None = None
) -> MarketData:
    """The configured source. ``store`` supplies cached leverage tiers when the exchange serves none."""
    if not settings.exchange:
        from perptui.services.demo import DemoExchange

        return DemoExchange(seed=settings.demo.seed, clock=clock or clock_for(settings))

    from perptui.services.exchanges import CcxtExchange

    exchange_id = settings.exchange

    def cached_tiers() -> dict:
        return store.load_tiers(exchange_id, real_only=True) if store is not None else {}

    return CcxtExchange(
        exchange_id,
        api_key=settings.api_key,
        api_secret=settings.api_secret,
        api_password=settings.api_password,
        api_base_url=settings.api_base_url,
        testnet=settings.testnet,
        timeout_ms=settings.network.timeout_ms,
        max_retries=settings.network.max_retries,
        backoff_base_s=settings.network.backoff_s,
        cached_tiers=cached_tiers,
    )
