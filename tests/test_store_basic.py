"""Store: round trips, idempotent upserts, updates of changed values, snapshots, cache age, counts."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from perptui.domain.errors import StoreError
from perptui.domain.types import Candle, FundingPrint, LeverageTier, Market, Ticker
from perptui.services.store import Store, latest_version

EX = "binanceusdm"
BTC = "BTC/USDT:USDT"
TIERS = (
    LeverageTier(0.0, 50_000.0, 0.004, 0.0, 125.0),
    LeverageTier(50_000.0, 600_000.0, 0.005, 50.0, 100.0),
    LeverageTier(600_000.0, math.inf, 0.01, 3_050.0, 50.0),
)


def market(symbol: str = BTC, tiers: tuple[LeverageTier, ...] = TIERS, approximate: bool = False) -> Market:
    base = symbol.split("/")[0]
    return Market(
        exchange=EX,
        symbol=symbol,
        id=f"{base}USDT",
        base=base,
        quote="USDT",
        settle="USDT",
        amount_step=0.001,
        price_tick=0.1,
        min_qty=0.001,
        max_qty=1000.0,
        min_notional=5.0,
        taker_fee=0.0005,
        maker_fee=0.0002,
        max_leverage=125.0,
        funding_interval_hours=8.0,
        spot_symbol=f"{base}/USDT",
        tiers=tiers,
        tiers_approximate=approximate,
    )


@pytest.fixture
def store() -> Store:
    with Store.open(":memory:") as s:
        yield s


def test_open_creates_parent_folders_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "cache.db"
    with Store.open(path) as store:
        assert store.path == path
        assert store.schema_version == latest_version()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x70657270
    conn.close()


def test_importing_the_store_creates_nothing(tmp_path: Path) -> None:
    code = "import perptui.services.store, perptui.services.backfill, perptui.services.importers"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    assert list(tmp_path.iterdir()) == []


def test_closed_store_raises_store_error() -> None:
    store = Store.open(":memory:")
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        store.load_markets(EX)


def test_funding_upsert_is_idempotent_and_times_are_floored(store: Store) -> None:
    prints = [
        FundingPrint(BTC, 1_577_836_800_000 + i * 28_800_000 + i % 17, 1e-4 * (i % 5)) for i in range(100)
    ]
    assert store.upsert_funding(EX, prints) == 100
    assert store.upsert_funding(EX, prints) == 0
    assert store.upsert_funding(EX, list(reversed(prints))) == 0
    got = store.load_funding(EX, BTC)
    assert [p.time for p in got] == [1_577_836_800_000 + i * 28_800_000 for i in range(100)]
    assert store.funding_bounds(EX, BTC) == (got[0].time, got[-1].time)
    assert store.load_funding(EX, BTC, since=got[10].time, until=got[20].time) == got[10:20]
    assert store.counts(EX)["funding"] == 100
    # The same print 5 ms later (as ccxt may report it) is the same row; a changed rate updates it.
    assert store.upsert_funding(EX, [FundingPrint(BTC, got[3].time + 5, 0.01)]) == 0
    assert store.load_funding(EX, BTC)[3].rate == 0.01
    assert store.load_funding(EX, "ETH/USDT:USDT") == [] and store.funding_bounds(EX, "ETH/USDT:USDT") is None


def test_funding_of_several_symbols_in_one_call(store: Store) -> None:
    eth = "ETH/USDT:USDT"
    prints = [
        FundingPrint(BTC if i % 2 else eth, 1_600_000_000_000 + (i // 2) * 3_600_000, i * 1e-6)
        for i in range(40)
    ]
    assert store.upsert_funding(EX, prints) == 40
    assert len(store.load_funding(EX, BTC)) == len(store.load_funding(EX, eth)) == 20
    assert store.upsert_funding("bybit", prints[:4]) == 4  # another exchange is another series


def test_ohlcv_upsert_updates_a_changed_bar(store: Store) -> None:
    bars = [Candle(1_600_000_000_000 + i * 3_600_000, 10, 12, 9, 11, 100 + i) for i in range(50)]
    assert store.upsert_ohlcv(EX, BTC, "1h", bars) == 50
    assert store.upsert_ohlcv(EX, BTC, "1h", bars) == 0
    final = Candle(bars[-1].time, 10, 13, 8, 12.5, 999)
    assert store.upsert_ohlcv(EX, BTC, "1h", [*bars[-3:-1], final]) == 0
    assert store.load_ohlcv(EX, BTC, "1h")[-1] == final
    assert store.ohlcv_bounds(EX, BTC, "1h") == (bars[0].time, bars[-1].time)
    assert store.load_ohlcv(EX, BTC, "8h") == []
    # Overlapping batch: only the new rows count as added.
    more = [Candle(bars[-1].time + i * 3_600_000, 1, 2, 0.5, 1.5, 1) for i in range(1, 11)]
    assert store.upsert_ohlcv(EX, BTC, "1h", bars[40:] + more) == 10


def test_markets_round_trip_with_tiers(store: Store) -> None:
    eth = market("ETH/USDT:USDT", tiers=())
    assert store.upsert_markets(EX, [market(), eth], fetched_at=1_000) == 2
    loaded = store.load_markets(EX)
    assert [m.symbol for m in loaded] == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert loaded[0] == market()
    assert loaded[1].tiers == ()
    assert loaded[0].as_dict()["tiers"][-1]["max_notional"] is None
    assert store.load_tiers(EX) == {BTC: list(TIERS)}
    assert store.load_tiers(EX, [BTC, "XRP/USDT:USDT"]) == {BTC: list(TIERS)}
    assert store.load_tiers(EX, []) == {}
    assert store.upsert_markets(EX, [market()], fetched_at=2_000) == 1
    assert len(store.load_markets(EX)) == 2
    assert store.load_markets("okx") == []


def test_tiers_replacement_rules(store: Store) -> None:
    real = list(TIERS)
    approx = [LeverageTier(0.0, math.inf, 0.05, 0.0, 10.0)]
    assert store.upsert_tiers(EX, BTC, approx, "approximate", 100) == 1
    assert store.upsert_tiers(EX, BTC, real, "import:tiers.json", 50) == 3  # real replaces approximate
    assert store.upsert_tiers(EX, BTC, approx, "approximate", 500) == 0  # ... and is never replaced by it
    assert store.upsert_tiers(EX, BTC, real, "import:tiers.json", 50) == 0  # identical: nothing written
    assert store.upsert_tiers(EX, BTC, real[:2], "import:old.json", 10) == 0  # older: kept
    assert store.load_tiers(EX)[BTC] == real
    assert store.upsert_tiers(EX, BTC, real[:2], "exchange", 900) == 2  # newer: replaces
    assert store.tiers_source(EX, BTC) == "exchange"
    store.upsert_markets(EX, [market(tiers=tuple(approx), approximate=True)], fetched_at=1_000)
    assert store.load_markets(EX)[0].tiers == tuple(real[:2])
    assert not store.load_markets(EX)[0].tiers_approximate


def test_approximate_tiers_are_flagged(store: Store) -> None:
    approx = (LeverageTier(0.0, math.inf, 0.05, 0.0, 10.0),)
    store.upsert_markets(EX, [market(tiers=approx, approximate=True)], fetched_at=1)
    assert store.load_markets(EX)[0].tiers_approximate


def test_tickers_latest_per_symbol(store: Store) -> None:
    rows = [
        Ticker(BTC, 1_000, last=100.0, mark=100.1),
        Ticker(BTC, 2_000, last=101.0, mark=101.1, open_interest=5.0),
        Ticker("ETH/USDT:USDT", 1_500, last=10.0),
    ]
    assert store.insert_tickers(EX, rows) == 3
    store.insert_tickers(EX, rows)
    latest = store.latest_tickers(EX)
    assert latest == {BTC: rows[1], "ETH/USDT:USDT": rows[2]}
    assert store.counts(EX)["tickers"] == 3
    assert store.cache_age_ms(EX, "tickers", now=5_000) == 3_000


def test_equity_snapshots(store: Store) -> None:
    store.record_equity("paper", 1_000, 500.0, 480.0)
    store.record_equity("paper", 2_000, 510.0)
    store.record_equity("paper", 2_000, 511.0)  # same time: replaced
    store.record_equity("other", 1_500, 1.0)
    assert store.load_equity("paper") == [(1_000, 500.0), (2_000, 511.0)]
    assert store.load_equity("paper", since=1_500) == [(2_000, 511.0)]
    assert store.counts()["equity"] == 3


def test_cache_age_and_counts(store: Store) -> None:
    assert store.cache_age_ms(EX, "markets", now=10_000) is None
    store.upsert_markets(EX, [market()], fetched_at=4_000)
    assert store.cache_age_ms(EX, "markets", now=10_000) == 6_000
    assert store.cache_age_ms(EX, "tiers", now=10_000) == 6_000
    assert store.cache_age_ms("okx", "markets", now=10_000) is None
    store.upsert_funding(EX, [FundingPrint(BTC, 1_600_000_000_000, 1e-4)], fetched_at=9_000)
    assert store.cache_age_ms(EX, "funding", now=10_000) == 1_000
    store.mark_fetched(EX, "funding", 8_000)  # never goes back in time
    assert store.cache_age_ms(EX, "funding", now=10_000) == 1_000
    with pytest.raises(ValueError, match="unknown cache kind"):
        store.cache_age_ms(EX, "nope", now=0)
    assert store.counts() == {"markets": 1, "tiers": 3, "funding": 1, "ohlcv": 0, "tickers": 0, "equity": 0}
    assert store.counts("okx")["markets"] == 0


def test_transaction_rolls_back_everything_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_funding(EX, [FundingPrint(BTC, 1_600_000_000_000, 1e-4)])
        store.upsert_ohlcv(EX, BTC, "1h", [Candle(1_600_000_000_000, 1, 2, 0.5, 1, 1)])
        raise RuntimeError("interrupted")
    assert store.counts()["funding"] == store.counts()["ohlcv"] == 0
    # The series ids created in the rolled-back transaction are not reused stale.
    assert store.upsert_funding(EX, [FundingPrint(BTC, 1_600_000_000_000, 1e-4)]) == 1
    assert len(store.load_funding(EX, BTC)) == 1


def test_nested_transaction_failure_keeps_the_outer_work(store: Store) -> None:
    with store.transaction():
        store.upsert_funding(EX, [FundingPrint(BTC, 1_600_000_000_000, 1e-4)])
        with pytest.raises(RuntimeError), store.transaction():
            store.upsert_funding(EX, [FundingPrint(BTC, 1_700_000_000_000, 1e-4)])
            raise RuntimeError
    assert [p.time for p in store.load_funding(EX, BTC)] == [1_600_000_000_000]


def test_coverage_ranges_merge(store: Store) -> None:
    store.add_coverage(EX, "funding", BTC, "", 10, 20)
    store.add_coverage(EX, "funding", BTC, "", 30, 40)
    assert store.missing(EX, "funding", BTC, "", 0, 50) == [(0, 10), (20, 30), (40, 50)]
    store.add_coverage(EX, "funding", BTC, "", 15, 30)
    assert store.coverage(EX, "funding", BTC) == [(10, 40)]
    assert store.missing(EX, "funding", BTC, "", 12, None) == [(40, None)]
    assert store.missing(EX, "funding", BTC, "", 12, 35) == []
