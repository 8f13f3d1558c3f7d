"""``RiskReport``: everything the risk pane and ``perptui risk`` show, and its JSON shape. No numpy here.

``as_dict()`` has exactly the keys of ``perptui risk --json``. Amounts are in the settle currency,
shares are fractions, unknown is None. JSON cannot hold infinity: a margin ratio that is infinite (the
margin balance is at or below zero, i.e. at or past liquidation) becomes null and the report's notes
say so; ``positions[].margin_ratio`` is otherwise maintenance margin / margin balance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from perptui.domain.limits import Alert, LimitReport
from perptui.domain.paper_spot import SpotHolding
from perptui.domain.risk_breaker import BreakerState
from perptui.domain.risk_pairs import PairRow
from perptui.domain.risk_portfolio import PortfolioRisk
from perptui.domain.risk_position import PositionRisk

AccountKind = Literal["paper", "exchange"]

#: ``as_dict()``'s keys, in order (the issue's contract for ``perptui risk --json``).
REPORT_KEYS = (
    "equity",
    "wallet_balance",
    "unrealized_pnl",
    "gross_exposure",
    "net_exposure",
    "leverage",
    "drawdown",
    "pnl_today",
    "var_95_1d",
    "cvar_95_1d",
    "var_99_1d",
    "cvar_99_1d",
    "positions",
    "spot",
    "alerts",
    "circuit_breaker",
    "account",
    "exchange",
)
POSITION_KEYS = (
    "symbol",
    "side",
    "qty",
    "entry",
    "mark",
    "notional",
    "upnl",
    "liq_price",
    "liq_distance_pct",
    "liq_distance_sigma",
    "margin_ratio",
    "next_funding_usd",
    "stop",
    "take_profits",
    "pair",
)
#: A carry pair's row in ``positions`` (``pair: true``): both legs, the perp leg as a position row.
PAIR_KEYS = (
    "pair",
    "symbol",
    "spot_symbol",
    "qty",
    "perp_leg",
    "spot_leg",
    "net_delta",
    "net_exposure",
    "basis_pct",
    "funding_per_day_usd",
    "liq_distance_pct",
)


@dataclass(frozen=True, slots=True)
class VarFigures:
    """1-day VaR/CVaR at 95% and 99% by one method (positive = a loss); None with ``reason`` when unknown."""

    method: str  # "historical" | "parametric"
    var_95: float | None
    cvar_95: float | None
    var_99: float | None
    cvar_99: float | None
    observations: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class VolatilityRow:
    """Daily volatility of one held asset: realised (30 days) against the EWMA and GARCH(1,1) forecasts."""

    symbol: str
    realised: float | None
    ewma: float | None
    garch: float | None
    garch_reason: str | None  # why there is no GARCH figure
    observations: int  # daily returns used


@dataclass(frozen=True, slots=True)
class Correlation:
    """EWMA correlation of the held assets' daily returns; ``matrix[i][j]`` for ``symbols[i], symbols[j]``."""

    symbols: tuple[str, ...]
    matrix: tuple[tuple[float | None, ...], ...]


