"""The rows of the live orders screen's two tables, as text. No Textual here but ``Text`` styling of
the protection cell: "NO STOP" (or a stop that covers only part of the position) in red."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from perptui.domain.live.client_ids import is_ours
from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.live.book import OpenOrder, Protection
    from perptui.domain.types import Position

POSITION_COLUMNS = ("Symbol", "Side", "Qty", "Entry", "Mark", "uPnL", "Liq", "Protection")
ORDER_COLUMNS = ("Symbol", "Side", "Type", "Qty", "Price", "Trigger", "Reduce", "Client id")


def _num(value: float | None) -> str:
    return fmt.significant(value, 8) if value is not None else fmt.UNKNOWN


def position_row(position: Position, protection: Protection) -> tuple[str | Text, ...]:
    described = protection.describe()
    style = "" if protection.protected else "bold red"
    return (
        position.symbol,
        position.side,
        _num(position.qty),
        _num(position.entry_price),
        _num(position.mark_price),
        fmt.money(position.unrealized_pnl),
        _num(position.liquidation_price),
        Text(described, style=style),
    )


def order_row(order: OpenOrder) -> tuple[str | Text, ...]:
    client = order.client_id or ""
    ours = is_ours(client)
    return (
        order.symbol,
        order.side,
        order.type,
        _num(order.qty),
        _num(order.price),
        _num(order.trigger),
        "yes" if order.reduce_only else "no",
        Text(f"● {client}" if ours else client or "(not perptui's)", style="bold" if ours else "dim"),
    )


def kill_lines(
    cancelled: tuple[str, ...], left_positions: int, left_orders: int, errors: tuple[str, ...]
) -> list[str]:
    """What the kill switch did, and what is still open."""
    lines = [f"orders cancelled on {', '.join(cancelled) or 'no symbol'}"]
    if left_positions or left_orders:
        lines.append(f"STILL OPEN: {left_positions} positions, {left_orders} orders")
    else:
        lines.append("nothing is open on the account")
    lines.extend(errors)
    return lines
