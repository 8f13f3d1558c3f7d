"""The optimiser's problems written directly for cvxpy (a conic solver, Clarabel): the reference the
tests hold ``perptui.domain.optimize`` to. Test-only: cvxpy is in the ``test`` extra."""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from perptui.domain.optimize import PortfolioProblem

TIGHT = {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11, "max_iter": 500}


def _constraints(pr: PortfolioProblem, w: cp.Variable, t: cp.Expression | float = 1.0) -> list:
    lo, hi = pr.lower_upper()
    out = [w >= lo * t, w <= hi * t]
    if pr.gross_max is not None:
        out.append(cp.norm1(w) <= pr.gross_max * t)
    if pr.net_min is not None:
        out.append(cp.sum(w) >= pr.net_min * t)
    if pr.net_max is not None:
        out.append(cp.sum(w) <= pr.net_max * t)
    return out


def reference(pr: PortfolioProblem) -> tuple[float, np.ndarray]:
    """(the objective value as ``OptimizeResult.objective_value`` defines it, the weights) by cvxpy."""
    n = pr.n
    mu, cov = np.asarray(pr.mu, float), np.asarray(pr.cov, float)
    sig = cp.psd_wrap(cov)
    p = np.zeros(n) if pr.prev_weights is None else np.asarray(pr.prev_weights, float)
    w = cp.Variable(n)
    var = cp.quad_form(w, sig)
    pen = pr.l2_gamma * cp.sum_squares(w) + pr.turnover_cost * cp.norm1(w - p)
    cons = _constraints(pr, w)
    cap = pr.vol_max
    kind = pr.objective
    if kind == "efficient_risk":
        cap = min(pr.target_volatility, cap) if cap is not None else pr.target_volatility
    if cap is not None and kind != "max_sharpe":
        cons.append(var <= cap**2)
    if kind == "max_utility":
        prob = cp.Problem(cp.Maximize(mu @ w - 0.5 * pr.risk_aversion * var - pen), cons)
    elif kind == "efficient_risk":
        prob = cp.Problem(cp.Maximize(mu @ w - pen), cons)
    elif kind in ("min_variance", "efficient_return"):
        if kind == "efficient_return":
            cons.append(mu @ w >= pr.target_return)
        prob = cp.Problem(cp.Minimize(var + pen), cons)
    else:  # max_sharpe: y = w / vol, t = 1 / vol
        y, t = cp.Variable(n), cp.Variable(nonneg=True)
        cons = [*_constraints(pr, y, t), cp.quad_form(y, sig) <= 1]
        if pr.vol_max is not None:
            cons.append(cp.norm(np.linalg.cholesky(cov + 1e-300 * np.eye(n)).T @ y) <= pr.vol_max * t)
        gain = mu @ y - pr.risk_free_rate * t - pr.turnover_cost * cp.norm1(y - t * p)
        if pr.l2_gamma:
            gain = gain - pr.l2_gamma * cp.quad_over_lin(y, t)
        prob = cp.Problem(cp.Maximize(gain), cons)
        prob.solve(solver="CLARABEL", **TIGHT)
        return float(prob.value), np.asarray(y.value) / float(t.value)
    prob.solve(solver="CLARABEL", **TIGHT)
    return float(prob.value), np.asarray(w.value)
