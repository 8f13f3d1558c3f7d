"""Fills: the price a taker gets, the fee, and how a fill nets into the open position. Pure.

Netting in one-way mode (what Binance does): a fill on the position's side adds to it at the weighted
average entry; a fill on the other side first reduces it, realising s x closed x (fill - entry), closes
it when it takes all of it, and opens the rest on the new side (a flip) at the fill price.

Isolated margin follows the quantity: an add brings qty x fill / leverage, a reduce releases the closed
share of the isolated wallet (funding settled on it included), a close releases all of it. Realised PnL
and fees are cash in the wallet, never in the isolated margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perptui.domain.liquidation import side_sign
from perptui.domain.paper import (
    PaperPosition,
    TakeProfitTarget,
    clean_qty,
    money,
    split_targets,
    trim_levels,
)
from perptui.domain.precision import step_decimals
from perptui.domain.types import MarginMode, Side


def taker_price(mark: float, side: Side, slippage: float, tick: float | None = None) -> float:
    """A taker's fill: the mark moved against it by ``slippage`` (a fraction): buying pays more,
    selling gets less; on the market's price tick when known (rounded against the taker too)."""
    s = side_sign(side)
    raw = mark * (1 + s * slippage)
    if not tick or tick <= 0:
        return float(f"{raw:.12g}")
    steps = raw / tick
    n = math.ceil(steps - 1e-9) if s > 0 else math.floor(steps + 1e-9)
    return round(n * tick, step_decimals(tick))


def fee_of(rate: float, qty: float, price: float) -> float:
    """The fee of a fill, rounded to the ledger's 1e-8: rate x traded notional."""
    return money(rate * qty * price)


def funding_amount(side: Side, qty: float, mark: float, rate: float) -> float:
    """The position's funding cash flow at a settlement, -s x Q x mark x rate (positive = received)."""
    return money(-side_sign(side) * qty * mark * rate)


@dataclass(frozen=True, slots=True)
class FillOutcome:
    """What a fill did: the position after it (None when closed), the quantities it closed and opened,
    the realised PnL and fee (both rounded to 1e-8), and the isolated margin it released."""

    position: PaperPosition | None
    closed_qty: float
    opened_qty: float
    realized_pnl: float
    fee: float
    released_margin: float

    @property
    def flipped(self) -> bool:
        return self.closed_qty > 0 and self.opened_qty > 0


def _open(
    exchange: str,
    symbol: str,
    side: Side,
    qty: float,
    price: float,
    leverage: float,
    margin_mode: MarginMode,
    time: int,
    stop: float | None,
    take_profits: tuple[TakeProfitTarget, ...],
    step: float | None,
) -> PaperPosition:
    isolated = money(qty * price / leverage) if margin_mode == "isolated" else 0.0
    return PaperPosition(
        exchange=exchange,
        symbol=symbol,
        side=side,
        qty=qty,
        entry=price,
        leverage=leverage,
        margin_mode=margin_mode,
        isolated_margin=isolated,
        opened_at=time,
        stop=stop,
        take_profits=split_targets(take_profits, qty, step),
        last_mark=price,
        checked_at=time,
        funding_until=time,
    )


def apply_fill(
    position: PaperPosition | None,
    *,
    exchange: str,
    symbol: str,
    side: Side,
    qty: float,
    price: float,
    fee_rate: float,
    leverage: float,
    margin_mode: MarginMode,
    time: int,
    stop: float | None = None,
    take_profits: tuple[TakeProfitTarget, ...] = (),
    mark: float | None = None,
    step: float | None = None,
) -> FillOutcome:
    """Net a fill of ``qty`` at ``price`` into ``position``.

    ``leverage`` and ``margin_mode`` apply to what the fill opens (a new position or a flip's new side);
    an add keeps the position's own. ``stop``/``take_profits`` replace the position's when given (a flip
    starts without the old ones); the targets split the position after the fill (``step``: the market's
    amount step), and a reduce trims the levels to what is left, the farthest first. ``mark`` is
    remembered as the position's last mark (default: price).
    """
    if qty <= 0 or price <= 0:
        raise ValueError(f"a fill needs a quantity and a price above 0, not {qty!r} at {price!r}")
    fee = fee_of(fee_rate, qty, price)
    seen = price if mark is None else mark
    if position is None or position.side == side:
        if position is None:
            new = _open(
                exchange, symbol, side, qty, price, leverage, margin_mode, time, stop, take_profits, step
            )
        else:
            total = clean_qty(position.qty + qty)
            added = money(qty * price / position.leverage) if position.margin_mode == "isolated" else 0.0
            new = position.with_(
                qty=total,
                entry=(position.qty * position.entry + qty * price) / total,
                isolated_margin=money(position.isolated_margin + added),
                stop=position.stop if stop is None else stop,
                take_profits=(
                    split_targets(take_profits, total, step) if take_profits else position.take_profits
                ),
            )
        return FillOutcome(new.with_(last_mark=seen, checked_at=time), 0.0, qty, 0.0, fee, 0.0)

    closed = min(qty, position.qty)
    realized = money(position.sign * closed * (price - position.entry))
    left = clean_qty(position.qty - closed)
    opened = clean_qty(qty - closed)
    if left > 0:
        released = money(position.isolated_margin * closed / position.qty)
        after: PaperPosition | None = position.with_(
            qty=left,
            isolated_margin=money(position.isolated_margin - released),
            take_profits=trim_levels(position.take_profits, left),
            last_mark=seen,
            checked_at=time,
        )
        return FillOutcome(after, closed, 0.0, realized, fee, released)
    released = position.isolated_margin
    after = None
    if opened > 0:
        after = _open(
            exchange, symbol, side, opened, price, leverage, margin_mode, time, stop, take_profits, step
        )
        after = after.with_(last_mark=seen)
    return FillOutcome(after, closed, opened, realized, fee, released)
