"""What the Gate and KuCoin futures loopbacks share: the ccxt fixtures and the real funding histories of
../shared/data (read once per process), the stand-in prices (Binance's real perp bars, read by
``common.binance_bars``), and a query-parameter reader that answers like the exchange.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA
from tests.loopback.venues.common import Bar, binance_bars

STATIC = SHARED_DATA / "ccxt_static"
MULTI = SHARED_DATA / "multi_exchange"
HOUR_MS = 3_600_000


def require_shared(*paths: Path) -> None:
    """Skip the test (with the reason) when the developers' ../shared data is absent."""
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} not present (only in the developers' checkout)")


@lru_cache(maxsize=8)
def static(kind: str, exchange: str) -> dict[str, Any]:
    """``ccxt_static/<kind>/<exchange>.json`` (kind: markets, request, response)."""
    return json.loads((STATIC / kind / f"{exchange}.json").read_text())


def request_fixtures(exchange: str, method: str) -> list[dict[str, Any]]:
    """ccxt's recorded requests of one unified method (url, input)."""
    return list(static("request", exchange)["methods"].get(method, []))


@lru_cache(maxsize=16)
def multi_exchange_funding(pair: str, venue: str, shift_hours: int) -> tuple[tuple[int, str], ...]:
    """(time ms UTC, rate as written) of ``<pair>_<venue>_*.csv``, oldest first. ``shift_hours`` is
    subtracted from the file's wall-clock dates (most files are written in UTC+3)."""
    (path,) = sorted(MULTI.glob(f"{pair}_{venue}_*_funding_history.csv"))
    rows: dict[int, str] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            stamp = datetime.strptime(row["Date"][:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            rows[int(stamp.timestamp() * 1000) - shift_hours * HOUR_MS] = row["Funding Rate"].strip()
    return tuple(sorted(rows.items()))


#: The Binance perp whose real bars stand in for a served market's prices (../shared has no Gate or KuCoin
#: candles): unified symbol -> Binance symbol.
STAND_IN_PRICES = {"BTC/USDT:USDT": "BTCUSDT", "ETH/USDT:USDT": "ETHUSDT"}


def stand_in_bars(symbol: str, timeframe: str, now_ms: int) -> list[Bar]:
    """The bars served for ``symbol`` (opened at or before ``now_ms``), oldest first; [] when none is."""
    binance = STAND_IN_PRICES.get(symbol)
    return [b for b in binance_bars(binance, timeframe) if b[0] <= now_ms] if binance else []


class BadParam(Exception):
    """A query parameter the exchange would refuse (answered in the exchange's error shape)."""


def int_param(query: Any, name: str, *, required: bool = False) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        if required:
            raise BadParam(f"{name} is required")
        return None
    try:
        return int(value)
    except ValueError:
        raise BadParam(f"invalid argument: {name}") from None
