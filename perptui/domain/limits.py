"""Risk limits: how close each one is and the alerts a breach (or a near miss) raises. Pure.

Every limit is a fraction except ``max_leverage`` (a multiple of equity); None (or 0) switches it off.
``closeness`` is the share of the limit used, for bars: value / limit for a maximum, limit / value for
the minimum distance to liquidation (infinite at or past liquidation); clipped below at 0. A check is
breached at the limit itself (value >= a maximum, value <= the minimum); from ``warn_at`` of the way
there it raises a warning. Unknown values give a check with ``value`` None and no alert. With
``require_stop``, a position known to have no stop-loss raises a warning (``no_stop``) without a check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from perptui.domain.risk_portfolio import PortfolioRisk

LimitKind = Literal[
    "risk_per_trade", "leverage", "liq_distance", "margin_ratio", "daily_loss", "drawdown", "no_stop"
]
Severity = Literal["warning", "critical"]
#: Limits whose breach trips the circuit breaker.
BREAKER_KINDS: tuple[LimitKind, ...] = ("daily_loss", "drawdown")


@dataclass(frozen=True, slots=True)
class Limits:
    max_risk_per_trade: float | None = 0.02  # loss at the stop / equity
    max_leverage: float | None = 5.0  # gross exposure / equity
    min_liq_distance: float | None = 0.10  # of the mark
    max_margin_ratio: float | None = 0.5  # maintenance margin / margin balance
    daily_loss_limit: float | None = 0.05  # of the equity at 00:00 UTC
    max_drawdown: float | None = 0.15  # from the equity peak
    warn_at: float = 0.8  # closeness from which a warning is raised
    require_stop: bool = True  # alert for an open position known to have no stop-loss

    def __post_init__(self) -> None:
        for name in ("max_risk_per_trade", "max_leverage", "min_liq_distance", "max_margin_ratio"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"{name} must be 0 (off) or more, not {value!r}")
        for name in ("daily_loss_limit", "max_drawdown"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"{name} must be a fraction from 0 (off) to 1, not {value!r}")
        if not 0 < self.warn_at <= 1:
            raise ValueError(f"warn_at must be in (0, 1], not {self.warn_at!r}")


@dataclass(frozen=True, slots=True)
class LimitCheck:
    kind: LimitKind
    symbol: str | None  # the position checked; None for portfolio limits
    value: float | None
    limit: float
    closeness: float | None  # share of the limit used (see the module docstring)
    breached: bool
    warning: bool  # near (closeness >= warn_at) but not breached


@dataclass(frozen=True, slots=True)
class Alert:
    kind: LimitKind
    symbol: str | None
    message: str  # one line
    severity: Severity


@dataclass(frozen=True, slots=True)
class LimitReport:
    checks: tuple[LimitCheck, ...]
    alerts: tuple[Alert, ...]

    def worst(self, kind: LimitKind) -> LimitCheck | None:
        """The check of this kind closest to its limit (the one a bar shows); unknown values last."""
        same = [c for c in self.checks if c.kind == kind]
        if not same:
            return None
        return max(same, key=lambda c: -1.0 if c.closeness is None else c.closeness)

    def summary(self) -> tuple[LimitCheck, ...]:
        """One check per enabled limit, the worst of each, in the order limits are declared."""
        kinds = dict.fromkeys(c.kind for c in self.checks)
        return tuple(w for k in kinds if (w := self.worst(k)) is not None)

    @property
    def breaker_breaches(self) -> tuple[LimitCheck, ...]:
        """Breached checks that trip the circuit breaker."""
        return tuple(c for c in self.checks if c.breached and c.kind in BREAKER_KINDS)


_LABELS: dict[LimitKind, str] = {
    "risk_per_trade": "loss at the stop",
    "leverage": "effective leverage",
    "liq_distance": "liquidation distance",
    "margin_ratio": "margin ratio",
    "daily_loss": "loss today",
    "drawdown": "drawdown",
    "no_stop": "stop-loss",
}


def _shown(kind: LimitKind, value: float) -> str:
    if kind == "leverage":
        return f"{value:.2f}x"
    return "infinite" if math.isinf(value) else f"{value * 100:.2f}%"


def _check(
    kind: LimitKind, symbol: str | None, value: float | None, limit: float, warn_at: float
) -> LimitCheck:
    is_min = kind == "liq_distance"
    if value is None or math.isnan(value):
        return LimitCheck(kind, symbol, None, limit, None, False, False)
    if is_min:
        closeness = limit / value if value > 0 else math.inf
        breached = value <= limit
    else:
        closeness = value / limit
        breached = value >= limit
    closeness = max(0.0, closeness)
    return LimitCheck(kind, symbol, value, limit, closeness, breached, not breached and closeness >= warn_at)


#: The breaker's figures after a reset, measured from it.
_SINCE_RESET: dict[LimitKind, str] = {
    "daily_loss": "loss since the reset",
    "drawdown": "drawdown since the reset",
}


def _alert(check: LimitCheck, since_reset: bool = False) -> Alert | None:
    if check.value is None or not (check.breached or check.warning):
        return None
    subject = f"{check.symbol} " if check.symbol else ""
    verb = "breaches" if check.breached else "nears"
    label = _SINCE_RESET.get(check.kind, _LABELS[check.kind]) if since_reset else _LABELS[check.kind]
    message = (
        f"{subject}{label} {_shown(check.kind, check.value)} {verb} the limit "
        f"{_shown(check.kind, check.limit)}"
    )
    if check.breached and check.kind in BREAKER_KINDS:
        message += ": circuit breaker"
    return Alert(check.kind, check.symbol, message, "critical" if check.breached else "warning")


def _on(limit: float | None) -> bool:
    return limit is not None and math.isfinite(limit) and limit > 0


def check_limits(limits: Limits, portfolio: PortfolioRisk) -> LimitReport:
    """Every enabled limit checked: portfolio limits once, position limits once per position."""
    checks: list[LimitCheck] = []
    w = limits.warn_at
    equity = portfolio.equity
    for pos in portfolio.positions:
        risk = pos.risk_at_stop / equity if pos.risk_at_stop is not None and equity and equity > 0 else None
        per_position: list[tuple[LimitKind, float | None, float | None]] = [
            ("risk_per_trade", risk, limits.max_risk_per_trade),
            ("margin_ratio", pos.margin_ratio, limits.max_margin_ratio),
        ]
        if not pos.never_liquidated:
            per_position.insert(1, ("liq_distance", pos.liq_distance, limits.min_liq_distance))
        for kind, value, limit in per_position:
            if limit is not None and _on(limit):
                checks.append(_check(kind, pos.symbol, value, limit, w))
    portfolio_limits: Sequence[tuple[LimitKind, float | None, float | None]] = (
        ("leverage", portfolio.leverage, limits.max_leverage),
        ("daily_loss", portfolio.daily_loss, limits.daily_loss_limit),
        ("drawdown", portfolio.drawdown, limits.max_drawdown),
    )
    for kind, value, limit in portfolio_limits:
        if limit is not None and _on(limit):
            checks.append(_check(kind, None, value, limit, w))
    since_reset = portfolio.loss_since is not None
    alerts = [a for c in checks if (a := _alert(c, since_reset)) is not None]
    if limits.require_stop:
        # A carry pair's perp leg is hedged by its spot leg: no stop is expected on it.
        hedged = {row.perp.symbol for row in portfolio.pairs if row.perp is not None}
        alerts += [
            no_stop_alert(p.symbol)
            for p in portfolio.positions
            if p.has_stop is False and p.symbol not in hedged
        ]
    return LimitReport(tuple(checks), tuple(alerts))


def no_stop_alert(symbol: str) -> Alert:
    """An open position without a stop-loss: nothing limits its loss before liquidation. An alert, not
    a limit with a bar: there is no value to measure."""
    message = f"{symbol} has no stop-loss: its loss runs to liquidation"
    return Alert("no_stop", symbol, message, "warning")
