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
  It also has to reach the as-of time: the newest print at or before ``asof`` is at most its own
  interval plus ``STALE_GRACE_MS`` older (a cache not refreshed for a day would otherwise give a 7-day
  mean of six days of prints). Otherwise every figure of that window is None: not enough history,
  never a made-up number.

``history_stats`` computes one series; ``history_stats_many`` computes many at once on concatenated
arrays (what the scanner uses: 500 perps in a few ms) and gives exactly the same numbers, bit for bit:
the order-sensitive sums are the same numpy reductions over the same slices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from perptui.domain.timeframes import DAY_MS, HOUR_MS

WINDOWS: tuple[int, ...] = (7, 30, 90)
#: The longest funding interval any exchange uses; a larger spacing means prints are missing.
MAX_INTERVAL_H = 8.0
#: Settlement times carry some lag (Binance: up to tens of ms); allow this much when checking coverage.
SLACK_MS = 60_000
#: How much later than one interval after the newest print the as-of time may be before the history
#: counts as not reaching it (the exchange publishes a print late, the backfill has not run yet).
STALE_GRACE_MS = HOUR_MS


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
    #: Prints held in each window ``(asof - N days, asof]``, by N, whether or not the window counts.
    prints: dict[int, int] = field(default_factory=dict)
    #: Of each window's span from its start to its newest print, the ms no held print settles (each print
    #: settles the period of its own interval before it): the holes, where prints are missing.
    unsettled_ms: dict[int, int] = field(default_factory=dict)


def settled_spans(times: np.ndarray, intervals_h: np.ndarray, start: int) -> np.ndarray:
    """The ms of ``(start, time]`` each print settles: its own interval before it, cut at ``start``."""
    return times - np.maximum(start, times - (intervals_h * HOUR_MS).astype(np.int64))


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

    fresh = len(t) > 0 and asof - int(t[-1]) <= h[-1] * HOUR_MS + STALE_GRACE_MS

    def window(days: int) -> slice | None:
        start = asof - days * DAY_MS
        lo = int(np.searchsorted(t, start, side="right"))
        if first is None or lo >= len(t) or not fresh:
            return None
        if first > start + h[lo] * HOUR_MS + SLACK_MS:
            return None  # the history starts inside the window
        return slice(lo, len(t))

    means: dict[int, float | None] = {}
    held: dict[int, int] = {}
    unsettled: dict[int, int] = {}
    for days in windows:
        w = window(days)
        means[days] = float(r[w].sum() * 365.0 / days) if w is not None else None
        start = asof - days * DAY_MS
        lo = int(np.searchsorted(t, start, side="right"))
        held[days] = len(t) - lo
        if held[days]:
            unsettled[days] = int(t[-1]) - start - int(settled_spans(t[lo:], h[lo:], start).sum())

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
        prints=held,
        unsettled_ms=unsettled,
    )


