"""The trend signals of ``perptui.domain.plan.signals`` for every bar and asset at once. Pure (numpy).

Input: a (T, N) matrix of closes with NaN where an asset has no bar. Row t of each output is the signal
the plan would compute from the asset's closes up to and including bar t (its bars only: the NaN rows
are dropped, as an exchange's list of closes has no entry for a bar that did not trade), so it may be
used for a decision at the close of bar t. NaN where the plan gives None (too few closes) and wherever
the asset has no close at t (no price at the decision, no signal).

How: each column's closes are packed to the top of a matrix (row j = the asset's j-th close), the
signals are computed along that axis with sliding windows, and unpacked back to the bar grid. The
windowed means and standard deviations reduce the same contiguous runs of numbers with the same
numpy reductions as the plan's functions, so the results agree bit for bit (a tie in the crossover
stays a tie). Windows are taken in chunks of rows to bound the memory on long hourly histories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Rows of windows reduced at once (bounds the temporary (N, rows, window) arrays).
CHUNK_ROWS = 4096


@dataclass(frozen=True, slots=True)
class Packed:
    """Each column's closes packed to the top: ``values`` is (N, T) C-contiguous with row i the i-th
    asset's closes in order then NaN; ``rank[t, i]`` the index of bar t's close in it."""

    values: np.ndarray
    rank: np.ndarray
    ok: np.ndarray  # (T, N) the asset has a close at bar t

    @classmethod
    def of(cls, closes: np.ndarray) -> Packed:
        c = np.asarray(closes, dtype=float)
        if c.ndim != 2:
            raise ValueError(f"closes must be a (bars, assets) matrix, not shape {c.shape}")
        ok = np.isfinite(c)
        rank = np.cumsum(ok, axis=0) - 1
        values = np.full((c.shape[1], c.shape[0]), np.nan)
        rows, cols = np.nonzero(ok)
        values[cols, rank[rows, cols]] = c[rows, cols]
        return cls(values, rank, ok)

    def unpack(self, packed: np.ndarray) -> np.ndarray:
        """(N, T) values by close index -> (T, N) by bar, NaN where the asset has no close."""
        out = np.full(self.ok.shape, np.nan)
        rows, cols = np.nonzero(self.ok)
        out[rows, cols] = packed[cols, self.rank[rows, cols]]
        return out


def _windowed(x: np.ndarray, window: int, reduce: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """(N, M) -> (N, M): column j = ``reduce`` of x[:, j - window + 1 .. j] (NaN for j < window - 1)."""
    n, m = x.shape
    out = np.full((n, m), np.nan)
    if m < window:
        return out
    views = np.lib.stride_tricks.sliding_window_view(x, window, axis=1)
    for lo in range(0, views.shape[1], CHUNK_ROWS):
        hi = min(lo + CHUNK_ROWS, views.shape[1])
        out[:, window - 1 + lo : window - 1 + hi] = reduce(views[:, lo:hi])
    return out


def _mean(v: np.ndarray) -> np.ndarray:
    return v.mean(axis=-1)


def _std1(v: np.ndarray) -> np.ndarray:
    return v.std(axis=-1, ddof=1)


def _shift(x: np.ndarray, by: int) -> np.ndarray:
    """x moved ``by`` columns later (column j holds x[:, j - by]), NaN in front."""
    out = np.full_like(x, np.nan)
    if by < x.shape[1]:
        out[:, by:] = x[:, : x.shape[1] - by]
    return out


def ma_crossover_packed(p: np.ndarray, fast: int, slow: int) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.sign(_windowed(p, fast, _mean) - _windowed(p, slow, _mean))


def donchian_packed(p: np.ndarray, window: int) -> np.ndarray:
    """The last breakout's sign: +1 above the prior ``window`` closes' high, -1 below their low, carried
    forward until the next one (0 before any); NaN before ``window + 1`` closes."""
    n, m = p.shape
    if m <= window:
        return np.full((n, m), np.nan)
    hi = _shift(_windowed(p, window, lambda v: v.max(axis=-1)), 1)
    lo = _shift(_windowed(p, window, lambda v: v.min(axis=-1)), 1)
    with np.errstate(invalid="ignore"):
        event = np.where(p > hi, 1.0, np.where(p < lo, -1.0, 0.0))
    idx = np.where(event != 0, np.arange(m), -1)
    np.maximum.accumulate(idx, axis=1, out=idx)
    state = np.where(idx >= 0, np.take_along_axis(event, np.maximum(idx, 0), axis=1), 0.0)
    state[:, :window] = np.nan
    return np.where(np.isfinite(p), state, np.nan)


def momentum_packed(p: np.ndarray, lookback: int) -> np.ndarray:
    """Return over ``lookback`` closes over its expected volatility, clipped to [-1, 1]; NaN with a
    close <= 0 in the span."""
    n, m = p.shape
    if m <= lookback:
        return np.full((n, m), np.nan)
    start = _shift(p, lookback)
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = p / start - 1.0
        bad = _windowed((p <= 0).astype(float), lookback + 1, lambda v: v.max(axis=-1))
        logs = np.full((n, m), np.nan)
        logs[:, 1:] = np.diff(np.log(np.where(p > 0, p, np.nan)), axis=1)
        sd = _windowed(logs, lookback, _std1) if lookback >= 2 else np.zeros((n, m))
        scaled = np.clip(ret / (sd * np.sqrt(lookback)), -1.0, 1.0)
        out = np.where(sd == 0.0, np.sign(ret), scaled)
    out[bad != 0] = np.nan
    out[:, :lookback] = np.nan
    return np.where(np.isfinite(p), out, np.nan)


@dataclass(frozen=True, slots=True)
class SignalGrid:
    """(T, N) signals on the bar grid (row t: closes up to bar t), NaN where unknown."""

    ma: np.ndarray
    donchian: np.ndarray
    momentum: np.ndarray

    @property
    def combined(self) -> np.ndarray:
        return (self.ma + self.donchian + self.momentum) / 3.0


def signal_grid(closes: np.ndarray, fast: int, slow: int, window: int, lookback: int) -> SignalGrid:
    """The three signals of every asset at every bar, where the plan's ``signals`` gives them: NaN in
    all three when any of them is unknown."""
    pk = Packed.of(closes)
    p = pk.values
    ma = ma_crossover_packed(p, fast, slow)
    dc = donchian_packed(p, window)
    mo = momentum_packed(p, lookback)
    unknown = np.isnan(ma) | np.isnan(dc) | np.isnan(mo)
    return SignalGrid(*(pk.unpack(np.where(unknown, np.nan, s)) for s in (ma, dc, mo)))


def ma_crossover(closes: np.ndarray, fast: int, slow: int) -> np.ndarray:
    pk = Packed.of(closes)
    return pk.unpack(ma_crossover_packed(pk.values, fast, slow))


def donchian(closes: np.ndarray, window: int) -> np.ndarray:
    pk = Packed.of(closes)
    return pk.unpack(donchian_packed(pk.values, window))


def momentum(closes: np.ndarray, lookback: int) -> np.ndarray:
    pk = Packed.of(closes)
    return pk.unpack(momentum_packed(pk.values, lookback))
