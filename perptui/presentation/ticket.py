"""A sizing result as a plain-text trade ticket: what ``perptui size`` prints and the sizing pane copies.
Pure: prices at the market's tick, quantities at its step, money to cents, unknowns as ``—``
(``perptui.presentation.numbers``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.presentation.numbers import UNKNOWN, money, num, pct, price, qty

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult


def liquidation_text(r: SizingResult, tick: float | None) -> str:
    if r.never_liquidated:
        return "none (margin covers a fall to zero)"
    if r.liquidation_price is None:
        return UNKNOWN
    return price(r.liquidation_price, tick) + (" (approx. brackets)" if r.tiers_approximate else "")


def funding_text(r: SizingResult, currency: str) -> str:
    if r.funding_rate is None:
        return UNKNOWN
    per = money(r.funding_per_interval, currency, signed=True)
    interval = f"{r.funding_interval_hours:g}h" if r.funding_interval_hours else "interval unknown"
    day = money(r.funding_per_day, currency, signed=True)
    return f"{per} per {interval}, {day} a day (rate {pct(r.funding_rate, 4, signed=True)})"


def contract_count(quantity: float, step: float | None, contract_size: float) -> str:
    """The quantity in contracts, to the decimals of the exchange's lot (``step / contract_size``)."""
    lot = step / contract_size if step and contract_size > 0 else None
    return qty(quantity / contract_size, lot)


def contracts_text(quantity: float, step: float | None, contract_size: float) -> str:
    """``3.7 x 0.01`` (contracts of OKX's 0.01 BTC, to the lot's decimals)."""
    return f"{contract_count(quantity, step, contract_size)} x {num(contract_size, 12)}"


def ticket_lines(
    r: SizingResult, tick: float | None, step: float | None, currency: str, contract_size: float = 1.0
) -> list[str]:
    """The ticket as (label, value) lines, ready to print or copy. On a market that trades in contracts
    (a contract size other than 1) a line gives the quantity in contracts, as the exchange's order box
    takes it."""
    lev = f"{r.leverage:g}x" + (" (auto)" if r.leverage_auto else "")
    fee_entry = money(r.fee_entry_usd)
    rows: list[tuple[str, str]] = [
        ("Market", f"{r.symbol} on {r.exchange}"),
        ("Side", r.side.upper()),
        ("Quantity", f"{qty(r.quantity, step)}" + ("" if r.tradable else "  (NOT TRADABLE)")),
        *(
            [("Contracts", contracts_text(r.quantity, step, contract_size))]
            if contract_size != 1 and contract_size > 0
            else []
        ),
        ("Entry", price(r.entry, tick)),
        ("Stop", price(r.stop, tick)),
        ("Leverage", f"{lev}, {r.margin_mode}"),
        ("Notional", money(r.notional, currency)),
        ("Initial margin", money(r.initial_margin, currency)),
        ("Risk at stop", f"{money(r.risk_usd, currency)} ({pct(r.risk_pct)} of equity)"),
        ("Fees", f"{money(r.fees_usd, currency)} (entry {fee_entry}, stop exit {money(r.fee_exit_usd)})"),
        ("Liquidation", liquidation_text(r, tick)),
        ("Break-even", price(r.breakeven_price, tick)),
        ("Funding", funding_text(r, currency)),
        ("Sized by", r.binding_text),
    ]
    for i, tp in enumerate(r.take_profits, 1):
        rows.append(
            (
                f"Take-profit {i}",
                f"{price(tp.price, tick)}  {tp.r:.2f}R  {qty(tp.qty, step)} "
                f"({tp.share * 100:.0f}%)  {money(tp.pnl, currency, signed=True)}",
            )
        )
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.extend(f"! {w.message}" for w in r.warnings)
    return lines


def ticket_text(
    r: SizingResult, tick: float | None, step: float | None, currency: str, contract_size: float = 1.0
) -> str:
    return "\n".join(ticket_lines(r, tick, step, currency, contract_size))
