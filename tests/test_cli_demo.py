"""The CLI end to end on the demo market: the JSON contracts, the cache, errors and exit codes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from perptui.cli import main
from tests.cli_helpers import run_error, run_json

MARKET_KEYS = {
    "symbol",
    "base",
    "quote",
    "settle",
    "contract_size",
    "amount_step",
    "price_tick",
    "min_qty",
    "max_qty",
    "min_notional",
    "taker_fee",
    "maker_fee",
    "max_leverage",
    "funding_interval_hours",
    "tiers",
    "cached",
}
TIER_KEYS = {"min_notional", "max_notional", "mmr", "maint_amount", "max_leverage"}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    return path


def test_markets_json_contract(db: Path, capsys: pytest.CaptureFixture) -> None:
    markets = run_json(capsys, "markets", "--json")
    assert len(markets) >= 30
    for m in markets:
        assert set(m) == MARKET_KEYS
        assert "DEMO" in m["symbol"]
        assert m["settle"] == "USDT"
        assert 0 < m["taker_fee"] < 0.01 and 0 <= m["maker_fee"] <= m["taker_fee"]  # fractions
        assert m["funding_interval_hours"] in (1, 2, 4, 8)
        assert m["tiers"], m["symbol"]
        for tier in m["tiers"]:
            assert set(tier) == TIER_KEYS
            assert 0 < tier["mmr"] < 1
        assert m["tiers"][-1]["max_notional"] is None or m["tiers"][-1]["max_notional"] > 0
        # Nothing cached yet: no print in any window, no ticker (never a time of 0).
        cached = m["cached"]
        assert cached["ticker"] is None and cached["funding_last_time"] is None
        assert set(cached["funding_prints"]) == {"7d", "30d", "90d"}
        assert all(w["prints"] == 0 and not w["complete"] for w in cached["funding_prints"].values())


def test_markets_are_cached_for_offline_use(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, line = run_error(capsys, "markets", "--offline")
    assert code == 1 and "holds no markets" in line
    online = run_json(capsys, "markets", "--json")
    offline = run_json(capsys, "markets", "--offline", "--json")
    assert offline == online


def test_markets_symbol_selection_and_unknown_symbol(db: Path, capsys: pytest.CaptureFixture) -> None:
    markets = run_json(capsys, "markets", "--json")
    first = markets[0]["symbol"]
    raw_id = first.split(":")[0].replace("/", "")  # BTCDEMO/USDT:USDT -> BTCDEMOUSDT
    chosen = run_json(capsys, "markets", "--symbols", raw_id, "--json")
    assert [m["symbol"] for m in chosen] == [first]

    code, line = run_error(capsys, "markets", "--symbols", raw_id + "X")
    assert code == 2
    assert "unknown symbol" in line and first in line  # close-match suggestion


def test_overview_json_normalises_funding_to_apr(db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(capsys, "overview", "--json", "--top", "0")
    assert data["exchange"] == "demo"
    assert data["asof"] == "2025-06-01T00:00:00Z"
    rows = data["rows"]
    assert len(rows) >= 30
    volumes = [r["volume_24h_usd"] for r in rows]
    assert volumes == sorted(volumes, reverse=True)
    intervals = {r["interval_hours"] for r in rows}
    assert len(intervals) >= 2  # a mix of funding intervals
    for r in rows:
        assert r["apr"] == pytest.approx(r["funding_rate"] * 24 / r["interval_hours"] * 365)


def test_overview_is_deterministic_with_a_frozen_clock(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_json(capsys, "overview", "--json") == run_json(capsys, "overview", "--json")


def test_fetch_backfills_and_resumes(db: Path, capsys: pytest.CaptureFixture) -> None:
    symbol = run_json(capsys, "markets", "--json")[0]["symbol"]
    args = ("fetch", "--symbols", symbol, "--since", "2025-05-01", "--until", "2025-05-11", "--json")
    first = run_json(capsys, *args)
    added = first["rows_added"][symbol]
    assert added["ohlcv"] == 10 * 24  # ten days of 1h bars
    assert added["funding"] > 0
    assert first["total_rows_added"] == added["ohlcv"] + added["funding"]
    again = run_json(capsys, *args)
    assert again["total_rows_added"] == 0
    # Ten days, three weeks before now: the last 7 days hold nothing, 30 days a third of their prints.
    hours = run_json(capsys, "markets", "--symbols", symbol, "--json")[0]["funding_interval_hours"]
    held = again["cached"][symbol]
    per_day = int(24 // hours)
    assert held["funding_prints"]["7d"] == {"prints": 0, "expected": 7 * per_day, "complete": False}
    month = held["funding_prints"]["30d"]  # (2025-05-02, 2025-06-01]: the prints after the first day
    assert 0 < month["prints"] < added["funding"] < 30 * per_day and not month["complete"]
    assert held["funding_first_time"] == 1_746_057_600_000  # 2025-05-01T00:00Z
    assert held["funding_last_time"] < 1_746_921_600_000  # before 2025-05-11
    # Up to now: the 7-day window is whole, and markets --json shows the same.
    recent = run_json(
        capsys, "fetch", "--symbols", symbol, "--since", "2025-05-20", "--kind", "funding", "--json"
    )
    week = recent["cached"][symbol]["funding_prints"]["7d"]
    assert week == {"prints": 7 * per_day, "expected": 7 * per_day, "complete": True}
    listed = run_json(capsys, "markets", "--symbols", symbol, "--json")[0]["cached"]
    assert listed == recent["cached"][symbol]
    capsys.readouterr()
    assert main(["fetch", "--symbols", symbol, "--since", "2025-05-20", "--kind", "funding"]) == 0
    text = capsys.readouterr().out
    assert f"{symbol} cached: funding prints 7d {7 * per_day}/{7 * per_day}" in text


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["fetch", "--symbols", "X", "--since", "2024-13-01"], "--since"),
        (["fetch", "--symbols", "X", "--since", "2024-01-02", "--until", "2024-01-01"], "--until"),
        (["fetch", "--symbols", "X", "--since", "2024-01-01", "--kind", "trades"], "--kind"),
        (["fetch", "--symbols", "X", "--since", "2024-01-01", "--timeframe", "7x"], "timeframe"),
        (["fetch", "--symbols", "X", "--since", "2024-01-01", "--offline"], "--offline"),
        (["import", "--exchange", "binanceusdm"], "nothing to import"),
        (["import", "--exchange", "binanceusdm", "--ohlcv", "."], "--timeframe"),
        (["import", "--exchange", "binanceusdm", "--funding", "/no/such/place"], "no such file"),
        (["import", "--funding", "."], "--exchange"),
        (["markets", "--exchange", "binanceusdmm"], "binanceusdm"),
        (["markets", "--api-base-url", "not a url"], "--api-base-url"),
        (["markets", "--api-base-url", "https://relay.example"], "--api-base-url needs an exchange"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], expected: str
) -> None:
    code, line = run_error(capsys, *argv)
    assert code == 2
    assert expected in line


def test_corrupt_cache_file_is_reported_and_left_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is a text file, not SQLite\n" * 100)
    digest = hashlib.sha256(bad.read_bytes()).hexdigest()
    code, line = run_error(capsys, "markets", "--db", str(bad))
    assert code == 1
    assert str(bad) in line
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == digest


def test_console_script_usage_error_exit_code(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "perptui", "markets", "--no-such-flag"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "--no-such-flag" in result.stderr
