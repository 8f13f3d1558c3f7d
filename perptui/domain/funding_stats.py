"""Statistics of a perp's funding history over windows ending at an as-of time. Pure (numpy).

Definitions (shared/docs/domain.md, "Funding"):

- A window of N days ending at ``t`` holds the prints with time in ``(t - N days, t]``.
- Mean APR = sum of the window's rates x 365 / N: what a position held through the window earned,
  whatever the interval (with complete 8h data it equals mean(rate) x 1095).
- Each print is annualised by its own interval, the spacing from the previous print (the period it
  settles): ``rate x 24 / interval_h x 365``. The std (sample, ddof = 1), the z-score and the share of
  positive prints use these annualised prints, so 1h, 4h and 8h periods compare.
- A window counts only when the history reaches back to its start: the first print of the series is no
  later than the window's start plus the first print's interval (a minute of slack for settlement lag).
  Otherwise every figure of that window is None: not enough history, never a made-up number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perptui.domain.timeframes import DAY_MS, HOUR_MS

WINDOWS: tuple[int, ...] = (7, 30, 90)
#: The longest funding interval any exchange uses; a larger spacing means prints are missing.
MAX_INTERVAL_H = 8.0
#: Settlement times carry some lag (Binance: up to tens of ms); allow this much when checking coverage.
SLACK_MS = 60_000


@dataclass(frozen=True, slots=True)
class FundingHistoryStats:
    asof: int
    mean_apr: dict[int, float | None]  # by window length in days
    std_apr_30d: float | None
    pct_positive_30d: float | None
    zscore_30d: float | None
    longest_run_30d: int | None  # the longest run of same-sign prints in the 30-day window
    longest_run_sign_30d: int | None  # +1, -1 (or 0 for a run of zero rates)
    prints_30d: int
    #: The last print at or before ``asof`` (the current rate when computing as of a past time).
    last_rate: float | None
    last_time: int | None
    last_interval_h: float | None


def print_intervals(times: np.ndarray, fallback_h: float | None = None) -> np.ndarray:
    """Each print's interval in hours: the spacing from the previous print, rounded to whole hours.

    A spacing beyond ``MAX_INTERVAL_H`` (missing prints) or the first print use the spacing to the next
    print instead, else ``fallback_h``, else ``MAX_INTERVAL_H``; NaN never comes out."""
    n = len(times)
    if n == 0:
        return np.empty(0)
    spacing = np.rint(np.diff(times) / HOUR_MS)
    prev = np.concatenate(([np.nan], spacing))
    nxt = np.concatenate((spacing, [np.nan]))
    default = fallback_h if fallback_h and fallback_h > 0 else MAX_INTERVAL_H
    good = lambda a: (a > 0) & (a <= MAX_INTERVAL_H)  # noqa: E731
    return np.where(good(prev), prev, np.where(good(nxt), nxt, default))


def annualised(rates: np.ndarray, intervals_h: np.ndarray) -> np.ndarray:
    return rates * (24.0 / intervals_h) * 365.0


def longest_run(values: np.ndarray) -> tuple[int, int] | None:
    """(length, sign) of the longest run of same-sign values; ties go to the most recent run."""
    if len(values) == 0:
        return None
    signs = np.sign(values)
    edges = np.flatnonzero(np.diff(signs)) + 1
    starts = np.concatenate(([0], edges))
    lengths = np.diff(np.concatenate((starts, [len(signs)])))
    best = len(lengths) - 1 - int(np.argmax(lengths[::-1]))
    return int(lengths[best]), int(signs[starts[best]])


def history_stats(
    times: Sequence[int] | np.ndarray,
    rates: Sequence[float] | np.ndarray,
    asof: int,
    *,
    current_apr: float | None = None,
    fallback_interval_h: float | None = None,
    windows: Sequence[int] = WINDOWS,
) -> FundingHistoryStats:
    """Statistics of the prints (``times`` ascending, ms) as of ``asof``.

    ``current_apr`` is the current rate annualised, for the z-score; None uses the last print at or
    before ``asof``."""
    t_all = np.asarray(times, dtype=np.int64)
    r_all = np.asarray(rates, dtype=np.float64)
    upto = int(np.searchsorted(t_all, asof, side="right"))
    t, r = t_all[:upto], r_all[:upto]
    h = print_intervals(t, fallback_interval_h)
    first = int(t[0]) if len(t) else None
    last_rate = float(r[-1]) if len(r) else None
    last_interval = float(h[-1]) if len(h) else None
    if current_apr is None and last_rate is not None and last_interval:
        current_apr = last_rate * 24.0 / last_interval * 365.0

    def window(days: int) -> slice | None:
        start = asof - days * DAY_MS
        lo = int(np.searchsorted(t, start, side="right"))
        if first is None or lo >= len(t):
            return None
        if first > start + h[lo] * HOUR_MS + SLACK_MS:
            return None  # the history starts inside the window
        return slice(lo, len(t))

    means: dict[int, float | None] = {}
    for days in windows:
        w = window(days)
        means[days] = float(r[w].sum() * 365.0 / days) if w is not None else None

    std = pct_pos = z = None
    run: tuple[int, int] | None = None
    count = 0
    w30 = window(30)
    if w30 is not None:
        a = annualised(r[w30], h[w30])
        count = len(a)
        pct_pos = float((r[w30] > 0).mean())
        run = longest_run(r[w30])
        if count >= 2:
            std = float(a.std(ddof=1))
            if std > 0 and current_apr is not None:
                z = float((current_apr - a.mean()) / std)
    return FundingHistoryStats(
        asof=asof,
        mean_apr=means,
        std_apr_30d=std,
        pct_positive_30d=pct_pos,
        zscore_30d=z,
        longest_run_30d=run[0] if run else None,
        longest_run_sign_30d=run[1] if run else None,
        prints_30d=count,
        last_rate=last_rate,
        last_time=int(t[-1]) if len(t) else None,
        last_interval_h=last_interval,
    )
