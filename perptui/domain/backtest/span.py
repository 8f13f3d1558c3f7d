"""The span a backtest covers unless told otherwise, shared by ``perptui backtest`` and the backtest view.

From 2021-01-01, or four years before the end when that is earlier, to the last closed bar. A sliding four
years would drop the crashes a trader most needs to see (on 2026-12-03 it would begin after FTX), so the
default reaches back far enough to hold the named stress windows (May 2021, LUNA, FTX) wherever the
history has them.
Pure: no numpy, so the UI can import it without delay.
"""

from __future__ import annotations

import math

from perptui.domain.timeframes import DAY_MS, parse_utc, timeframe_ms

DEFAULT_YEARS = 4.0
#: A default span starts no later than this: four months before the first named stress window (May 2021),
#: room for the strategies' signals and 30-day funding means to form before it.
LATEST_DEFAULT_START = parse_utc("2021-01-01", "default start")


def default_span(now_ms: int, timeframe: str, years: float = DEFAULT_YEARS) -> tuple[int, int]:
    """[since, until): from the earlier of 2021-01-01 and ``years`` before the last closed bar to that bar,
    both on the timeframe's grid."""
    tf = timeframe_ms(timeframe)
    until = now_ms - now_ms % tf
    since = min(until - math.floor(years * 365) * DAY_MS, LATEST_DEFAULT_START)
    return since - since % tf, until
