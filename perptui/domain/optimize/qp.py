"""The portfolio QP in one shape, and its exact solution on a guessed active set. Pure (numpy).

    minimise  1/2 w'Hw + q'w + c sum|w_i - p_i|,   H = scale x Sigma + ridge x I
    s.t.      lo <= w <= hi,  sum|w_i| <= G (optional),  l_k <= a_k'w <= u_k (general rows: net, return)

Every coordinate's range [lo_i, hi_i] is cut by its breakpoints (0 when the gross cap exists, p_i when
c > 0) into segments on which |w_i| and |w_i - p_i| are linear. An *active set* puts each coordinate
either at a breakpoint (fixed) or inside one segment (free, with known signs), and says which of the
gross cap and the rows hold with equality. On an active set the optimality conditions are one linear
system: H_FF w_F + lambda s_F + A_F' pi = -(q_F + c t_F + H_FX w_X) bordered by the active constraints,
solved by a Cholesky factor of H_FF (cached per free set) and a small Schur complement. That solution is
exact; ``kkt`` measures how far it is from optimal, and the active-set search (``active_set``) moves
to the right set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sl

#: Per-coordinate breakpoints: lo, up to two inner kinks, hi (padded with hi).
_MAX_BREAKS = 4


@dataclass(frozen=True, slots=True)
class CoreQP:
    """One QP of the family above. ``base`` is Sigma; ``rl``/``ru`` may hold +-inf, equal for equalities."""

    base: np.ndarray
    scale: float
    ridge: float
    q: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    gross: float | None = None
    cost: float = 0.0
    prev: np.ndarray | None = None
    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    rl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ru: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        return int(self.q.size)

    @property
    def p(self) -> np.ndarray:
        return self.prev if self.prev is not None else np.zeros(self.n)

    @property
    def m(self) -> int:
        return int(self.rl.size)

    def hessian(self) -> np.ndarray:
        h = self.scale * self.base
        if self.ridge:
            h = h + self.ridge * np.eye(self.n)
        return h

    def with_scale(self, scale: float) -> CoreQP:
        return CoreQP(
            self.base, scale, self.ridge, self.q, self.lo, self.hi, self.gross, self.cost, self.prev,
            self.rows, self.rl, self.ru,
        )  # fmt: skip

    def objective(self, w: np.ndarray) -> float:
        value = 0.5 * float(w @ self.hessian() @ w) + float(self.q @ w)
        return value + self.cost * float(np.abs(w - self.p).sum())


def breakpoints(qp: CoreQP) -> tuple[np.ndarray, np.ndarray]:
    """(n x 4 sorted breakpoints padded with hi, how many each coordinate has)."""
    n = qp.n
    out = np.repeat(qp.hi[:, None], _MAX_BREAKS, axis=1)
    out[:, 0] = qp.lo
    counts = np.full(n, 2)
    inner = np.full((n, 2), np.inf)
    if qp.gross is not None:
        inner[:, 0] = np.where((qp.lo < 0) & (qp.hi > 0), 0.0, np.inf)
    if qp.cost > 0:
        p = qp.p
        ok = (qp.lo < p) & (p < qp.hi) & ~(inner[:, 0] == p)
        inner[:, 1] = np.where(ok, p, np.inf)
    inner.sort(axis=1)
    k = np.isfinite(inner).sum(axis=1)
    for j in range(2):
        has = k > j
        out[has, 1 + j] = inner[has, j]
    counts += k
    rows = np.arange(n)
    out[rows, counts - 1] = qp.hi
    return out, counts


@dataclass(slots=True)
class ActiveSet:
    """Where each coordinate sits (even 2k: at breakpoint k; odd 2k+1: inside segment k), whether the gross
    cap binds, each row's side (0 free, -1 lower, +1 upper, 2 equality) and multiplier guesses."""

    pos: np.ndarray
    gross_on: bool
    row_side: np.ndarray
    lam: float = 0.0
    pi: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def key(self) -> bytes:
        return self.pos.tobytes() + bytes([self.gross_on]) + self.row_side.tobytes()

    def copy(self) -> ActiveSet:
        return ActiveSet(self.pos.copy(), self.gross_on, self.row_side.copy(), self.lam, self.pi.copy())


