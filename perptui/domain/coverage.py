"""How much of a perp's funding history the cache holds: prints held vs expected per window. Pure.

A window of N days (``(asof - N days, asof]``, as ``funding_stats`` reads it) on a market that settles
every ``h`` hours holds ``N x 24 / h`` prints when complete. Intervals change (Binance moves a volatile
perp from 8h to 4h; SOL settled every 2h in Nov 2022), so the expected count is not simply that: each
held print stands for the period its own interval settles (``FundingHistoryStats.unsettled_ms``), and
only the time no held print settles (a hole between pages, the start of the window before the history,
the time since the newest print) is expected to hold prints at the market's interval ``h``. A window
holding fewer than expected rests on holes: an exchange that served only its newest page, a backfill cut
short. It is still complete with one print less (the newest may not be published or fetched yet); with
the interval unknown, nothing can be expected and the window is not called complete. A gap shorter than
the longest interval (8h) reads as a longer interval, not as missing prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from perptui.domain.funding_stats import WINDOWS, FundingHistoryStats
from perptui.domain.timeframes import HOUR_MS

#: Prints a complete window may lack: the newest one, settled but not yet published or fetched.
SLACK_PRINTS = 1


@dataclass(frozen=True, slots=True)
class WindowCoverage:
    days: int
    prints: int  # held in the cache
    expected: int | None  # None: the funding interval is unknown

    @property
    def complete(self) -> bool:
        return self.expected is not None and self.prints >= self.expected - SLACK_PRINTS

    @property
    def label(self) -> str:
        """``7d``, ``30d``: the window's key in JSON."""
        return f"{self.days}d"

    def as_dict(self) -> dict[str, object]:
        return {"prints": self.prints, "expected": self.expected, "complete": self.complete}


def expected_prints(days: int, interval_h: float | None) -> int | None:
    """The prints a complete window of ``days`` holds at one print every ``interval_h`` hours."""
    if interval_h is None or not interval_h > 0:
        return None
    return round(days * 24 / interval_h)


def window_coverage(
    stats: FundingHistoryStats | None, interval_h: float | None, windows: Sequence[int] = WINDOWS
) -> tuple[WindowCoverage, ...]:
    """Each window's coverage from the statistics of the history (``stats.asof`` ends the windows)."""
    return tuple(_window(stats, interval_h, days) for days in windows)


def _window(stats: FundingHistoryStats | None, interval_h: float | None, days: int) -> WindowCoverage:
    held = stats.prints.get(days, 0) if stats is not None else 0
    if stats is None or not held or stats.last_time is None or interval_h is None or not interval_h > 0:
        return WindowCoverage(days, held, expected_prints(days, interval_h))
    period = interval_h * HOUR_MS
    holes = round(stats.unsettled_ms.get(days, 0) / period)
    since_newest = math.floor(max(0, stats.asof - stats.last_time) / period)
    return WindowCoverage(days, held, held + max(0, holes) + since_newest)


def coverage_dict(coverage: Sequence[WindowCoverage]) -> dict[str, dict[str, object]]:
    """The JSON shape: ``{"7d": {"prints": 21, "expected": 21, "complete": true}, ...}``."""
    return {c.label: c.as_dict() for c in coverage}


def coverage_text(coverage: Sequence[WindowCoverage]) -> str:
    """``21/21 · 90/90 · 100/270`` (``100/?`` when the interval is unknown)."""
    return " · ".join(f"{c.prints}/{'?' if c.expected is None else c.expected}" for c in coverage)


def held_share(coverage: WindowCoverage) -> float | None:
    """Prints held as a share of those expected (at most 1); None when nothing is expected."""
    if not coverage.expected:
        return None
    return min(1.0, coverage.prints / coverage.expected)
