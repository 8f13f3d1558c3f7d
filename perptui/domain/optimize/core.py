"""Solve one ``CoreQP`` exactly: the active-set search from a warm start (the last solution's set) or from
the clipped unconstrained optimum; if that does not settle, the interior-point method and then the
active-set search from the set its answer suggests (crossover), which makes the answer exact."""

from __future__ import annotations

import numpy as np

from .ipm import interior_point
from .qp import ActiveSet, CoreQP, CoreSolution, Workspace, active_set, bordered, initial_set, kkt


def _cold_start(ws: Workspace) -> ActiveSet:
    qp = ws.qp
    chol, c = ws.factor(np.ones(qp.n, dtype=bool))
    if chol is None:
        return initial_set(ws, np.zeros(qp.n))
    eq = np.flatnonzero(qp.rl == qp.ru)  # the unbounded optimum on the equality rows, then clipped
    w0, _ = bordered(chol, c, qp.rows[eq], -qp.q, qp.rl[eq], np.zeros(eq.size))
    return initial_set(ws, np.clip(w0, qp.lo, qp.hi))


def _sanitised(ws: Workspace, warm: ActiveSet) -> ActiveSet | None:
    """The warm set fitted to this problem (its breakpoints may differ), or None if it cannot be."""
    qp = ws.qp
    if warm.pos.shape != (qp.n,) or warm.row_side.shape != (qp.m,):
        return None
    pos = np.clip(warm.pos, 0, 2 * ws.counts - 2)
    side = warm.row_side.copy()
    side[qp.rl == qp.ru] = 2
    side[(side == 2) & (qp.rl != qp.ru)] = 0
    gross_on = warm.gross_on and qp.gross is not None
    pi = warm.pi if warm.pi.shape == (qp.m,) else np.zeros(qp.m)
    return ActiveSet(pos, gross_on, side, warm.lam, pi.copy())


def solve_core(qp: CoreQP, warm: ActiveSet | None = None, ws: Workspace | None = None) -> CoreSolution:
    """The exact minimiser of ``qp``; ``converged`` is False only if even the crossover failed (then the
    interior-point answer, accurate to ~1e-10, is returned with its KKT residuals)."""
    ws = ws or Workspace.of(qp)
    start = _sanitised(ws, warm) if warm is not None else None
    sol = active_set(ws, start if start is not None else _cold_start(ws))
    if sol.converged:
        return sol
    ipm = interior_point(qp, ws.H)
    polished = active_set(ws, initial_set(ws, ipm.w, ipm.lam, ipm.pi))
    iterations = sol.iterations + ipm.iterations + polished.iterations
    if polished.converged:
        return CoreSolution(
            polished.w, polished.lam, polished.pi, polished.active, iterations, True, polished.kkt
        )
    res = kkt(ws, ipm.w, ipm.lam, ipm.pi)
    best = min((polished, CoreSolution(ipm.w, ipm.lam, ipm.pi, polished.active, 0, False, res)),
               key=lambda s: max(s.kkt.primal, s.kkt.dual))  # fmt: skip
    return CoreSolution(best.w, best.lam, best.pi, polished.active, iterations, ipm.converged, best.kkt)
