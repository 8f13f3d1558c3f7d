"""The risk monitor's wording, shared by the risk pane and ``perptui risk`` so both say the same thing.
Pure functions, no Textual: a position's state by its distance to liquidation, its figures as text, the
limits as bars and values, the circuit breaker in one line."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from perptui.domain.timeframes import iso_utc
from perptui.presentation.numbers import UNKNOWN, money, pct, price, qty

if TYPE_CHECKING:
    from perptui.domain.limits import LimitCheck, LimitKind, LimitReport
    from perptui.domain.risk_breaker import BreakerState
    from perptui.domain.risk_position import PositionRisk

LiqState = Literal["safe", "warning", "critical"]

LIMIT_LABELS: dict[LimitKind, str] = {
    "risk_per_trade": "loss at stop",
    "leverage": "leverage",
    "liq_distance": "to liquidation",
    "margin_ratio": "margin ratio",
    "daily_loss": "loss today",
    "drawdown": "drawdown",
    "no_stop": "stop-loss",
}


def liq_state(limits: LimitReport, p: PositionRisk) -> LiqState:
    """Critical at or past the minimum distance to liquidation (or liquidated), warning near it."""
    if p.liq_distance is not None and p.liq_distance <= 0:
        return "critical"
    check = next((c for c in limits.checks if c.kind == "liq_distance" and c.symbol == p.symbol), None)
    if check is not None and check.breached:
        return "critical"
    if check is not None and check.warning:
        return "warning"
    return "safe"


def liq_text(p: PositionRisk) -> str:
    return "never" if p.never_liquidated else price(p.liq_price, p.price_tick)


def sigma_text(p: PositionRisk) -> str:
    return UNKNOWN if p.liq_distance_sigma is None else f"{p.liq_distance_sigma:.1f}σ"


def margin_ratio_text(p: PositionRisk) -> str:
    return "∞" if p.margin_ratio == math.inf else pct(p.margin_ratio, 1)


def funding_text(x: float | None) -> str:
    return money(x, signed=True, decimals=4)


def position_row(p: PositionRisk) -> tuple[str, ...]:
    """symbol, side, qty, entry, mark, notional, uPnL, liq, to liq, σ, margin, next funding: prices at
    the market's tick, the quantity at its step."""
    return (
        p.symbol,
        p.side,
        qty(p.qty, p.amount_step),
        price(p.entry, p.price_tick),
        price(p.mark, p.price_tick),
        money(p.notional),
        money(p.upnl, signed=True),
        liq_text(p),
        pct(p.liq_distance),
        sigma_text(p),
        margin_ratio_text(p),
        funding_text(p.next_funding),
    )


def bar(closeness: float | None, width: int = 20, *, full: str = "#", empty: str = "-") -> str:
    """``closeness`` (share of the limit used) as a bar of ``width`` cells; ``?`` cells when unknown."""
    if closeness is None:
        return "?" * width
    filled = min(width, round(min(closeness, 1.0) * width))
    return full * filled + empty * (width - filled)


def limit_value(c: LimitCheck) -> str:
    """The value against its limit: ``0.68x of 5.00x``, ``7.80% (min 10.00%)``."""
    if c.value is None:
        return "no stop" if c.kind == "risk_per_trade" else "unknown"
    if c.kind == "leverage":
        return f"{c.value:.2f}x of {c.limit:.2f}x"
    value = "infinite" if c.value == math.inf else pct(c.value)
    return f"{value} ({'min' if c.kind == 'liq_distance' else 'max'} {pct(c.limit)})"


def limit_flag(c: LimitCheck) -> str:
    return "BREACHED" if c.breached else "near" if c.warning else ""


def breaker_text(b: BreakerState) -> str:
    if b.tripped:
        until = iso_utc(b.until) if b.until is not None else "a reset"
        return f"circuit breaker TRIPPED until {until}: {b.reason or 'a limit was hit'}"
    return "circuit breaker: armed" + (" (reset today)" if b.reset_at is not None else "")