def history_stats_many(
    series: Mapping[str, tuple[Sequence[int] | np.ndarray, Sequence[float] | np.ndarray]],
    asof: int,
    *,
    symbols: Sequence[str] | None = None,
    current_apr: Mapping[str, float | None] | None = None,
    fallback_interval_h: Mapping[str, float | None] | None = None,
    windows: Sequence[int] = WINDOWS,
) -> dict[str, FundingHistoryStats]:
    """``history_stats`` of many series at once, with exactly its results.

    ``series``: symbol -> (times ascending, rates); ``symbols``: whose stats to compute (default: every
    key; a symbol without a series gets the stats of an empty history); ``current_apr`` and
    ``fallback_interval_h``: per symbol, as ``history_stats`` takes them (missing = None).

    Everything element-wise (intervals, annualised prints, window bounds, coverage, runs of same-sign
    prints) runs once over the concatenated arrays; only the sums whose rounding depends on the order
    of the additions are taken per series, as the numpy reductions over the same slices that
    ``history_stats`` reduces, so the two agree bit for bit."""
    names = list(series) if symbols is None else list(symbols)
    current = current_apr or {}
    fallbacks = fallback_interval_h or {}
    empty: tuple[Sequence[int], Sequence[float]] = ((), ())
    columns = [series.get(name, empty) for name in names]
    lengths = np.fromiter((len(c[0]) for c in columns), dtype=np.int64, count=len(names))
    total = int(lengths.sum())
    t = np.fromiter(chain.from_iterable(c[0] for c in columns), dtype=np.int64, count=total)
    r = np.fromiter(chain.from_iterable(c[1] for c in columns), dtype=np.float64, count=total)
    at = _SegmentSearch(t, lengths, asof - max(windows, default=0) * DAY_MS, asof)
    upto = at.count_upto(asof)  # only prints at or before asof count: a prefix of each series
    if int(upto.sum()) < total:
        keep = np.repeat(upto, lengths) > np.arange(total) - np.repeat(at.starts, lengths)
        t, r, lengths = t[keep], r[keep], upto
        at = _SegmentSearch(t, lengths, at.low, asof)
    starts, ends = at.starts, at.starts + lengths
    has = lengths > 0
    last = np.where(has, ends - 1, 0)

    # Each print's interval (print_intervals, series by series) and its annualised rate.
    default = np.array(
        [(f if (f := fallbacks.get(name)) and f > 0 else MAX_INTERVAL_H) for name in names], dtype=np.float64
    )
    spacing = np.rint(np.diff(t) / HOUR_MS)
    prev = np.concatenate(([np.nan], spacing))
    nxt = np.concatenate((spacing, [np.nan]))
    prev[starts[has]] = np.nan
    nxt[last[has]] = np.nan
    good_prev = (prev > 0) & (prev <= MAX_INTERVAL_H)
    good_next = (nxt > 0) & (nxt <= MAX_INTERVAL_H)
    h = np.where(good_prev, prev, np.where(good_next, nxt, np.repeat(default, lengths)))
    a = annualised(r, h)

    # Padded by one so that indices of empty series (and of empty windows at the end) stay in range.
    t_pad = np.concatenate((t, np.zeros(1, dtype=np.int64)))
    h_pad = np.concatenate((h, [MAX_INTERVAL_H]))
    r_pad = np.concatenate((r, [0.0]))
    first = t_pad[starts]
    fresh = has & (asof - t_pad[last] <= h_pad[last] * HOUR_MS + STALE_GRACE_MS)

    def window(days: int) -> tuple[np.ndarray, np.ndarray]:
        """Each series' first index inside (asof - days, asof] and whether the window counts."""
        start = asof - days * DAY_MS
        lo = starts + at.count_upto(start)
        ok = fresh & (lo < ends)
        ok &= ~(first > start + h_pad[lo] * HOUR_MS + SLACK_MS)
        return lo, ok

    bounds = {days: window(days) for days in windows}
    lo30, ok30 = bounds[30] if 30 in bounds else window(30)
    in30 = np.flatnonzero(ok30)
    positives = _segment_sums((r > 0).astype(np.int64), lo30[in30], ends[in30])
    runs = _longest_runs(r, lo30[in30], ends[in30])
    per_30d = dict(zip(in30.tolist(), zip(positives.tolist(), *runs, strict=True), strict=True))

    add = np.add.reduce
    out: dict[str, FundingHistoryStats] = {}
    t_last, r_last, h_last = t_pad[last].tolist(), r_pad[last].tolist(), h_pad[last].tolist()
    window_lists = [(days, lo.tolist(), ok.tolist()) for days, (lo, ok) in bounds.items()]
    held_lists = [(days, (ends - lo).tolist()) for days, (lo, _) in bounds.items()]
    begins = t - (h * HOUR_MS).astype(np.int64)  # where the period each print settles began
    unsettled_lists = [
        (days, _unsettled(t, begins, lo, ends, asof - days * DAY_MS)) for days, (lo, _) in bounds.items()
    ]
    ends_list, lo30_list, has_list = ends.tolist(), lo30.tolist(), has.tolist()
    for k, name in enumerate(names):
        if not has_list[k]:
            out[name] = _empty_stats(asof, {days: None for days in windows}, windows)
            continue
        end = ends_list[k]
        last_rate, last_interval = r_last[k], h_last[k]
        cur = current.get(name)
        if cur is None and last_interval:
            cur = last_rate * 24.0 / last_interval * 365.0
        means: dict[int, float | None] = {}
        for days, lo_list, ok_list in window_lists:
            means[days] = float(add(r[lo_list[k] : end]) * 365.0 / days) if ok_list[k] else None
        std = pct_pos = z = None
        run: tuple[int, int] | None = None
        count = 0
        found = per_30d.get(k)
        if found is not None:
            w = a[lo30_list[k] : end]
            count = len(w)
            pct_pos = found[0] / count
            run = found[1], found[2]
            if count >= 2:
                mean = add(w) / count
                dev = w - mean
                std = float(np.sqrt(add(dev * dev) / (count - 1)))
                if std > 0 and cur is not None:
                    z = float((cur - mean) / std)
        out[name] = FundingHistoryStats(
            asof=asof,
            mean_apr=means,
            std_apr_30d=std,
            pct_positive_30d=pct_pos,
            zscore_30d=z,
            longest_run_30d=run[0] if run else None,
            longest_run_sign_30d=run[1] if run else None,
            prints_30d=count,
            last_rate=last_rate,
            last_time=t_last[k],
            last_interval_h=last_interval,
            prints={days: held[k] for days, held in held_lists},
            unsettled_ms={days: gaps[k] for days, gaps in unsettled_lists if k in gaps},
        )
    return out


