"""The mean-variance problem as a trader states it, its checks, and the result. Pure.

Weights are exposures as fractions of capital (+ long, - short): gross = sum |w| (leverage), net = sum w.
The utility is PyPortfolioOpt's, plus an L2 penalty and a turnover cost:

    U(w) = mu'w - (delta / 2) w'Sigma w - gamma ||w||^2 - c ||w - w_prev||_1
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from perptui.domain.errors import UsageError

from .qp import _POTRF, Kkt

if TYPE_CHECKING:
    from .objectives import WarmStart

OBJECTIVES = ("max_utility", "min_variance", "max_sharpe", "efficient_risk", "efficient_return")
#: Bounds when none are given: no asset above 100% of capital, long or short.
DEFAULT_BOUNDS = (-1.0, 1.0)
#: Eigenvalues of Sigma down to -this x its largest count as zero (rounding), below that it is not PSD.
PSD_TOLERANCE = 1e-10


class OptimizeError(UsageError):
    """A problem that cannot be solved as stated: bad input or constraints that admit no portfolio."""


class InfeasibleProblem(OptimizeError):
    """No portfolio satisfies the constraints; the message names the conflict."""


@dataclass(frozen=True, slots=True)
class PortfolioProblem:
    """What to optimise. ``bounds`` is one (lo, hi) for every asset or one pair per asset."""

    mu: np.ndarray
    cov: np.ndarray
    objective: str = "max_utility"
    risk_aversion: float = 1.0
    target_volatility: float | None = None
    target_return: float | None = None
    risk_free_rate: float = 0.0
    bounds: tuple[float, float] | np.ndarray = DEFAULT_BOUNDS
    gross_max: float | None = None
    net_min: float | None = None
    net_max: float | None = None
    vol_max: float | None = None
    l2_gamma: float = 0.0
    prev_weights: np.ndarray | None = None
    turnover_cost: float = 0.0
    assets: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return int(np.asarray(self.mu).size)

    def lower_upper(self) -> tuple[np.ndarray, np.ndarray]:
        b = np.asarray(self.bounds, dtype=float)
        if b.shape == (2,):
            return np.full(self.n, b[0]), np.full(self.n, b[1])
        return b[:, 0].copy(), b[:, 1].copy()

    def name(self, i: int) -> str:
        return self.assets[i] if i < len(self.assets) else f"asset {i}"


def _finite(name: str, value: float | None, *, positive: bool = False, nonneg: bool = False) -> None:
    if value is None:
        return
    if not math.isfinite(value):
        raise OptimizeError(f"{name} must be a finite number, not {value!r}")
    if positive and value <= 0:
        raise OptimizeError(f"{name} must be above 0, not {value:g}")
    if nonneg and value < 0:
        raise OptimizeError(f"{name} must be 0 or more, not {value:g}")


def validate(pr: PortfolioProblem) -> np.ndarray | None:
    """Shapes, finiteness, a symmetric PSD covariance, known objective and the fields it needs. Returns the
    upper Cholesky factor of cov when it is positive definite (the solver reuses it), else None."""
    mu, cov, n = np.asarray(pr.mu, dtype=float), np.asarray(pr.cov, dtype=float), pr.n
    if mu.ndim != 1 or n == 0:
        raise OptimizeError("mu must be a non-empty list of numbers, one per asset")
    if pr.assets and len(pr.assets) != n:
        raise OptimizeError(f"mu has {n} numbers but there are {len(pr.assets)} assets")
    if not np.all(np.isfinite(mu)):
        raise OptimizeError(f"mu holds NaN or infinity ({pr.name(int(np.argmin(np.isfinite(mu))))})")
    if cov.shape != (n, n):
        raise OptimizeError(f"cov must be {n} x {n} (one row and column per asset), not {cov.shape}")
    if not np.all(np.isfinite(cov)):
        raise OptimizeError("cov holds NaN or infinity")
    scale = max(float(np.abs(cov).max()), 1e-300)
    asym = np.abs(cov - cov.T)
    if (asym > 1e-12 * scale + 1e-9 * np.abs(cov.T)).any():  # np.allclose's test, without its overhead
        i, j = np.unravel_index(int(np.argmax(asym)), cov.shape)
        raise OptimizeError(
            f"cov must be symmetric: cov[{i}][{j}] = {cov[i, j]:g} but cov[{j}][{i}] = {cov[j, i]:g}"
        )
    chol, info = _POTRF(cov, lower=False, clean=False, overwrite_a=False)
    if info != 0:  # not positive definite: PSD to rounding is still accepted
        low = float(np.linalg.eigvalsh(0.5 * (cov + cov.T))[0])
        if low < -PSD_TOLERANCE * scale:
            raise OptimizeError(f"cov must be positive semi-definite (its smallest eigenvalue is {low:.3g})")
        chol = None
    if pr.objective not in OBJECTIVES:
        raise OptimizeError(f"unknown objective {pr.objective!r}: use one of {', '.join(OBJECTIVES)}")
    _finite("risk_aversion", pr.risk_aversion, positive=pr.objective == "max_utility", nonneg=True)
    _finite("target_volatility", pr.target_volatility, positive=True)
    _finite("target_return", pr.target_return)
    _finite("risk_free_rate", pr.risk_free_rate)
    _finite("gross_max", pr.gross_max, nonneg=True)
    _finite("net_min", pr.net_min)
    _finite("net_max", pr.net_max)
    _finite("vol_max", pr.vol_max, positive=True)
    _finite("l2_gamma", pr.l2_gamma, nonneg=True)
    _finite("turnover_cost", pr.turnover_cost, nonneg=True)
    if pr.objective == "efficient_risk" and pr.target_volatility is None:
        raise OptimizeError(
            "objective efficient_risk needs target_volatility (a yearly volatility, 0.2 = 20%)"
        )
    if pr.objective == "efficient_return" and pr.target_return is None:
        raise OptimizeError("objective efficient_return needs target_return (a yearly return, 0.1 = 10%)")
    b = np.asarray(pr.bounds, dtype=float)
    if b.shape not in ((2,), (n, 2)):
        raise OptimizeError(
            f"bounds must be one [lo, hi] pair or {n} pairs (one per asset), not shape {b.shape}"
        )
    if not np.all(np.isfinite(b)):
        raise OptimizeError("bounds must be finite numbers (use e.g. [-1, 1])")
    lo, hi = pr.lower_upper()
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        k = int(bad[0])
        raise InfeasibleProblem(f"bounds of {pr.name(k)}: lower {lo[k]:g} exceeds upper {hi[k]:g}")
    if pr.prev_weights is not None:
        p = np.asarray(pr.prev_weights, dtype=float)
        if p.shape != (n,):
            raise OptimizeError(f"prev_weights must have {n} numbers (one per asset), not {p.size}")
        if not np.all(np.isfinite(p)):
            raise OptimizeError("prev_weights holds NaN or infinity")
    return chol


@dataclass(frozen=True, slots=True)
class FrontierPoint:
    expected_return: float
    volatility: float
    sharpe: float | None
    weights: np.ndarray

    def as_dict(self, assets: tuple[str, ...]) -> dict[str, object]:
        """The JSON shape (``perptui optimize``'s frontier, ``perptui allocate``'s): weights by asset."""
        return {
            "expected_return": self.expected_return,
            "volatility": self.volatility,
            "sharpe": self.sharpe,
            "weights": {a: float(w) + 0.0 for a, w in zip(assets, self.weights, strict=True)},
        }


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    """The optimal weights and their figures (yearly fractions). ``objective_value`` is what the objective
    optimises: the utility U(w) for max_utility, w'Sigma w + gamma ||w||^2 + c ||w - w_prev||_1 for
    min_variance and efficient_return, mu'w - gamma ||w||^2 - c ||w - w_prev||_1 for efficient_risk, the
    Sharpe ratio of that net return for max_sharpe. ``status`` is ``optimal``, ``cash`` (nothing beats the
    risk-free rate: all-zero weights, ``message`` says why) or ``inaccurate`` (best effort; see ``kkt``).
    ``warm`` feeds the next solve of a similar problem."""

    objective: str
    weights: np.ndarray
    expected_return: float
    volatility: float
    sharpe: float | None
    objective_value: float
    status: str
    message: str
    solve_ms: float
    iterations: int
    kkt: Kkt
    warm: WarmStart | None = field(default=None, repr=False, compare=False)

    def weights_by_asset(self, assets: tuple[str, ...]) -> dict[str, float]:
        return {a: float(w) + 0.0 for a, w in zip(assets, self.weights, strict=True)}  # no -0.0
