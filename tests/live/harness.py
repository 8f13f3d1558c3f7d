"""What the LiveTrader tests share: live settings aimed at a loopback exchange, a trader on real ccxt
there (no retries of its own, no waits between look-ups). The fresh cache is ``conftest.store``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from perptui.config.settings import Settings
from perptui.services.clock import FrozenClock
from perptui.services.exchanges import CcxtExchange
from perptui.services.store import Store
from perptui.services.trading.trader import LiveTrader
from tests.conftest import FROZEN_NOW_MS
from tests.loopback.server import LoopbackExchange

T = TypeVar("T")
KEY, SECRET = "loopback-key-4f9c", "loopback-secret-8d2e"


def live_settings(
    exchange: str, server: LoopbackExchange, timeout_ms: int = 10_000, **trading: Any
) -> Settings:
    """Live trading on the loopback; ``timeout_ms`` short only where a test makes an answer never come."""
    return Settings(
        exchange=exchange,
        api_key=KEY,  # type: ignore[arg-type]  # pydantic makes it a SecretStr
        api_secret=SECRET,  # type: ignore[arg-type]
        api_base_url=server.base_url,
        account="exchange",
        network={"timeout_ms": timeout_ms, "backoff_s": 0.01},  # type: ignore[arg-type]
        trading={"live": True} | trading,  # type: ignore[arg-type]
    )


async def no_wait(_seconds: float) -> None:
    return None


def run_trader(settings: Settings, store: Store, scenario: Callable[[LiveTrader], Awaitable[T]]) -> T:
    """``scenario`` on a LiveTrader of ``settings`` (its exchange closed after)."""

    async def go() -> T:
        exchange = CcxtExchange(
            settings.exchange,
            api_key=settings.api_key,
            api_secret=settings.api_secret,
            api_base_url=settings.api_base_url,
            timeout_ms=settings.network.timeout_ms,
            max_retries=0,
        )
        trader = LiveTrader(settings, store, FrozenClock(FROZEN_NOW_MS), exchange, sleep=no_wait)
        try:
            return await scenario(trader)
        finally:
            await exchange.close()

    return asyncio.run(go())
