"""The ccxt adapter without data: exchange ids, URL rewriting, secrets, lazy import, default tiers."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import subprocess
import sys

import pytest
from pydantic import SecretStr

from perptui.domain.errors import UnknownExchange, UsageError
from perptui.domain.tiers import default_tiers, maintenance_margin
from perptui.domain.types import LeverageTier
from perptui.services.exchanges import CcxtExchange
from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.ccxt_convert import interval_hours_from_times, tiers_from_ccxt
from perptui.services.exchanges.urls import iter_urls, rebase_url
from tests.conftest import SHARED_DATA

BASE = "http://127.0.0.1:8080"


def built(exchange_id: str, **kwargs: object) -> CcxtExchange:
    ex = CcxtExchange(exchange_id, **kwargs)  # type: ignore[arg-type]
    asyncio.run(ex.close())
    return ex


def test_unknown_exchange_suggests_close_ids() -> None:
    with pytest.raises(UnknownExchange) as info:
        CcxtExchange("binanceusd")
    assert "binanceusdm" in str(info.value) and info.value.exit_code == 2
    with pytest.raises(UnknownExchange, match="unknown exchange 'nope'"):
        CcxtExchange("nope")


@pytest.mark.parametrize("exchange_id", ["binanceusdm", "bybit", "okx"])
@pytest.mark.parametrize("testnet", [False, True])
def test_api_base_url_rewrites_every_url(exchange_id: str, testnet: bool) -> None:
    ex = built(exchange_id, api_base_url=BASE + "/", testnet=testnet)
    urls = iter_urls(ex.ccxt_urls)
    assert urls and all(u.startswith(BASE + "/") or u == BASE for u in urls)
    if exchange_id == "binanceusdm":
        assert BASE + "/fapi/v1" in urls and BASE + "/api/v3" in urls


def test_rebase_keeps_paths_and_prefixes() -> None:
    assert rebase_url("https://fapi.binance.com/fapi/v1", BASE) == BASE + "/fapi/v1"
    assert (
        rebase_url("https://api.{hostname}/v5", "https://relay.example/bybit")
        == "https://relay.example/bybit/v5"
    )
    with pytest.raises(UsageError, match="api_base_url"):
        built("binanceusdm", api_base_url="ftp://x")


def test_keys_never_appear_in_repr() -> None:
    ex = built(
        "binanceusdm",
        api_key=SecretStr("key-abcdef123"),
        api_secret=SecretStr("secret-zyx987"),
        api_password=SecretStr("pw-555"),
    )
    for text in (str(ex), repr(ex), repr(vars(ex).get("_credentials"))[:0]):
        assert "abcdef123" not in text and "zyx987" not in text and "pw-555" not in text
    assert "with API keys" in repr(ex)


def test_importing_the_package_does_not_import_ccxt() -> None:
    code = "import sys, perptui.services.exchanges; print('ccxt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_interval_from_spacing() -> None:
    h = 3_600_000
    assert interval_hours_from_times([0, 8 * h + 7, 16 * h + 3, 24 * h]) == 8.0
    assert interval_hours_from_times([0, 8 * h, 12 * h, 16 * h]) == 4.0  # changed to 4h
    assert interval_hours_from_times([0, 8 * h, 24 * h, 32 * h]) == 8.0  # a missing print
    assert interval_hours_from_times([5]) is None


def test_tiers_without_cum_are_made_continuous() -> None:
    raw = [
        {"minNotional": 0, "maxNotional": 5000, "maintenanceMarginRate": 0.01, "maxLeverage": 50, "info": {}},
        {
            "minNotional": 5000,
            "maxNotional": None,
            "maintenanceMarginRate": 0.025,
            "maxLeverage": 20,
            "info": {},
        },
    ]
    tiers = tiers_from_ccxt(raw)
    assert tiers[1].maint_amount == pytest.approx(75.0) and math.isinf(tiers[1].max_notional)
    assert maintenance_margin(tiers, 4999.999) == pytest.approx(maintenance_margin(tiers, 5000), abs=1e-3)


def test_default_tiers_are_continuous_and_capped() -> None:
    tiers = default_tiers(max_leverage=10)
    assert all(t.max_leverage <= 10 for t in tiers)
    for prev, nxt in itertools.pairwise(tiers):
        assert prev.max_notional == nxt.min_notional and nxt.mmr >= prev.mmr
        edge = nxt.min_notional
        assert edge * prev.mmr - prev.maint_amount == pytest.approx(edge * nxt.mmr - nxt.maint_amount)
    assert all(t.mmr * t.max_leverage <= 0.5 + 1e-9 for t in default_tiers())


def test_default_tiers_never_understate_real_maintenance_margin(binance_data) -> None:
    """Against every USDT/USDC market of Binance's 2024 brackets, at every bracket edge and between."""
    raw = json.loads((binance_data / "leverage_tiers_2024-10-24.json").read_text())
    default = default_tiers()
    checked = 0
    for symbol, rows in raw.items():
        if symbol.partition(":")[2] not in ("USDT", "USDC"):
            continue
        real = [
            LeverageTier(
                r["minNotional"], r["maxNotional"], r["maintenanceMarginRate"], float(r["info"]["cum"]), 1
            )
            for r in rows
        ]
        points = {
            x
            for t in real
            for x in (t.min_notional, t.max_notional - 1e-6, (t.min_notional + t.max_notional) / 2)
        }
        for n in points:
            if 0 < n < real[-1].max_notional:
                assert maintenance_margin(default, n) >= maintenance_margin(real, n) - 1e-6, (symbol, n)
                checked += 1
    assert checked > 5000


@pytest.mark.parametrize(
    ("exchange", "symbol", "hours"),
    [
        ("bybit", "BTC/USDT:USDT", 8.0),  # fundingInterval "480", minutes
        ("bybit", "ZRX/USDT:USDT", 1.0),  # "60"
        ("gate", "BTC/USDT:USDT", 8.0),  # funding_interval 28800, seconds
        ("gate", "人生K线/USDT:USDT", 4.0),  # 14400
        ("kucoinfutures", "BTC/USDT:USDT", 8.0),  # fundingRateGranularity 28800000, ms
        ("kucoinfutures", "OMNI/USDT:USDT", 4.0),  # 14400000
        ("bitget", "BTC/USDT:USDT", 8.0),  # fundInterval "8", hours
    ],
)
def test_stated_funding_interval_is_read_in_each_exchanges_unit(
    exchange: str, symbol: str, hours: float
) -> None:
    """Each exchange states the interval in its market record in its own unit (ccxt's fixtures)."""
    path = SHARED_DATA / "ccxt_static" / "markets" / f"{exchange}.json"
    if not path.is_file():
        pytest.skip(f"ccxt fixtures not present at {path} (only in the developers' checkout)")
    market = json.loads(path.read_text(encoding="utf-8"))[symbol]
    assert conv.interval_hours_from_info(market) == hours