def _empty_stats(asof: int, means: dict[int, float | None], windows: Sequence[int]) -> FundingHistoryStats:
    return FundingHistoryStats(
        asof, means, None, None, None, None, None, 0, None, None, None, {days: 0 for days in windows}
    )


def _unsettled(
    t: np.ndarray, begins: np.ndarray, lo: np.ndarray, ends: np.ndarray, start: int
) -> dict[int, int]:
    """Per series with a print in ``(start, ...]``: the ms from ``start`` to its newest print that no print
    settles (``settled_spans`` of the slices ``[lo, end)``, with ``begins`` each print's time less its
    interval; integer sums, exact in any order)."""
    some = np.flatnonzero(lo < ends)
    if len(some) == 0:
        return {}
    running = np.concatenate(([0], np.cumsum(t - np.maximum(begins, start))))
    settled = running[ends[some]] - running[lo[some]]
    newest = t[ends[some] - 1]
    return dict(zip(some.tolist(), (newest - start - settled).tolist(), strict=True))


def _segment_sums(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sums of the non-empty slices ``values[lo[k]:hi[k]]`` (integers: exact in any order)."""
    if len(lo) == 0:
        return np.zeros(0, dtype=values.dtype)
    padded = np.append(values, values[:1] * 0)
    return np.add.reduceat(padded, np.ravel((lo, hi), order="F"))[::2]


class _SegmentSearch:
    """Counts, per series of a concatenation of ascending series, the times at or before a bound.

    Each time becomes ``series index x span + (time - low)``, which ascends over the whole array, so
    one ``searchsorted`` answers every series at once (bounds below ``low`` count nothing)."""

    def __init__(self, times: np.ndarray, lengths: np.ndarray, low: int, high: int) -> None:
        self.low = min(low, int(times.min())) if len(times) else low
        top = max(high, int(times.max())) if len(times) else high
        self.span = top - self.low + 1
        self.base = np.arange(len(lengths), dtype=np.int64) * self.span
        self.keys = np.repeat(self.base, lengths) + (times - self.low)
        self.starts = np.cumsum(lengths) - lengths

    def count_upto(self, bound: int) -> np.ndarray:
        offset = bound - self.low
        if offset < 0:
            return np.zeros(len(self.base), dtype=np.int64)
        found = np.searchsorted(self.keys, self.base + offset, side="right")
        return found - self.starts


def _longest_runs(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[list[int], list[int]]:
    """``longest_run`` of each ``values[lo[k]:hi[k]]`` (non-empty, disjoint, in order): lengths, signs."""
    if len(lo) == 0:
        return [], []
    sizes = hi - lo
    offsets = np.cumsum(sizes) - sizes  # where each window starts in the gathered array
    signs = np.sign(values[np.repeat(lo - offsets, sizes) + np.arange(int(sizes.sum()))])
    breaks = np.ones(len(signs), dtype=bool)
    breaks[1:] = signs[1:] != signs[:-1]
    breaks[offsets] = True
    run_starts = np.flatnonzero(breaks)
    lengths = np.diff(np.append(run_starts, len(signs)))
    first_run = np.searchsorted(run_starts, offsets)
    longest = np.maximum.reduceat(lengths, first_run)
    is_best = lengths == np.repeat(longest, np.diff(np.append(first_run, len(run_starts))))
    best = np.maximum.reduceat(np.where(is_best, np.arange(len(run_starts)), -1), first_run)
    return lengths[best].tolist(), signs[run_starts[best]].astype(np.int64).tolist()
