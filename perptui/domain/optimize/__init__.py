"""Mean-variance portfolio optimisation, exact and fast, with numpy and scipy only.

    maximise  mu'w - (delta / 2) w'Sigma w - gamma ||w||^2 - c ||w - w_prev||_1
    s.t.      lo_i <= w_i <= hi_i,  sum |w_i| <= G,  N_lo <= sum w_i <= N_hi,  sqrt(w'Sigma w) <= sigma_max

``optimize(PortfolioProblem(...))`` for the objectives max_utility, min_variance, max_sharpe,
efficient_risk and efficient_return; ``efficient_frontier`` for K points. How: ``qp`` (the exact
active-set solution), ``ipm`` (the interior-point fallback), ``objectives`` (volatility caps and Sharpe).
"""

from .objectives import WarmStart, efficient_frontier, optimize
from .problem import (
    DEFAULT_BOUNDS,
    OBJECTIVES,
    FrontierPoint,
    InfeasibleProblem,
    OptimizeError,
    OptimizeResult,
    PortfolioProblem,
)
from .qp import Kkt

__all__ = [
    "DEFAULT_BOUNDS",
    "OBJECTIVES",
    "FrontierPoint",
    "InfeasibleProblem",
    "Kkt",
    "OptimizeError",
    "OptimizeResult",
    "PortfolioProblem",
    "WarmStart",
    "efficient_frontier",
    "optimize",
]
