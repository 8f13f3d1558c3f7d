"""The CLI through real ccxt against the loopback Binance exchange: markets, fetch, the cache when
the exchange is unreachable."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.domain.timeframes import parse_utc
from tests.cli_helpers import run_json
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

loopback = fixtures.loopback
loopback_real = fixtures.loopback_real

CLOSED_PORT_URL = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback here


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.01")
    return path


REAL_BTC_FIRST_TIER = {
    "min_notional": 0, "max_notional": 50_000, "mmr": 0.004, "maint_amount": 0, "max_leverage": 125,
}  # fmt: skip


def _markets_subprocess(base_url: str, env: dict[str, str]) -> tuple[dict, str]:
    result = subprocess.run(
        [sys.executable, "-m", "perptui", "markets", "--exchange", "binanceusdm",
         "--api-base-url", base_url, "--symbols", "BTCUSDT", "ETHUSDT", "--json"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {m["symbol"]: m for m in json.loads(result.stdout)}, result.stderr


def test_markets_json_through_ccxt_on_the_real_exchange_info(
    loopback_real: LoopbackExchange, db: Path, binance_data: Path
) -> None:
    """The README's example as a subprocess: real ccxt on the real Binance exchangeInfo. Without an API
    key Binance serves no brackets, so tiers are the flagged conservative default until imported."""
    markets, stderr = _markets_subprocess(loopback_real.base_url, os.environ.copy())
    btc = markets["BTC/USDT:USDT"]
    assert set(markets) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    assert (btc["amount_step"], btc["price_tick"], btc["min_notional"]) == (0.001, 0.1, 5)
    assert btc["max_qty"] == 1000
    assert btc["tiers"][0]["mmr"] > REAL_BTC_FIRST_TIER["mmr"]  # conservative, never understated
    assert "approximate tiers" in stderr

    tiers_file = binance_data / "leverage_tiers_2024-10-24.json"
    assert main(["import", "--exchange", "binanceusdm", "--tiers", str(tiers_file)]) == 0
    markets, stderr = _markets_subprocess(loopback_real.base_url, os.environ.copy())
    assert markets["BTC/USDT:USDT"]["tiers"][0] == REAL_BTC_FIRST_TIER
    assert len(markets["BTC/USDT:USDT"]["tiers"]) == len(json.loads(tiers_file.read_text())["BTC/USDT:USDT"])
    assert "approximate" not in stderr


def test_markets_with_api_keys_take_tiers_from_the_exchange(
    loopback_real: LoopbackExchange, db: Path
) -> None:
    env = dict(os.environ, PERPTUI_API_KEY="loopback-key", PERPTUI_API_SECRET="loopback-secret")
    markets, stderr = _markets_subprocess(loopback_real.base_url, env)
    assert markets["BTC/USDT:USDT"]["tiers"][0] == REAL_BTC_FIRST_TIER
    assert "loopback-secret" not in stderr


def test_markets_then_offline_from_the_cache(
    loopback: LoopbackExchange, db: Path, capsys: pytest.CaptureFixture
) -> None:
    online = run_json(capsys, "markets", "--exchange", "binanceusdm", "--api-base-url", loopback.base_url,
                      "--json")  # fmt: skip
    assert len(online) > 30
    requests_before = len(loopback.requests)
    offline = run_json(capsys, "markets", "--exchange", "binanceusdm", "--offline", "--json")
    assert offline == online
    assert len(loopback.requests) == requests_before  # --offline never touched the network


def test_unreachable_exchange_answers_from_the_cache_or_says_it_holds_nothing(
    loopback: LoopbackExchange, db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERPTUI_NETWORK__MAX_RETRIES", "0")
    args = ["markets", "--exchange", "binanceusdm", "--api-base-url", CLOSED_PORT_URL]
    assert main(args) == 1
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "holds no markets" in line

    online = run_json(
        capsys, "markets", "--exchange", "binanceusdm", "--api-base-url", loopback.base_url, "--json"
    )
    cached = run_json(capsys, *args, "--json")  # the cache stands in, and a note says so and how old
    assert cached == online
    assert main(args) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("binanceusdm is unreachable (") and "binanceusdm markets from the cache, " in err
    assert re.search(r"markets from the cache, \d+ s old", err)


def _csv_prints(path: Path, since: int, until: int) -> int:
    with path.open() as fh:
        return sum(1 for row in csv.DictReader(fh) if since <= int(row["fundingTime"]) < until)


def test_fetch_through_ccxt_matches_the_real_files_and_resumes(
    loopback_real: LoopbackExchange, db: Path, capsys: pytest.CaptureFixture, binance_data: Path
) -> None:
    since, until = "2022-11-01", "2022-12-01"  # FTX month: SOL settled every 2h/4h for a while
    args = ("fetch", "--exchange", "binanceusdm", "--api-base-url", loopback_real.base_url,
            "--symbols", "SOLUSDT", "BTCUSDT", "--since", since, "--until", until, "--timeframe", "8h",
            "--json")  # fmt: skip
    first = run_json(capsys, *args)["rows_added"]
    start, end = parse_utc(since), parse_utc(until)
    for symbol, file in (("SOL/USDT:USDT", "SOLUSDT.csv"), ("BTC/USDT:USDT", "BTCUSDT.csv")):
        assert first[symbol]["funding"] == _csv_prints(binance_data / "funding" / file, start, end)
        assert first[symbol]["ohlcv"] == 30 * 3  # thirty days of 8h bars
    assert first["SOL/USDT:USDT"]["funding"] > first["BTC/USDT:USDT"]["funding"]  # the 2h/4h prints

    again = run_json(capsys, *args)
    assert again["total_rows_added"] == 0
