"""Risk metrics of one open position of a linear perp. Pure.

Formulas (shared/docs/domain.md): notional = Q x P, unrealised PnL = s x Q x (P - E), ROE = PnL / initial
margin (Q x E / L), maintenance margin = N x MMR - cum of the bracket of the notional at the mark, the
liquidation price from ``perptui.domain.liquidation`` (the sizing calculator's maths), the funding cash
flow at the next settlement = -s x Q x P x rate (positive = received).

``wallet_balance`` is the balance the exchange formula takes: the isolated margin of an isolated
position; for a cross position the cross wallet balance adjusted by the account's OTHER cross positions
(+ their unrealised PnL - their maintenance margin), which ``with_cross_wallet`` fills in. The margin
ratio is then maintenance margin / (wallet_balance + own PnL): it reaches 1 exactly at the liquidation
price, for cross positions at the same moment as the account's (total MM / cross margin balance).

Anything that cannot be known (no mark, no brackets, no wallet balance, no funding rate) is None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from perptui.domain.liquidation import liquidation_price, side_sign
from perptui.domain.tiers import maintenance_margin
from perptui.domain.types import LeverageTier, MarginMode, Side


@dataclass(frozen=True, slots=True)
class PositionInput:
    """What the monitor knows of one open position (amounts in the settle currency)."""

    symbol: str
    side: Side
    qty: float  # base units, > 0
    entry: float
    mark: float | None
    leverage: float | None
    margin_mode: MarginMode
    #: Isolated margin, or the adjusted cross wallet balance (see the module docstring); None = unknown.
    wallet_balance: float | None
    tiers: tuple[LeverageTier, ...] = ()  # empty = brackets unknown
    funding_rate: float | None = None  # the rate settled at next_funding_time
    funding_interval_hours: float | None = None
    next_funding_time: int | None = None
    #: Sum of the funding cash flows settled on this position so far (positive = received).
    funding_so_far: float | None = None
    daily_vol: float | None = None  # EWMA daily volatility of the asset's simple returns, a fraction
    stop: float | None = None  # the attached stop-loss price, if any
    #: ``stop`` is known to be the position's stop (the paper book); an exchange's stop orders are not read.
    stop_known: bool = False
    #: The take-profit levels, (price, qty) each, in the order they were set (the paper book's).
    take_profits: tuple[tuple[float, float], ...] = ()
    #: The market's price tick and amount step, for showing its prices and quantities (None: unknown).
    price_tick: float | None = None
    amount_step: float | None = None


@dataclass(frozen=True, slots=True)
class PositionRisk:
    symbol: str
    side: Side
    qty: float
    entry: float
    mark: float | None
    margin_mode: MarginMode
    notional: float | None  # Q x mark, >= 0
    exposure: float | None  # signed notional: + long, - short
    upnl: float | None
    initial_margin: float | None
    roe: float | None
    maintenance_margin: float | None
    margin_balance: float | None  # wallet_balance + upnl
    margin_ratio: float | None  # maintenance margin / margin balance; inf when the balance is <= 0
    liq_price: float | None
    #: True when no positive price liquidates the position (a long whose margin covers a fall to 0).
    never_liquidated: bool
    #: (mark - liq) / mark for a long, (liq - mark) / mark for a short: > 0 while safe.
    liq_distance: float | None
    liq_distance_sigma: float | None  # liq_distance / daily_vol
    next_funding: float | None  # cash flow at the next settlement, positive = received
    next_funding_time: int | None
    funding_apr: float | None  # the current rate as a simple APR of this position's cash flow
    funding_so_far: float | None
    #: What a stop fill loses from the entry (0 for a stop in profit); None without a stop.
    risk_at_stop: float | None
    #: Whether a stop-loss is attached; None when not known (an exchange's own positions).
    has_stop: bool | None = None
    price_tick: float | None = None
    amount_step: float | None = None
    stop: float | None = None  # the stop-loss price, when known
    take_profits: tuple[tuple[float, float], ...] = ()  # (price, qty) of each take-profit level

    @property
    def next_take_profit(self) -> float | None:
        """The take-profit the mark meets first (nearest on the profit side); None without one."""
        if not self.take_profits:
            return None
        s = 1 if self.side == "long" else -1
        return min((price for price, _ in self.take_profits), key=lambda price: price * s)


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _positive(x: float | None) -> float | None:
    """``x`` when it is a finite number above 0, else None."""
    return x if x is not None and math.isfinite(x) and x > 0 else None


def position_risk(pos: PositionInput) -> PositionRisk:
    """Every per-position metric the risk pane and ``perptui risk`` show."""
    s = side_sign(pos.side)
    mark = _positive(pos.mark)
    notional = pos.qty * mark if mark is not None else None
    upnl = s * pos.qty * (mark - pos.entry) if mark is not None else None
    lev = _positive(pos.leverage)
    initial = pos.qty * pos.entry / lev if lev is not None else None
    roe = upnl / initial if upnl is not None and initial else None

    mm = maintenance_margin(pos.tiers, notional) if notional is not None and pos.tiers else None
    wallet = pos.wallet_balance if _finite(pos.wallet_balance) else None
    balance = wallet + upnl if wallet is not None and upnl is not None else None
    ratio: float | None = None
    if mm is not None and balance is not None:
        ratio = mm / balance if balance > 0 else math.inf

    liq = liquidation_price(pos.side, pos.qty, pos.entry, wallet, pos.tiers) if wallet is not None else None
    liq_price = liq.price if liq else None
    never = liq is not None and liq.price is None
    distance = s * (mark - liq_price) / mark if mark is not None and liq_price is not None else None
    vol = _positive(pos.daily_vol)
    sigma = distance / vol if distance is not None and vol is not None else None

    rate = pos.funding_rate if _finite(pos.funding_rate) else None
    next_funding = -s * notional * rate if notional is not None and rate is not None else None
    interval = pos.funding_interval_hours
    apr = -s * rate * 24.0 / interval * 365.0 if rate is not None and interval and interval > 0 else None
    stop = _positive(pos.stop)
    risk_at_stop = max(0.0, s * pos.qty * (pos.entry - stop)) if stop is not None else None

    return PositionRisk(
        symbol=pos.symbol,
        side=pos.side,
        qty=pos.qty,
        entry=pos.entry,
        mark=mark,
        margin_mode=pos.margin_mode,
        notional=notional,
        exposure=s * notional if notional is not None else None,
        upnl=upnl,
        initial_margin=initial,
        roe=roe,
        maintenance_margin=mm,
        margin_balance=balance,
        margin_ratio=ratio,
        liq_price=liq_price,
        never_liquidated=never,
        liq_distance=distance,
        liq_distance_sigma=sigma,
        next_funding=next_funding,
        next_funding_time=pos.next_funding_time if rate is not None else None,
        funding_apr=apr,
        funding_so_far=pos.funding_so_far,
        risk_at_stop=risk_at_stop,
        has_stop=(stop is not None) if pos.stop_known else None,
        price_tick=pos.price_tick,
        amount_step=pos.amount_step,
        stop=stop,
        take_profits=pos.take_profits,
    )


def _pnl_minus_mm(pos: PositionInput) -> float | None:
    """A cross position's contribution to the others' wallet: its unrealised PnL - its maintenance margin."""
    mark = _positive(pos.mark)
    if mark is None or not pos.tiers:
        return None
    return side_sign(pos.side) * pos.qty * (mark - pos.entry) - maintenance_margin(pos.tiers, pos.qty * mark)


def with_cross_wallet(positions: Sequence[PositionInput], cross_wallet: float | None) -> list[PositionInput]:
    """The positions with each cross position's ``wallet_balance`` set to the cross wallet balance
    + the other cross positions' unrealised PnL - their maintenance margin (Binance's cross formula).

    None for a position when the cross wallet is unknown or another cross position lacks a mark or
    brackets. Isolated positions are returned unchanged (they do not share the cross wallet)."""
    parts = [_pnl_minus_mm(p) if p.margin_mode == "cross" else 0.0 for p in positions]
    result: list[PositionInput] = []
    for i, pos in enumerate(positions):
        if pos.margin_mode != "cross":
            result.append(pos)
            continue
        others = [x for j, x in enumerate(parts) if j != i]
        known = [x for x in others if x is not None]
        if cross_wallet is None or not math.isfinite(cross_wallet) or len(known) < len(others):
            result.append(replace(pos, wallet_balance=None))
        else:
            result.append(replace(pos, wallet_balance=cross_wallet + math.fsum(known)))
    return result
