"""Importers: the real Binance files (counts checked against the files), bad rows, unreadable files."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from perptui.domain.errors import DataFileError, UsageError
from perptui.services.importers import import_funding, import_ohlcv, import_tiers, tier_symbol
from perptui.services.store import Store

EX = "binanceusdm"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def data_rows(path: Path) -> int:
    """Data rows of a CSV(.gz) file or folder, counted independently of the importer."""
    files = sorted(path.glob("*.csv*")) if path.is_dir() else [path]
    total = 0
    for f in files:
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", newline="") as fh:
            total += sum(1 for row in csv.reader(fh) if row) - 1
    return total


# --- the real files --------------------------------------------------------------------------------


def test_real_funding_files(binance_data: Path, store: Store) -> None:
    folder = binance_data / "funding"
    report = import_funding(store, EX, folder)
    assert report.files == 15
    assert report.rows_read == data_rows(folder) == 90_097
    assert report.bad_rows == []
    assert report.rows_added == 90_097
    assert store.counts(EX)["funding"] == 90_097
    btc = store.load_funding(EX, "BTC/USDT:USDT")
    assert btc[0].time == 1_577_836_800_000 and btc[0].rate == -0.00012359
    assert all(p.time % 3_600_000 == 0 for p in btc)  # the ms jitter is gone; prints are on the hour
    # Symbols from the file's symbol column, e.g. POL listed 2024-09.
    assert store.funding_bounds(EX, "POL/USDT:USDT")[0] >= 1_725_000_000_000
    again = import_funding(store, EX, folder)
    assert again.rows_added == 0 and again.rows_read == 90_097
    assert store.counts(EX)["funding"] == 90_097


def test_real_ohlcv_files(binance_data: Path, store: Store) -> None:
    perp = import_ohlcv(store, EX, binance_data / "ohlcv_8h_perp", "8h")
    spot = import_ohlcv(store, EX, binance_data / "ohlcv_8h_spot", "8h", spot=True)
    daily = import_ohlcv(store, EX, binance_data / "ohlcv_1d_perp", "1d")
    for report, folder in ((perp, "ohlcv_8h_perp"), (spot, "ohlcv_8h_spot"), (daily, "ohlcv_1d_perp")):
        assert report.files == 15
        assert report.rows_read == report.rows_added == data_rows(binance_data / folder)
        assert report.bad_rows == []
    assert perp.rows_added == 88_404 and spot.rows_added == 89_510 and daily.rows_added == 29_481
    assert store.load_ohlcv(EX, "BTC/USDT", "8h")[0].open == 7195.24
    assert store.load_ohlcv(EX, "BTC/USDT:USDT", "8h")[0].open == 7189.43
    first_day = store.load_ohlcv(EX, "BTC/USDT:USDT", "1d")[0]
    assert first_day.time == 1_577_836_800_000 and first_day.high == 7260.43
    assert import_ohlcv(store, EX, binance_data / "ohlcv_8h_perp", "8h").rows_added == 0
    assert store.counts(EX)["ohlcv"] == 88_404 + 89_510 + 29_481


@pytest.mark.slow
def test_real_1h_files_report_bars_without_trades(binance_data: Path, store: Store) -> None:
    folder = binance_data / "ohlcv_1h"
    report = import_ohlcv(store, EX, folder, "1h")
    assert report.files == 7
    assert report.rows_read == data_rows(folder) == 367_391
    # Rows of the outer-joined files where the perp had no kline (only spot or mark columns filled).
    assert len(report.bad_rows) == 6_878
    assert {b.reason for b in report.bad_rows} == {
        "empty open, high, low, close and volume (no trades in this bar)"
    }
    assert report.rows_added == 367_391 - 6_878
    last_btc = max(b.line for b in report.bad_rows if b.file.name == "BTCUSDT.csv.gz")
    assert last_btc == 1 + data_rows(folder / "BTCUSDT.csv.gz")  # the trailing mark-only rows
    assert import_ohlcv(store, EX, folder / "BTCUSDT.csv.gz", "1h").rows_added == 0


def test_real_tiers_files(binance_data: Path, store: Store) -> None:
    report = import_tiers(store, EX, binance_data / "leverage_tiers_2024-10-24.json")
    assert report.rows_read == report.rows_added == 349 and report.bad_rows == []
    tiers = store.load_tiers(EX)
    assert len(tiers) == 349
    btc = tiers["BTC/USDT:USDT"]
    assert (btc[0].min_notional, btc[0].mmr, btc[0].max_leverage) == (0.0, 0.004, 125.0)
    assert btc[1].maint_amount == 50.0
    assert all(t.max_leverage >= 1 for ts in tiers.values() for t in ts)
    assert store.tiers_source(EX, "BTC/USDT:USDT") == "import:leverage_tiers_2024-10-24.json"
    assert import_tiers(store, EX, binance_data / "leverage_tiers_2024-10-24.json").rows_added == 0

    # The 2022 file (keys like BTC/USDT) maps to the perps; where its brackets differ they are conflicts,
    # and the cached ones are kept.
    old = import_tiers(store, EX, binance_data / "leverage_tiers_2022-05-21.json")
    assert old.rows_read == 158 and old.bad_rows == []
    assert store.load_tiers(EX)["BTC/USDT:USDT"] == btc
    assert 0 < old.conflicts <= 158 - old.rows_added and not old.replaced
    assert 0 < old.rows_added < 158  # only markets the 2024 file does not list
    assert len(store.load_tiers(EX)) == 349 + old.rows_added


def test_tier_symbols() -> None:
    assert tier_symbol("BTC/USDT:USDT") == "BTC/USDT:USDT"
    assert tier_symbol("BTC/USDT") == "BTC/USDT:USDT"
    assert tier_symbol("ETHUSDT_220624") == "ETH/USDT:USDT-220624"
    assert tier_symbol("BTCSTUSDT") == "BTCST/USDT:USDT"
    assert tier_symbol("???") is None


# --- bad rows and bad files ------------------------------------------------------------------------


def test_bad_funding_rows_are_reported_with_line_numbers(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "BTCUSDT.csv"
    path.write_text(
        "fundingTime,fundingTimeUTC,symbol,fundingRate\n"  # line 1
        "1577836800000,2020-01-01 00:00,BTCUSDT,-0.00012359\n"  # 2 ok
        "1577865600003,2020-01-01 08:00,BTCUSDT,abc\n"  # 3 not a number
        "1577894400000,2020-01-01 16:00,BTCUSDT,\n"  # 4 missing rate
        "\n"  # 5 blank: not a row
        "not-a-time,2020-01-02 00:00,BTCUSDT,0.0001\n"  # 6 bad time
        "1577923200000,2020-01-02 00:00,BTCUSDT,nan\n"  # 7 NaN
        "1577952000000,2020-01-02 08:00,???,0.0001\n"  # 8 bad symbol
        "1577980800000,2020-01-02 16:00,BTCUSDT,1.5\n"  # 9 not a fraction
        "1577980800\n"  # 10 too short (seconds, no rate)
        "1578009600007,2020-01-03 00:00,ETHUSDT,0.0001\n"  # 11 ok, another symbol
    )
    report = import_funding(store, EX, path)
    assert report.rows_read == 9  # the blank line is not a row
    assert [b.line for b in report.bad_rows] == [3, 4, 6, 7, 8, 9, 10]
    assert all(b.file == path for b in report.bad_rows)
    reasons = [b.reason for b in report.bad_rows]
    assert "not a number" in reasons[0] and "missing fundingRate" in reasons[1]
    assert "not finite" in reasons[3].replace("a finite", "finite")
    assert report.rows_added == 2
    assert [p.time for p in store.load_funding(EX, "ETH/USDT:USDT")] == [1_578_009_600_000]
    assert import_funding(store, EX, path).rows_added == 0


def test_bad_ohlcv_rows_are_reported_and_the_rest_imported(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "ETHUSDT.csv.gz"
    lines = ["openTime,openTimeUTC,open,high,low,close,volume,extra"]
    t0 = 1_577_836_800_000
    for i in range(10):
        lines.append(f"{t0 + i * 3_600_000},x,10,12,9,11,{100 + i},ignored")
    lines[3] = f"{t0 + 2 * 3_600_000},x,10,8,9,11,100,"  # line 4: high < low
    lines[5] = f"{t0 + 4 * 3_600_000},x,10,12,9,11,-1,"  # line 6: negative volume
    lines[7] = f"{t0 + 6 * 3_600_000},x,10,12,9,inf,5,"  # line 8: not finite
    lines[9] = f"{t0 + 8 * 3_600_000},x,,,,,,"  # line 10: empty
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    report = import_ohlcv(store, EX, path, "1h")
    assert [b.line for b in report.bad_rows] == [4, 6, 8, 10]
    assert "below low" in report.bad_rows[0].reason and "negative" in report.bad_rows[1].reason
    assert report.rows_read == 10 and report.rows_added == 6
    bars = store.load_ohlcv(EX, "ETH/USDT:USDT", "1h")
    assert [b.volume for b in bars] == [100, 101, 103, 105, 107, 109]


def test_spot_and_daily_files(tmp_path: Path, store: Store) -> None:
    daily = tmp_path / "SOLUSDT.csv"
    daily.write_text(
        "date,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,2,0.5,1.5,10\n"
    )
    report = import_ohlcv(store, EX, daily, "1d", spot=True)
    assert report.rows_added == 2
    assert [b.time for b in store.load_ohlcv(EX, "SOL/USDT", "1d")] == [1_704_067_200_000, 1_704_153_600_000]


def test_wrong_timeframe_is_refused(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "BTCUSDT.csv"
    rows = "".join(f"{1_577_836_800_000 + i * 3_600_000},x,1,2,0.5,1.5,1\n" for i in range(5))
    path.write_text("openTime,openTimeUTC,open,high,low,close,volume\n" + rows)
    with pytest.raises(DataFileError, match="1h apart, not 8h"):
        import_ohlcv(store, EX, path, "8h")
    assert store.counts()["ohlcv"] == 0
    with pytest.raises(UsageError, match="bad timeframe"):
        import_ohlcv(store, EX, path, "8x")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty file, no header"),
        (b"a,b,c\n1,2,3\n", "missing fundingTime, fundingRate"),
        (b'{"BTC/USDT:USDT": []}', "missing fundingTime"),
        (b"\x1f\x8b\x08\x00garbage", "cannot read it as CSV"),
        (b"fundingTime,fundingRate\n\xff\xfe\x00bad", "cannot read it as CSV"),
    ],
)
def test_unreadable_funding_file(tmp_path: Path, store: Store, content: bytes, match: str) -> None:
    path = tmp_path / "BTCUSDT.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=match) as info:
        import_funding(store, EX, path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert "fundingTime,fundingTimeUTC,symbol,fundingRate" in message or "cannot read" in message
    assert store.counts()["funding"] == 0


def test_missing_path_and_empty_folder(tmp_path: Path, store: Store) -> None:
    with pytest.raises(DataFileError, match="no such file"):
        import_funding(store, EX, tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match=r"no \.csv or \.csv\.gz files"):
        import_ohlcv(store, EX, tmp_path / "empty", "1h")


def test_a_bad_file_in_a_folder_imports_nothing(tmp_path: Path, store: Store) -> None:
    good = tmp_path / "AAAUSDT.csv"
    good.write_text("fundingTime,fundingTimeUTC,symbol,fundingRate\n1577836800000,x,AAAUSDT,0.0001\n")
    (tmp_path / "ZZZUSDT.csv").write_text("time,rate\n1,2\n")
    with pytest.raises(DataFileError, match=r"ZZZUSDT\.csv"):
        import_funding(store, EX, tmp_path)
    assert store.counts()["funding"] == 0


def test_symbol_from_file_name_when_no_symbol_column(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "DOGEUSDT.csv"
    path.write_text("fundingTime,fundingRate\n1577836800000,0.0001\n")
    assert import_funding(store, EX, path).rows_added == 1
    assert len(store.load_funding(EX, "DOGE/USDT:USDT")) == 1
    bad_name = tmp_path / "funding.csv"
    bad_name.write_text("fundingTime,fundingRate\n1577836800000,0.0001\n")
    with pytest.raises(UsageError, match="does not name a market"):
        import_funding(store, EX, bad_name)


def test_bad_tiers(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "tiers.json"
    tier = {"minNotional": 0, "maxNotional": 5000, "maintenanceMarginRate": 0.01, "maxLeverage": 50}
    data = {
        "BTC/USDT:USDT": [
            {**tier, "info": {"cum": "0"}},
            {
                **tier,
                "minNotional": 5000,
                "maxNotional": 10000,
                "maintenanceMarginRate": 0.015,
                "info": {"cum": "25"},
            },
        ],
        "ETH/USDT:USDT": [{**tier, "maintenanceMarginRate": 2}],
        "XRP/USDT:USDT": [],
        "SOL/USDT:USDT": [{**tier, "maxNotional": None}],
    }
    path.write_text(json.dumps(data, indent=2))
    report = import_tiers(store, EX, path)
    assert report.rows_read == 4 and report.rows_added == 2
    assert [(b.line, b.reason.split(":")[0]) for b in report.bad_rows] == [
        (line_of(path, "ETH/USDT:USDT"), "ETH/USDT"),
        (line_of(path, "XRP/USDT:USDT"), "XRP/USDT"),
    ]
    tiers = store.load_tiers(EX)
    assert tiers["BTC/USDT:USDT"][1].maint_amount == 25.0
    assert tiers["SOL/USDT:USDT"][0].max_notional == float("inf")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(DataFileError, match="not ccxt leverage tiers"):
        import_tiers(store, EX, tmp_path / "list.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DataFileError, match="cannot read it as JSON"):
        import_tiers(store, EX, tmp_path / "broken.json")


def line_of(path: Path, key: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip().startswith(f'"{key}"'):
            return n
    raise AssertionError(key)
