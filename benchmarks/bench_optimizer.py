"""The mean-variance optimiser against PyPortfolioOpt (cvxpy) on the same problems, side by side.

Problems (a deterministic factor-model covariance and expected returns, fully invested: net exposure
= 1, long-only bounds [0, 0.1] at n = 200 and [0, 0.3] at n = 20, PyPortfolioOpt's defaults otherwise):

- ``max_utility`` (PyPortfolioOpt's ``max_quadratic_utility(risk_aversion=2)``);
- ``efficient_risk`` at a target volatility between the least-volatile and the highest-return portfolio;

each solved cold (a new problem, no warm start) by ``perptui.domain.optimize.optimize`` and by building a
new ``pypfopt.EfficientFrontier`` and calling the method (what a user of either does). Runs alternate
between the two so noise hits both; best and median of ``--repeat``. Also: our warm-started re-solve
after nudging mu, and the objective gap to PyPortfolioOpt's answer (the same optimum, to its solver's
tolerance).

PyPortfolioOpt is not a perptui dependency: ``pip install pyportfolioopt`` first.

    python benchmarks/bench_optimizer.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from perptui.domain.optimize import PortfolioProblem, optimize

try:
    from pypfopt import EfficientFrontier
except ImportError:
    sys.exit("PyPortfolioOpt is not installed: pip install pyportfolioopt (it is not a perptui dependency)")


def market(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Yearly mu and a factor-model covariance (3 factors + idiosyncratic) for n assets."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(1.0, 0.4, (n, 3)) * np.array([0.5, 0.25, 0.15])
    cov = loadings @ loadings.T + np.diag(rng.uniform(0.05, 0.4, n) ** 2)
    mu = 0.02 + 0.3 * rng.normal(0.1, 0.25, n)
    return mu, cov


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1e3, out


def case(n: int, objective: str, repeat: int) -> dict[str, float]:
    mu, cov = market(n)
    hi = 0.1 if n >= 100 else 0.3
    base = dict(mu=mu, cov=cov, bounds=(0.0, hi), net_min=1.0, net_max=1.0)
    if objective == "efficient_risk":
        low = optimize(PortfolioProblem(objective="min_variance", **base)).volatility
        top = optimize(PortfolioProblem(objective="max_utility", risk_aversion=1e-3, **base)).volatility
        target = low + 0.4 * (top - low)
        pr = PortfolioProblem(objective="efficient_risk", target_volatility=target, **base)

        def ppo() -> np.ndarray:
            ef = EfficientFrontier(mu, cov, weight_bounds=(0.0, hi))
            ef.efficient_risk(target)
            return np.array(list(ef.clean_weights(rounding=None).values()))
    else:
        pr = PortfolioProblem(objective="max_utility", risk_aversion=2.0, **base)

        def ppo() -> np.ndarray:
            ef = EfficientFrontier(mu, cov, weight_bounds=(0.0, hi))
            ef.max_quadratic_utility(risk_aversion=2.0)
            return np.array(list(ef.clean_weights(rounding=None).values()))

    ppo()
    optimize(pr)  # warm-up: imports, first calls
    ours, theirs, warm, iters = [], [], [], []
    for _ in range(repeat):
        t_ours, res = timed(lambda: optimize(pr))
        t_ppo, w_ppo = timed(ppo)
        ours.append(t_ours)
        theirs.append(t_ppo)
        iters.append(res.iterations)
    res = optimize(pr)
    moved = PortfolioProblem(
        objective=pr.objective, mu=mu * 1.002, cov=cov, bounds=(0.0, hi), net_min=1.0, net_max=1.0,
        risk_aversion=pr.risk_aversion, target_volatility=pr.target_volatility,
    )  # fmt: skip
    for _ in range(repeat):
        t_warm, again = timed(lambda: optimize(moved, warm=res.warm))
        warm.append(t_warm)
    cold_moved = optimize(moved)
    w_ppo = np.asarray(ppo())
    if objective == "efficient_risk":
        ours_value, ppo_value = float(mu @ res.weights), float(mu @ w_ppo)
    else:
        ours_value = res.objective_value
        ppo_value = float(mu @ w_ppo - 0.5 * 2.0 * w_ppo @ cov @ w_ppo)
    return {
        "ours_best": min(ours), "ours_median": statistics.median(ours),
        "ppo_best": min(theirs), "ppo_median": statistics.median(theirs),
        "warm_median": statistics.median(warm), "warm_iters": again.iterations,
        "cold_iters": cold_moved.iterations, "iters": statistics.median(iters),
        "gap": (ours_value - ppo_value) / abs(ppo_value), "kkt": max(res.kkt.primal, res.kkt.dual),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    import pypfopt

    print(f"Python {platform.python_version()}, numpy {np.__version__}, PyPortfolioOpt {pypfopt.__version__}")
    print(f"{'problem':<22} {'ours best/med':>16} {'PyPortfolioOpt best/med':>24} {'ratio (med)':>12} "
          f"{'warm med':>9} {'iters cold/warm':>16} {'obj gap':>9} {'KKT':>8}")  # fmt: skip
    for n, objective in (
        (200, "max_utility"),
        (200, "efficient_risk"),
        (20, "max_utility"),
        (20, "efficient_risk"),
    ):
        r = case(n, objective, args.repeat)
        print(
            f"n={n:<4} {objective:<15} {r['ours_best']:7.2f}/{r['ours_median']:6.2f} ms "
            f"{r['ppo_best']:12.1f}/{r['ppo_median']:6.1f} ms {r['ppo_median'] / r['ours_median']:11.1f}x "
            f"{r['warm_median']:6.2f} ms {r['cold_iters']:>8}/{r['warm_iters']:<7} "
            f"{r['gap']:9.1e} {r['kkt']:8.1e}"
        )
    print("obj gap: (ours - PyPortfolioOpt) / |PyPortfolioOpt| of the objective (positive: ours is better)")


if __name__ == "__main__":
    main()
