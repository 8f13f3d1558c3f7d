"""Funding: an hourly premium index and Binance's clamp formula.

The premium (a price premium of the perp over the index, in 8h funding units) is the sum of:
a negative mean (Binance's premium index sits around -0.04%), 2-day price momentum (rallies lift it more
than dips lower it), fast AR(1) noise, a slow mood shared with the whole market that sometimes runs hot
(bull manias) and sometimes turns funding negative for weeks, and rare spikes (squeezes and
capitulations) that fade within hours. A print averages the premium over its interval and
applies ``F = P + clamp(I - P, -0.05%, +0.05%)``, so whenever the premium is calm the print is exactly the
interest rate I = 0.01% per 8h, then clamps to the market's cap. A k-hour market prints ``F * k / 8``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perptui.services.demo.prices import SLOW_STEP, slow_ar1
from perptui.services.demo.rng import ar1
from perptui.services.demo.universe import CoinSpec

INTEREST_8H = 0.0001
CLAMP_8H = 0.0005
RATE_DECIMALS = 8  # exchanges publish funding rates with 8 decimals

_NOISE_PHI = 0.97  # with the slow parts, an 8h print's autocorrelation is ~0.8, like BTCUSDT's
_MOMENTUM_LAMBDA = 1.0 - 1.0 / 48.0  # 2-day momentum
_MOMENTUM_SD = math.sqrt((1 - _MOMENTUM_LAMBDA) / (1 + _MOMENTUM_LAMBDA))
_REGIME_PHI = 0.998**SLOW_STEP
_SPIKE_PHI = 0.85  # spikes fade within a few hours
_MAX_PREMIUM = 0.05


@dataclass(slots=True)
class PremiumState:
    noise: float = 0.0
    momentum: float = 0.0
    regime: float = 0.0
    spike: float = 0.0


def premium_block(
    spec: CoinSpec, rng: np.random.Generator, ret_z: np.ndarray, sentiment: np.ndarray, st: PremiumState
) -> tuple[np.ndarray, PremiumState]:
    """One block of the hourly premium (8h funding units). ``sentiment`` is the market-wide mood."""
    n = len(ret_z)
    p = spec.params
    eps = rng.standard_normal(n)
    own = slow_ar1(rng, _REGIME_PHI, st.regime, n)
    u = rng.random(n)
    spike = u < p.spike_prob
    signs = rng.random(int(spike.sum()))  # drawn last: their count varies
    mags = rng.standard_normal(len(signs))

    noise = ar1(p.premium_sd * math.sqrt(1 - _NOISE_PHI**2) * eps, _NOISE_PHI, st.noise)
    momentum = ar1((1 - _MOMENTUM_LAMBDA) * np.clip(ret_z, -6, 6), _MOMENTUM_LAMBDA, st.momentum)
    m = momentum / _MOMENTUM_SD
    mom_term = p.momentum_coef * np.where(m > 0, 1.5 * m, 0.6 * m)  # rallies crowd longs more than dips
    g = 0.75 * sentiment + 0.66 * own
    mood = (
        p.sentiment * g
        + p.bull * np.sqrt(np.maximum(g - 1.2, 0.0))  # manias: funding well above the floor
        - p.regime_depth * np.maximum(-g - 1.0, 0.0)  # bear regimes flip funding negative for weeks
    )
    if len(signs) or abs(st.spike) > 1e-15:
        jumps = np.zeros(n)
        jumps[spike] = np.where(signs < 0.5, -1.0, 1.0) * p.spike_size * np.exp(0.6 * mags)
        spikes = ar1(jumps, _SPIKE_PHI, st.spike)
    else:
        spikes = np.zeros(n)  # most blocks of a large cap have no spike at all
    premium = np.clip(p.premium_mu + noise + mom_term + mood + spikes, -_MAX_PREMIUM, _MAX_PREMIUM)
    new = PremiumState(float(noise[-1]), float(momentum[-1]), float(own[-1]), float(spikes[-1]))
    return premium, new


def funding_from_premium(premium: np.ndarray | float, interval_h: int, cap8: float) -> np.ndarray:
    """Binance's formula on an average premium (8h units), scaled to a k-hour print and rounded."""
    prem = np.asarray(premium, dtype=float)
    diff = INTEREST_8H - prem
    f8 = np.where(np.abs(diff) <= CLAMP_8H, INTEREST_8H, np.where(diff > 0, prem + CLAMP_8H, prem - CLAMP_8H))
    f8 = np.clip(f8, -cap8, cap8)
    return np.round(f8 * (interval_h / 8.0), RATE_DECIMALS)


def print_schedule(spec: CoinSpec, origin_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Print times (ms, UTC-aligned) in (origin, end] and each print's interval in hours."""
    hour = 3_600_000
    times: list[np.ndarray] = []
    intervals: list[np.ndarray] = []
    start = origin_ms
    segments: list[tuple[int, int, int]] = []
    if spec.interval_change is not None and origin_ms < spec.interval_change[0] < end_ms:
        segments.append((start, spec.interval_change[0], spec.interval_h))
        segments.append((spec.interval_change[0], end_ms, spec.interval_change[1]))
    else:
        segments.append((start, end_ms, spec.interval_at(origin_ms)))
    for lo, hi, k in segments:
        step = k * hour
        first = (lo // step + 1) * step
        t = np.arange(first, hi + 1, step, dtype=np.int64)
        times.append(t)
        intervals.append(np.full(len(t), k, dtype=np.int64))
    return np.concatenate(times), np.concatenate(intervals)


def prints_from_premium(
    spec: CoinSpec, premium: np.ndarray, origin_ms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All settled prints covered by ``premium`` (hourly from origin): times, rates, intervals.

    The print at T settles the hours [T - k, T); each window's sum uses only its own hours, so a print
    never changes when more history is generated.
    """
    hour = 3_600_000
    end_ms = origin_ms + len(premium) * hour
    times, intervals = print_schedule(spec, origin_ms, end_ms)
    starts = (times - origin_ms) // hour - intervals
    # Cut the array where the last window ends, so every window (the last too) is summed the same way.
    sums = np.add.reduceat(premium[: int(starts[-1] + intervals[-1])], starts)
    avg = sums / intervals
    rates = np.empty(len(times))
    for k in np.unique(intervals):
        mask = intervals == k
        rates[mask] = funding_from_premium(avg[mask], int(k), spec.params.funding_cap8)
    return times, rates, intervals
