"""Paper trading: the values the engine works with. Pure.

One-way mode: at most one position per (exchange, symbol); an order on the other side reduces, closes
or flips it. Quantities are base units (> 0, the side says the direction), prices are in the quote
currency, rates and fees are FRACTIONS. Every money amount the ledger books (realised PnL, fees, funding,
isolated margin) is rounded to 1e-8 with ``money`` first, so the ledger's integer sums and the values
reported here agree exactly.

Margin, the model perptui uses (Binance USDⓈ-M's, simplified):

- The wallet (the ledger's cash balance) holds deposits, realised PnL, funding and fees. Equity =
  wallet + unrealised PnL.
- An ISOLATED position owns a slice of the wallet, its isolated margin: the initial margin of what was
  opened (qty x fill price / leverage), plus the funding settled on it (funding moves its liquidation
  price), minus the share released by partial closes. Fees are paid from the rest of the wallet.
- CROSS positions share the cross wallet = wallet - every isolated margin; their initial margin is
  qty x entry / leverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from perptui.domain.account import from_units, to_units
from perptui.domain.liquidation import side_sign
from perptui.domain.types import MarginMode, Side

OrderKind = Literal["market", "limit"]
OrderStatus = Literal["open", "filled", "cancelled"]
Liquidity = Literal["maker", "taker"]
#: Why a fill happened: an order filled at once (``order``), a resting limit reached (``limit``), a
#: close, the attached stop-loss or take-profit, or a liquidation.
FillReason = Literal["order", "limit", "close", "stop", "take_profit", "liquidation"]

#: Cash-flow kinds the paper engine books in the ledger, next to opening/deposit/withdrawal. Signed:
#: ``realized_pnl`` and ``funding`` either way, ``fee`` < 0, ``liquidation`` = the margin left in a
#: liquidated position that goes to the insurance fund (< 0; > 0 only when the insurance fund covers a
#: deficit so the wallet backing the position never ends below 0).
TRADE_FLOW_KINDS: tuple[str, ...] = ("realized_pnl", "fee", "funding", "liquidation")

#: Quantities are kept to this many decimals (far below any exchange's amount step).
QTY_DECIMALS = 10


def money(amount: float) -> float:
    """``amount`` rounded to 1e-8, as the ledger stores it (no -0.0)."""
    return from_units(to_units(amount)) + 0.0


def clean_qty(qty: float) -> float:
    """A quantity without float dust (0.3 - 0.1 is 0.2 here); 0 below 1e-10."""
    value = round(qty, QTY_DECIMALS)
    return 0.0 if abs(value) < 10.0**-QTY_DECIMALS else value + 0.0


def opposite(side: Side) -> Side:
    return "short" if side == "long" else "long"


@dataclass(frozen=True, slots=True)
class TakeProfitTarget:
    """A take-profit an order asks for: ``price`` and ``share`` of what the order leaves open (a
    fraction, 0 < share <= 1). The last target of an order closes whatever the others leave."""

    price: float
    share: float = 1.0


@dataclass(frozen=True, slots=True)
class TakeProfitLevel:
    """A take-profit resting on a position: when the mark crosses ``price``, ``qty`` of it closes."""

    price: float
    qty: float

    def as_dict(self) -> dict[str, float]:
        return {"price": self.price, "qty": self.qty}


TrailKind = Literal["pct", "distance"]


@dataclass(frozen=True, slots=True)
class Trail:
    """A trailing stop: the stop follows the mark at ``value`` (a fraction of the mark for ``pct``, a
    price distance for ``distance``, e.g. 1.5 x ATR when it was set), only ever toward profit. ``label``
    is what the trader typed (``2%``, ``1.5atr``)."""

    kind: TrailKind
    value: float
    label: str

    def distance(self, mark: float) -> float:
        return mark * self.value if self.kind == "pct" else self.value

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "value": self.value, "label": self.label}


def _steps_floor(qty: float, step: float | None) -> float:
    if not step or step <= 0:
        return clean_qty(qty)
    return clean_qty(math.floor(qty / step + 1e-9) * step)


def split_targets(
    targets: tuple[TakeProfitTarget, ...], qty: float, step: float | None
) -> tuple[TakeProfitLevel, ...]:
    """The levels ``targets`` place on ``qty``: each its share of ``qty`` rounded DOWN to the step, the
    last the remainder (so the levels close exactly ``qty``); a level left with nothing is dropped."""
    levels: list[TakeProfitLevel] = []
    left = clean_qty(qty)
    for i, target in enumerate(targets):
        last = i == len(targets) - 1
        part = left if last else min(left, _steps_floor(qty * target.share, step))
        if part > 0:
            levels.append(TakeProfitLevel(target.price, part))
        left = clean_qty(left - part)
    return tuple(levels)


def trim_levels(levels: tuple[TakeProfitLevel, ...], qty: float) -> tuple[TakeProfitLevel, ...]:
    """``levels`` closing at most ``qty`` in all: the farthest (last) ones give up quantity first."""
    kept: list[TakeProfitLevel] = []
    left = clean_qty(qty)
    for level in levels:
        part = min(level.qty, left)
        if part > 0:
            kept.append(level if part == level.qty else TakeProfitLevel(level.price, part))
        left = clean_qty(left - part)
    return tuple(kept)


def check_shares(targets: tuple[TakeProfitTarget, ...]) -> None:
    """Shares above 0 that sum to at most 100%, leaving something for the last level (which closes
    whatever the others leave)."""
    from perptui.domain.errors import UsageError

    for t in targets:
        if not (math.isfinite(t.share) and 0 < t.share <= 1):
            raise UsageError(f"a take-profit's share must be above 0% and at most 100%, not {t.share:.4g}")
    total = sum(t.share for t in targets)
    if len(targets) > 1 and total > 1 + 1e-9:
        raise UsageError(f"take-profit shares add up to {total * 100:.4g}%: at most 100%")


@dataclass(frozen=True, slots=True)
class PaperPosition:
    """An open paper position. ``checked_at`` is the time up to which marks and history have been
    applied to it (catch-up resumes there); ``funding_until`` the time of the last funding settled on it."""

    exchange: str
    symbol: str
    side: Side
    qty: float
    entry: float
    leverage: float
    margin_mode: MarginMode
    isolated_margin: float  # the isolated wallet (see the module docstring); 0 for cross
    opened_at: int
    stop: float | None = None
    take_profits: tuple[TakeProfitLevel, ...] = ()
    last_mark: float | None = None
    checked_at: int = 0
    funding_until: int = 0
    funding: float = 0.0  # funding settled on it so far, positive = received
    trail: Trail | None = None

    @property
    def next_take_profit(self) -> TakeProfitLevel | None:
        """The level the mark meets first (nearest the entry on the profit side)."""
        if not self.take_profits:
            return None
        return min(self.take_profits, key=lambda t: t.price * self.sign)

    @property
    def sign(self) -> int:
        return side_sign(self.side)

    @property
    def initial_margin(self) -> float:
        """qty x entry / leverage (what ROE is measured against)."""
        return self.qty * self.entry / self.leverage

    @property
    def margin_used(self) -> float:
        """What the position ties up: its isolated wallet, or its initial margin when cross."""
        return self.isolated_margin if self.margin_mode == "isolated" else self.initial_margin

    def upnl(self, mark: float) -> float:
        return self.sign * self.qty * (mark - self.entry)

    def with_(self, **changes: object) -> PaperPosition:
        return replace(self, **changes)  # type: ignore[arg-type]  # callers pass position fields by name


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new paper order. ``price`` None = a market order (fills now at ``mark`` plus slippage); a price
    makes a limit order, which rests until the mark crosses it. ``leverage``/``margin_mode`` None: the
    open position's, else the engine's defaults. ``stop``/``take_profits`` are attached to the position
    once the order fills (the targets split the position after the fill, the last taking the rest).
    ``mark``: the mark to fill at; None = the last mark the engine has seen."""

    symbol: str
    side: Side
    qty: float
    price: float | None = None
    leverage: float | None = None
    margin_mode: MarginMode | None = None
    stop: float | None = None
    take_profits: tuple[TakeProfitTarget, ...] = ()
    reduce_only: bool = False
    mark: float | None = None

    @property
    def kind(self) -> OrderKind:
        return "market" if self.price is None else "limit"


