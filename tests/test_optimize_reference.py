"""The optimiser against cvxpy (Clarabel, tight tolerances) on the same problems: every objective with
every constraint mix, on random problems and on a real-data problem (Binance daily returns and funding).
The objective must agree to 1e-6 relative (ours is exact: the gaps seen are cvxpy's tolerance), the
constraints must hold and the KKT residuals be tiny."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

from perptui.domain.estimators import drift, ledoit_wolf, perp_expected_returns
from perptui.domain.optimize import PortfolioProblem, optimize

from .optimize_data import daily_returns, funding_apr
from .optimize_reference import reference

OBJECTIVES = {
    "max_utility": {"risk_aversion": 3.0},
    "min_variance": {},
    "max_sharpe": {"risk_free_rate": 0.01},
    "efficient_risk": {"target_volatility": 0.55},
    "efficient_return": {"target_return": 0.1},
}
MIXES = {
    "bounds only": {},
    "gross cap": {"gross_max": 1.2},
    "net range": {"net_min": 0.2, "net_max": 0.6},
    "fully invested long-only": {"net_min": 1.0, "net_max": 1.0, "bounds": (0.0, 0.4)},
    "market neutral": {"net_min": 0.0, "net_max": 0.0, "gross_max": 2.0},
    "volatility cap": {"vol_max": 0.35, "gross_max": 2.0},
    "L2 and turnover": {"l2_gamma": 0.05, "turnover_cost": 0.01, "prev": True},
    "everything": {"gross_max": 1.5, "net_min": -0.2, "net_max": 0.8, "vol_max": 0.45, "l2_gamma": 0.02,
                   "turnover_cost": 0.005, "prev": True, "bounds": "per asset"},
}  # fmt: skip


def random_problem(n: int, seed: int, objective: str, mix: dict) -> PortfolioProblem:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.02, (3 * n, n)) + rng.normal(0, 0.02, (3 * n, 1))
    cov = np.cov(x.T) * 365 + np.eye(n) * 0.01
    mu = rng.normal(0.05, 0.3, n)
    kw = {k: v for k, v in mix.items() if k != "prev"}
    if mix.get("prev"):
        kw["prev_weights"] = rng.normal(0, 0.1, n)
    if mix.get("bounds") == "per asset":
        lo = -rng.uniform(0.1, 0.6, n)
        kw["bounds"] = np.column_stack([lo, rng.uniform(0.2, 0.7, n)])
    return PortfolioProblem(mu=mu, cov=cov, objective=objective, **OBJECTIVES[objective], **kw)


def check_against_cvxpy(pr: PortfolioProblem) -> None:
    res = optimize(pr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cvxpy's "may be inaccurate" at 1e-11 tolerances
        value, _ = reference(pr)
    assert res.status == "optimal", res.message
    assert res.objective_value == pytest.approx(value, rel=1e-6, abs=1e-9)
    w = res.weights
    lo, hi = pr.lower_upper()
    assert np.all(w >= lo - 1e-9) and np.all(w <= hi + 1e-9)
    if pr.gross_max is not None:
        assert np.abs(w).sum() <= pr.gross_max + 1e-9
    if pr.net_min is not None:
        assert w.sum() >= pr.net_min - 1e-9
    if pr.net_max is not None:
        assert w.sum() <= pr.net_max + 1e-9
    cap = min(c for c in (pr.vol_max, pr.target_volatility, np.inf) if c is not None)
    assert res.volatility <= cap * (1 + 1e-9)
    if pr.objective == "efficient_return":
        assert res.expected_return >= pr.target_return - 1e-9
    assert res.kkt.primal < 1e-9 and res.kkt.dual < 1e-8 and res.kkt.complementarity < 1e-8


@pytest.mark.parametrize("mix", MIXES)
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_random_problems_match_cvxpy(objective: str, mix: str) -> None:
    for n, seed in ((6, 1), (25, 2)):
        check_against_cvxpy(random_problem(n, seed, objective, MIXES[mix]))


@pytest.fixture(scope="module")
def real_problem(request: pytest.FixtureRequest) -> PortfolioProblem:
    from .conftest import BINANCE_DATA

    if not BINANCE_DATA.is_dir():
        pytest.skip(f"real Binance data not present at {BINANCE_DATA} (only in the developers' checkout)")
    data: Path = BINANCE_DATA
    r = daily_returns(data).to_numpy()
    d, se = drift(r, "1d")
    mu = perp_expected_returns(funding_apr(data), d, std_errors=se).mu
    if np.allclose(mu, 0):  # fully shrunk: keep a signal so that the problem is not trivial
        mu = perp_expected_returns(funding_apr(data), d, shrinkage=0.8).mu
    return PortfolioProblem(mu=mu, cov=ledoit_wolf(r, "1d").cov, bounds=(-0.3, 0.5))


REAL_CASES = {
    "max_utility": {"objective": "max_utility", "risk_aversion": 2.0, "gross_max": 1.5},
    "max_utility capped": {"objective": "max_utility", "risk_aversion": 0.5, "vol_max": 0.3, "net_min": 0.0},
    "min_variance": {"objective": "min_variance", "net_min": 1.0, "net_max": 1.0, "bounds": (0.0, 0.5)},
    "max_sharpe": {"objective": "max_sharpe", "gross_max": 2.0, "turnover_cost": 0.002,
                   "prev_weights": np.full(9, 0.1)},
    "efficient_risk": {"objective": "efficient_risk", "target_volatility": 0.25, "gross_max": 1.5},
    "efficient_return": {"objective": "efficient_return", "target_return": 0.01, "net_min": 0.0,
                         "net_max": 0.0},
}  # fmt: skip


@pytest.mark.parametrize("case", REAL_CASES)
def test_real_binance_problem_matches_cvxpy(real_problem: PortfolioProblem, case: str) -> None:
    check_against_cvxpy(dataclasses.replace(real_problem, **REAL_CASES[case]))
