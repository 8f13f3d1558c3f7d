"""Counter-based randomness and vectorised recursions for the demo market.

Every random draw is keyed by ``(seed, market key, block, stream)``, never by how much data was asked
for, so a value at time t is the same whatever "now" is (prefix stability).
"""

from __future__ import annotations

import functools
import math
import zlib

import numpy as np

_MASK64 = (1 << 64) - 1


def market_key(name: str) -> int:
    """A stable integer per market name (Python's ``hash`` is salted per process, crc32 is not)."""
    return zlib.crc32(name.encode("utf-8"))


def block_rng(seed: int, key: int, block: int, stream: int = 0) -> np.random.Generator:
    """The generator of one fixed-size block of one market's series (SFC64: the fastest numpy offers)."""
    entropy = [seed & _MASK64, key & _MASK64, block & _MASK64, stream & _MASK64]
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(entropy)))


def fat_tailed(
    z: np.ndarray, u: np.ndarray, lo: float, share: float = 0.08, scale: float = 2.2
) -> np.ndarray:
    """Unit-variance fat-tailed shocks: normal ``z`` with a ``share`` of them ``scale`` times wider.

    ``u`` is a uniform draw; the band ``[lo, lo + share)`` picks the wide ones, so the caller can reuse the
    uniform that decides jumps (``u < lo``). Kurtosis ~4.4 before volatility clustering adds more.
    """
    wide = (u >= lo) & (u < lo + share)
    norm = math.sqrt(1.0 - share + share * scale * scale)
    return np.where(wide, z * (scale / norm), z * (1.0 / norm))


def ar1(shocks: np.ndarray, phi: float, x0: float) -> np.ndarray:
    """``x_t = phi * x_(t-1) + shocks_t`` with ``x_(-1) = x0``, without a per-step Python loop.

    Uses ``x_t = phi^(t+1) x0 + phi^t * cumsum(phi^-s e_s)`` on chunks short enough that
    ``phi^-len`` stays far from overflow; the result depends only on the prefix of ``shocks``.
    """
    n = len(shocks)
    out = np.empty(n)
    if n == 0:
        return out
    if phi == 0.0:
        out[:] = shocks
        return out
    pw, inv = _powers(phi, n)
    chunk = len(pw)
    x = float(x0)
    for pos in range(0, n, chunk):
        seg = shocks[pos : pos + chunk]
        m = len(seg)
        vals = pw[:m] * (phi * x + np.cumsum(seg * inv[:m]))
        out[pos : pos + m] = vals
        x = float(vals[-1])
    return out


@functools.lru_cache(maxsize=64)
def _powers(phi: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """phi^s and phi^-s for s < chunk, the chunk kept short enough that phi^-s cannot overflow."""
    log_phi = abs(math.log(phi)) if phi != 1.0 else 0.0
    chunk = n if log_phi == 0.0 else max(1, min(n, int(500.0 / log_phi)))
    steps = np.arange(chunk, dtype=float)
    return phi**steps, phi**-steps


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def hash_uniform(*parts: int) -> float:
    """A uniform in [0, 1) from integers, for scalar noise at an arbitrary millisecond."""
    h = 0
    for p in parts:
        h = _splitmix64(h ^ (p & _MASK64))
    return (h >> 11) / float(1 << 53)
