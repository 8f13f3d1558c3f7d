"""The sizing pane's ticket as a paper order: what is sent and the confirmation that shows all of it.
No Textual here. The entry that follows the mark makes a market order (filled at the mark plus
slippage); a typed entry makes a limit order at it. The stop goes with it; the paper engine holds one
take-profit per position, so the first target is attached and the others are named as not sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.paper import OrderRequest
from perptui.presentation import numbers as fmt
from perptui.presentation.ticket import ticket_lines

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market


def order_request(result: SizingResult, market: Market, *, limit: bool, mark: float | None) -> OrderRequest:
    targets = result.take_profits
    return OrderRequest(
        symbol=result.symbol,
        side=result.side,
        qty=result.quantity,
        price=result.entry if limit else None,
        leverage=result.leverage,
        margin_mode=result.margin_mode,
        stop=result.stop,
        take_profit=targets[0].price if targets else None,
        mark=mark,
    )


def confirm_lines(result: SizingResult, market: Market, request: OrderRequest) -> list[str]:
    """Every line of the ticket, then how it will be sent."""
    tick = market.price_tick
    lines = ticket_lines(result, tick, market.amount_step, market.settle)
    if request.price is None:
        how = f"MARKET order: fills now at the mark ({fmt.price(request.mark, tick)}) plus slippage"
    else:
        how = f"LIMIT order at {fmt.price(request.price, tick)}: rests until the mark reaches it"
    lines += ["", how, f"stop-loss {fmt.price(request.stop, tick)} attached to the position"]
    targets = result.take_profits
    if targets:
        lines.append(f"take-profit {fmt.price(targets[0].price, tick)} attached (the whole position)")
        if len(targets) > 1:
            rest = ", ".join(fmt.price(t.price, tick) for t in targets[1:])
            lines.append(f"not sent: the later targets {rest} (one take-profit per paper position)")
    lines.append("Sent to the local PAPER account only: nothing goes to an exchange.")
    return lines
