"""What the keys on a position ask and confirm, without Textual: the reduce and stop dialogs' parsing and
hints, the close confirmation's lines and the breaker reset's wording."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.presentation import risk as rf
from perptui.presentation.parse import PERCENT, PRICE, QUANTITY, parse_number

if TYPE_CHECKING:
    from perptui.domain.risk_breaker import BreakerState
    from perptui.domain.risk_position import PositionRisk


def parse_reduce(text: str, open_qty: float, step: float | None = None) -> float:
    """A quantity or a percentage of the open quantity (``50%``), in (0, open]."""
    raw = text.strip()
    if raw.endswith("%"):
        qty = open_qty * parse_number(raw, PERCENT.named("share to close")) / 100
    else:
        qty = parse_number(raw, QUANTITY)
    if qty > open_qty * (1 + 1e-12):
        raise UsageError(f"only {fmt.qty(open_qty, step)} is open: close at most that (or 100%)")
    return min(qty, open_qty)


def reduce_hint(open_qty: float, step: float | None) -> str:
    return f"{fmt.qty(open_qty, step)} open: a quantity (0.01) or a share of it (50%)"


def parse_stop(text: str, side: str, mark: float | None, tick: float | None = None) -> float | str:
    """A stop price on the losing side of the mark, or "" to remove the stop."""
    if not text.strip():
        return ""
    price = parse_number(text, PRICE)
    if mark is not None and (price >= mark if side == "long" else price <= mark):
        where = "below" if side == "long" else "above"
        raise UsageError(f"a {side}'s stop must be {where} the mark {fmt.price(mark, tick)}")
    return price


def stop_hint(mark: float | None, tick: float | None) -> str:
    return f"mark {fmt.price(mark, tick)}: below it for a long, above for a short; blank removes the stop"


def close_lines(p: PositionRisk, qty: float | None) -> list[str]:
    """The close (``qty`` None: all of it) or reduce confirmation of a paper position."""
    closing = p.qty if qty is None else qty
    step = p.amount_step
    return [
        f"{'Close' if qty is None or qty >= p.qty else 'Reduce'} {p.side.upper()} {p.symbol}",
        f"quantity {fmt.qty(closing, step)} of {fmt.qty(p.qty, step)}, reduce-only MARKET order",
        f"fills at the mark ({fmt.price(p.mark, p.price_tick)}) plus slippage, taker fee",
        f"unrealised PnL now {fmt.money(p.upnl, signed=True)} on the whole position",
        "PAPER account only: nothing is sent to an exchange.",
    ]


RESET_LINES = [
    "A reset allows new paper orders again now.",
    "The breaker stays armed: it trips again on new losses past the limits, measured from the equity now.",
]


def reset_warnings(breaker: BreakerState) -> list[str]:
    return [f"{rf.breaker_text(breaker)}: reset only if the loss is understood and acceptable"]
