"""The hybrid plan: a neutral funding base plus a directional trend layer on one capital. Pure.

``build_plan(inputs, config, current, warm)``: capital x ``neutral_pct`` % to the neutral base
(``neutral``), the rest to the directional layer (``directional``); target legs rounded to the markets'
steps; the whole plan's figures from the rounded legs; the trades from ``current`` (``trades``).

Whole-plan figures, yearly, as fractions of the capital: expected return = the neutral pairs' net carry
x their notional + the directional positions' expected returns x their signed notional, over the
capital; variance = the funding stream's (neutral) + the price moves' (directional), taken as
independent; Sharpe = return / volatility (no risk-free rate; None at zero volatility). Funding per
day: the mean funding over the lookback that every perp leg earns (+) or pays (-), per day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perptui.domain.optimize import FrontierPoint, OptimizeResult, WarmStart

from .config import CurrentPosition, PlanConfig, PlanInputs
from .directional import DirectionalLayer, directional_layer, funding_apr
from .legs import PlanLeg, PlanTrade, risk_shares
from .neutral import NeutralLayer, neutral_layer
from .regime import RegimeState
from .rounding import qty_step
from .trades import trades_to

#: The keys of ``HybridPlan.as_dict()`` (``perptui allocate --json``), in order.
PLAN_KEYS: tuple[str, ...] = (
    "neutral", "directional", "expected_return", "volatility", "sharpe", "funding_per_day", "regime",
    "trades", "frontier", "chosen", "optimizer", "notes", "config",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class HybridPlan:
    config: PlanConfig
    neutral: tuple[PlanLeg, ...]
    directional: tuple[PlanLeg, ...]
    expected_return: float | None
    volatility: float | None
    sharpe: float | None
    funding_per_day: float
    regime: RegimeState
    frontier: tuple[FrontierPoint, ...]
    """The directional layer's efficient frontier (weights relative to the layer's capital)."""
    chosen: FrontierPoint | None
    """The directional target (after the regime scale, before rounding) as a point beside the frontier."""
    optimizer: OptimizeResult | None
    trades: tuple[PlanTrade, ...]
    warm: WarmStart | None
    notes: tuple[str, ...]

    assets: tuple[str, ...] = ()
    """The directional layer's assets, in the order of the frontier's and the optimiser's weights."""
    qty_steps: dict[str, float | None] = dataclasses.field(default_factory=dict)
    """The amount step of each leg's and trade's market (None: unknown), to show quantities at it."""

    @property
    def legs(self) -> tuple[PlanLeg, ...]:
        return self.neutral + self.directional

    def as_dict(self) -> dict[str, object]:
        """The ``perptui allocate --json`` object."""
        return {
            "neutral": [leg.as_dict() for leg in self.neutral],
            "directional": [leg.as_dict() for leg in self.directional],
            "expected_return": self.expected_return,
            "volatility": self.volatility,
            "sharpe": self.sharpe,
            "funding_per_day": self.funding_per_day,
            "regime": self.regime.as_dict(),
            "trades": [t.as_dict() for t in self.trades],
            "frontier": [p.as_dict(self.assets) for p in self.frontier],
            "chosen": self.chosen.as_dict(self.assets) if self.chosen is not None else None,
            "optimizer": _solve_summary(self.optimizer),
            "notes": list(self.notes),
            "config": dataclasses.asdict(self.config),
        }


def _solve_summary(opt: OptimizeResult | None) -> dict[str, object] | None:
    if opt is None:
        return None
    return {
        "objective": opt.objective,
        "status": opt.status,
        "message": opt.message,
        "solve_ms": opt.solve_ms,
    }