@dataclass(frozen=True, slots=True)
class PaperOrder:
    """An order as stored: market orders are ``filled`` at once; limits ``open`` until filled or
    cancelled (``note`` says why, e.g. not enough margin when the price was reached)."""

    id: int
    exchange: str
    symbol: str
    side: Side
    kind: OrderKind
    qty: float
    price: float | None
    leverage: float | None
    margin_mode: MarginMode | None
    reduce_only: bool
    stop: float | None
    take_profits: tuple[TakeProfitTarget, ...]
    status: OrderStatus
    created_at: int
    updated_at: int
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "symbol": self.symbol,
            "side": self.side,
            "kind": self.kind,
            "qty": self.qty,
            "price": self.price,
            "leverage": self.leverage,
            "margin_mode": self.margin_mode,
            "reduce_only": self.reduce_only,
            "stop": self.stop,
            "take_profits": [{"price": t.price, "share": t.share} for t in self.take_profits],
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class PaperFill:
    """One execution. ``side`` is the trade's direction (long = bought, short = sold); ``fee`` >= 0 is
    what was paid; ``realized_pnl`` what the closed part made. Liquidations have no fee and no liquidity;
    ``liquidation_loss`` is the margin that went to the insurance fund with it (0 otherwise)."""

    id: int
    order_id: int | None
    exchange: str
    symbol: str
    time: int
    side: Side
    qty: float
    price: float
    mark: float | None
    fee: float
    realized_pnl: float
    liquidity: Liquidity | None
    reason: FillReason
    liquidation_loss: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "time": self.time,
            "side": self.side,
            "qty": self.qty,
            "price": self.price,
            "mark": self.mark,
            "fee": self.fee,
            "realized_pnl": self.realized_pnl,
            "liquidity": self.liquidity,
            "reason": self.reason,
            "liquidation_loss": self.liquidation_loss,
        }


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """Funding settled on a position: ``amount`` = -s x qty x mark x rate (positive = received)."""

    exchange: str
    symbol: str
    time: int
    side: Side
    qty: float
    mark: float
    rate: float
    amount: float

    def as_dict(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "time": self.time,
            "side": self.side,
            "qty": self.qty,
            "mark": self.mark,
            "rate": self.rate,
            "amount": self.amount,
        }


def position_dict(p: PaperPosition, mark: float | None) -> dict[str, object]:
    """The JSON shape of ``perptui paper positions``; mark-dependent values are None without a mark."""
    return {
        "symbol": p.symbol,
        "side": p.side,
        "qty": p.qty,
        "entry": p.entry,
        "mark": mark,
        "notional": None if mark is None else p.qty * mark,
        "upnl": None if mark is None else p.upnl(mark),
        "leverage": p.leverage,
        "margin_mode": p.margin_mode,
        "initial_margin": p.initial_margin,
        "isolated_margin": p.isolated_margin if p.margin_mode == "isolated" else None,
        "stop": p.stop,
        "take_profits": [t.as_dict() for t in p.take_profits],
        "trail": None if p.trail is None else p.trail.as_dict(),
        "funding": p.funding,
        "opened_at": p.opened_at,
    }
