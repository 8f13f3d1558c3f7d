"""The paper account's margin: equity, used and free margin, maintenance margin, liquidation. Pure.

See ``perptui.domain.paper`` for the wallet model. Maintenance margin uses the brackets of each
position's notional at the mark (``tiers.maintenance_margin``); liquidation prices come from
``liquidation.liquidation_price`` through ``risk_position`` (the sizing calculator's and the risk pane's
maths): an isolated position against its isolated wallet, a cross position against the cross wallet
adjusted by the other cross positions (+ their unrealised PnL - their maintenance margin).

A position is liquidated when its mark reaches its liquidation price (margin balance down to
maintenance margin: margin ratio 100%). For cross margin the account goes as a whole: when one cross
position reaches its price, every cross position is liquidated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from perptui.domain.paper import PaperPosition
from perptui.domain.risk_position import PositionInput, PositionRisk, position_risk, with_cross_wallet
from perptui.domain.tiers import maintenance_margin
from perptui.domain.types import LeverageTier

TiersOf = Callable[[PaperPosition], Sequence[LeverageTier]]


def mark_of(position: PaperPosition, marks: Mapping[str, float]) -> float:
    """The position's mark: the one given for its symbol, else the last one the engine saw, else its
    entry (a position always has a fill price)."""
    mark = marks.get(position.symbol)
    if mark is not None and math.isfinite(mark) and mark > 0:
        return mark
    return position.last_mark if position.last_mark else position.entry


@dataclass(frozen=True, slots=True)
class MarginState:
    """The account at some marks. ``free_margin`` = cross wallet + cross unrealised PnL - cross initial
    margin - margin reserved by resting orders: what a new order may use. ``withdrawable`` counts no
    unrealised profit. ``used_margin`` = isolated wallets + cross initial margins + reserved."""

    wallet: float
    unrealized_pnl: float
    equity: float
    used_margin: float
    reserved: float
    free_margin: float
    withdrawable: float
    maintenance_margin: float
    gross_notional: float
    net_notional: float
    cross_wallet: float


def margin_state(
    wallet: float,
    positions: Sequence[PaperPosition],
    marks: Mapping[str, float],
    tiers_of: TiersOf,
    reserved: float = 0.0,
) -> MarginState:
    upnl = cross_upnl = cross_im = isolated = mm = gross = net = 0.0
    for p in positions:
        mark = mark_of(p, marks)
        pnl = p.upnl(mark)
        upnl += pnl
        gross += p.qty * mark
        net += p.sign * p.qty * mark
        tiers = tiers_of(p)
        mm += maintenance_margin(list(tiers), p.qty * mark) if tiers else 0.0
        if p.margin_mode == "isolated":
            isolated += p.isolated_margin
        else:
            cross_upnl += pnl
            cross_im += p.initial_margin
    cross_wallet = wallet - isolated
    free = cross_wallet + cross_upnl - cross_im - reserved
    return MarginState(
        wallet=wallet,
        unrealized_pnl=upnl,
        equity=wallet + upnl,
        used_margin=isolated + cross_im + reserved,
        reserved=reserved,
        free_margin=free,
        withdrawable=min(free, cross_wallet - cross_im - reserved + min(0.0, cross_upnl)),
        maintenance_margin=mm,
        gross_notional=gross,
        net_notional=net,
        cross_wallet=cross_wallet,
    )


def position_inputs(
    positions: Sequence[PaperPosition],
    marks: Mapping[str, float],
    tiers_of: TiersOf,
    cross_wallet: float,
) -> list[PositionInput]:
    """The positions as the risk metrics take them: isolated against their isolated wallet, cross ones
    against the cross wallet adjusted by the other cross positions. Funding fields are left unset."""
    inputs = [
        PositionInput(
            symbol=p.symbol,
            side=p.side,
            qty=p.qty,
            entry=p.entry,
            mark=mark_of(p, marks),
            leverage=p.leverage,
            margin_mode=p.margin_mode,
            wallet_balance=p.isolated_margin if p.margin_mode == "isolated" else None,
            tiers=tuple(tiers_of(p)),
            funding_so_far=p.funding,
            stop=p.stop,
            stop_known=True,
            take_profits=tuple((t.price, t.qty) for t in p.take_profits),
        )
        for p in positions
    ]
    return with_cross_wallet(inputs, cross_wallet)


def position_risks(
    positions: Sequence[PaperPosition],
    marks: Mapping[str, float],
    tiers_of: TiersOf,
    cross_wallet: float,
) -> list[PositionRisk]:
    return [position_risk(i) for i in position_inputs(positions, marks, tiers_of, cross_wallet)]


def liquidation_reached(risk: PositionRisk) -> bool:
    """The mark is at or beyond the liquidation price (a long never liquidated is never reached)."""
    if risk.mark is None or risk.liq_price is None:
        return False
    return (risk.mark - risk.liq_price) * (1 if risk.side == "long" else -1) <= 0


def liquidation_loss(backing_wallet: float, realized: float) -> float:
    """The cash flow that ends a liquidation: whatever is left of the wallet that backed the liquidated
    position(s) after their realised PnL goes to the insurance fund (negative), so that wallet ends at
    exactly 0; if the fill at the liquidation price lost more than it held (a gap), the insurance fund
    covers the difference (positive) and the trader never loses more than that wallet."""
    return -(backing_wallet + realized) + 0.0


def auto_leverage(notional: float, free_margin: float, fee_rate: float, max_leverage: float | None) -> float:
    """The lowest whole leverage at which the initial margin and the fee fit in the free margin (1 when
    anything fits); at most ``max_leverage``. The margin check then says whether it is enough."""
    room = free_margin - notional * fee_rate
    wanted = 1.0 if room <= 0 else float(max(1, math.ceil(notional / room - 1e-9)))
    if room <= 0 and max_leverage:
        wanted = max_leverage
    return min(wanted, max_leverage) if max_leverage else wanted
