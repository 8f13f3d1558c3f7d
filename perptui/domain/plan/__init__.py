"""The hybrid allocation plan (issue 7, item 3): a market-neutral funding base (spot + opposite perp at
equal notional on the best net carries) and a directional trend layer (moving-average crossover,
Donchian breakout, time-series momentum) sized by the mean-variance optimiser within a leverage cap,
per-asset caps and a volatility target, scaled down by a volatility regime filter; target legs
rounded to the markets' steps and the trades from the current positions. Pure (numpy, scipy).

``build_plan(PlanInputs(...), PlanConfig(capital=...), current, warm) -> HybridPlan``.
"""

from .config import CurrentPosition, PlanConfig, PlanInputs
from .legs import PlanLeg, PlanTrade, risk_shares
from .plan import HybridPlan, build_plan
from .regime import RegimeState, regime, regime_scale
from .signals import Signals, donchian, ma_crossover, momentum, signals

__all__ = [
    "CurrentPosition",
    "HybridPlan",
    "PlanConfig",
    "PlanInputs",
    "PlanLeg",
    "PlanTrade",
    "RegimeState",
    "Signals",
    "build_plan",
    "donchian",
    "ma_crossover",
    "momentum",
    "regime",
    "regime_scale",
    "risk_shares",
    "signals",
]
