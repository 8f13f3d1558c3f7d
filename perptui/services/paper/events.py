"""What the engine reports back: the result of an order, and the events the market set off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from perptui.domain.paper import FundingPayment, PaperFill, PaperOrder, PaperPosition

EventKind = Literal["limit", "stop", "take_profit", "liquidation", "funding", "cancel"]


@dataclass(frozen=True, slots=True)
class OrderResult:
    """The order as stored, its fills (none for a resting limit), the position after it, a one-line
    ``message`` for the trader, and ``warnings`` (e.g. a stop beyond the liquidation price)."""

    order: PaperOrder
    fills: tuple[PaperFill, ...]
    position: PaperPosition | None
    message: str
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "order": self.order.as_dict(),
            "fills": [f.as_dict() for f in self.fills],
            "position": None if self.position is None else _position(self.position),
            "message": self.message,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class PaperEvent:
    """Something the market set off: a resting limit filled, a stop or take-profit triggered, a
    liquidation, a funding settlement, or a limit cancelled when it could not fill."""

    time: int
    kind: EventKind
    symbol: str
    message: str
    fills: tuple[PaperFill, ...] = ()
    funding: FundingPayment | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "time": self.time,
            "kind": self.kind,
            "symbol": self.symbol,
            "message": self.message,
            "fills": [f.as_dict() for f in self.fills],
            "funding": None if self.funding is None else self.funding.as_dict(),
        }


def _position(p: PaperPosition) -> dict[str, object]:
    from perptui.domain.paper import position_dict

    return position_dict(p, p.last_mark)
