"""What is open on the exchange account, read back: orders, and whether each position is protected.

A closing conditional order (reduce-only, the other side of the position) is a stop when it triggers on
the losing side of the mark (below it for a long) and a take-profit on the winning side, whatever the
exchange calls its type. A position is protected when its stops cover its whole quantity, or the
exchange keeps a stop-loss on the position itself (Bybit's ``stopLoss``).
"""

from __future__ import annotations

from dataclasses import dataclass

from perptui.domain.live.plan import OrderSide, order_side
from perptui.domain.types import Position

#: Quantities within this fraction of each other count as equal (the exchange's decimals).
_QTY_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order resting on the exchange. ``qty`` in base units; ``trigger`` a conditional order's."""

    id: str
    client_id: str | None
    symbol: str
    side: OrderSide
    type: str
    qty: float
    price: float | None
    trigger: float | None
    reduce_only: bool
    conditional: bool
    status: str | None = None
    filled: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "symbol": self.symbol,
            "side": self.side,
            "type": self.type,
            "qty": self.qty,
            "price": self.price,
            "trigger": self.trigger,
            "reduce_only": self.reduce_only,
            "conditional": self.conditional,
            "status": self.status,
            "filled": self.filled,
        }


@dataclass(frozen=True, slots=True)
class Protection:
    """A position's stops and take-profits on the exchange."""

    symbol: str
    stops: tuple[OpenOrder, ...]
    take_profits: tuple[OpenOrder, ...]
    position_stop: float | None  # the exchange's stop on the position itself
    covered_qty: float  # what the stop orders would close
    qty: float

    @property
    def protected(self) -> bool:
        return self.position_stop is not None or self.covered_qty >= self.qty * (1 - _QTY_TOLERANCE)

    @property
    def stop_price(self) -> float | None:
        """The stop nearest the mark (the one that fires first)."""
        if self.position_stop is not None:
            return self.position_stop
        triggers = [o.trigger for o in self.stops if o.trigger is not None]
        return None if not triggers else (max(triggers) if self._long else min(triggers))

    @property
    def _long(self) -> bool:
        return bool(self.stops) and self.stops[0].side == "sell"

    def describe(self) -> str:
        if self.position_stop is not None:
            return f"stop {self.position_stop:g} on the position"
        if not self.stops:
            return "NO STOP"
        if not self.protected:
            return f"stop covers {self.covered_qty:g} of {self.qty:g}"
        return f"stop {self.stop_price:g}"


def closing_orders(position: Position, orders: list[OpenOrder]) -> list[OpenOrder]:
    closing = order_side(position.side, closing=True)
    return [o for o in orders if o.symbol == position.symbol and o.side == closing and o.reduce_only]


def is_stop(position: Position, order: OpenOrder) -> bool:
    """A closing conditional order on the losing side of the mark (of the entry without a mark)."""
    if not order.conditional or order.trigger is None:
        return False
    reference = position.mark_price or position.entry_price
    if reference is None:
        return "stop" in order.type
    return order.trigger < reference if position.side == "long" else order.trigger > reference


def protection_of(position: Position, orders: list[OpenOrder]) -> Protection:
    closing = closing_orders(position, orders)
    stops = tuple(o for o in closing if is_stop(position, o))
    targets = tuple(o for o in closing if o.conditional and o not in stops)
    stop = position.extra.get("stop_loss")
    position_stop = float(stop) if isinstance(stop, int | float) and stop > 0 else None
    return Protection(
        symbol=position.symbol,
        stops=stops,
        take_profits=targets,
        position_stop=position_stop,
        covered_qty=max((o.qty for o in stops), default=0.0),
        qty=position.qty,
    )


def unprotected(positions: list[Position], orders: list[OpenOrder]) -> list[Protection]:
    """The positions without a stop that closes all of them: each one a critical alert."""
    return [p for p in (protection_of(pos, orders) for pos in positions) if not p.protected]
