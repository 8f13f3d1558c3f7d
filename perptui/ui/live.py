"""What the live-trading parts of the UI share: the red banner's words and opening the live orders
screen (the trader is built in a thread on first use: it imports ccxt)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    from perptui.ui.context import AppContext


def banner(ctx: AppContext) -> str:
    """What the red banner of every live dialog and screen says."""
    where = f"{ctx.exchange_name} TESTNET" if ctx.settings.testnet else f"{ctx.exchange_name}, REAL MONEY"
    return f"LIVE ORDERS · {where}"


async def open_live_orders(app: App[object], ctx: AppContext) -> None:
    """Push the live orders screen; a one-line error when live trading is off or the trader fails."""
    from perptui.ui.screens.live_orders.screen import LiveOrdersScreen

    try:
        trader = await asyncio.to_thread(ctx.live_trader)
    except Exception as exc:
        app.notify(f"no live orders: {exc}", severity="error", timeout=8)
        return
    await app.push_screen(LiveOrdersScreen(trader, banner(ctx)))
