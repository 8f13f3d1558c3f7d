"""The allocation pane's wording of the trades that take the paper account to the plan: the confirmation's
list (pairs and orders in the order they are sent, columns aligned so a 60-wide dialog holds a line each,
then the cost and the exposure after) and the one-line summary under the table. No Textual."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from textual.content import Content

from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.plan import HybridPlan
    from perptui.ui.panes.allocation.send import SendItem


def shown_symbol(symbol: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC/USDT``: every leg settles in the quote, the suffix only takes room."""
    return symbol.split(":", 1)[0]


_KIND = {"pair": "PAIR", "unpair": "UNPAIR", "order": ""}


def confirm_lines(
    items: Sequence[SendItem],
    steps: Mapping[str, float | None] | None = None,
    *,
    refused: frozenset[tuple[str, str]] = frozenset(),
    cost: tuple[float, float] | None = None,
    exposure: tuple[float | None, float | None] | None = None,
) -> list[str]:
    """The confirmation's lines: one aligned line per item in the order sent (a pair: buy spot + short
    perp of its quantity, both or neither; REFUSED where the paper account refuses it, by (kind,
    symbol) in ``refused``), then the rebalance's cost (fees, slippage) and the gross and net exposure
    it leaves."""
    rows: list[tuple[str, str, str, SendItem]] = []
    for i in items:
        what = _KIND[i.kind] or i.side.upper()
        if i.kind == "pair":
            what = "PAIR +" if i.side == "short" else "PAIR −"
        elif i.kind == "unpair":
            what = "PAIR ×"
        rows.append((what, fmt.qty(i.qty, (steps or {}).get(i.symbol)), shown_symbol(i.symbol), i))
    kind_w, qty_w, sym_w = (max((len(r[k]) for r in rows), default=0) for k in range(3))  # type: ignore[arg-type]  # k < 3: the text columns
    notional_w = max((len(fmt.money(i.notional)) for i in items), default=0)

    def line(what: str, qty: str, symbol: str, item: SendItem) -> str:
        notional = f"{'≈ ' + fmt.money(item.notional):>{notional_w + 2}}"
        tail = {"pair": "  spot+perp", "unpair": "  close both"}.get(item.kind, "")
        tail += "  reduce-only" if item.kind == "order" and item.reduce_only else ""
        tail += "  REFUSED" if (item.kind, item.symbol) in refused else ""
        return f"{what:<{kind_w}} {qty:>{qty_w}}  {symbol:<{sym_w}}  {notional}{tail}"

    lines = ["MARKET orders, mark + slippage, PAPER account only (a PAIR: both legs or neither):"]
    lines += [line(*r) for r in rows]
    if cost is not None:
        fees, slippage = cost
        lines += [
            "",
            f"cost: fees {fmt.money(fees)} + slippage {fmt.money(slippage)} = {fmt.money(fees + slippage)}",
        ]
    if exposure is not None:
        gross, net = exposure
        lines.append(f"after: gross exposure {fmt.money(gross)}, net {fmt.money(net)}")
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
        " sends them" if short else " sends them to the paper account (carry pairs as pairs)",
    )
