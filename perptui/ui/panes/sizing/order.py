"""The sizing pane's ticket as a paper order: what is sent and the confirmation that shows all of it.
No Textual here. The entry that follows the mark makes a market order (filled at the mark plus
slippage); a typed entry makes a limit order at it, which rests only on the far side of the mark (a
buy limit at or above it fills at once). Prices and the quantity go through the market's rules
(``domain.sized_order``: on the tick and the step); the stop and every target go with it, each target
a take-profit level at its share, the last taking the rest.
Whatever the ticket flags (the calculator's warnings, a typed price far from the mark, what the paper
engine's rehearsal of the order warns about) goes to the confirmation as warnings: it defaults to No."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from perptui.domain.paper import OrderRequest, split_targets
from perptui.domain.paper_triggers import limit_marketable
from perptui.domain.sized_order import sized_order
from perptui.presentation import numbers as fmt
from perptui.presentation.ticket import ticket_lines

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market


def order_request(result: SizingResult, market: Market, *, limit: bool, mark: float | None) -> OrderRequest:
    """The ticket as the order the exchange would take (``sized_order``): every target at its share."""
    return sized_order(result, market, limit=limit, mark=mark)


def how_sent(request: OrderRequest, tick: float | None) -> str:
    """How the order meets the market: a market order, a limit that rests, or a marketable limit."""
    mark = request.mark
    if request.price is None:
        return f"MARKET order: fills now at the mark ({fmt.price(mark, tick)}) plus slippage, taker fee"
    price = fmt.price(request.price, tick)
    verb = "BUY" if request.side == "long" else "SELL"
    if mark is None:
        return f"LIMIT {verb} at {price}: fills at once if the mark has crossed it, else rests until it does"
    if limit_marketable(request.side, request.price, mark):
        where = "at or above" if request.side == "long" else "at or below"
        return (
            f"LIMIT {verb} at {price}, {where} the mark {fmt.price(mark, tick)}: marketable, fills at "
            f"once at the mark plus slippage (never worse than {price}), taker fee"
        )
    moves = "falls" if request.side == "long" else "rises"
    return (
        f"LIMIT {verb} at {price}: rests until the mark (now {fmt.price(mark, tick)}) {moves} to it, "
        "maker fee"
    )


def confirm_lines(result: SizingResult, market: Market, request: OrderRequest) -> list[str]:
    """How it will be sent first (what a short terminal must not hide; the warnings are the dialog's,
    from ``order_warnings``, pinned above its prompt), then every line of the ticket but its warnings and
    what goes with the order."""
    tick = market.price_tick
    warnings = {f"! {w.message}" for w in result.warnings}
    shown = ticket_lines(result, tick, market.amount_step, market.settle, market.contract_size)
    ticket = [line for line in shown if line not in warnings]  # the dialog shows the warnings itself
    lines = [
        how_sent(request, tick),
        "",
        *ticket,
        "",
        f"stop-loss {fmt.price(request.stop, tick)} attached to the position",
    ]
    targets = request.take_profits
    if targets:
        levels = split_targets(targets, request.qty, market.amount_step)
        where = ", ".join(f"{fmt.market_qty(t.qty, market)} at {fmt.price(t.price, tick)}" for t in levels)
        noun = "take-profit" if len(levels) == 1 else f"{len(levels)} take-profits"
        lines.append(f"{noun} attached: {where}")
    lines.append("Sent to the local PAPER account only: nothing goes to an exchange.")
    return lines


def order_warnings(result: SizingResult, typed: Sequence[str], rehearsed: Sequence[str]) -> list[str]:
    """What the confirmation flags: typed prices far from the mark, the calculator's warnings, and the
    paper engine's (its stop-beyond-liquidation warning only when the calculator did not say so)."""
    codes = {w.code for w in result.warnings}
    engine = [] if "stop_beyond_liquidation" in codes else list(rehearsed)
    return [*typed, *(w.message for w in result.warnings), *engine]
