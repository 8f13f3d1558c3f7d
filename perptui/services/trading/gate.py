"""Whether live orders may be sent at all. ``require_live`` is checked by ``LiveTrader`` itself, so no
object that can reach an order endpoint exists in the demo, paper or read-only exchange modes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.services.trading.routes import ROUTES

if TYPE_CHECKING:
    from perptui.config.settings import Settings


def live_problem(settings: Settings) -> str | None:
    """Why live orders are not possible with ``settings`` (None: they are)."""
    if not settings.trading.live:
        return "live orders are off: set [trading] live = true in the config (try testnet = true first)"
    if not settings.exchange:
        return "the demo market takes no live orders: set exchange (binanceusdm or bybit)"
    if settings.exchange not in ROUTES:
        verified = " and ".join(sorted(ROUTES))
        return f"live orders are verified on {verified} only, not {settings.exchange}"
    if settings.account != "exchange":
        return 'live orders need account = "exchange" (the paper account never reaches an exchange)'
    if settings.api_key is None or settings.api_secret is None:
        return "live orders need API keys with trade permission: set PERPTUI_API_KEY and PERPTUI_API_SECRET"
    if settings.offline:
        return "live orders need the network: drop --offline"
    return None


def is_live(settings: Settings) -> bool:
    return live_problem(settings) is None


def require_live(settings: Settings) -> None:
    """Raise a one-line UsageError unless live orders are switched on and possible."""
    problem = live_problem(settings)
    if problem is not None:
        raise UsageError(problem)
