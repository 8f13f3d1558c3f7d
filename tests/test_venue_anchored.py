"""anchored_history against an endpoint that serves the newest page of the window asked (Gate, KuCoin):
every print from ``since`` comes back even when the interval is shorter than expected or the market was
listed after ``since``."""

from __future__ import annotations

import asyncio

from perptui.services.exchanges.venues.anchored import HOUR_MS, anchored_history


def endpoint(times: list[int], page: int, calls: list[tuple[int, int]]):
    async def fetch(low: int, high: int) -> list[dict]:
        calls.append((low, high))
        rows = [t for t in times if low <= t <= high][-page:]
        return [{"timestamp": t, "fundingRate": 0.0001} for t in reversed(rows)]

    return fetch


def test_a_shorter_interval_than_expected_costs_requests_not_prints() -> None:
    times = [i * HOUR_MS for i in range(2_000)]  # hourly prints, the venue expects 8-hourly
    calls: list[tuple[int, int]] = []
    rows = asyncio.run(anchored_history(endpoint(times, 100, calls), 0, times[-1], 100, 8))
    got = [r["timestamp"] for r in rows]
    assert got == [t for t in times if t <= got[-1]] and len(got) > 100  # from since, no hole
    assert len(calls) > 1 and all(low == 0 for low, _ in calls)


def test_a_market_listed_after_since_is_found_by_growing_windows() -> None:
    listed = 400 * 24 * HOUR_MS
    times = [listed + i * 8 * HOUR_MS for i in range(50)]
    calls: list[tuple[int, int]] = []
    rows = asyncio.run(anchored_history(endpoint(times, 100, calls), 0, times[-1] + 1, 100, 8))
    assert [r["timestamp"] for r in rows] == times
    assert len(calls) <= 4


def test_nothing_in_the_range_is_an_empty_answer() -> None:
    calls: list[tuple[int, int]] = []
    assert asyncio.run(anchored_history(endpoint([], 100, calls), 0, 90 * 24 * HOUR_MS, 100, 8)) == []
