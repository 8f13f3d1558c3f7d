"""The cache's retention (issue 20): what is kept of each self-written series, applied a bounded step at
a time as the writers write, and all at once by ``perptui cache prune``."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perptui.domain.retention import DAY_MS, HOUR_MS, Retention, equity_kept, first_of_each_hour
from perptui.domain.types import Ticker
from perptui.services.store import Store
from perptui.services.store import risk_events as events
from perptui.services.store.migrations import MIGRATIONS, migrate
from tests.cli_helpers import run_json

EX = "binanceusdm"
T0 = 1_748_736_000_000  # 2025-06-01T00:00Z
MINUTE = 60_000
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def snap(symbol: str, time: int, mark: float | None = 100.0) -> Ticker:
    return Ticker(symbol, time, 100.0, mark, 100.0, 1e6, None, None)


def stored_times(store: Store, symbol: str = BTC) -> list[int]:
    with store.reading() as conn:
        rows = conn.execute("SELECT time FROM tickers WHERE symbol = ? ORDER BY time", (symbol,))
        return [t for (t,) in rows]


# --- the rules --------------------------------------------------------------------------------------


@given(st.lists(st.integers(0, 10 * DAY_MS), max_size=200))
def test_thinning_keeps_exactly_the_first_snapshot_of_each_hour(times: list[int]) -> None:
    kept = first_of_each_hour(times)
    assert {t // HOUR_MS for t in kept} == {t // HOUR_MS for t in times}  # every hour still has one
    assert all(min(x for x in times if x // HOUR_MS == k // HOUR_MS) == k for k in kept)


def _max_drawdown(values: list[float]) -> float:
    peak, worst = float("-inf"), 0.0
    for v in values:
        peak = max(peak, v)
        worst = max(worst, (peak - v) / peak)
    return worst


def _across_hours(rows: list[tuple[int, float]]) -> float:
    """The largest fall from one hour's high to a later hour's low."""
    hours = sorted({t // HOUR_MS for t, _ in rows})
    high = {h: max(e for t, e in rows if t // HOUR_MS == h) for h in hours}
    low = {h: min(e for t, e in rows if t // HOUR_MS == h) for h in hours}
    return max(
        [(high[a] - low[b]) / high[a] for i, a in enumerate(hours) for b in hours[i + 1 :]], default=0.0
    )


@given(st.lists(st.tuples(st.integers(0, 2 * DAY_MS), st.floats(1_000, 10_000)), min_size=1, max_size=120,
                unique_by=lambda r: r[0]))  # fmt: skip
def test_thinned_equity_keeps_the_extremes_and_every_fall_across_hours(rows: list[tuple[int, float]]) -> None:
    rows.sort()
    kept = equity_kept(rows)
    thinned = [(t, e) for t, e in rows if t in kept]
    assert len(thinned) <= 4 * len({t // HOUR_MS for t, _ in rows})
    assert thinned[0] == rows[0] and thinned[-1] == rows[-1]
    assert max(e for _, e in thinned) == max(e for _, e in rows)
    assert min(e for _, e in thinned) == min(e for _, e in rows)
    full, thin = _max_drawdown([e for _, e in rows]), _max_drawdown([e for _, e in thinned])
    assert max(_across_hours(rows), 0.0) - 1e-12 <= thin <= full + 1e-12


def test_a_policy_that_would_keep_less_hourly_than_whole_is_refused() -> None:
    with pytest.raises(ValueError, match="at least as long"):
        Retention(tickers_full_ms=2 * DAY_MS, tickers_hourly_ms=DAY_MS)


# --- applied as the writers write ---------------------------------------------------------------------


def test_a_day_of_minutes_then_hourly_then_nothing(store: Store) -> None:
    store.retention = Retention(tickers_full_ms=2 * HOUR_MS, tickers_hourly_ms=6 * HOUR_MS)
    for k in range(10 * 60):  # ten hours of one snapshot a minute
        store.insert_tickers(EX, [snap(BTC, T0 + k * MINUTE)])
    now = T0 + 599 * MINUTE
    times = stored_times(store)
    whole = [t for t in times if t >= now - 2 * HOUR_MS - HOUR_MS]
    hourly = [t for t in times if t < now - 3 * HOUR_MS]
    assert len(whole) >= 120  # the last two hours (and the hour being thinned next) at full resolution
    assert all(t % HOUR_MS == 0 for t in hourly)  # older: the first of each hour only
    assert min(times) >= now - 6 * HOUR_MS - HOUR_MS  # nothing older than the hourly window
    assert store.latest_tickers(EX)[BTC].timestamp == now


def test_each_write_prunes_at_most_an_hour_of_backlog(store: Store) -> None:
    """A week of minutes written before retention existed is worked off an hour per write, not at once."""
    store.retention = Retention(tickers_hourly_ms=30 * DAY_MS)
    rows = [snap(BTC, T0 + k * MINUTE) for k in range(7 * 24 * 60)]
    with store.writing() as conn:  # as an older version left them: no pruning yet
        from perptui.services.store import snapshots

        snapshots.insert_tickers(conn, EX, rows)
    now = T0 + 7 * DAY_MS
    first = store.maintain(now, exchange=EX)
    assert first.tickers == 59  # one hour thinned: 60 snapshots -> 1
    total = store.prune_all(now)
    assert total.tickers == 6 * 24 * 59 - 59
    assert len(stored_times(store)) == 6 * 24 + 24 * 60


def test_maintain_reads_nothing_when_nothing_is_due(store: Store) -> None:
    store.insert_tickers(EX, [snap(BTC, T0)])
    statements: list[str] = []
    with store.reading() as conn:
        conn.set_trace_callback(statements.append)
    try:
        assert store.maintain(T0 + MINUTE, exchange=EX).total == 0
    finally:
        with store.reading() as conn:
            conn.set_trace_callback(None)
    assert not [s for s in statements if "retention_state" in s or "tickers" in s]


def test_latest_and_as_of_reads_across_writers_and_gaps(store: Store) -> None:
    store.insert_tickers(EX, [snap(BTC, T0), snap(ETH, T0)])
    store.insert_tickers(EX, [snap(BTC, T0 + 5 * DAY_MS)])  # ETH not written for 5 days
    store.insert_tickers(EX, [snap(ETH, T0 - DAY_MS)])  # an older snapshot arriving late
    latest = store.latest_tickers(EX)
    assert (latest[BTC].timestamp, latest[ETH].timestamp) == (T0 + 5 * DAY_MS, T0)
    before = store.latest_tickers(EX, T0 + 4 * DAY_MS)
    assert (before[BTC].timestamp, before[ETH].timestamp) == (T0, T0)  # found four days back
    assert store.latest_tickers(EX, T0 - DAY_MS) == {ETH: snap(ETH, T0 - DAY_MS)}  # BTC: none yet
    assert store.latest_tickers(EX, T0 - 2 * DAY_MS) == {}


def test_a_snapshot_without_a_mark_leaves_the_last_mark_readable(store: Store) -> None:
    from perptui.services.store.paper_book import latest_mark

    store.insert_tickers(EX, [snap(BTC, T0, mark=101.0)])
    store.insert_tickers(EX, [snap(BTC, T0 + MINUTE, mark=None)])
    with store.reading() as conn:
        assert latest_mark(conn, EX, BTC) == (T0, 101.0)


def test_equity_is_thinned_after_a_week(store: Store) -> None:
    store.retention = Retention(equity_full_ms=DAY_MS)
    for k in range(3 * 24 * 60):
        store.record_equity("paper", T0 + k * MINUTE, 5_000.0 + (k % 60), 5_000.0)
    rows = store.load_equity("paper")
    end = rows[-1][0]
    old = [t for t, _ in rows if t < end - 2 * DAY_MS]
    assert len(old) <= 4 * 24 and {t // HOUR_MS for t in old} == {(T0 // HOUR_MS) + h for h in range(24)}
    assert len([t for t, _ in rows if t > end - DAY_MS]) == 24 * 60


def test_the_event_log_is_capped_but_keeps_what_is_in_force(store: Store) -> None:
    store.retention = Retention(events_max_age_ms=30 * DAY_MS, events_max_count=100)
    with store.writing() as conn:
        events.log_event(conn, "paper", T0, events.BREAKER_TRIP, "critical", "old trip")
        for k in range(300):
            events.log_event(conn, "paper", T0 + k * HOUR_MS, "daily_loss", "warning", f"alert {k}", BTC)
    now = T0 + 300 * HOUR_MS
    store.prune_all(now)
    with store.reading() as conn:
        kept = events.load_events(conn, "paper")
    assert len(kept) <= 100 + 1
    assert kept[-1].message == "alert 299"
    assert any(e.kind == events.BREAKER_TRIP for e in kept)  # the newest of its kind survives the age cap


# --- the migration --------------------------------------------------------------------------------


def test_an_older_cache_migrates_its_snapshots_to_the_time_first_layout(tmp_path: Path) -> None:
    path = tmp_path / "v6.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        migrate(con, path, upto=6)
        con.executemany(
            "INSERT INTO tickers (exchange, symbol, time, last, mark) VALUES (?, ?, ?, ?, ?)",
            [
                (EX, BTC, 0, 1.0, 1.0),
                (EX, BTC, T0, 2.0, 2.0),
                (EX, BTC, T0 + MINUTE, 3.0, 3.0),
                (EX, ETH, T0, 4.0, None),
            ],
        )
    with Store.open(path) as store:
        assert store.schema_version == MIGRATIONS[-1].version
        latest = store.latest_tickers(EX)
        assert (latest[BTC].timestamp, latest[BTC].last, latest[ETH].last) == (T0 + MINUTE, 3.0, 4.0)
        assert stored_times(store) == [T0, T0 + MINUTE]  # the timeless row of an old version is gone
        assert store.latest_tickers(EX, T0)[BTC].last == 2.0


# --- the commands ---------------------------------------------------------------------------------


def test_cache_stats_and_prune(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-08T00:00")
    with Store.open(path) as store, store.writing() as conn:
        from perptui.services.store import snapshots

        snapshots.insert_tickers(conn, "demo", [snap(BTC, T0 + k * MINUTE) for k in range(3 * 24 * 60)])
    stats = run_json(capsys, "cache", "stats", "--json")
    tickers = next(t for t in stats["tables"] if t["table"] == "tickers")
    assert (tickers["rows"], tickers["first"], tickers["last"]) == (
        3 * 24 * 60,
        T0,
        T0 + (3 * 24 * 60 - 1) * MINUTE,
    )
    assert tickers["bytes"] > 0 and stats["retention"]["tickers_full_hours"] == 24
    pruned = run_json(capsys, "cache", "prune", "--vacuum", "--json")
    assert pruned["removed"]["tickers"] == 3 * 24 * 60 - 3 * 24  # all older than a day before 06-08: hourly
    assert pruned["after_bytes"]["file"] < pruned["before_bytes"]["file"]
    assert pruned["after_bytes"]["wal"] == 0
