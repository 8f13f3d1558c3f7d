"""A primal-dual interior-point method (Mehrotra predictor-corrector) for ``CoreQP``: the cold-start path
when the active-set search does not settle. Pure (numpy).

The kinks are lifted: a_i >= |w_i| carries the gross cap (sum a <= G) and t_i >= |w_i - p_i| the
turnover cost (c sum t). Each Newton step eliminates a and t by hand (their blocks are diagonal plus one
rank-one term), leaving one n x n system: H + a diagonal + a rank-one term + the rows' terms, factored
once per iteration. The answer is accurate to ~1e-10 and is then polished to the exact solution on its
active set by ``qp.active_set``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sl

from .qp import CoreQP


@dataclass(frozen=True, slots=True)
class IpmResult:
    w: np.ndarray
    lam: float
    pi: np.ndarray
    iterations: int
    converged: bool


class _Lifted:
    """The inequality rows C x - d >= 0 over x = (w, a, t), grouped: bounds low/high, gross (a - w,
    a + w, G - sum a), turnover (t - w + p, t + w - p), rows low/high. Equalities E w = e."""

    def __init__(self, qp: CoreQP) -> None:
        self.qp = qp
        self.n = qp.n
        self.gross = qp.gross is not None
        self.turn = qp.cost > 0
        two_sided = qp.rl != qp.ru
        self.low = np.flatnonzero(two_sided & np.isfinite(qp.rl))
        self.high = np.flatnonzero(two_sided & np.isfinite(qp.ru))
        self.eq = np.flatnonzero(~two_sided)
        n = self.n
        sizes = [("bl", n), ("bh", n)]
        if self.gross:
            sizes += [("g1", n), ("g2", n), ("gG", 1)]
        if self.turn:
            sizes += [("t1", n), ("t2", n)]
        sizes += [("rl", self.low.size), ("rh", self.high.size)]
        self.sl: dict[str, slice] = {}
        start = 0
        for name, size in sizes:
            self.sl[name] = slice(start, start + size)
            start += size
        self.m = start

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.n
        a = x[n : 2 * n] if self.gross else np.zeros(0)
        t = x[n + (n if self.gross else 0) :] if self.turn else np.zeros(0)
        return x[:n], a, t

    def residual(self, x: np.ndarray) -> np.ndarray:
        """C x - d."""
        qp = self.qp
        w, a, t = self.split(x)
        parts = [w - qp.lo, qp.hi - w]
        if self.gross:
            parts += [a - w, a + w, np.array([float(qp.gross) - a.sum()])]  # type: ignore[arg-type]  # self.gross: the cap is set
        if self.turn:
            parts += [t - w + qp.p, t + w - qp.p]
        parts += [qp.rows[self.low] @ w - qp.rl[self.low], qp.ru[self.high] - qp.rows[self.high] @ w]
        return np.concatenate(parts)

    def times(self, dx: np.ndarray) -> np.ndarray:
        """C dx (no constant)."""
        qp = self.qp
        w, a, t = self.split(dx)
        parts = [w, -w]
        if self.gross:
            parts += [a - w, a + w, np.array([-a.sum()])]
        if self.turn:
            parts += [t - w, t + w]
        parts += [qp.rows[self.low] @ w, -(qp.rows[self.high] @ w)]
        return np.concatenate(parts)

    def transpose_times(self, z: np.ndarray) -> np.ndarray:
        """C' z, as one vector over (w, a, t)."""
        qp, s = self.qp, self.sl
        gw = z[s["bl"]] - z[s["bh"]] + qp.rows[self.low].T @ z[s["rl"]] - qp.rows[self.high].T @ z[s["rh"]]
        out = [gw]
        if self.gross:
            gw += z[s["g2"]] - z[s["g1"]]
            out.append(z[s["g1"]] + z[s["g2"]] - z[s["gG"]][0])
        if self.turn:
            gw += z[s["t2"]] - z[s["t1"]]
            out.append(z[s["t1"]] + z[s["t2"]])
        return np.concatenate(out)


