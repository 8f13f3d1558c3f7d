"""Funding statistics of every symbol at every bar close, causal and vectorised. Pure (numpy).

``trailing_apr`` is ``funding_stats.history_stats``' mean APR (the plan's ``mean_funding_apr``) as of
each bar's close: the sum of the rates printed in (t - days, t] x 365 / days, None (NaN here) when the
history does not cover the window or has gone stale, by the same rules, with any positive number of
days. The sums come from a running total, so they agree with the plan's to rounding (1e-12), not bit
for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.funding_stats import MAX_INTERVAL_H, SLACK_MS, STALE_GRACE_MS, print_intervals
from perptui.domain.timeframes import DAY_MS, HOUR_MS


@dataclass(frozen=True, slots=True)
class Prints:
    """One symbol's funding prints (times ascending, ms) and their running total (``total[j]`` = the sum
    of the first j rates)."""

    time: np.ndarray
    rate: np.ndarray
    total: np.ndarray


def prints_by_symbol(history: MarketHistory) -> list[Prints]:
    order = np.argsort(history.funding_symbol, kind="stable")  # times stay ascending within a symbol
    sym = history.funding_symbol[order]
    bounds = np.searchsorted(sym, np.arange(len(history.symbols) + 1))
    t_all, r_all = history.funding_time[order], history.funding_rate[order]
    out = []
    for i in range(len(history.symbols)):
        t = t_all[bounds[i] : bounds[i + 1]].astype(np.int64)
        r = r_all[bounds[i] : bounds[i + 1]].astype(float)
        out.append(Prints(t, r, np.concatenate(([0.0], np.cumsum(r)))))
    return out


def decision_times(history: MarketHistory) -> np.ndarray:
    """Row r's as-of time: the close of bar r, when the decision for bar r + 1 is taken."""
    return history.times.astype(np.int64) + history.bar_ms


def trailing_apr(history: MarketHistory, days: float, prints: list[Prints] | None = None) -> np.ndarray:
    """(T, N): row r = the mean funding APR over the ``days`` before the close of bar r (see above)."""
    prints = prints_by_symbol(history) if prints is None else prints
    asof = decision_times(history)
    out = np.full((len(asof), len(prints)), np.nan)
    span = days * DAY_MS
    for i, p in enumerate(prints):
        if len(p.time) == 0:
            continue
        out[:, i] = _trailing_one(p, asof, span, days)
    return out


def _trailing_one(p: Prints, asof: np.ndarray, span: float, days: float) -> np.ndarray:
    t = p.time
    full = print_intervals(t)
    # The newest print's interval as history_stats sees it (no later print to fall back on).
    spacing = np.rint(np.diff(t) / HOUR_MS)
    prev = np.concatenate(([np.nan], spacing))
    with np.errstate(invalid="ignore"):
        last_h = np.where((prev > 0) & (prev <= MAX_INTERVAL_H), prev, MAX_INTERVAL_H)
    start = asof - span
    upto = np.searchsorted(t, asof, side="right")
    lo = np.searchsorted(t, start, side="right")
    ok = (upto > 0) & (lo < upto)
    last = np.clip(upto - 1, 0, None)
    lo_c = np.clip(lo, 0, len(t) - 1)
    fresh = asof - t[last] <= last_h[last] * HOUR_MS + STALE_GRACE_MS
    h_lo = np.where(lo_c == last, last_h[lo_c], full[lo_c])
    covered = t[0] <= start + h_lo * HOUR_MS + SLACK_MS
    mean = (p.total[upto] - p.total[np.minimum(lo, upto)]) * 365.0 / days
    return np.where(ok & fresh & covered, mean, np.nan)


def daily_income(p: Prints, now: int, days: float, sign: float = 1.0) -> np.ndarray:
    """Funding earned per unit of notional in each day of the ``days`` ending at ``now`` (oldest first;
    ceil(days) buckets, the oldest one partial when days is fractional): the plan's ``daily_income``."""
    buckets = max(1, math.ceil(days))
    start = now - days * DAY_MS
    lo, hi = np.searchsorted(p.time, [start, now], side="right")
    t, r = p.time[lo:hi], p.rate[lo:hi]
    idx = (buckets - 1 - (now - t) // DAY_MS).astype(np.int64)
    return np.bincount(idx, weights=sign * r, minlength=buckets)[:buckets]
