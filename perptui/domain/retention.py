"""What the cache keeps of the series perptui writes by itself, and for how long.

Ticker snapshots (written by the app's feed, the scanner, the paper engine and every online command) are
kept at full resolution for a day, then one per hour for 30 days, then dropped. Equity snapshots are
kept whole for a week, then thinned to the first, last, lowest and highest of each hour: the chart keeps
its shape, the series' extremes survive, and so does every fall from one hour's high to a later hour's
low (only a dip and recovery inside one hour can be lost). The risk event
log keeps a year and at most 10,000 events, and always the newest event of each kind and symbol (the
breaker's state and the alerts in force are read from those); the history of alert notifications keeps
as long and as many. Funding prints and OHLCV bars come from
the exchange, are bounded by nature and are what the statistics and backtests need: kept whole.

Pure: the store applies these rules (``services.store.retention``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each self-written series is kept, in milliseconds (the ``[cache]`` settings)."""

    tickers_full_ms: int = DAY_MS
    tickers_hourly_ms: int = 30 * DAY_MS
    equity_full_ms: int = 7 * DAY_MS
    events_max_age_ms: int = 365 * DAY_MS
    events_max_count: int = 10_000

    def __post_init__(self) -> None:
        if self.tickers_full_ms < HOUR_MS:
            raise ValueError("ticker snapshots are kept whole for at least an hour")
        if self.tickers_hourly_ms < self.tickers_full_ms:
            raise ValueError("hourly ticker snapshots are kept at least as long as whole ones")
        if self.equity_full_ms < HOUR_MS or self.events_max_age_ms < DAY_MS or self.events_max_count < 100:
            raise ValueError("equity is kept whole for an hour at least, events for a day and 100 at least")


def hour_of(time_ms: int) -> int:
    return time_ms - time_ms % HOUR_MS


def first_of_each_hour(times: Iterable[int]) -> set[int]:
    """The times kept when a series is thinned to one snapshot an hour: the first of each hour."""
    first: dict[int, int] = {}
    for t in times:
        h = hour_of(t)
        if h not in first or t < first[h]:
            first[h] = t
    return set(first.values())


def equity_kept(rows: Sequence[tuple[int, float]]) -> set[int]:
    """The times of (time, equity) snapshots kept when equity is thinned: per hour the first, the last,
    the lowest and the highest, so the series' extremes (and every fall across hours) survive."""
    hours: dict[int, list[tuple[int, float]]] = {}
    for t, e in rows:
        hours.setdefault(hour_of(t), []).append((t, e))
    kept: set[int] = set()
    for snaps in hours.values():
        snaps.sort()
        kept.add(snaps[0][0])
        kept.add(snaps[-1][0])
        kept.add(min(snaps, key=lambda s: (s[1], s[0]))[0])
        kept.add(max(snaps, key=lambda s: (s[1], -s[0]))[0])
    return kept