class _Newton:
    """The reduced Newton system for one iteration's D = z / s: factored once, solved twice."""

    def __init__(self, lf: _Lifted, H: np.ndarray, d: np.ndarray) -> None:
        self.lf = lf
        qp, s = lf.qp, lf.sl
        diag = d[s["bl"]] + d[s["bh"]]
        m = H.copy()
        if lf.gross:
            d1, d2, dg = d[s["g1"]], d[s["g2"]], float(d[s["gG"]][0])
            self.alpha, self.zeta = d1 + d2, d2 - d1
            self.kappa = dg / (1.0 + dg * float(np.sum(1.0 / self.alpha)))
            diag = diag + 4.0 * d1 * d2 / self.alpha
            v = self.zeta / self.alpha
            m += self.kappa * np.outer(v, v)
        if lf.turn:
            d3, d4 = d[s["t1"]], d[s["t2"]]
            self.beta, self.eta = d3 + d4, d4 - d3
            diag = diag + 4.0 * d3 * d4 / self.beta
        for name, idx in (("rl", lf.low), ("rh", lf.high)):
            if idx.size:
                a = qp.rows[idx]
                m += a.T @ (d[s[name]][:, None] * a)
        m[np.diag_indices_from(m)] += diag
        self.factor = sl.cho_factor(m, check_finite=False)
        self.E = qp.rows[lf.eq]
        if lf.eq.size:
            self.se = sl.cho_solve(self.factor, self.E.T, check_finite=False)
            self.schur = self.E @ self.se

    def _aa_inv(self, v: np.ndarray) -> np.ndarray:
        u = v / self.alpha
        return u - self.kappa * float(u.sum()) / self.alpha

    def solve(self, r: np.ndarray, r_eq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[M E'; E 0] (dx, dy) = (r, r_eq) with M = P + C'DC."""
        lf = self.lf
        rw, ra, rt = lf.split(r)
        rhs = rw.copy()
        if lf.gross:
            rhs -= self.zeta * self._aa_inv(ra)
        if lf.turn:
            rhs -= self.eta * rt / self.beta
        base = sl.cho_solve(self.factor, rhs, check_finite=False)
        dy = np.zeros(lf.eq.size)
        if lf.eq.size:
            dy = np.linalg.lstsq(self.schur, self.E @ base - r_eq, rcond=None)[0]
            base = base - self.se @ dy
        parts = [base]
        if lf.gross:
            parts.append(self._aa_inv(ra - self.zeta * base))
        if lf.turn:
            parts.append((rt - self.eta * base) / self.beta)
        return np.concatenate(parts), dy


def _step(v: np.ndarray, dv: np.ndarray) -> float:
    """The largest step keeping v + step x dv >= 0 (may exceed 1)."""
    neg = dv < 0
    return float(np.min(-v[neg] / dv[neg], initial=np.inf))


def _direction(
    lf: _Lifted,
    newton: _Newton,
    s: np.ndarray,
    d: np.ndarray,
    res: tuple[np.ndarray, np.ndarray, np.ndarray],
    r_c: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dy, ds, dz) for the residuals (dual, primal, equality) and the complementarity target r_c."""
    r_d, r_p, r_e = res
    rhs = -r_d - lf.transpose_times(d * r_p + r_c / s)
    dx, dy = newton.solve(rhs, -r_e)
    cdx = lf.times(dx)
    return dx, dy, cdx + r_p, -d * (r_p + cdx) - r_c / s


def interior_point(qp: CoreQP, H: np.ndarray, tol: float = 1e-11, max_iter: int = 80) -> IpmResult:
    lf = _Lifted(qp)
    n = qp.n
    w0 = np.clip(0.5 * (qp.lo + qp.hi), qp.lo, qp.hi)
    parts = [w0]
    if lf.gross:
        parts.append(np.abs(w0) + 1.0)
    if lf.turn:
        parts.append(np.abs(w0 - qp.p) + 1.0)
    x = np.concatenate(parts)
    cvec = np.zeros(x.size)
    if lf.turn:
        cvec[-n:] = qp.cost
    qfull = np.concatenate([qp.q, np.zeros(x.size - n)])
    s = np.maximum(lf.residual(x), 1.0)
    z = np.ones(lf.m)
    y = np.zeros(lf.eq.size)
    E, e = qp.rows[lf.eq], qp.rl[lf.eq]
    scale = 1.0 + float(np.max(np.abs(qp.q), initial=0.0)) + qp.cost
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        w = x[:n]
        grad = qfull + cvec
        grad[:n] += H @ w
        r_d = grad - lf.transpose_times(z)
        if lf.eq.size:
            r_d[:n] += E.T @ y
        r_p = lf.residual(x) - s
        r_e = E @ w - e if lf.eq.size else np.zeros(0)
        mu = float(s @ z) / lf.m
        if (
            max(
                np.max(np.abs(r_d)) / scale,
                np.max(np.abs(r_p), initial=0.0),
                np.max(np.abs(r_e), initial=0.0),
            )
            < tol
            and mu < tol * scale
        ):
            converged = True
            break
        d = z / s
        try:
            newton = _Newton(lf, H, d)
        except np.linalg.LinAlgError:
            break

        res = (r_d, r_p, r_e)
        dx, dy, ds, dz = _direction(lf, newton, s, d, res, s * z)
        a_aff = min(1.0, _step(s, ds), _step(z, dz))
        mu_aff = float((s + a_aff * ds) @ (z + a_aff * dz)) / lf.m
        sigma = (mu_aff / mu) ** 3
        dx, dy, ds, dz = _direction(lf, newton, s, d, res, s * z + ds * dz - sigma * mu)
        a = min(1.0, 0.99 * min(_step(s, ds), _step(z, dz)))
        x, y, s, z = x + a * dx, y + a * dy, s + a * ds, z + a * dz
        s = np.maximum(s, 1e-300)
        z = np.maximum(z, 1e-300)
    w = x[:n]
    lam = float(z[lf.sl["gG"]][0]) if lf.gross else 0.0
    pi = np.zeros(qp.m)
    pi[lf.high] += z[lf.sl["rh"]]
    pi[lf.low] -= z[lf.sl["rl"]]
    pi[lf.eq] += y
    return IpmResult(w, lam, pi, it, converged)
