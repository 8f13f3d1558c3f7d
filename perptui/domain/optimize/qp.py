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
to the right set. At small n an iteration's cost is numpy's per-call overhead, not arithmetic, so what it
reads about each coordinate's position comes from one precomputed table (``Breaks``) in one gather.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

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
    if qp.gross is None and qp.cost <= 0:  # no kinks: [lo, hi, hi, hi]
        return out, counts
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


#: Positions of a coordinate: 2k at breakpoint k, 2k + 1 inside segment k.
_NPOS = 2 * _MAX_BREAKS - 1
_AT_BREAK, _IN_SEGMENT = 2 * np.arange(_MAX_BREAKS), 2 * np.arange(_MAX_BREAKS) + 1
#: Rows of ``Breaks.table``: at a breakpoint, its value and the left/right slopes' parts (sign of w, sign of
#: w - p, and -inf/+inf where the bound ends the range); inside a segment, its ends and the signs there.
(FIXED, VALUE, SEG_LO, SEG_HI, SIGN_W, SIGN_WP, LEFT_W, LEFT_WP, LEFT_END, RIGHT_W, RIGHT_WP, RIGHT_END) = (
    range(12)
)


@dataclass(frozen=True, slots=True)
class Breaks:
    """The breakpoints and, for every coordinate and position, what an iteration reads there, so one
    gather (``at``) replaces a dozen small array operations per iteration. Free positions have segment
    ends +-inf in the kink-slope rows and fixed ones +-inf segment ends, so the step tests need no masks."""

    bp: np.ndarray
    counts: np.ndarray
    table: np.ndarray
    offset: np.ndarray
    is_break: np.ndarray  # (n x 4) breakpoint j exists
    has_segment: np.ndarray  # (n x 4) segment j (from breakpoint j up) exists

    @classmethod
    def of(cls, qp: CoreQP) -> Breaks:
        bp, counts = breakpoints(qp)
        n, p = qp.n, qp.p[:, None]
        tab = np.zeros((12, n, _NPOS))
        tab[[SEG_LO, LEFT_END]] = -np.inf
        tab[[SEG_HI, RIGHT_END]] = np.inf
        at = tab[:, :, 0::2]  # at breakpoint k (position 2k): the one-sided slopes of the kinks there
        at[FIXED] = 1.0
        at[VALUE] = bp
        at[LEFT_END] = np.where(bp <= qp.lo[:, None], -np.inf, 0.0)
        at[RIGHT_END] = np.where(bp >= qp.hi[:, None], np.inf, 0.0)
        inside = tab[:, :, 1::2]  # inside segment k (position 2k + 1): its ends, the signs of w and w - p
        inside[SEG_LO], inside[SEG_HI] = bp[:, :-1], bp[:, 1:]
        mid = 0.5 * (bp[:, :-1] + bp[:, 1:])
        if qp.gross is not None:  # the sign rows are read only when their kink exists
            at[LEFT_W], at[RIGHT_W] = np.where(bp <= 0, -1.0, 1.0), np.where(bp >= 0, 1.0, -1.0)
            inside[SIGN_W] = np.sign(mid)
        if qp.cost > 0:
            at[LEFT_WP], at[RIGHT_WP] = np.where(bp <= p, -1.0, 1.0), np.where(bp >= p, 1.0, -1.0)
            inside[SIGN_WP] = np.sign(mid - p)
        j = np.arange(_MAX_BREAKS)
        offset = np.arange(n) * _NPOS
        return cls(
            bp, counts, tab.reshape(12, n * _NPOS), offset, j < counts[:, None], j < counts[:, None] - 1
        )

    def at(self, pos: np.ndarray) -> np.ndarray:
        """The table's 12 rows at each coordinate's position."""
        return self.table[:, self.offset + pos]


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
    risk aversion (the searches along the frontier) share them when ``factors`` is shared (and ``breaks``
    when the bounds, the gross cap's presence and the turnover term are the same)."""

    qp: CoreQP
    breaks: Breaks
    H: np.ndarray
    ptol: float
    dtol: float
    factors: dict[tuple[bytes, float], np.ndarray | None]
    inequalities: bool
    _rows: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def of(cls, qp: CoreQP, factors: dict | None = None, breaks: Breaks | None = None) -> Workspace:
        H = qp.hessian()
        wmax = max(float(np.abs(qp.lo).max()), float(np.abs(qp.hi).max()), 1e-12)
        gscale = (float(np.abs(qp.q).max()) if qp.n else 0.0) + float(np.abs(H).max(initial=0.0)) * wmax
        ptol, dtol = 1e-10 * max(wmax, 1.0), 1e-10 * max(gscale + qp.cost, 1e-12)
        breaks = breaks if breaks is not None else Breaks.of(qp)
        inequalities = bool((qp.rl != qp.ru).any())
        return cls(qp, breaks, H, ptol, dtol, {} if factors is None else factors, inequalities)

    @property
    def bp(self) -> np.ndarray:
        return self.breaks.bp

    @property
    def counts(self) -> np.ndarray:
        return self.breaks.counts

    def active_rows(self, side: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indices, rows, the bound each holds at) of the rows ``side`` makes active; cached per side."""
        key = side.tobytes()
        found = self._rows.get(key)
        if found is None:
            qp = self.qp
            idx = side.nonzero()[0]
            bound = np.where(side[idx] == -1, qp.rl[idx], qp.ru[idx])
            found = self._rows[key] = (idx, qp.rows[idx], bound)
        return found

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
        chol = self.factors.get(key, False)
        if chol is False:
            if len(self.factors) > 512:
                self.factors.clear()
            nf = int(free.sum())
            m = np.eye(nf) if ratio == np.inf else qp.base[free][:, free]
            if 0 < ratio < np.inf:
                m[np.diag_indices(nf)] += ratio
            chol, info = _POTRF(m, lower=False, clean=False, overwrite_a=True)
            chol = self.factors[key] = chol if info == 0 else None
        return cast(np.ndarray | None, chol), c  # False (not cached) was replaced just above


def tolerances(ws: Workspace) -> tuple[float, float]:
    """(primal, dual) tolerances scaled to the problem's weights and gradients."""
    return ws.ptol, ws.dtol


@dataclass(frozen=True, slots=True)
class _System:
    """The linear system of an active set: free mask, fixed weights, border rows and their right sides,
    the linear term on the free coordinates -(q_F + c t_F), the multiplier guesses, and the breakpoint
    table's rows at the set's positions (``Breaks.at``, read again by ``update``)."""

    free: np.ndarray
    cols: np.ndarray
    wx: np.ndarray
    borders: np.ndarray
    rhs_b: np.ndarray
    lin: np.ndarray
    guess: np.ndarray
    active_rows: np.ndarray


def _system(ws: Workspace, st: ActiveSet) -> _System:
    qp = ws.qp
    cols = ws.breaks.at(st.pos)
    free = cols[FIXED] == 0.0
    wx = cols[VALUE]
    active_rows, rows, bound = ws.active_rows(st.row_side)
    borders = rows[:, free]
    rhs_b = bound - rows @ wx
    guess = st.pi[active_rows] if st.pi.size else np.zeros(active_rows.size)
    if st.gross_on:
        borders = np.vstack([cols[SIGN_W][free], borders])
        rhs_b = np.concatenate([[float(qp.gross) - float(np.abs(wx).sum())], rhs_b])  # type: ignore[arg-type]  # gross_on: a gross cap is set
        guess = np.concatenate([[st.lam], guess])
    lin = -qp.q[free]
    if qp.cost:
        lin -= qp.cost * cols[SIGN_WP][free]
    return _System(free, cols, wx, borders, rhs_b, lin, guess, active_rows)


def bordered(
    chol: np.ndarray, c: float, borders: np.ndarray, r: np.ndarray, rhs_b: np.ndarray, guess: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Solve [c M, B'; B, 0] (x, y) = (r, rhs_b) with M = chol'chol; multipliers the system leaves free
    keep ``guess``. One border row (the common case: the net or the gross constraint) is a division."""
    nb = borders.shape[0]
    if not nb:
        return POTRS(chol, r, lower=False)[0] / c, guess
    hr = POTRS(chol, r, lower=False)[0] / c
    hb = POTRS(chol, borders.T, lower=False)[0] / c
    m = borders @ hb
    v = borders @ hr - rhs_b
    if nb == 1:
        y = v / m[0, 0] if m[0, 0] != 0.0 else guess
        return hr - hb @ y, y
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
        r_f = sy.lin - (ws.H @ wx)[free]
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
        w0[free], y0 = bordered(chol, 1.0, sy.borders, -(qp.base @ wx)[free], sy.rhs_b, zero)
        w1[free], y1 = bordered(chol, 1.0, sy.borders, sy.lin, zero, sy.guess)
    return AffinePath(w0, w1, y0, y1), sy


def _kink_slopes(ws: Workspace, w: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Left and right derivatives of lam|w_i| + c|w_i - p_i| at w (infinite at the bounds)."""
    qp = ws.qp
    left = np.where(w <= 0, -lam, lam)
    right = np.where(w >= 0, lam, -lam)
    if qp.cost:
        p = qp.p
        left += np.where(w <= p, -qp.cost, qp.cost)
        right += np.where(w >= p, qp.cost, -qp.cost)
    left[w <= qp.lo] = -np.inf
    right[w >= qp.hi] = np.inf
    return left, right


def gradient(ws: Workspace, w: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Gradient of the smooth part plus the rows' term: Hw + q + A'pi."""
    g = ws.H @ w
    g += ws.qp.q
    if ws.qp.m:
        g += pi @ ws.qp.rows
    return g


def kkt(ws: Workspace, w: np.ndarray, lam: float, pi: np.ndarray) -> Kkt:
    """How far (w, lambda, pi) is from optimal, whatever active set produced it."""
    qp = ws.qp
    g = gradient(ws, w, pi)
    left, right = _kink_slopes(ws, w, max(lam, 0.0))
    dual_max = max(float((left + g).max()), float((-g - right).max()), 0.0)  # -g must lie in [left, right]
    primal = max(float((qp.lo - w).max()), float((w - qp.hi).max()), 0.0)
    comp = 0.0
    if qp.gross is not None:
        slack = qp.gross - float(np.abs(w).sum())
        primal = max(primal, -slack)
        dual_max = max(dual_max, -lam)
        comp = max(comp, abs(lam * slack))
    if qp.m:
        aw = qp.rows @ w
        primal = max(primal, float((qp.rl - aw).max()), float((aw - qp.ru).max()))
        if ws.inequalities:  # equality rows have no complementarity gap
            # the slack on the side pi pushes against (inf where that side is open), times |pi|
            row_slack = np.where(pi > 0, qp.ru - aw, np.where(pi < 0, aw - qp.rl, 0.0))
            gap = np.where(qp.rl == qp.ru, 0.0, np.minimum(np.abs(pi) * row_slack, 1e300))
            comp = max(comp, float(np.abs(gap).max()))
    return Kkt(primal, dual_max, comp)


def initial_set(ws: Workspace, w: np.ndarray, lam: float = 0.0, pi: np.ndarray | None = None) -> ActiveSet:
    """The active set a point suggests: coordinates within a hair of a breakpoint are fixed there."""
    qp = ws.qp
    tol = 1e3 * ws.ptol
    w = np.clip(w, qp.lo, qp.hi)
    br = ws.breaks
    gap = w[:, None] - br.bp
    at = br.is_break & (np.abs(gap) <= tol)
    above = br.has_segment & (gap > tol)
    # the last breakpoint the weight sits at (2j) or is above (2j + 1)
    pos = np.where(at, _AT_BREAK, np.where(above, _IN_SEGMENT, 0)).max(axis=1)
    gross_on = qp.gross is not None and float(np.abs(w).sum()) >= qp.gross - tol
    side = np.zeros(qp.m, dtype=np.int8)
    if qp.m:
        aw = qp.rows @ w
        side[aw >= qp.ru - tol] = 1
        side[aw <= qp.rl + tol] = -1
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
    c = sy.cols
    g = gradient(ws, w, pi)
    left, right = c[LEFT_END], c[RIGHT_END]  # -inf and +inf on free coordinates
    if lam > 0:
        left, right = left + lam * c[LEFT_W], right + lam * c[RIGHT_W]
    if qp.cost:
        left, right = left + qp.cost * c[LEFT_WP], right + qp.cost * c[RIGHT_WP]
    g = -g
    up = (w > c[SEG_HI] + ptol) | (g > right + dtol)
    down = (w < c[SEG_LO] - ptol) | (g < left - dtol)
    pos = st.pos + up - down
    gross_on = st.gross_on
    if qp.gross is not None:
        if gross_on and lam < -dtol:
            gross_on = False
        elif not gross_on and float(np.abs(w).sum()) > qp.gross + ptol:
            gross_on = True
    side = st.row_side
    if ws.inequalities:
        side = side.copy()
        aw = qp.rows @ w
        side[(side == 1) & (pi < -dtol)] = 0
        side[(side == -1) & (pi > dtol)] = 0
        side[(side == 0) & (aw > qp.ru + ptol)] = 1
        side[(side == 0) & (aw < qp.rl - ptol)] = -1
    return ActiveSet(pos, gross_on, side, lam, pi)


def margins(
    ws: Workspace, st: ActiveSet, sy: _System, w: np.ndarray, lam: float, pi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """How far each condition that keeps ``st`` optimal is from failing, as (primal, dual) slacks (+inf where
    a condition is not the kind or does not apply), laid out [down (n), up (n), gross, rows (m), rows (m)]:
    a coordinate leaving its segment or its kink's subgradient range downward / upward, the gross cap
    (its multiplier when on, its slack when off), each row's release (multiplier) or lower side, its upper
    side. ``step`` applies the change a failing slack calls for. Along the risk-aversion path the primal
    slacks are affine in s = 1 / delta and the dual ones are after multiplying by s."""
    qp, n, m = ws.qp, ws.qp.n, ws.qp.m
    c = sy.cols
    inf = np.full(1 + 2 * m, np.inf)
    g = -gradient(ws, w, pi)
    left, right = c[LEFT_END], c[RIGHT_END]
    if lam > 0:
        left, right = left + lam * c[LEFT_W], right + lam * c[RIGHT_W]
    if qp.cost:
        left, right = left + qp.cost * c[LEFT_WP], right + qp.cost * c[RIGHT_WP]
    primal = np.concatenate([w - c[SEG_LO], c[SEG_HI] - w, inf])
    dual = np.concatenate([g - left, right - g, inf])
    if qp.gross is not None:
        if st.gross_on:
            dual[2 * n] = lam
        else:
            primal[2 * n] = qp.gross - float(np.abs(w).sum())
    if m:
        aw, side = qp.rows @ w, st.row_side
        lower, upper = slice(2 * n + 1, 2 * n + 1 + m), slice(2 * n + 1 + m, None)
        primal[lower] = np.where(side == 0, aw - qp.rl, np.inf)
        primal[upper] = np.where(side == 0, qp.ru - aw, np.inf)
        dual[lower] = np.where(side == 1, pi, np.where(side == -1, -pi, np.inf))
    return primal, dual


def step(ws: Workspace, st: ActiveSet, failing: np.ndarray) -> ActiveSet:
    """The active set after the conditions at ``failing`` (indices into ``margins``' layout) fail."""
    n, m = ws.qp.n, ws.qp.m
    pos = st.pos.copy()
    pos[failing[failing < n]] -= 1
    pos[failing[(failing >= n) & (failing < 2 * n)] - n] += 1
    gross_on = st.gross_on != bool((failing == 2 * n).any())
    side = st.row_side.copy()
    for k in failing[failing > 2 * n]:
        r = (k - 2 * n - 1) % m
        if k < 2 * n + 1 + m:
            side[r] = -1 if side[r] == 0 else 0
        else:
            side[r] = 1
    return ActiveSet(pos, gross_on, side, st.lam, st.pi)


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
    key = st.key()
    for it in range(1, max_iter + 1):
        seen.add(key)
        sy = _system(ws, st)
        w, lam, pi = solve_on(ws, st, sy)
        nxt = update(ws, st, w, lam, pi, sy)
        nxt_key = nxt.key()
        if nxt_key == key:
            res = kkt(ws, w, lam, pi)
            ok = res.primal <= 10 * ptol and res.dual <= 1e3 * dtol
            return CoreSolution(w, lam, pi, nxt, it, ok, res)
        if nxt_key in seen:
            return CoreSolution(w, lam, pi, nxt, it, False, kkt(ws, w, lam, pi))
        st, key = nxt, nxt_key
    return CoreSolution(w, lam, pi, st, max_iter, False, kkt(ws, w, lam, pi))
