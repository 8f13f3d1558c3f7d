"""What the Bybit and Bitget loopbacks share: the real data they serve and small wire helpers.

- Funding histories: ../shared/data/multi_exchange (supervik/historical-funding-rates-fetcher), BTC/ETH on
  several venues, dated in UTC+3 (3 hours are subtracted here).
- Prices: Binance USDⓈ-M perp bars of ../shared/data/binance (8h and 1d), the only real price series in
  ../shared; a venue app uses them as its own market's prices and says so.
- Market records: ccxt's static fixtures (../shared/data/ccxt_static), the exchanges' raw ``info``.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BINANCE_DATA, SHARED_DATA

MULTI = SHARED_DATA / "multi_exchange"
STATIC = SHARED_DATA / "ccxt_static"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: The multi_exchange files are dated in UTC+3.
MULTI_OFFSET_MS = 3 * HOUR_MS

Bar = tuple[int, float, float, float, float, float]  # open time (ms), open, high, low, close, base volume


def require(*paths: Path) -> None:
    """Skip the test (with the reason) when ../shared data a venue needs is absent."""
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} not present (only in the developers' checkout)")


def multi_file(base: str, venue: str) -> Path:
    """``multi_file('BTC', 'bybit')``: the path of that venue's BTC-USDT funding history."""
    found = sorted(MULTI.glob(f"{base}-USDT_{venue}_*_funding_history.csv"))
    return found[0] if found else MULTI / f"{base}-USDT_{venue}_funding_history.csv"


@cache
def funding_history(path: Path) -> tuple[tuple[int, float], ...]:
    """(time in ms UTC, rate) oldest first, from a multi_exchange CSV."""
    rows = []
    with path.open() as fh:
        for row in csv.DictReader(fh):
            local = datetime.strptime(row["Date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            rows.append((int(local.timestamp() * 1000) - MULTI_OFFSET_MS, float(row["Funding Rate"])))
    return tuple(sorted(rows))


@cache
def binance_bars(binance_symbol: str, timeframe: str) -> tuple[Bar, ...]:
    """Real Binance perp bars (8h or 1d) of ``binance_symbol`` (e.g. BTCUSDT), oldest first."""
    if timeframe == "8h":
        path = BINANCE_DATA / "ohlcv_8h_perp" / f"{binance_symbol}.csv"
        with path.open() as fh:
            return tuple(
                (int(r["openTime"]), *(float(r[k]) for k in ("open", "high", "low", "close", "volume")))
                for r in csv.DictReader(fh)
            )  # type: ignore[misc]
    if timeframe == "1d":
        path = BINANCE_DATA / "ohlcv_1d_perp" / f"{binance_symbol}.csv"
        with path.open() as fh:
            out = []
            for r in csv.DictReader(fh):
                day = datetime.strptime(r["date"], "%Y-%m-%d").replace(tzinfo=UTC)
                values = (float(r[k]) for k in ("open", "high", "low", "close", "volume"))
                out.append((int(day.timestamp() * 1000), *values))
            return tuple(out)  # type: ignore[arg-type]
    raise ValueError(f"no {timeframe} bars in ../shared/data/binance")


@cache
def static(kind: str, exchange: str) -> dict[str, Any]:
    """A ccxt static fixture file: kind 'markets', 'request' or 'response'."""
    return json.loads((STATIC / kind / f"{exchange}.json").read_text())


def dec(value: float) -> str:
    """A number as exchanges write it in JSON strings: plain digits, the float's shortest form (a served
    rate reads back as exactly the float the test compares with)."""
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def last_at_or_before(rows: tuple[Bar, ...], t: int) -> Bar | None:
    """The last bar opened at or before ``t``."""
    best = None
    for row in rows:
        if row[0] > t:
            break
        best = row
    return best


def day_volume(rows: tuple[Bar, ...], now_ms: int) -> float:
    """Base volume of the bars opened in the 24 hours before ``now_ms`` (a 24h ticker's volume)."""
    return sum(r[5] for r in rows if now_ms - DAY_MS < r[0] <= now_ms)
