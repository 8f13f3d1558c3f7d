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
    take_profit: float | None = None
    last_mark: float | None = None
    checked_at: int = 0
    funding_until: int = 0
    funding: float = 0.0  # funding settled on it so far, positive = received

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
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new paper order. ``price`` None = a market order (fills now at ``mark`` plus slippage); a price
    makes a limit order, which rests until the mark crosses it. ``leverage``/``margin_mode`` None: the
    open position's, else the engine's defaults. ``stop``/``take_profit`` are attached to the position
    once the order fills. ``mark``: the mark to fill at; None = the last mark the engine has seen."""

    symbol: str
    side: Side
    qty: float
    price: float | None = None
    leverage: float | None = None
    margin_mode: MarginMode | None = None
    stop: float | None = None
    take_profit: float | None = None
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
    take_profit: float | None
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
            "take_profit": self.take_profit,
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
        "take_profit": p.take_profit,
        "funding": p.funding,
        "opened_at": p.opened_at,
    }
