"""Backfill: resume after the newest row, fill older data, open bars, sources that misbehave."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from perptui.domain.types import FundingPrint
from perptui.services.backfill import backfill_funding, backfill_ohlcv
from perptui.services.store import Store
from tests.backfill_source import HOUR, START, StepSource

SYM = "AAA/USDT:USDT"
DAY = 24 * HOUR


def floored(prints: list[FundingPrint]) -> list[FundingPrint]:
    return [FundingPrint(p.symbol, p.time - p.time % 1000, p.rate) for p in prints]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def run(coro):
    return asyncio.run(coro)


def test_funding_backfill_then_resume_fetches_only_new(store: Store) -> None:
    src = StepSource(now=START + 10 * DAY, page=7)
    progress: list[tuple[int, int]] = []
    added = run(backfill_funding(src, store, SYM, START, None, lambda n, c: progress.append((n, c))))
    expected = floored(src.all_funding(SYM))
    assert added == len(expected) == 30
    assert store.load_funding(src.name, SYM) == expected
    assert progress[-1][0] == added and [c for _, c in progress] == sorted(c for _, c in progress)

    # Nothing new: one request after the newest stored print, nothing added.
    src.calls.clear()
    assert run(backfill_funding(src, store, SYM, START, None)) == 0
    assert len(src.calls) == 1 and src.calls[0][1] > expected[-1].time

    # Three days later: only the new prints are requested and added.
    src.now += 3 * DAY
    src.calls.clear()
    assert run(backfill_funding(src, store, SYM, START, None)) == 9
    assert min(since for _, since, _ in src.calls) > expected[-1].time
    assert store.load_funding(src.name, SYM) == floored(src.all_funding(SYM))
    assert store.cache_age_ms(src.name, "funding", src.now) == 0


def test_older_data_is_filled_when_asked_for(store: Store) -> None:
    src = StepSource(now=START + 20 * DAY, page=5)
    mid = START + 10 * DAY
    run(backfill_funding(src, store, SYM, mid, None))
    assert store.funding_bounds(src.name, SYM)[0] >= mid
    src.calls.clear()
    added = run(backfill_funding(src, store, SYM, START, None))
    assert added == 30
    assert store.load_funding(src.name, SYM) == floored(src.all_funding(SYM))
    # The older fill stops at the oldest stored print; the newer side costs one empty request, open-ended
    # up to the clock's now.
    assert all(until <= mid + 1000 or until == src.now + 1 for _, _, until in src.calls)


def test_a_page_that_skips_ahead_of_the_cursor_leaves_its_hole_open(store: Store) -> None:
    """A source serving the newest page of the window (OKX through ccxt's unified call) must not get the
    window recorded as complete: the hole is asked for again until the prints in it are stored."""
    src = StepSource(now=START + 10 * DAY, page=7, newest_page=True)
    first = run(backfill_funding(src, store, SYM, START, None))
    assert first == 7  # the newest 7 of 30
    assert store.missing(src.name, "funding", SYM, "", START, None)[0][0] == START
    src.newest_page = False  # the source is fixed (or the outage is over): the rest arrives
    assert run(backfill_funding(src, store, SYM, START, None)) == 23
    assert store.load_funding(src.name, SYM) == floored(src.all_funding(SYM))


def test_interrupted_older_fill_leaves_no_gap(store: Store) -> None:
    """A fill of older data stopped half-way must be completed by the rerun, not skipped."""
    src = StepSource(now=START + 20 * DAY, page=4)
    run(backfill_funding(src, store, SYM, START + 15 * DAY, None))

    class Boom(Exception):
        pass

    def stop_after_two_pages(n: int, cursor: int) -> None:
        if n >= 8:
            raise Boom

    with pytest.raises(Boom):
        run(backfill_funding(src, store, SYM, START, None, stop_after_two_pages))
    stored = store.load_funding(src.name, SYM)
    assert len(stored) < len(src.all_funding(SYM))  # a hole between the old fill and the newer rows
    run(backfill_funding(src, store, SYM, START, None))
    assert store.load_funding(src.name, SYM) == floored(src.all_funding(SYM))


def test_until_is_exclusive_and_since_inclusive(store: Store) -> None:
    src = StepSource(now=START + 10 * DAY, page=50)
    since, until = START + 8 * HOUR, START + 5 * DAY
    run(backfill_funding(src, store, SYM, since, until))
    got = store.load_funding(src.name, SYM)
    want = floored([p for p in src.all_funding(SYM) if since <= p.time < until])
    assert got == want
    assert run(backfill_funding(src, store, SYM, since, until)) == 0
    assert run(backfill_funding(src, store, SYM, until, until)) == 0


def test_source_returning_the_same_page_does_not_loop(store: Store) -> None:
    src = StepSource(now=START + 10 * DAY, page=6, repeat_first_page=True)
    added = run(backfill_funding(src, store, SYM, START, None))
    assert added == 6
    assert len(src.calls) == 2  # the second page brought nothing at or after the cursor
    src.calls.clear()
    assert run(backfill_ohlcv(src, store, SYM, "1h", START, None)) == 6
    assert len(src.calls) == 2


def test_open_bar_is_stored_then_overwritten(store: Store) -> None:
    now = START + 2 * DAY + 20 * 60_000  # 20 minutes into a bar
    src = StepSource(now=now, page=10)
    added = run(backfill_ohlcv(src, store, SYM, "1h", START, None))
    bars = store.load_ohlcv(src.name, SYM, "1h")
    assert added == len(bars) == 49
    open_bar = bars[-1]
    assert open_bar == src.all_bars(SYM)[-1] and open_bar.time + HOUR > now
    # Coverage stops before the open bar, so it is fetched again.
    assert store.coverage(src.name, "ohlcv", SYM, "1h")[-1][1] <= open_bar.time

    src.now = now + 3 * HOUR
    src.calls.clear()
    assert run(backfill_ohlcv(src, store, SYM, "1h", START, None)) == 3
    assert src.calls[0][1] == open_bar.time  # resumes at the once-open bar
    bars = store.load_ohlcv(src.name, SYM, "1h")
    assert bars == src.all_bars(SYM)
    assert bars[48] != open_bar and bars[48].volume == 1048.0  # the final values replaced the partial ones
    times = [b.time for b in bars]
    assert times == list(range(START, START + len(times) * HOUR, HOUR))


def test_rows_stored_without_coverage_resume_after_newest(store: Store) -> None:
    src = StepSource(now=START + 10 * DAY, page=100)
    first = src.all_funding(SYM)[:10]
    store.upsert_funding(src.name, first)
    assert store.coverage(src.name, "funding", SYM) == []
    src.calls.clear()
    added = run(backfill_funding(src, store, SYM, START, None))
    assert added == len(src.all_funding(SYM)) - 10
    assert src.calls[0][1] > first[-1].time - first[-1].time % 1000


def test_spot_ohlcv_is_its_own_series(store: Store) -> None:
    src = StepSource(now=START + DAY, page=100)
    run(backfill_ohlcv(src, store, "AAA/USDT", "1h", START, None))
    assert store.load_ohlcv(src.name, SYM, "1h") == []
    assert len(store.load_ohlcv(src.name, "AAA/USDT", "1h")) == 25
