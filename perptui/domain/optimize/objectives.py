"""The five objectives and the efficient frontier on top of the exact QP. Pure (numpy, scipy).

- max_utility: one QP with H = delta Sigma + 2 gamma I.
- min_variance / efficient_return: one QP with H = 2 (Sigma + gamma I); efficient_return adds the row
  mu'w >= target.
- A volatility cap (vol_max, efficient_risk's target): the capped problem's solution is the uncapped one
  at a higher risk aversion delta' (its multiplier), and the solution's volatility falls monotonically as
  delta' rises. Without an L2 term the solution on one active set is affine in 1 / delta', so delta' is
  the root of a quadratic, found exactly by walking the active sets (``path_root``); otherwise, or if
  that walk does not settle, by Brent's root search on log delta' over warm-started exact QPs, to 1e-14:
  the cap then holds with equality to rounding.
- max_sharpe: the maximum Sharpe portfolio lies on that same delta' path, where the Sharpe ratio is
  unimodal (the frontier is concave), so it is a bounded Brent maximisation over log delta'. Where the
  ratio is flat (rf = 0 and only scale-free constraints bind, so any scale of the best mix ties) the
  highest-return tie is taken: the best mix, levered until a limit binds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from scipy.optimize import brentq

from .core import solve_core
from .feasibility import check_constraints, lp_solve
from .problem import (
    FrontierPoint,
    InfeasibleProblem,
    OptimizeError,
    OptimizeResult,
    PortfolioProblem,
    validate,
)
from .qp import (
    ActiveSet,
    AffinePath,
    Breaks,
    CoreQP,
    Kkt,
    Workspace,
    _System,
    affine_path,
    initial_set,
    kkt,
    margins,
    step,
    update,
)

_SEARCH_SPAN = 12.0  # log delta' each side of the first guess
_REL = 1e-12


@dataclass(frozen=True, slots=True)
class WarmStart:
    """What the next solve of a similar problem starts from: the active set and the last risk aversion."""

    active: ActiveSet
    log_delta: float | None = None


@dataclass(slots=True)
class _Run:
    """One optimisation's state: the problem's arrays, the warm set carried from solve to solve, counters."""

    pr: PortfolioProblem
    mu: np.ndarray
    cov: np.ndarray
    warm: ActiveSet | None = None
    log_delta: float | None = None
    iterations: int = 0
    exact: bool = True
    last_kkt: Kkt = field(default_factory=lambda: Kkt(0.0, 0.0, 0.0))
    factors: dict = field(default_factory=dict)
    breaks: dict = field(default_factory=dict)

    def core(self, scale: float, *, utility: bool, return_row: float | None = None) -> CoreQP:
        pr = self.pr
        lo, hi = pr.lower_upper()
        rows, rl, ru = [], [], []
        if pr.net_min is not None or pr.net_max is not None:
            rows.append(np.ones(pr.n))
            rl.append(-np.inf if pr.net_min is None else pr.net_min)
            ru.append(np.inf if pr.net_max is None else pr.net_max)
        if return_row is not None:
            rows.append(self.mu)
            rl.append(return_row)
            ru.append(np.inf)
        prev = None if pr.prev_weights is None else np.asarray(pr.prev_weights, dtype=float)
        return CoreQP(
            base=self.cov, scale=scale, ridge=2.0 * pr.l2_gamma, q=-self.mu if utility else np.zeros(pr.n),
            lo=lo, hi=hi, gross=pr.gross_max, cost=pr.turnover_cost, prev=prev,
            rows=np.array(rows).reshape(len(rows), pr.n), rl=np.array(rl, dtype=float),
            ru=np.array(ru, dtype=float),
        )  # fmt: skip

    def workspace(self, qp: CoreQP) -> Workspace:
        """A workspace sharing the run's factors and breakpoint tables. The tables depend on the bounds
        and the previous weights (the run's) and on whether the gross cap and the turnover term are in
        (``min_vol`` drops the latter), so they are cached by that."""
        key = (qp.gross is not None, qp.cost > 0)
        ws = Workspace.of(qp, self.factors, self.breaks.get(key))
        self.breaks[key] = ws.breaks
        return ws

    def solve(self, qp: CoreQP, ws: Workspace | None = None) -> np.ndarray:
        sol = solve_core(qp, self.warm, ws or self.workspace(qp))
        self.warm = sol.active
        self.iterations += sol.iterations
        self.exact = self.exact and sol.converged
        self.last_kkt = sol.kkt
        return sol.w

    def vol(self, w: np.ndarray) -> float:
        return math.sqrt(max(float(w @ self.cov @ w), 0.0))

    def net_return(self, w: np.ndarray) -> float:
        """mu'w less the L2 penalty and the turnover cost."""
        pr = self.pr
        value = float(self.mu @ w) - pr.l2_gamma * float(w @ w)
        if pr.turnover_cost:
            prev = np.zeros(pr.n) if pr.prev_weights is None else np.asarray(pr.prev_weights, dtype=float)
            value -= pr.turnover_cost * float(np.abs(w - prev).sum())
        return value

    def delta_guess(self, sigma: float) -> float:
        """log of the risk aversion at which an unconstrained portfolio would have volatility sigma."""
        ratio = float(np.sqrt(np.sum(self.mu**2 / np.maximum(np.diag(self.cov), 1e-300))))
        return math.log(max(ratio, 1e-12) / max(sigma, 1e-12))

    def on_path(self, log_delta: float) -> np.ndarray:
        """The utility-maximising weights at risk aversion exp(log_delta)."""
        self.log_delta = log_delta
        return self.solve(self.core(math.exp(log_delta), utility=True))

    # --- the endpoints of the frontier -----------------------------------------------------------

    def min_vol(self) -> np.ndarray:
        """The least-variance portfolio the constraints allow (no penalties)."""
        qp = self.core(2.0, utility=False)
        return self.solve(
            CoreQP(qp.base, 2.0, 0.0, qp.q, qp.lo, qp.hi, qp.gross, 0.0, None, qp.rows, qp.rl, qp.ru)
        )

    def top(self) -> np.ndarray:
        """The portfolio with the highest net return (mu'w less penalties), no volatility cap."""
        qp = self.core(0.0, utility=True)
        if qp.ridge > 0:
            return self.solve(qp)
        w, lam, pi = lp_solve(qp)
        ws = self.workspace(qp)
        self.last_kkt = kkt(ws, w, lam, pi)
        self.warm = initial_set(ws, w)
        return w

    # --- the volatility cap ------------------------------------------------------------------------

    def path_root(self, sigma: float, log_delta: float) -> np.ndarray | None:
        """With no L2 term the solution on one active set is affine in s = 1 / delta, so its variance is a
        quadratic whose root is exact: solve at exp(log_delta), take the root on that set, check the set
        there, move to the set it points to, repeat. When the set's variance never reaches sigma^2 (too
        few free weights, or the target lies beyond the set's range) the walk follows the path instead:
        to where the set stops being optimal, the critical line algorithm's step. None when this does
        not settle (the caller then searches with Brent)."""
        qp = self.core(math.exp(log_delta), utility=True)
        ws = self.workspace(qp)
        self.solve(qp, ws)
        st = cast(ActiveSet, self.warm)  # solve() just left its active set here
        s_now = math.exp(-log_delta)  # where st is (about) optimal
        unit = Workspace.of(qp.with_scale(1.0), self.factors, ws.breaks)
        for it in range(1, 31):
            found = affine_path(unit, st)
            if found is None:
                return None
            path, sy = found
            cw1 = self.cov @ path.w1
            a, b = float(path.w1 @ cw1), float(path.w0 @ cw1)
            c = float(path.w0 @ self.cov @ path.w0) - sigma**2
            disc = b * b - a * c
            if a <= 0 or disc < 0 or (s_root := (-b + math.sqrt(disc)) / a) <= 0:
                up = a * s_now * s_now + 2 * b * s_now + c < 0  # below the target: lower delta
                walked = self._walk(qp, ws.breaks, st, sy, path, s_now, up)
                if walked is None:
                    return None
                st, s_now = walked
                continue
            at = Workspace.of(qp.with_scale(1.0 / s_root), self.factors, ws.breaks)
            w, lam, pi = path.at(qp, st, sy, s_root)
            nxt = update(at, st, w, lam, pi, sy)
            if nxt.key() == st.key():
                res = kkt(at, w, lam, pi)
                if res.primal > 10 * at.ptol or res.dual > 1e3 * at.dtol:
                    return None
                self.warm, self.log_delta, self.last_kkt = st, -math.log(s_root), res
                self.iterations += it
                return w
            st, s_now = nxt, s_root
        return None

    def _walk(
        self, qp: CoreQP, breaks: Breaks, st: ActiveSet, sy: _System, path: AffinePath, s_now: float, up: bool
    ) -> tuple[ActiveSet, float] | None:
        """From s_now along ``st``'s path (up: s rising) to the first s where one of its optimality
        conditions fails, and the set past it: (set, that s). The slacks are affine in s (the dual ones
        times s), so two evaluations give every crossing."""
        s_far = s_now * (2.0 if up else 0.5)
        slack = []
        for s in (s_now, s_far):
            at = Workspace.of(qp.with_scale(1.0 / s), self.factors, breaks)
            primal, dual = margins(at, st, sy, *path.at(qp, st, sy, s))
            slack.append(np.minimum(primal, s * dual))
        now, far = slack
        with np.errstate(invalid="ignore"):
            rate = (far - now) / (s_far - s_now) * (1.0 if up else -1.0)  # change per step towards the target
        falling = np.isfinite(now) & np.isfinite(rate) & (rate < 0)
        if not falling.any():
            return None  # nothing changes that way: the target is out of reach (Brent says so)
        dist = np.full(now.size, np.inf)
        dist[falling] = np.maximum(now[falling], 0.0) / -rate[falling]
        first = float(dist.min())
        failing = np.flatnonzero(dist <= first + 1e-12 * max(s_now, first))
        s_next = s_now + first if up else s_now - first
        if s_next <= 0:
            return None
        return step(at, st, failing), s_next

    def capped(self, sigma: float, delta0: float, what: str) -> np.ndarray:
        """Maximise the utility at delta0 (0: net return alone) subject to volatility <= sigma."""
        if delta0 > 0:
            w = self.solve(self.core(delta0, utility=True))
            if self.vol(w) <= sigma * (1 + _REL):
                return w
            u_lo: float | None
            u_lo = math.log(delta0)  # assigned apart from its declaration, so mypy narrows it to float
            if self.pr.l2_gamma == 0 and (exact := self.path_root(sigma, u_lo)) is not None:
                return exact
        else:
            if self.pr.l2_gamma == 0:
                start = self.log_delta if self.log_delta is not None else self.delta_guess(sigma)
                if (exact := self.path_root(sigma, start)) is not None:
                    return exact
            w = self.top()
            if self.vol(w) <= sigma * (1 + _REL):
                return w
            u_lo = None
        floor = self.vol(self.min_vol())
        if floor > sigma * (1 + 1e-9):
            raise InfeasibleProblem(f"{what} {sigma:g} is below the lowest achievable volatility {floor:.6g}")

        def excess(u: float) -> float:
            return self.vol(self.on_path(u)) - sigma

        guess = self.log_delta if self.log_delta is not None else self.delta_guess(sigma)
        lo, hi = _bracket(excess, guess if u_lo is None else max(u_lo, guess), u_lo)
        if lo is None:  # the volatility stays under the cap down to a vanishing delta': it does not bind
            return self.on_path(hi)
        root = brentq(excess, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=200)
        w = self.on_path(root)
        if self.vol(w) > sigma:  # the root's side where the cap holds
            w = self.on_path(hi if abs(hi - root) < 1e-9 else root + 1e-13)
        return w


def _bracket(f, start: float, floor: float | None) -> tuple[float | None, float]:
    """(lo, hi) with f(lo) > 0 >= f(hi) for a nonincreasing f, searching outward from ``start`` (never
    below ``floor``, where f > 0 is known). lo is None when f <= 0 all the way down."""
    step = 1.0
    if f(start) > 0:
        lo = start
        hi = start + step
        while f(hi) > 0:
            lo, step = hi, step * 2
            hi = hi + step
            if hi - start > 4 * _SEARCH_SPAN:
                raise OptimizeError("the volatility cap could not be reached (is Sigma singular?)")
        return lo, hi
    hi = start
    lo = start - step
    while True:
        if floor is not None and lo <= floor:
            return floor, hi
        if f(lo) > 0:
            return lo, hi
        hi, step = lo, step * 2
        lo = lo - step
        if start - lo > 4 * _SEARCH_SPAN:
            return None, hi


def _cash_feasible(pr: PortfolioProblem) -> bool:
    lo, hi = pr.lower_upper()
    return bool(
        np.all(lo <= 0) and np.all(hi >= 0) and (pr.net_min is None or pr.net_min <= 0)
        and (pr.net_max is None or pr.net_max >= 0)
    )  # fmt: skip


def _golden_max(f, a: float, b: float, at_top: float, xtol: float = 1e-11) -> tuple[float, float]:
    """Golden-section maximum of a unimodal f on [a, b] that may be flat at either end: flat at the level
    ``at_top`` (the path has not left the top yet) means the hump is to the right; flat anywhere else is
    the maximum itself, and the search closes on its left end (the highest-return tie)."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    m1, m2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = f(m1), f(m2)

    def same(x: float, y: float) -> bool:
        return abs(x - y) <= 1e-13 * max(abs(x), abs(y), 1e-300)

    while b - a > xtol:
        go_right = same(f1, at_top) if same(f1, f2) else f1 < f2
        if go_right:
            a, m1, f1 = m1, m2, f2
            m2 = a + ratio * (b - a)
            f2 = f(m2)
        else:
            b, m2, f2 = m2, m1, f1
            m1 = b - ratio * (b - a)
            f1 = f(m1)
    return (m1, f1) if f1 >= f2 else (m2, f2)


def _max_sharpe(run: _Run) -> tuple[np.ndarray, str, str]:
    pr = run.pr
    rf = pr.risk_free_rate
    top = run.capped(pr.vol_max, 0.0, "vol_max") if pr.vol_max is not None else run.top()
    best = run.net_return(top) - rf
    if best <= _REL * max(1.0, abs(rf)) or run.vol(top) == 0.0:
        why = (
            f"no allowed portfolio earns more than the risk-free rate {rf:g} "
            f"(the best expected net return is {run.net_return(top):.6g})"
        )
        if not _cash_feasible(pr):
            raise InfeasibleProblem(why + ", and the constraints exclude cash")
        return np.zeros(pr.n), "cash", why + ": holding cash"
    capped = pr.vol_max is not None and run.vol(top) >= pr.vol_max * (1 - 1e-9)
    u_top = run.log_delta if capped else None

    def neg_sharpe(u: float) -> float:
        w = run.on_path(u)
        v = run.vol(w)
        return -(run.net_return(w) - rf) / v if v > 0 else math.inf

    guess = run.delta_guess(max(run.vol(top), 1e-12))
    lo = u_top if u_top is not None else guess - _SEARCH_SPAN
    hi = max(lo, guess) + _SEARCH_SPAN
    u_best, s_best = _golden_max(lambda u: -neg_sharpe(u), lo, hi, best / run.vol(top))
    if best / run.vol(top) >= s_best:
        return top, "optimal", ""
    return run.on_path(u_best), "optimal", ""


def _variance_objective(run: _Run, w: np.ndarray) -> float:
    """w'Sigma w + gamma ||w||^2 + c ||w - w_prev||_1 (the penalties are mu'w less the net return)."""
    return run.vol(w) ** 2 + float(run.mu @ w) - run.net_return(w)


def _solve(run: _Run) -> tuple[np.ndarray, float, str, str]:
    """(weights, objective value, status, message)."""
    pr = run.pr
    kind = pr.objective
    if kind == "max_utility":
        if pr.vol_max is not None:
            w = run.capped(pr.vol_max, pr.risk_aversion, "vol_max")
        else:
            w = run.solve(run.core(pr.risk_aversion, utility=True))
        value = run.net_return(w) - 0.5 * pr.risk_aversion * run.vol(w) ** 2
        return w, value, "optimal", ""
    if kind == "efficient_risk":
        sigma = float(pr.target_volatility)  # type: ignore[arg-type]  # efficient_risk: checked set in problem.py
        what = "target_volatility"
        if pr.vol_max is not None and pr.vol_max < sigma:
            sigma, what = pr.vol_max, "vol_max"
        w = run.capped(sigma, 0.0, what)
        return w, run.net_return(w), "optimal", ""
    if kind == "max_sharpe":
        w, status, message = _max_sharpe(run)
        v = run.vol(w)
        value = (run.net_return(w) - pr.risk_free_rate) / v if v > 0 else 0.0
        return w, value, status, message
    target = None
    if kind == "efficient_return":
        target = float(pr.target_return)  # type: ignore[arg-type]  # efficient_return: checked set in problem.py
        highest = float(run.mu @ lp_solve(run.core(0.0, utility=True))[0])
        if target > highest + _REL * max(1.0, abs(highest)):
            raise InfeasibleProblem(f"target_return {target:g} is above the highest achievable {highest:.6g}")
    w = run.solve(run.core(2.0, utility=False, return_row=target))
    if pr.vol_max is not None and run.vol(w) > pr.vol_max * (1 + 1e-9):
        need = "the lowest achievable volatility" if target is None else f"target_return {target:g} needs"
        raise InfeasibleProblem(f"vol_max {pr.vol_max:g} is below {need} {run.vol(w):.6g}")
    return w, _variance_objective(run, w), "optimal", ""


def _result(run: _Run, w: np.ndarray, value: float, status: str, message: str, t0: float) -> OptimizeResult:
    import time

    pr = run.pr
    v = run.vol(w)
    ret = float(run.mu @ w)
    if status == "optimal" and not run.exact:
        status, message = "inaccurate", "the solver stopped short of the exact optimum; see the KKT residuals"
    res = run.last_kkt if status != "cash" else Kkt(0.0, 0.0, 0.0)
    return OptimizeResult(
        objective=pr.objective, weights=w, expected_return=ret, volatility=v,
        sharpe=(ret - pr.risk_free_rate) / v if v > 0 else None, objective_value=float(value),
        status=status, message=message, solve_ms=(time.perf_counter() - t0) * 1e3,
        iterations=run.iterations, kkt=res,
        warm=WarmStart(run.warm, run.log_delta) if run.warm is not None else None,
    )  # fmt: skip


def _start(pr: PortfolioProblem, warm: WarmStart | None) -> _Run:
    chol = validate(pr)
    check_constraints(pr)
    run = _Run(pr, np.asarray(pr.mu, dtype=float), np.asarray(pr.cov, dtype=float))
    if chol is not None:  # the factor of the whole Sigma: the cold start's, and every search's
        run.factors[(np.ones(pr.n, dtype=bool).tobytes(), 0.0)] = chol
    if warm is not None:
        run.warm, run.log_delta = warm.active, warm.log_delta
    return run


def optimize(pr: PortfolioProblem, warm: WarmStart | None = None) -> OptimizeResult:
    """Solve ``pr`` exactly. ``warm`` (a previous result's ``warm``) starts from that solution's active set.
    Raises OptimizeError (bad input) or InfeasibleProblem (conflicting constraints, naming them)."""
    import time

    t0 = time.perf_counter()
    run = _start(pr, warm)
    w, value, status, message = _solve(run)
    return _result(run, w, value, status, message, t0)


def efficient_frontier(
    pr: PortfolioProblem, points: int, warm: WarmStart | None = None
) -> list[FrontierPoint]:
    """``points`` portfolios evenly spaced in volatility from the least-volatile one the constraints allow
    to the highest net return, each the highest net return for its volatility (efficient_risk)."""
    if points < 1:
        raise OptimizeError(f"frontier_points must be 1 or more, not {points}")
    run = _start(pr, warm)
    low = run.min_vol()
    top = run.top()
    v_lo, v_hi = run.vol(low), run.vol(top)
    out = []
    for k, sigma in enumerate(np.linspace(v_lo, v_hi, points) if points > 1 else [v_hi]):
        if points > 1 and k == 0:
            w = low
        elif k == points - 1:
            w = top
        else:
            w = run.capped(float(sigma), 0.0, "volatility")
        v, r = run.vol(w), float(run.mu @ w)
        out.append(FrontierPoint(r, v, (r - pr.risk_free_rate) / v if v > 0 else None, w))
    return out