def build_plan(
    inputs: PlanInputs,
    config: PlanConfig,
    current: Sequence[CurrentPosition] = (),
    warm: WarmStart | None = None,
) -> HybridPlan:
    """The plan for ``config.capital`` from ``inputs``; ``warm`` (a previous plan's ``warm``) starts the
    directional solve from its active set."""
    total = config.capital
    neutral_capital = total * config.neutral_pct / 100.0
    n = neutral_layer(inputs, config, neutral_capital, total)
    d = directional_layer(inputs, config, total - neutral_capital, total, warm)
    neutral = _neutral_shares(n, total)
    directional, d_ret, d_var = _directional_figures(d, total)
    n_ret, n_var = _neutral_figures(n, neutral, total)
    ret, var = n_ret + d_ret, n_var + d_var
    vol = float(np.sqrt(max(var, 0.0)))
    legs = neutral + directional
    trades = trades_to(legs, current, inputs.marks, inputs.markets)
    shown = {x.symbol for x in legs} | {t.symbol for t in trades}
    return HybridPlan(
        config=config,
        neutral=neutral,
        directional=directional,
        expected_return=ret,
        volatility=vol,
        sharpe=ret / vol if vol > 0 else None,
        funding_per_day=_funding_per_day(legs, inputs, config),
        regime=d.regime,
        frontier=d.frontier,
        chosen=d.chosen,
        optimizer=d.optimizer,
        trades=trades,
        warm=d.optimizer.warm if d.optimizer is not None else warm,
        notes=tuple(inputs.notes) + n.notes + d.notes,
        assets=d.assets,
        qty_steps={s: qty_step(m) for s, m in inputs.markets.items() if s in shown},
    )


def _pair_exposure(n: NeutralLayer, legs: tuple[PlanLeg, ...], total: float) -> np.ndarray:
    """Each pick's perp notional over the capital (0 when its legs were dropped)."""
    held = {leg.symbol: leg.notional for leg in legs if leg.leg == "perp"}
    return np.array([held.get(p.symbol, 0.0) / total for p in n.picks])


def _neutral_shares(n: NeutralLayer, total: float) -> tuple[PlanLeg, ...]:
    """The perp legs carry the funding stream's risk shares; the hedged spot legs none."""
    if n.cov is None or not n.legs:
        return n.legs
    shares = risk_shares(_pair_exposure(n, n.legs, total), n.cov)
    by_symbol = {p.symbol: (float(shares[i]) if shares is not None else None) for i, p in enumerate(n.picks)}
    return tuple(
        dataclasses.replace(leg, risk_contribution=by_symbol.get(leg.symbol)) if leg.leg == "perp" else leg
        for leg in n.legs
    )


def _neutral_figures(n: NeutralLayer, legs: tuple[PlanLeg, ...], total: float) -> tuple[float, float]:
    if n.cov is None or not legs:
        return 0.0, 0.0
    v = _pair_exposure(n, legs, total)
    mu = np.array([p.carry.net_apr for p in n.picks])
    return float(mu @ v), float(v @ n.cov @ v)


def _directional_figures(d: DirectionalLayer, total: float) -> tuple[tuple[PlanLeg, ...], float, float]:
    """The legs with their risk shares, and the layer's yearly return and variance on the capital."""
    if d.cov is None or not d.legs:
        return d.legs, 0.0, 0.0
    index = {s: i for i, s in enumerate(d.assets)}
    v = np.zeros(len(d.assets))
    for leg in d.legs:
        v[index[leg.symbol]] = leg.weight
    shares = risk_shares(v, d.cov)
    legs = tuple(
        dataclasses.replace(
            leg, risk_contribution=float(shares[index[leg.symbol]]) if shares is not None else None
        )
        for leg in d.legs
    )
    return legs, float(d.mu @ v), float(v @ d.cov @ v)


def _funding_per_day(legs: tuple[PlanLeg, ...], inputs: PlanInputs, config: PlanConfig) -> float:
    """Funding the perp legs earn per day at the lookback's mean rate: a short earns positive funding."""
    total = 0.0
    for leg in legs:
        if leg.leg != "perp":
            continue
        apr = funding_apr(inputs, config, leg.symbol)
        if apr is None:
            continue
        total += (-1.0 if leg.side == "long" else 1.0) * leg.notional * apr / 365.0
    return total
