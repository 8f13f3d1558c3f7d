"""Portfolio risk: equity, exposure, leverage, today's PnL and drawdown from the equity peak. Pure.

Exposures are amounts in the settle currency: gross = sum of |notional|, net = sum of signed notionals
(+ long, - short). Effective leverage = gross / equity. Equity = wallet balance + unrealised PnL.

Drawdown is measured on a time-weighted equity index, so deposits and withdrawals neither hide a loss
nor look like one: between two equity snapshots the index grows by (E_k - flows in (t_(k-1), t_k]) /
E_(k-1), and drawdown = 1 - index / its running peak (a fraction, 0 at a new peak). Without cash flows
this is the plain (peak equity - equity) / peak equity. Equity that reached 0 or below restarts the index
(a fresh start after a wipe-out and a new deposit).

After a reset of the circuit breaker (``loss_since``: the reset's time, that UTC day) the breaker's two
figures are measured from the reset point: the daily loss from the equity at the reset, the drawdown
from the peak since it. A reset re-arms the breaker against new losses; the losses before it were
confirmed by the trader.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from perptui.domain.account import effective_leverage
from perptui.domain.paper_spot import SpotHolding
from perptui.domain.risk_pairs import PairRow, SpotBook
from perptui.domain.risk_position import PositionRisk


@dataclass(frozen=True, slots=True)
class PortfolioRisk:
    wallet_balance: float | None
    equity: float | None
    unrealized_pnl: float | None
    gross_exposure: float | None
    net_exposure: float | None
    leverage: float | None  # gross exposure / equity; 0 without positions
    pnl_today: float | None  # equity - equity at 00:00 UTC (or the reset) - net cash moved in since
    equity_day_start: float | None  # at 00:00 UTC, or at the breaker's reset (``loss_since``)
    daily_loss: float | None  # -pnl_today / equity_day_start: > 0 is a loss, a fraction
    drawdown: float | None  # from the equity peak (since the reset), a fraction (see the module docstring)
    positions: tuple[PositionRisk, ...]
    loss_since: int | None = None  # the breaker's reset today: the loss and drawdown are measured from it
    #: Carry pairs, one hedged row each (their perp legs are also in ``positions``), and spot held
    #: outside a pair (``domain.risk_pairs``).
    pairs: tuple[PairRow, ...] = ()
    spot: tuple[SpotHolding, ...] = ()


def _sum(values: Iterable[float | None]) -> float | None:
    """The exact sum, or None when any value is unknown (0 for no values)."""
    items = list(values)
    if any(v is None for v in items):
        return None
    return math.fsum(v for v in items if v is not None)


def signed_exposures(positions: Iterable[PositionRisk]) -> dict[str, float] | None:
    """Signed notional by symbol (a long and a short of one symbol net out); None if a mark is unknown."""
    result: dict[str, float] = {}
    for p in positions:
        if p.exposure is None:
            return None
        result[p.symbol] = result.get(p.symbol, 0.0) + p.exposure
    return result


def drawdowns(
    equity_history: Sequence[tuple[int, float]], flows: Sequence[tuple[int, float]] = ()
) -> list[tuple[int, float]]:
    """(time, drawdown) at each equity snapshot (sorted by time on the way in); ``flows`` are (time,
    signed amount) deposits (+) and withdrawals (-). A snapshot taken at a flow's time already holds it."""
    points = sorted(equity_history)
    moves = sorted(flows)
    result: list[tuple[int, float]] = []
    index = peak = 1.0
    j = 0
    prev: float | None = None
    for time, equity in points:
        moved = 0.0
        while j < len(moves) and moves[j][0] <= time:
            if prev is not None:  # flows before the first snapshot are already in it
                moved += moves[j][1]
            j += 1
        if prev is not None:
            if prev > 0:
                index *= (equity - moved) / prev
            else:
                index = peak = 1.0
        peak = max(peak, index)
        result.append((time, 1.0 - index / peak + 0.0))
        prev = equity
    return result


def portfolio_risk(
    positions: Sequence[PositionRisk],
    wallet_balance: float | None,
    *,
    now_ms: int | None = None,
    equity_day_start: float | None = None,
    flows_today: float = 0.0,
    equity_history: Sequence[tuple[int, float]] = (),
    flows: Sequence[tuple[int, float]] = (),
    loss_since: int | None = None,
    spot: SpotBook | None = None,
) -> PortfolioRisk:
    """The portfolio's figures from its positions' metrics and the account's wallet.

    ``equity_day_start`` is the equity at 00:00 UTC and ``flows_today`` the net cash moved in since (so
    a deposit is not PnL). ``equity_history`` (time, equity) snapshots and ``flows`` (time, signed
    amount) give the drawdown; the current equity is added at ``now_ms`` (default: just after the last
    snapshot). Without history the current equity is the peak and the drawdown is 0. ``loss_since``
    (a breaker reset): ``equity_day_start`` and ``flows_today`` are the equity at that time and the cash
    moved in since, and the drawdown starts there (from that equity, else the last snapshot before).
    ``spot``: spot holdings and carry pairs: their value over cost is unrealised PnL, a pair counts its
    net exposure in the gross (``domain.risk_pairs``)."""
    upnl = _sum(p.upnl for p in positions)
    gross = _sum(p.notional for p in positions)
    net = _sum(p.exposure for p in positions)
    if spot is not None:
        upnl = None if upnl is None else upnl + spot.upnl
        gross = None if gross is None else max(0.0, gross + spot.value - spot.hedged)
        net = None if net is None else net + spot.value
    equity = wallet_balance + upnl if wallet_balance is not None and upnl is not None else None
    pnl_today = None
    if equity is not None and equity_day_start is not None:
        pnl_today = equity - equity_day_start - flows_today
    daily_loss = (
        -pnl_today / equity_day_start
        if pnl_today is not None and equity_day_start is not None and equity_day_start > 0
        else None
    )
    drawdown = None
    if equity is not None:
        history = sorted(equity_history)
        last = history[-1][0] if history else 0
        now = now_ms if now_ms is not None else last + 1
        if loss_since is not None:
            history, flows = since_reset(history, flows, loss_since, equity_day_start)
        series = drawdowns([*(h for h in history if h[0] < now), (now, equity)], flows)
        drawdown = series[-1][1]
    return PortfolioRisk(
        wallet_balance=wallet_balance,
        equity=equity,
        unrealized_pnl=upnl,
        gross_exposure=gross,
        net_exposure=net,
        leverage=effective_leverage(gross, equity),
        pnl_today=pnl_today,
        equity_day_start=equity_day_start,
        daily_loss=daily_loss,
        drawdown=drawdown,
        positions=tuple(positions),
        loss_since=loss_since,
        pairs=spot.pairs if spot is not None else (),
        spot=spot.unpaired if spot is not None else (),
    )


def since_reset(
    history: Sequence[tuple[int, float]],
    flows: Sequence[tuple[int, float]],
    since: int,
    base: float | None,
) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """The equity history and flows from ``since`` on: the equity there (``base``, else the last
    snapshot at or before it) as the first point, then the later snapshots and flows."""
    points = sorted(history)
    if base is None:
        before = [e for t, e in points if t <= since]
        base = before[-1] if before else None
    start = [(since, base)] if base is not None else []
    return start + [h for h in points if h[0] > since], [f for f in flows if f[0] > since]
