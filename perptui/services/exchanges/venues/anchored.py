"""Funding history from an endpoint whose page is anchored at its END time (Gate, KuCoin futures).

Such an endpoint answers ``[from, to]`` with the newest ``page_limit`` prints of that window, newest first:
asked for 90 days it serves the last weeks and nothing says the start is missing. ``anchored_history``
turns it into the adapter's contract (every print from ``since`` up to the last row returned): it asks a
window starting at ``since`` that should hold less than a page, and walks backwards inside it (``to`` set
just before the oldest print received) while pages come back full, so a shorter interval than expected
costs requests, never prints. An empty window (a market listed later, a gap) is followed by a window twice
as long, until one holds prints or the end is reached. A server that pages from ``from`` instead (oldest
first) is handled too: its full page ends the walk (nothing older than ``since`` is asked for), and the
rows returned are still every print up to the last of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

HOUR_MS = 3_600_000

#: fetch(lo_ms, hi_ms) -> ccxt funding rows with lo <= timestamp <= hi (the newest page of that window).
PageFetch = Callable[[int, int], Awaitable[list[dict[str, Any]]]]


async def anchored_history(
    fetch: PageFetch, since: int, end: int, page_limit: int, interval_hours: float | None
) -> list[dict[str, Any]]:
    """Every print in ``[since, t]`` for the last print ``t`` returned, ``t <= end`` (inclusive bound),
    oldest first; [] when ``[since, end]`` holds none."""
    # One interval less than a page: a window on the expected schedule never comes back full.
    window = int(max(page_limit - 1, 1) * (interval_hours or 8) * HOUR_MS)
    start = since
    while start <= end:
        high = min(start + window - 1, end)
        rows = await _walk_back(fetch, start, high, page_limit)
        if rows:
            return rows
        start, window = high + 1, window * 2
    return []


async def _walk_back(fetch: PageFetch, low: int, high: int, page_limit: int) -> list[dict[str, Any]]:
    collected: dict[int, dict[str, Any]] = {}
    to = high
    while to >= low:
        page = [r for r in await fetch(low, to) if r.get("timestamp") is not None]
        fresh = [r for r in page if int(r["timestamp"]) not in collected]
        for row in fresh:
            collected[int(row["timestamp"])] = row
        if len(page) < page_limit or not fresh:
            break
        oldest = min(int(r["timestamp"]) for r in page)
        if oldest <= low:
            break
        to = oldest - 1
    return [collected[t] for t in sorted(collected)]
