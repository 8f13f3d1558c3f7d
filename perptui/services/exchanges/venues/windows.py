"""History from an endpoint that answers a time window with its NEWEST ``page`` rows (Bybit's funding
history and klines): every row of [since, end], however many the window holds.

A full page may be the newest ``page`` rows of a denser window (an interval shorter than assumed), so
the span before its oldest row is asked for again until a page comes back short, reaches ``since``, or
leaves less room before its oldest row than the page's own spacing (nothing fits there).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

Fetch = Callable[[int, int], Awaitable[list[Any]]]
"""(since, end inclusive) -> rows (any order)."""

#: Requests one stitched read may make at most (a year of 1-minute bars at 1000 a page is 526).
MAX_REQUESTS = 1000


async def every_row(
    fetch: Fetch, since: int, end: int, page: int, time_of: Callable[[Any], int]
) -> list[Any]:
    """Every row with ``since <= time <= end``, oldest first."""
    rows = await fetch(since, end)
    collected = list(rows)
    for _ in range(MAX_REQUESTS):
        if len(rows) < page:
            break
        times = sorted(time_of(r) for r in rows)
        oldest = times[0]
        spacing = min((b - a for a, b in itertools.pairwise(times) if b > a), default=0)
        if oldest <= since or oldest - since < spacing:
            break
        rows = [r for r in await fetch(since, oldest - 1) if time_of(r) < oldest]
        collected.extend(rows)
    unique = {time_of(r): r for r in collected if since <= time_of(r) <= end}
    return [unique[t] for t in sorted(unique)]


async def from_since(
    fetch: Fetch,
    since: int,
    until: int | None,
    now_ms: int,
    step_ms: int,
    page: int,
    time_of: Callable[[Any], int],
) -> list[Any]:
    """Rows from ``since`` (before ``until`` when given): the window of one page of ``step_ms`` rows, or,
    when that window is empty (a gap, or a market listed later), every row up to ``until`` (else now)."""
    last = (until - 1) if until is not None else now_ms
    if last < since:
        return []
    window_end = min(last, since + page * step_ms - 1)
    rows = await every_row(fetch, since, window_end, page, time_of)
    if rows or window_end >= last:
        return rows
    return await every_row(fetch, since, last, page, time_of)
