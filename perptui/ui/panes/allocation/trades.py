"""The allocation pane's wording of the trades that take the paper account to the plan: the confirmation's
order list (in the order they are sent, columns aligned so a 60-wide dialog holds a line each) and the
one-line summary under the table. No Textual."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from textual.content import Content

from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan, PlanTrade


def send_order(trades: Sequence[PlanTrade]) -> list[PlanTrade]:
    """The perp trades in the order they are sent: reduce-only first, as they free margin."""
    return sorted((t for t in trades if t.leg == "perp"), key=lambda t: not t.reduce_only)


def shown_symbol(symbol: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC/USDT``: every leg settles in the quote, the suffix only takes room."""
    return symbol.split(":", 1)[0]


def confirm_lines(
    trades: Sequence[PlanTrade],
    steps: Mapping[str, float] | None = None,
    *,
    refused: frozenset[str] = frozenset(),
) -> list[str]:
    """The confirmation's lines: what is sent and how, one aligned line per perp order (those the paper
    account refuses, by symbol in ``refused``, marked REFUSED), then the spot legs that are not sent."""
    perp = send_order(trades)
    spot = [t for t in trades if t.leg == "spot"]
    rows = [
        (t.side.upper(), fmt.qty(t.qty, (steps or {}).get(t.symbol)), shown_symbol(t.symbol), t)
        for t in [*perp, *spot]
    ]
    side_w, qty_w, sym_w = (max((len(r[i]) for r in rows), default=0) for i in range(3))
    notional_w = max((len(fmt.money(t.notional)) for t in perp), default=0)

    def line(side: str, qty: str, symbol: str, trade: PlanTrade) -> str:
        head = f"{side:<{side_w}} {qty:>{qty_w}}  {symbol:<{sym_w}}"
        if trade.leg == "spot":
            return f"{head}  spot"
        notional = f"{'≈ ' + fmt.money(trade.notional):>{notional_w + 2}}"
        return (
            f"{head}  {notional}"
            + ("  reduce-only" if trade.reduce_only else "")
            + ("  REFUSED" if trade.symbol in refused else "")
        )

    lines = ["MARKET orders, mark + slippage, PAPER account only:"]
    lines += [line(*r) for r in rows[: len(perp)]]
    if spot:
        lines += ["", f"not sent: {len(spot)} spot legs (paper trades perps only)"]
        lines += [line(*r) for r in rows[len(perp) :]]
    return lines


def trades_summary(plan: HybridPlan, *, short: bool) -> Content:
    """ "13 trades to reach the plan (11 perp, 2 spot; 5,225 traded) · x sends the perp orders …"."""
    if not plan.trades:
        return Content.styled("the paper account holds the plan: no trades needed", "$text-muted")
    perp = sum(1 for t in plan.trades if t.leg == "perp")
    known = [t.notional for t in plan.trades if t.notional is not None]
    traded = f"{sum(known):,.0f} traded" if len(known) == len(plan.trades) else "a price unknown"
    return Content.assemble(
        (f"{len(plan.trades)} trades to reach the plan", "bold"),
        f" ({perp} perp, {len(plan.trades) - perp} spot; {traded}) · ",
        ("x", "bold $text-accent"),
        " sends them" if short else " sends the perp orders to the paper account",
    )
