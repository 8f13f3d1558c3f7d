"""A sizing result as a plain-text trade ticket: what ``perptui size`` prints and the sizing pane copies.
Pure: prices to the market's tick, quantities to its step, money to cents, unknowns as ``unknown``."""

from __future__ import annotations

from perptui.domain.sizing import SizingResult, step_decimals

UNKNOWN = "unknown"


def price_text(value: float | None, tick: float | None) -> str:
    """A price with the decimals of the market's tick (5 significant digits without one)."""
    if value is None:
        return UNKNOWN
    if not tick or tick <= 0:
        return f"{value:,.5g}"
    return f"{value:,.{step_decimals(tick)}f}"


def qty_text(value: float, step: float | None) -> str:
    return f"{value:,.{step_decimals(step)}f}" if step else f"{value:,.8g}"


def money_text(value: float | None, currency: str = "", *, signed: bool = False) -> str:
    if value is None:
        return UNKNOWN
    text = f"{value:+,.2f}" if signed else f"{value:,.2f}"
    return f"{text} {currency}".rstrip()


def pct_text(fraction: float | None, decimals: int = 2, *, signed: bool = False) -> str:
    if fraction is None:
        return UNKNOWN
    return f"{fraction * 100:+.{decimals}f}%" if signed else f"{fraction * 100:.{decimals}f}%"


def liquidation_text(r: SizingResult, tick: float | None) -> str:
    if r.never_liquidated:
        return "none (margin covers a fall to zero)"
    if r.liquidation_price is None:
        return UNKNOWN
    text = price_text(r.liquidation_price, tick)
    return text + (" (approx. brackets)" if r.tiers_approximate else "")


def funding_text(r: SizingResult, currency: str) -> str:
    if r.funding_rate is None:
        return UNKNOWN
    per = money_text(r.funding_per_interval, currency, signed=True)
    interval = f"{r.funding_interval_hours:g}h" if r.funding_interval_hours else "interval unknown"
    day = money_text(r.funding_per_day, currency, signed=True) if r.funding_per_day is not None else UNKNOWN
    return f"{per} per {interval}, {day} a day (rate {r.funding_rate * 100:+.4f}%)"


def ticket_lines(r: SizingResult, tick: float | None, step: float | None, currency: str) -> list[str]:
    """The ticket as (label, value) lines, ready to print or copy."""
    lev = f"{r.leverage:g}x" + (" (auto)" if r.leverage_auto else "")
    rows: list[tuple[str, str]] = [
        ("Market", f"{r.symbol} on {r.exchange}"),
        ("Side", r.side.upper()),
        ("Quantity", f"{qty_text(r.quantity, step)}" + ("" if r.tradable else "  (NOT TRADABLE)")),
        ("Entry", price_text(r.entry, tick)),
        ("Stop", price_text(r.stop, tick)),
        ("Leverage", f"{lev}, {r.margin_mode}"),
        ("Notional", money_text(r.notional, currency)),
        ("Initial margin", money_text(r.initial_margin, currency)),
        ("Risk at stop", f"{money_text(r.risk_usd, currency)} ({pct_text(r.risk_pct)} of equity)"),
        (
            "Fees",
            f"{money_text(r.fees_usd, currency)} (entry {money_text(r.fee_entry_usd)}, "
            f"stop exit {money_text(r.fee_exit_usd)})",
        ),
        ("Liquidation", liquidation_text(r, tick)),
        ("Break-even", price_text(r.breakeven_price, tick)),
        ("Funding", funding_text(r, currency)),
        ("Sized by", r.binding_text),
    ]
    for i, tp in enumerate(r.take_profits, 1):
        rows.append(
            (
                f"Take-profit {i}",
                f"{price_text(tp.price, tick)}  {tp.r:.2f}R  {qty_text(tp.qty, step)} "
                f"({tp.share * 100:.0f}%)  {money_text(tp.pnl, currency, signed=True)}",
            )
        )
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.extend(f"! {w.message}" for w in r.warnings)
    return lines


def ticket_text(r: SizingResult, tick: float | None, step: float | None, currency: str) -> str:
    return "\n".join(ticket_lines(r, tick, step, currency))
