"""Which constraints conflict, in words, and the linear programs the objectives need. Pure (scipy).

Bounds, the gross cap and the net range admit a portfolio exactly when the least gross exposure that
reaches an allowed net does not exceed the cap: starting from w0 = clip(0, lo, hi) (the least gross,
g0 = sum |w0| at net n0 = sum w0), moving the net to n costs |n - n0| more gross. So the check is closed
form and each failure names the two constraints that meet.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from .problem import InfeasibleProblem, OptimizeError, PortfolioProblem
from .qp import CoreQP


def check_constraints(pr: PortfolioProblem) -> None:
    """Raise InfeasibleProblem naming the conflict when no weights satisfy bounds, gross and net limits."""
    lo, hi = pr.lower_upper()
    n_lo = -np.inf if pr.net_min is None else pr.net_min
    n_hi = np.inf if pr.net_max is None else pr.net_max
    if n_lo > n_hi:
        raise InfeasibleProblem(f"net_min {n_lo:g} exceeds net_max {n_hi:g}")
    sum_lo, sum_hi = float(lo.sum()), float(hi.sum())
    if sum_lo > n_hi:
        raise InfeasibleProblem(f"sum of lower bounds {sum_lo:g} exceeds net_max {n_hi:g}")
    if sum_hi < n_lo:
        raise InfeasibleProblem(f"sum of upper bounds {sum_hi:g} is below net_min {n_lo:g}")
    if pr.gross_max is None:
        return
    g_cap = pr.gross_max
    w0 = np.clip(0.0, lo, hi)
    g0, n0 = float(np.abs(w0).sum()), float(w0.sum())
    if g0 > g_cap:
        raise InfeasibleProblem(
            f"the bounds force a gross exposure of at least {g0:g} (each asset at its bound nearest zero), "
            f"above gross_max {g_cap:g}"
        )
    target = min(max(n0, n_lo, sum_lo), n_hi, sum_hi)
    need = g0 + abs(target - n0)
    if need <= g_cap * (1 + 1e-12) + 1e-15:
        return
    if target > n0:
        what = f"net_min {n_lo:g}" if n_lo >= sum_lo else f"sum of lower bounds {sum_lo:g}"
        if g0 == 0 and n0 == 0:
            raise InfeasibleProblem(f"{what} exceeds gross_max {g_cap:g}")
        raise InfeasibleProblem(
            f"{what} needs a gross exposure of at least {need:g}, above gross_max {g_cap:g}"
        )
    what = f"net_max {n_hi:g}" if n_hi <= sum_hi else f"sum of upper bounds {sum_hi:g}"
    if g0 == 0 and n0 == 0:
        raise InfeasibleProblem(f"{what} is below -gross_max {-g_cap:g}")
    raise InfeasibleProblem(f"{what} needs a gross exposure of at least {need:g}, above gross_max {g_cap:g}")


def lp_solve(qp: CoreQP) -> tuple[np.ndarray, float, np.ndarray]:
    """argmin q'w + c ||w - p||_1 over the constraints of ``qp`` (its quadratic part ignored), by HiGHS, with
    the multipliers of the gross cap and the rows in ``qp.kkt``'s convention: (w, lambda, pi).
    Variables (w, a >= |w| if gross, t >= |w - p| if c > 0)."""
    n = qp.n
    blocks = 1 + (qp.gross is not None) + (qp.cost > 0)
    nv = blocks * n
    c = np.zeros(nv)
    c[:n] = qp.q
    lb = np.concatenate([qp.lo, np.zeros(nv - n)])
    ub = np.concatenate([qp.hi, np.full(nv - n, np.inf)])
    a_ub: list[np.ndarray] = []
    b_ub: list[np.ndarray] = []
    eye, off = np.eye(n), n
    if qp.gross is not None:
        row = np.zeros((2 * n + 1, nv))
        row[:n, :n], row[:n, off : off + n] = eye, -eye  # w - a <= 0
        row[n : 2 * n, :n], row[n : 2 * n, off : off + n] = -eye, -eye  # -w - a <= 0
        row[2 * n, off : off + n] = 1.0
        a_ub.append(row)
        b_ub.append(np.concatenate([np.zeros(2 * n), [qp.gross]]))
        off += n
    if qp.cost > 0:
        c[off : off + n] = qp.cost
        row = np.zeros((2 * n, nv))
        row[:n, :n], row[:n, off : off + n] = eye, -eye  # w - t <= p
        row[n:, :n], row[n:, off : off + n] = -eye, -eye  # -w - t <= -p
        a_ub.append(row)
        b_ub.append(np.concatenate([qp.p, -qp.p]))
    a_eq: list[np.ndarray] = []
    b_eq: list[float] = []
    where: list[tuple[int, str, int]] = []  # (row, kind, index among the ub or eq rows)
    n_ub = sum(len(b) for b in b_ub)
    for k in range(qp.m):
        full = np.zeros(nv)
        full[:n] = qp.rows[k]
        if qp.rl[k] == qp.ru[k]:
            where.append((k, "eq", len(a_eq)))
            a_eq.append(full)
            b_eq.append(qp.rl[k])
            continue
        if np.isfinite(qp.ru[k]):
            where.append((k, "hi", n_ub))
            a_ub.append(full[None, :])
            b_ub.append(np.array([qp.ru[k]]))
            n_ub += 1
        if np.isfinite(qp.rl[k]):
            where.append((k, "lo", n_ub))
            a_ub.append(-full[None, :])
            b_ub.append(np.array([-qp.rl[k]]))
            n_ub += 1
    res = linprog(
        c,
        A_ub=np.vstack(a_ub) if a_ub else None,
        b_ub=np.concatenate([np.atleast_1d(b) for b in b_ub]) if b_ub else None,
        A_eq=np.array(a_eq) if a_eq else None,
        b_eq=np.array(b_eq) if b_eq else None,
        bounds=np.column_stack([lb, ub]),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0 or res.x is None:
        raise OptimizeError(f"the linear program behind this objective failed: {res.message}")
    ub_dual = -np.asarray(res.ineqlin.marginals) if a_ub else np.zeros(0)
    eq_dual = -np.asarray(res.eqlin.marginals) if a_eq else np.zeros(0)
    lam = float(ub_dual[2 * n]) if qp.gross is not None else 0.0
    pi = np.zeros(qp.m)
    for k, kind, i in where:
        pi[k] += eq_dual[i] if kind == "eq" else (ub_dual[i] if kind == "hi" else -ub_dual[i])
    return np.asarray(res.x[:n]), lam, pi
