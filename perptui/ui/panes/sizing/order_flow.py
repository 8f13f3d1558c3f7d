"""Sending the sizing pane's ticket to the paper account: rehearse the order on the paper engine (a
tripped breaker or a refused rule is said at once, with no confirmation), show the whole order with what
it flags (``order.confirm_lines``, ``order.order_warnings``), then, confirmed, place it. Run from the
pane's dialog worker; the engine's calls go to threads."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.ui.panes.sizing.order import confirm_lines, order_warnings
from perptui.ui.widgets.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from textual.app import App

    from perptui.domain.paper import OrderRequest
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market
    from perptui.ui.context import AppContext


async def send_paper_order(
    app: App[object],
    ctx: AppContext,
    result: SizingResult,
    market: Market,
    request: OrderRequest,
    typed: Sequence[str],
) -> None:
    """``typed``: the typed prices far from the mark (``model.typed_price_warnings``)."""
    engine = await asyncio.to_thread(ctx.paper_engine)
    try:
        rehearsed = await asyncio.to_thread(engine.rehearse, lambda: engine.place_order(request))
    except UsageError as exc:
        app.notify(f"paper order refused: {exc}", severity="error", timeout=8)
        return
    dialog = ConfirmDialog(
        f"Send this {result.side.upper()} to the paper account?",
        confirm_lines(result, market, request),
        warnings=order_warnings(result, typed, rehearsed.warnings),
        action="place it",
    )
    if not await app.push_screen_wait(dialog):
        app.notify("order not sent", timeout=2)
        return
    try:
        placed = await asyncio.to_thread(engine.place_order, request)
    except UsageError as exc:
        app.notify(f"paper order refused: {exc}", severity="error", timeout=8)
        return
    app.notify(placed.message, title="paper order", timeout=6)
    for warning in placed.warnings:
        app.notify(warning, severity="warning", timeout=8)
