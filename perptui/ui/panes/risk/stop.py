"""The stop confirmation: what moving (or removing) a position's stop does to the loss at the stop, before
and after. Pure, no Textual. Removing a stop, or a stop whose loss is above the maximum risk
per trade, is flagged: the confirmation then defaults to No."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.liquidation import side_sign
from perptui.domain.types import Side
from perptui.presentation.numbers import money as money_text
from perptui.presentation.numbers import pct as pct_text
from perptui.presentation.numbers import price as price_text

if TYPE_CHECKING:
    from perptui.services.risk import RiskReport


@dataclass(frozen=True, slots=True)
class StopChange:
    symbol: str
    side: Side
    qty: float
    entry: float
    mark: float | None
    liq_price: float | None
    old: float | None  # the stop now; None: no stop
    new: float | None  # the stop asked for; None: remove it
    equity: float | None
    max_risk: float | None  # the maximum loss at the stop per trade, a fraction of equity; None: off
    tick: float | None
    currency: str = "USDT"


def change_of(
    report: RiskReport | None,
    symbol: str,
    old: float | None,
    new: float | None,
    *,
    tick: float | None,
    max_risk: float | None,
) -> StopChange | None:
    """The change of ``symbol``'s stop as the report shows the position; None when it is no longer open."""
    if report is None:
        return None
    p = next((x for x in report.positions if x.symbol == symbol), None)
    if p is None:
        return None
    return StopChange(
        symbol=symbol,
        side=p.side,
        qty=p.qty,
        entry=p.entry,
        mark=p.mark,
        liq_price=None if p.never_liquidated else p.liq_price,
        old=old,
        new=new,
        equity=report.portfolio.equity,
        max_risk=max_risk,
        tick=tick,
        currency=report.currency,
    )


def loss_at(change: StopChange, stop: float) -> float:
    """What a fill at ``stop`` loses from the entry (0 for a stop in profit)."""
    return max(0.0, side_sign(change.side) * change.qty * (change.entry - stop))


def _risk_text(change: StopChange, stop: float | None) -> str:
    if stop is None:
        if change.liq_price is None:
            return "unlimited: no stop and no liquidation price known"
        loss = loss_at(change, change.liq_price)
        return (
            f"no stop: the loss runs to liquidation at {price_text(change.liq_price, change.tick)} "
            f"(about {money_text(loss, change.currency)})"
        )
    loss = loss_at(change, stop)
    share = f" ({pct_text(loss / change.equity)} of equity)" if change.equity and change.equity > 0 else ""
    return f"{money_text(loss, change.currency)}{share} at {price_text(stop, change.tick)}"


def title(change: StopChange) -> str:
    if change.new is None:
        return f"Remove the stop of {change.symbol}?"
    verb = "Move" if change.old is not None else "Set"
    return f"{verb} the stop of {change.symbol}?"


def lines(change: StopChange) -> list[str]:
    tick = change.tick
    return [
        f"{change.side.upper()} {change.qty:g} {change.symbol}, entry {price_text(change.entry, tick)}, "
        f"mark {price_text(change.mark, tick)}",
        f"stop        {_stop(change.old, tick)} → {_stop(change.new, tick)}",
        f"risk now    {_risk_text(change, change.old)}",
        f"risk after  {_risk_text(change, change.new)}",
        "Set on the local PAPER account only: nothing goes to an exchange.",
    ]


def warnings(change: StopChange) -> list[str]:
    """Removing the stop; a loss at the new stop above the maximum risk per trade."""
    if change.new is None:
        return ["without a stop nothing limits the loss before liquidation"]
    found = []
    loss = loss_at(change, change.new)
    if change.max_risk and change.equity and change.equity > 0 and loss / change.equity > change.max_risk:
        found.append(
            f"the loss at the new stop, {pct_text(loss / change.equity)} of equity, is above your maximum "
            f"of {pct_text(change.max_risk)} per trade"
        )
    return found


def _stop(value: float | None, tick: float | None) -> str:
    return "none" if value is None else price_text(value, tick)