@dataclass(frozen=True, slots=True)
class Kkt:
    """Largest violations of the optimality conditions: constraints (primal), stationarity including the
    subgradient of the kinks at fixed coordinates (dual), and complementary slackness."""

    primal: float
    dual: float
    complementarity: float

    def as_dict(self) -> dict[str, float]:
        return {"primal": self.primal, "dual": self.dual, "complementarity": self.complementarity}


_POTRF, POTRS = sl.get_lapack_funcs(("potrf", "potrs"), (np.zeros(1),))


@dataclass(slots=True)
class Workspace:
    """Per-problem caches: breakpoints, the Hessian, tolerances, and Cholesky factors of
    Sigma_FF + (ridge / scale) I keyed by the free set and that ratio, so problems that differ only in the
    risk aversion (the searches along the frontier) share them when ``factors`` is shared."""

    qp: CoreQP
    bp: np.ndarray
    counts: np.ndarray
    H: np.ndarray
    ptol: float
    dtol: float
    factors: dict[tuple[bytes, float], np.ndarray | None]

    @classmethod
    def of(
        cls, qp: CoreQP, factors: dict | None = None, bp: tuple[np.ndarray, np.ndarray] | None = None
    ) -> Workspace:
        bp_, counts = bp if bp is not None else breakpoints(qp)
        H = qp.hessian()
        wmax = float(max(np.max(np.abs(qp.lo)), np.max(np.abs(qp.hi)), 1e-12))
        gscale = float(np.max(np.abs(qp.q), initial=0.0)) + float(np.max(np.abs(H), initial=0.0)) * wmax
        ptol, dtol = 1e-10 * max(wmax, 1.0), 1e-10 * max(gscale + qp.cost, 1e-12)
        return cls(qp, bp_, counts, H, ptol, dtol, {} if factors is None else factors)

    def factor(self, free: np.ndarray, unit: bool = False) -> tuple[np.ndarray | None, float]:
        """(Cholesky factor of base_FF + ratio I, the factor's scale c: H_FF = c (base_FF + ratio I)); with
        ``unit`` the factor of base_FF itself (scale 1). None when not positive definite."""
        qp = self.qp
        if unit:
            ratio, c = 0.0, 1.0
        elif qp.scale > 0:
            ratio, c = qp.ridge / qp.scale, qp.scale
        else:
            ratio, c = np.inf, qp.ridge
        key = (free.tobytes(), ratio)
        if key not in self.factors:
            if len(self.factors) > 512:
                self.factors.clear()
            m = np.eye(int(free.sum())) if ratio == np.inf else qp.base[np.ix_(free, free)]
            if 0 < ratio < np.inf:
                m = m + ratio * np.eye(m.shape[0])
            chol, info = _POTRF(m, lower=False, clean=False, overwrite_a=False)
            self.factors[key] = chol if info == 0 else None
        return self.factors[key], c


def tolerances(ws: Workspace) -> tuple[float, float]:
    """(primal, dual) tolerances scaled to the problem's weights and gradients."""
    return ws.ptol, ws.dtol


