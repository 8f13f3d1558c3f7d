"""The optimiser's behaviour beyond matching cvxpy: warm starts, cash when nothing beats the risk-free
rate, infeasible constraints named in the message, bad input, the frontier, the interior-point path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from perptui.domain.optimize import (
    InfeasibleProblem,
    OptimizeError,
    PortfolioProblem,
    efficient_frontier,
    optimize,
)
from perptui.domain.optimize.core import solve_core
from perptui.domain.optimize.ipm import interior_point
from perptui.domain.optimize.objectives import _Run
from perptui.domain.optimize.qp import Workspace, initial_set, kkt

from .test_optimize_reference import random_problem


def market(n: int = 30, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.02, (4 * n, n)) + rng.normal(0, 0.02, (4 * n, 1))
    return rng.normal(0.05, 0.3, n), np.cov(x.T) * 365 + np.eye(n) * 0.01


@pytest.mark.parametrize(
    ("objective", "extra"),
    [("max_utility", {"risk_aversion": 2.0}), ("efficient_risk", {"target_volatility": 0.12}),
     ("min_variance", {"net_min": 1.0, "net_max": 1.0})],
)  # fmt: skip
def test_warm_start_gives_the_same_answer_in_fewer_iterations(objective: str, extra: dict) -> None:
    mu, cov = market(60)
    pr = PortfolioProblem(mu=mu, cov=cov, objective=objective, bounds=(-0.2, 0.3), gross_max=2.0, **extra)
    first = optimize(pr)
    moved = dataclasses.replace(pr, mu=mu * 1.001 + 0.0005)
    cold, warm = optimize(moved), optimize(moved, warm=first.warm)
    np.testing.assert_allclose(warm.weights, cold.weights, atol=1e-10)
    assert warm.objective_value == pytest.approx(cold.objective_value, rel=1e-12)
    assert warm.iterations < cold.iterations


def test_warm_start_survives_a_different_problem() -> None:
    mu, cov = market(10)
    other = optimize(PortfolioProblem(mu=mu[:5], cov=cov[:5, :5]))
    res = optimize(PortfolioProblem(mu=mu, cov=cov, gross_max=1.0), warm=other.warm)
    assert res.status == "optimal"
    assert res.weights_by_asset(tuple("abcdefghij")) == optimize(
        PortfolioProblem(mu=mu, cov=cov, gross_max=1.0)
    ).weights_by_asset(tuple("abcdefghij"))


def test_max_sharpe_is_cash_when_every_expected_return_is_negative() -> None:
    mu, cov = market(8)
    pr = PortfolioProblem(mu=-np.abs(mu) - 0.01, cov=cov, objective="max_sharpe", bounds=(0.0, 0.5))
    res = optimize(pr)
    assert res.status == "cash"
    assert np.all(res.weights == 0) and res.volatility == 0 and res.sharpe is None
    assert "risk-free rate" in res.message and "cash" in res.message
    # below the risk-free rate counts the same
    above_zero = dataclasses.replace(
        pr, mu=np.full(8, 0.02), risk_free_rate=0.05, bounds=(0.0, 1.0), net_max=1.0
    )
    assert optimize(above_zero).status == "cash"
    # ...unless shorting lets the negative returns earn
    shortable = optimize(dataclasses.replace(pr, bounds=(-0.5, 0.5)))
    assert shortable.status == "optimal" and shortable.sharpe > 0 and shortable.weights.sum() < 0


def test_cash_excluded_by_the_constraints_is_infeasible() -> None:
    mu, cov = market(4)
    pr = PortfolioProblem(mu=-np.abs(mu), cov=cov, objective="max_sharpe", bounds=(0, 1), net_min=0.5)
    with pytest.raises(InfeasibleProblem, match="exclude cash"):
        optimize(pr)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"net_min": 0.5, "gross_max": 0.3}, "net_min 0.5 exceeds gross_max 0.3"),
        ({"net_max": -0.5, "gross_max": 0.3}, "net_max -0.5 is below -gross_max -0.3"),
        ({"bounds": (0.3, 1.0), "net_max": 1.0}, "sum of lower bounds 1.2 exceeds net_max 1"),
        ({"bounds": (0.0, 0.1), "net_min": 0.5}, "sum of upper bounds 0.4 is below net_min 0.5"),
        ({"net_min": 0.6, "net_max": 0.2}, "net_min 0.6 exceeds net_max 0.2"),
        ({"bounds": (0.2, 1.0), "gross_max": 0.5}, "force a gross exposure of at least 0.8"),
        ({"bounds": (0.1, 1.0), "gross_max": 0.5, "net_min": 0.7},
         "net_min 0.7 needs a gross exposure of at least 0.7"),
        ({"bounds": [(0.5, 0.2), (0, 1), (0, 1), (0, 1)]}, "bounds of asset 0: lower 0.5 exceeds upper 0.2"),
        ({"objective": "efficient_return", "target_return": 0.9, "bounds": (0, 0.25), "net_max": 1.0},
         "target_return 0.9 is above the highest achievable"),
        ({"objective": "efficient_risk", "target_volatility": 0.05, "net_min": 1, "net_max": 1},
         "target_volatility 0.05 is below the lowest achievable volatility"),
        ({"objective": "max_utility", "vol_max": 0.05, "net_min": 1, "net_max": 1}, "vol_max 0.05 is below"),
        ({"objective": "min_variance", "vol_max": 0.05, "net_min": 1, "net_max": 1}, "vol_max 0.05 is below"),
    ],
)  # fmt: skip
def test_infeasible_constraints_name_the_conflict(fields: dict, message: str) -> None:
    mu, cov = np.array([0.1, 0.2, 0.15, 0.05]), np.diag([0.2, 0.3, 0.25, 0.1])
    with pytest.raises(InfeasibleProblem, match=message.replace("(", r"\(")):
        optimize(PortfolioProblem(mu=mu, cov=cov, **fields))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"objective": "max_return"}, "unknown objective 'max_return': use one of max_utility"),
        ({"cov": np.array([[1.0, 0.5], [0.2, 1.0]])}, "cov must be symmetric"),
        ({"cov": np.array([[1.0, 2.0], [2.0, 1.0]])}, "positive semi-definite"),
        ({"cov": np.eye(3)}, "cov must be 2 x 2"),
        ({"mu": np.array([0.1, np.nan])}, "mu holds NaN"),
        ({"objective": "efficient_risk"}, "needs target_volatility"),
        ({"objective": "efficient_return"}, "needs target_return"),
        ({"gross_max": -1.0}, "gross_max must be 0 or more"),
        ({"bounds": (-np.inf, 1.0)}, "bounds must be finite"),
        ({"prev_weights": np.zeros(3)}, "prev_weights must have 2 numbers"),
        ({"risk_aversion": 0.0}, "risk_aversion must be above 0"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_field(fields: dict, message: str) -> None:
    base = {"mu": np.array([0.1, 0.2]), "cov": np.diag([0.1, 0.2])}
    with pytest.raises(OptimizeError, match=message):
        optimize(PortfolioProblem(**{**base, **fields}))


def test_singular_psd_covariance_is_accepted() -> None:
    v = np.array([0.3, 0.2, 0.1])
    cov = np.outer(v, v)  # rank one
    res = optimize(PortfolioProblem(mu=np.array([0.1, 0.05, 0.02]), cov=cov, net_min=1.0, net_max=1.0,
                                    bounds=(0.0, 1.0), objective="min_variance"))  # fmt: skip
    assert res.volatility == pytest.approx(0.1, rel=1e-9)  # all in the least volatile asset


def test_frontier_runs_from_least_volatile_to_highest_return() -> None:
    mu, cov = market(12)
    pr = PortfolioProblem(mu=mu, cov=cov, bounds=(0.0, 0.4), net_min=1.0, net_max=1.0)
    points = efficient_frontier(pr, 8)
    vols = [p.volatility for p in points]
    rets = [p.expected_return for p in points]
    assert vols == sorted(vols) and rets == sorted(rets)
    assert vols[0] == pytest.approx(optimize(dataclasses.replace(pr, objective="min_variance")).volatility)
    assert np.allclose(np.diff(vols), vols[1] - vols[0], rtol=1e-8)
    for p in points[1:-1]:  # each is efficient_risk at its volatility
        again = optimize(dataclasses.replace(pr, objective="efficient_risk", target_volatility=p.volatility))
        assert again.expected_return == pytest.approx(p.expected_return, rel=1e-9)
    best = optimize(dataclasses.replace(pr, objective="max_sharpe"))
    assert max(p.sharpe for p in points) <= best.sharpe + 1e-9


def test_max_sharpe_ties_take_the_highest_return() -> None:
    """rf = 0 and no budget: every scale of the best mix has the same Sharpe; the one levered until a
    limit binds is returned."""
    mu, cov = np.array([0.2, 0.1, 0.15]), np.diag([0.1, 0.05, 0.2])
    res = optimize(PortfolioProblem(mu=mu, cov=cov, objective="max_sharpe", bounds=(-1.0, 0.5)))
    direction = np.linalg.solve(cov, mu)
    assert res.sharpe == pytest.approx(float(np.sqrt(mu @ direction)), rel=1e-10)
    assert np.max(res.weights) == pytest.approx(0.5, abs=1e-8)
    # the Sharpe ratio is exact; where the tie ends is found to ~1e-6 in the weights (it is flat there)
    unit = res.weights / np.linalg.norm(res.weights)
    np.testing.assert_allclose(unit, direction / np.linalg.norm(direction), atol=1e-5)


@pytest.mark.parametrize("mix", ["gross cap", "L2 and turnover", "everything", "fully invested long-only"])
def test_interior_point_and_its_crossover_reach_the_active_set_answer(mix: str) -> None:
    from .test_optimize_reference import MIXES

    pr = random_problem(20, 5, "max_utility", MIXES[mix])
    run = _Run(pr, np.asarray(pr.mu), np.asarray(pr.cov))
    qp = run.core(pr.risk_aversion, utility=True)
    ws = Workspace.of(qp)
    ipm = interior_point(qp, ws.H)
    exact = solve_core(qp)
    assert exact.converged
    assert ipm.converged
    np.testing.assert_allclose(ipm.w, exact.w, atol=1e-5)
    assert kkt(ws, ipm.w, ipm.lam, ipm.pi).primal < 1e-8
    # accurate, not exact: a weight 1e-10 off a kink fails the kink's subgradient test; crossover fixes it
    assert qp.objective(exact.w) <= qp.objective(ipm.w) <= qp.objective(exact.w) + 1e-8
    polished = solve_core(qp, initial_set(ws, ipm.w, ipm.lam, ipm.pi), ws)
    assert polished.converged and polished.iterations <= 3
    np.testing.assert_allclose(polished.w, exact.w, atol=1e-12)