@dataclass(frozen=True, slots=True)
class RiskReport:
    account: str  # "paper" or the exchange's name
    kind: AccountKind
    exchange: str
    currency: str
    as_of: int  # ms UTC
    portfolio: PortfolioRisk  # equity, exposure, leverage, pnl today, drawdown, and the positions
    historical: VarFigures
    parametric: VarFigures
    volatility: tuple[VolatilityRow, ...]
    correlation: Correlation | None  # None with fewer than two positions' assets or too few days
    limits: LimitReport  # every enabled limit, how close (``summary()`` for bars)
    alerts: tuple[Alert, ...]  # every alert in force now
    new_alerts: tuple[Alert, ...]  # the ones this check raised first (notify + bell); logged
    breaker: BreakerState
    equity_history: tuple[tuple[int, float], ...]  # (time, equity) for the chart
    drawdown_history: tuple[tuple[int, float], ...]  # (time, drawdown fraction), same times
    live: bool  # marks from the source this refresh (False: the cache / the last known)
    notes: tuple[str, ...] = ()  # where the numbers came from, what is unknown and why

    @property
    def positions(self) -> tuple[PositionRisk, ...]:
        return self.portfolio.positions

    def as_dict(self) -> dict[str, object]:
        """The ``perptui risk --json`` object (valid JSON: no NaN or infinity)."""
        p = self.portfolio
        h = self.historical
        data: dict[str, object] = {
            "equity": p.equity,
            "wallet_balance": p.wallet_balance,
            "unrealized_pnl": p.unrealized_pnl,
            "gross_exposure": p.gross_exposure,
            "net_exposure": p.net_exposure,
            "leverage": p.leverage,
            "drawdown": p.drawdown,
            "pnl_today": p.pnl_today,
            "var_95_1d": h.var_95,
            "cvar_95_1d": h.cvar_95,
            "var_99_1d": h.var_99,
            "cvar_99_1d": h.cvar_99,
            "positions": positions_json(p),
            "spot": [spot_dict(h) for h in p.spot],
            "alerts": [alert_dict(a) for a in self.alerts],
            "circuit_breaker": breaker_dict(self.breaker),
            "account": self.account,
            "exchange": self.exchange,
        }
        return {k: finite(v) for k, v in data.items()}


def finite(value: object) -> object:
    """None for NaN and infinities, recursively; everything else unchanged."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def positions_json(p: PortfolioRisk) -> list[dict[str, object]]:
    """Each position as a row (``pair: false``), a carry pair's perp leg folded into the pair's one hedged
    row (``pair: true``) with both legs."""
    paired = {row.symbol for row in p.pairs if row.perp is not None}
    rows = [position_dict(r) | {"pair": False} for r in p.positions if r.symbol not in paired]
    return rows + [pair_dict(row) for row in p.pairs]


def pair_dict(row: PairRow) -> dict[str, object]:
    return {
        "pair": True,
        "symbol": row.symbol,
        "spot_symbol": row.spot_symbol,
        "qty": row.qty,
        "perp_leg": None if row.perp is None else position_dict(row.perp) | {"pair": True},
        "spot_leg": {
            "side": "long",
            "qty": row.spot_qty,
            "entry": row.spot_entry,
            "price": row.spot_price,
            "value": row.spot_value,
        },
        "net_delta": row.net_delta,
        "net_exposure": row.net_exposure,
        "basis_pct": row.basis,
        "funding_per_day_usd": row.funding_per_day,
        "liq_distance_pct": row.liq_distance,
    }


def spot_dict(h: SpotHolding) -> dict[str, object]:
    return {"symbol": h.symbol, "asset": h.base, "qty": h.qty, "avg_cost": h.entry, "price": h.price(),
            "value": h.value(), "upnl": h.upnl()}  # fmt: skip


def position_dict(r: PositionRisk) -> dict[str, object]:
    return {
        "symbol": r.symbol,
        "side": r.side,
        "qty": r.qty,
        "entry": r.entry,
        "mark": r.mark,
        "notional": r.notional,
        "upnl": r.upnl,
        "liq_price": r.liq_price,
        "liq_distance_pct": r.liq_distance,
        "liq_distance_sigma": r.liq_distance_sigma,
        "margin_ratio": r.margin_ratio,
        "next_funding_usd": r.next_funding,
        "stop": r.stop,
        "take_profits": [{"price": price, "qty": qty} for price, qty in r.take_profits],
    }


def alert_dict(a: Alert) -> dict[str, object]:
    return {"kind": a.kind, "symbol": a.symbol, "severity": a.severity, "message": a.message}


def breaker_dict(state: BreakerState) -> dict[str, object]:
    return {
        "tripped": state.tripped,
        "since": state.since,
        "until": state.until,
        "reason": state.reason,
        "reset_at": state.reset_at,
    }
