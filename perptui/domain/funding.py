"""Funding-rate normalisation (see shared docs/domain.md, "Funding").

Rates of markets with different intervals only compare per hour or annualised; never assume 8h.
"""

from __future__ import annotations

import itertools

HOURS_PER_YEAR = 24 * 365


def rate_per_hour(rate: float | None, interval_hours: float | None) -> float | None:
    if rate is None or not interval_hours or interval_hours <= 0:
        return None
    return rate / interval_hours


def apr(rate: float | None, interval_hours: float | None) -> float | None:
    """Simple annualised rate: rate x (24 / interval_h) x 365. Unknown interval -> unknown APR."""
    per_hour = rate_per_hour(rate, interval_hours)
    return None if per_hour is None else per_hour * HOURS_PER_YEAR


def infer_interval_hours(times_ms: list[int]) -> float | None:
    """The funding interval from the spacing of recent prints: the most common gap between the last
    prints, in hours (timestamps may carry a few ms of jitter). None with fewer than two prints."""
    if len(times_ms) < 2:
        return None
    recent = sorted(times_ms)[-9:]
    gaps = [round((b - a) / 3_600_000 * 4) / 4 for a, b in itertools.pairwise(recent)]
    gaps = [g for g in gaps if g > 0]
    if not gaps:
        return None
    # Most common gap; ties go to the latest, so a recent interval change wins.
    return max(reversed(gaps), key=gaps.count)
