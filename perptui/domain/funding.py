"""Funding-rate normalisation (see shared docs/domain.md, "Funding").

Rates of markets with different intervals only compare per hour or annualised; never assume 8h.
"""

from __future__ import annotations

import itertools
from collections import Counter

from perptui.domain.timeframes import HOUR_MS

HOURS_PER_YEAR = 24 * 365


def rate_per_hour(rate: float | None, interval_hours: float | None) -> float | None:
    if rate is None or not interval_hours or interval_hours <= 0:
        return None
    return rate / interval_hours


def apr(rate: float | None, interval_hours: float | None) -> float | None:
    """Simple annualised rate: rate x (24 / interval_h) x 365. Unknown interval -> unknown APR."""
    per_hour = rate_per_hour(rate, interval_hours)
    return None if per_hour is None else per_hour * HOURS_PER_YEAR


def interval_hours_from_times(times: list[int]) -> float | None:
    """The funding interval from the spacing of settlement times (ms): the most common of the last
    three gaps, rounded to whole hours (times carry a few ms of lag); ties go to the most recent gap."""
    ordered = sorted(set(times))
    gaps = [round((b - a) / HOUR_MS) for a, b in itertools.pairwise(ordered)]
    gaps = [g for g in gaps if g > 0][-3:]
    if not gaps:
        return None
    counts = Counter(gaps)
    best = max(counts.values())
    for gap in reversed(gaps):
        if counts[gap] == best:
            return float(gap)
    return None  # pragma: no cover
