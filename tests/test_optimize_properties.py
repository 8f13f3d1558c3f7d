"""Properties of the optimiser on random feasible problems: the returned weights always satisfy every
constraint, the KKT residuals are tiny, and no feasible point we can name does better."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.optimize import InfeasibleProblem, PortfolioProblem, optimize

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=60)


@st.composite
def problems(draw: st.DrawFn) -> PortfolioProblem:
    n = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.03, (n + draw(st.integers(0, 30)), n))
    cov = x.T @ x / max(x.shape[0], 1) * 365 + np.eye(n) * draw(st.sampled_from([0.0, 1e-4, 0.01]))
    lo = -rng.uniform(0, 1, n) * draw(st.sampled_from([0.0, 1.0]))
    hi = rng.uniform(0.05, 1, n)
    kind = draw(st.sampled_from(["max_utility", "min_variance", "max_sharpe", "efficient_risk"]))
    net_min = draw(st.sampled_from([None, 0.0, 0.3]))
    net_max = None if net_min is None else net_min + draw(st.sampled_from([0.0, 0.5]))
    return PortfolioProblem(
        mu=rng.normal(0.05, 0.4, n), cov=cov, objective=kind, bounds=np.column_stack([lo, hi]),
        risk_aversion=draw(st.sampled_from([0.5, 2.0, 10.0])),
        target_volatility=draw(st.sampled_from([0.2, 0.6])),
        gross_max=draw(st.sampled_from([None, 0.5, 1.5])), net_min=net_min, net_max=net_max,
        vol_max=draw(st.sampled_from([None, 0.3])) if kind != "efficient_risk" else None,
        l2_gamma=draw(st.sampled_from([0.0, 0.05])), turnover_cost=draw(st.sampled_from([0.0, 0.01])),
        prev_weights=rng.normal(0, 0.2, n), risk_free_rate=draw(st.sampled_from([0.0, 0.02])),
    )  # fmt: skip


@PROPERTY
@given(problems())
def test_returned_weights_satisfy_every_constraint(pr: PortfolioProblem) -> None:
    try:
        res = optimize(pr)
    except InfeasibleProblem as exc:
        assert str(exc)  # a named conflict, never a crash
        return
    w, tol = res.weights, 1e-9
    lo, hi = pr.lower_upper()
    assert w.shape == (pr.n,) and np.all(np.isfinite(w))
    assert np.all(w >= lo - tol) and np.all(w <= hi + tol)
    if pr.gross_max is not None:
        assert np.abs(w).sum() <= pr.gross_max + tol
    if pr.net_min is not None:
        assert pr.net_min - tol <= w.sum() <= pr.net_max + tol
    for cap in (pr.vol_max, pr.target_volatility if pr.objective == "efficient_risk" else None):
        if cap is not None:
            assert res.volatility <= cap * (1 + 1e-9)
    if res.status == "cash":
        assert pr.objective == "max_sharpe" and np.all(w == 0)
        return
    assert res.status == "optimal"
    assert res.kkt.primal < 1e-9 and res.kkt.dual < 1e-7


@PROPERTY
@given(problems())
def test_max_utility_beats_every_feasible_point_we_can_name(pr: PortfolioProblem) -> None:
    """The utility at the answer is at least that of cash and of the answers to the other objectives."""
    import contextlib
    import dataclasses

    pr = dataclasses.replace(pr, objective="max_utility")
    try:
        res = optimize(pr)
    except InfeasibleProblem:
        return
    others = []
    for kind in ("min_variance", "max_sharpe"):
        with contextlib.suppress(InfeasibleProblem):
            others.append(optimize(dataclasses.replace(pr, objective=kind)).weights)
    p = pr.prev_weights

    def utility(w: np.ndarray) -> float:
        return float(pr.mu @ w - 0.5 * pr.risk_aversion * w @ pr.cov @ w - pr.l2_gamma * w @ w
                     - pr.turnover_cost * np.abs(w - p).sum())  # fmt: skip

    assert (
        res.objective_value == np.float64(utility(res.weights))
        or abs(res.objective_value - utility(res.weights)) < 1e-12
    )
    for w in others:
        if pr.vol_max is None or np.sqrt(w @ pr.cov @ w) <= pr.vol_max:
            assert utility(w) <= res.objective_value + 1e-10