def _signs(ws: Workspace, st: ActiveSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(fixed mask, segment index, sign of w, sign of w - p) for every coordinate (signs of fixed ones: 0)."""
    fixed = st.pos % 2 == 0
    k = st.pos // 2
    rows = np.arange(ws.qp.n)
    lo = ws.bp[rows, k]
    hi = ws.bp[rows, np.minimum(k + 1, _MAX_BREAKS - 1)]
    mid = np.where(fixed, lo, 0.5 * (lo + hi))
    s = np.where(fixed, 0.0, np.sign(mid))
    t = np.where(fixed, 0.0, np.sign(mid - ws.qp.p)) if ws.qp.cost > 0 else np.zeros(ws.qp.n)
    return fixed, k, s, t


@dataclass(frozen=True, slots=True)
class _System:
    """The linear system of an active set: free mask, fixed weights, border rows and their right sides,
    the linear term on the free coordinates -(q_F + c t_F) and the multiplier guesses."""

    free: np.ndarray
    seg: np.ndarray
    wx: np.ndarray
    borders: np.ndarray
    rhs_b: np.ndarray
    lin: np.ndarray
    guess: np.ndarray
    active_rows: np.ndarray


def _system(ws: Workspace, st: ActiveSet) -> _System:
    qp = ws.qp
    fixed, k, s, t = _signs(ws, st)
    free = ~fixed
    wx = np.where(fixed, ws.bp[np.arange(qp.n), k], 0.0)
    active_rows = np.flatnonzero(st.row_side != 0)
    nb = int(st.gross_on) + active_rows.size
    borders = np.zeros((nb, int(free.sum())))
    rhs_b = np.zeros(nb)
    guess = np.zeros(nb)
    j = 0
    if st.gross_on:
        borders[0] = s[free]
        rhs_b[0] = float(qp.gross) - float(np.abs(wx).sum())
        guess[0] = st.lam
        j = 1
    for r in active_rows:
        bound = qp.ru[r] if st.row_side[r] in (1, 2) else qp.rl[r]
        borders[j] = qp.rows[r, free]
        rhs_b[j] = bound - float(qp.rows[r] @ wx)
        guess[j] = st.pi[r] if st.pi.size else 0.0
        j += 1
    lin = -(qp.q[free] + qp.cost * t[free])
    return _System(free, k, wx, borders, rhs_b, lin, guess, active_rows)


def bordered(
    chol: np.ndarray, c: float, borders: np.ndarray, r: np.ndarray, rhs_b: np.ndarray, guess: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Solve [c M, B'; B, 0] (x, y) = (r, rhs_b) with M = chol'chol; multipliers the system leaves free
    keep ``guess``."""
    hr = POTRS(chol, r, lower=False)[0] / c
    if not borders.shape[0]:
        return hr, guess
    hb = POTRS(chol, borders.T, lower=False)[0] / c
    m = borders @ hb
    v = borders @ hr - rhs_b
    norms = np.sqrt(np.einsum("ij,ij->i", m, m))
    try:
        if abs(np.linalg.det(m)) <= 1e-12 * float(np.prod(norms)):
            raise np.linalg.LinAlgError
        y = np.linalg.solve(m, v)
    except np.linalg.LinAlgError:
        y = guess + np.linalg.pinv(m, rcond=1e-12) @ (v - m @ guess)
    return hr - hb @ y, y


def solve_on(ws: Workspace, st: ActiveSet, sy: _System | None = None) -> tuple[np.ndarray, float, np.ndarray]:
    """The exact stationary point on ``st``: (w, gross multiplier lambda, row multipliers pi). Multipliers the
    equations leave undetermined (degenerate sets) keep their guesses in ``st``."""
    qp = ws.qp
    sy = sy or _system(ws, st)
    free, wx = sy.free, sy.wx
    w = wx.copy()
    y = sy.guess
    if free.any():
        r_f = sy.lin - ws.H[free] @ wx
        chol, c = ws.factor(free)
        if chol is not None:
            w[free], y = bordered(chol, c, sy.borders, r_f, sy.rhs_b, sy.guess)
        else:  # H_FF singular: the bordered system by least squares
            nf, nb = int(free.sum()), sy.rhs_b.size
            kkt_m = np.block([[ws.H[np.ix_(free, free)], sy.borders.T], [sy.borders, np.zeros((nb, nb))]])
            sol = np.linalg.lstsq(kkt_m, np.concatenate([r_f, sy.rhs_b]), rcond=None)[0]
            w[free] = sol[:nf]
            if nb:
                y = sol[nf:]
    return _unpack(qp, st, sy, w, y)


def _unpack(
    qp: CoreQP, st: ActiveSet, sy: _System, w: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    lam = float(y[0]) if st.gross_on else 0.0
    pi = np.zeros(qp.m)
    pi[sy.active_rows] = y[int(st.gross_on) :]
    return w, lam, pi


@dataclass(frozen=True, slots=True)
class AffinePath:
    """On one active set with ridge 0, the solution at risk aversion delta = 1 / s is affine in s:
    w = w0 + s w1, multipliers y = y0 / s + y1 (so lambda and pi scale the same way)."""

    w0: np.ndarray
    w1: np.ndarray
    y0: np.ndarray
    y1: np.ndarray

    def at(self, qp: CoreQP, st: ActiveSet, sy: _System, s: float) -> tuple[np.ndarray, float, np.ndarray]:
        return _unpack(qp, st, sy, self.w0 + s * self.w1, self.y0 / s + self.y1)


def affine_path(ws: Workspace, st: ActiveSet) -> tuple[AffinePath, _System] | None:
    """The active set's solution as a function of 1 / delta (``ws.qp.ridge`` must be 0), or None when
    Sigma_FF is singular. From Sigma_FF w_F + B'(y s) = s lin - Sigma_FX w_X, B w_F = b."""
    qp = ws.qp
    sy = _system(ws, st)
    free, wx = sy.free, sy.wx
    w0, w1 = wx.copy(), np.zeros(qp.n)
    y0, y1 = sy.guess * 0.0, sy.guess.copy()
    if free.any():
        chol, _ = ws.factor(free, unit=True)
        if chol is None:
            return None
        zero = np.zeros(sy.rhs_b.size)
        w0[free], y0 = bordered(chol, 1.0, sy.borders, -(qp.base[free] @ wx), sy.rhs_b, zero)
        w1[free], y1 = bordered(chol, 1.0, sy.borders, sy.lin, zero, sy.guess)
    return AffinePath(w0, w1, y0, y1), sy


def _kink_slopes(ws: Workspace, w: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Left and right derivatives of lam|w_i| + c|w_i - p_i| at w (infinite at the bounds)."""
    qp = ws.qp
    p = qp.p
    left = lam * np.where(w <= 0, -1.0, 1.0) + qp.cost * np.where(w <= p, -1.0, 1.0)
    right = lam * np.where(w >= 0, 1.0, -1.0) + qp.cost * np.where(w >= p, 1.0, -1.0)
    left = np.where(w <= qp.lo, -np.inf, left)
    right = np.where(w >= qp.hi, np.inf, right)
    return left, right


def gradient(ws: Workspace, w: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Gradient of the smooth part plus the rows' term: Hw + q + A'pi."""
    g = ws.H @ w + ws.qp.q
    if ws.qp.m:
        g = g + ws.qp.rows.T @ pi
    return g


def kkt(ws: Workspace, w: np.ndarray, lam: float, pi: np.ndarray) -> Kkt:
    """How far (w, lambda, pi) is from optimal, whatever active set produced it."""
    qp = ws.qp
    g = gradient(ws, w, pi)
    left, right = _kink_slopes(ws, w, max(lam, 0.0))
    dual = np.maximum(np.maximum(left + g, -g - right), 0.0)  # -g must lie in [left, right]
    dual_max = float(np.max(dual, initial=0.0))
    primal = float(np.max(np.maximum(qp.lo - w, w - qp.hi), initial=0.0))
    comp = 0.0
    if qp.gross is not None:
        slack = qp.gross - float(np.abs(w).sum())
        primal = max(primal, -slack)
        dual_max = max(dual_max, -lam)
        comp = max(comp, abs(lam * slack))
    if qp.m:
        aw = qp.rows @ w
        primal = max(primal, float(np.max(np.maximum(qp.rl - aw, aw - qp.ru), initial=0.0)))
        eq = qp.rl == qp.ru
        up = np.where(np.isfinite(qp.ru), qp.ru - aw, np.inf)
        down = np.where(np.isfinite(qp.rl), aw - qp.rl, np.inf)
        with np.errstate(invalid="ignore"):  # 0 x inf where a row has no such side
            gap = np.where(pi > 0, pi * up, np.where(pi < 0, -pi * down, 0.0))
        gap = np.where(eq, 0.0, np.nan_to_num(gap, nan=0.0, posinf=1e300))
        comp = max(comp, float(np.max(np.abs(gap), initial=0.0)))
    return Kkt(primal, dual_max, comp)


def initial_set(ws: Workspace, w: np.ndarray, lam: float = 0.0, pi: np.ndarray | None = None) -> ActiveSet:
    """The active set a point suggests: coordinates within a hair of a breakpoint are fixed there."""
    qp = ws.qp
    ptol, _ = tolerances(ws)
    w = np.clip(w, qp.lo, qp.hi)
    n = qp.n
    pos = np.zeros(n, dtype=np.int64)
    for j in range(_MAX_BREAKS):
        valid = j < ws.counts
        at = valid & (np.abs(w - ws.bp[:, j]) <= 1e3 * ptol)
        above = valid & (w > ws.bp[:, j] + 1e3 * ptol) & (j < ws.counts - 1)
        pos = np.where(above, 2 * j + 1, pos)
        pos = np.where(at, 2 * j, pos)
    pos = np.minimum(pos, 2 * ws.counts - 2)
    gross_on = qp.gross is not None and float(np.abs(w).sum()) >= qp.gross - 1e3 * ptol
    side = np.zeros(qp.m, dtype=np.int8)
    if qp.m:
        aw = qp.rows @ w
        side[aw >= qp.ru - 1e3 * ptol] = 1
        side[aw <= qp.rl + 1e3 * ptol] = -1
        side[qp.rl == qp.ru] = 2
    return ActiveSet(pos, gross_on, side, lam, np.zeros(qp.m) if pi is None else pi.copy())


def update(
    ws: Workspace, st: ActiveSet, w: np.ndarray, lam: float, pi: np.ndarray, sy: _System | None = None
) -> ActiveSet:
    """One primal-dual active-set step: free coordinates that left their segment are fixed at the breakpoint
    they crossed; fixed ones whose subgradient condition fails move into the segment it points to;
    constraints with a wrong-signed multiplier are released, violated ones made active."""
    qp = ws.qp
    ptol, dtol = ws.ptol, ws.dtol
    if sy is None:
        sy = _system(ws, st)
    fixed, k = ~sy.free, sy.seg
    rows = np.arange(qp.n)
    seg_lo = ws.bp[rows, k]
    seg_hi = ws.bp[rows, np.minimum(k + 1, _MAX_BREAKS - 1)]
    pos = st.pos.copy()
    pos = np.where(~fixed & (w < seg_lo - ptol), 2 * k, pos)
    pos = np.where(~fixed & (w > seg_hi + ptol), 2 * k + 2, pos)
    g = gradient(ws, w, pi)
    left, right = _kink_slopes(ws, w, max(lam, 0.0))
    pos = np.where(fixed & (-g > right + dtol), pos + 1, pos)
    pos = np.where(fixed & (-g < left - dtol), pos - 1, pos)
    gross_on = st.gross_on
    if qp.gross is not None:
        if gross_on and lam < -dtol:
            gross_on = False
        elif not gross_on and float(np.abs(w).sum()) > qp.gross + ptol:
            gross_on = True
    side = st.row_side.copy()
    if qp.m:
        aw = qp.rows @ w
        side[(side == 1) & (pi < -dtol)] = 0
        side[(side == -1) & (pi > dtol)] = 0
        side[(side == 0) & (aw > qp.ru + ptol)] = 1
        side[(side == 0) & (aw < qp.rl - ptol)] = -1
    return ActiveSet(pos, gross_on, side, lam, pi)


@dataclass(frozen=True, slots=True)
class CoreSolution:
    w: np.ndarray
    lam: float
    pi: np.ndarray
    active: ActiveSet
    iterations: int
    converged: bool
    kkt: Kkt


def active_set(ws: Workspace, start: ActiveSet, max_iter: int = 60) -> CoreSolution:
    """Primal-dual active-set iterations from ``start`` until the set no longer changes and the solution
    on it satisfies the KKT conditions; stops (converged False) on a cycle or after ``max_iter``."""
    st = start
    seen: set[bytes] = set()
    ptol, dtol = tolerances(ws)
    for it in range(1, max_iter + 1):
        seen.add(st.key())
        sy = _system(ws, st)
        w, lam, pi = solve_on(ws, st, sy)
        nxt = update(ws, st, w, lam, pi, sy)
        if nxt.key() == st.key():
            res = kkt(ws, w, lam, pi)
            ok = res.primal <= 10 * ptol and res.dual <= 1e3 * dtol
            return CoreSolution(w, lam, pi, nxt, it, ok, res)
        if nxt.key() in seen:
            return CoreSolution(w, lam, pi, nxt, it, False, kkt(ws, w, lam, pi))
        st = nxt
    return CoreSolution(w, lam, pi, st, max_iter, False, kkt(ws, w, lam, pi))
