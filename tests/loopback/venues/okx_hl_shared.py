"""What the OKX and Hyperliquid loopbacks share: the ccxt fixtures and the real funding histories of
../shared/data/multi_exchange (read once per process), served by venues that have no file of their own.

The multi_exchange CSVs (github.com/supervik/historical-funding-rates-fetcher) date their prints in
UTC+3; they are served in UTC (3 hours subtracted), rates as written.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pytest

from tests.conftest import SHARED_DATA

CCXT_STATIC = SHARED_DATA / "ccxt_static"
MULTI_EXCHANGE = SHARED_DATA / "multi_exchange"
HOUR_MS = 3_600_000
#: The CSVs' clock is UTC+3.
CSV_UTC_OFFSET_MS = 3 * HOUR_MS

Prints = tuple[tuple[int, str], ...]


def require_shared() -> None:
    """Skip the test (with the reason) when ../shared/data is absent (a user's fresh clone)."""
    for folder in (CCXT_STATIC, MULTI_EXCHANGE):
        if not folder.is_dir():
            pytest.skip(f"{folder} not present (only in the developers' checkout)")


@lru_cache(maxsize=8)
def ccxt_fixture(kind: str, exchange: str) -> dict[str, Any]:
    """``markets``, ``request`` or ``response`` fixture of ``exchange`` (ccxt's own test data)."""
    return json.loads((CCXT_STATIC / kind / f"{exchange}.json").read_text())


@lru_cache(maxsize=16)
def funding_csv(pair: str, venue: str) -> Prints:
    """Every print of ``pair`` (``BTC-USDT``) on ``venue`` (``dydx``, ``htx``...): (UTC ms, rate text)."""
    matches = sorted(MULTI_EXCHANGE.glob(f"{pair}_{venue}_*_funding_history.csv"))
    if not matches:
        pytest.skip(f"no {venue} {pair} funding history in {MULTI_EXCHANGE}")
    rows: list[tuple[int, str]] = []
    with matches[0].open(newline="") as handle:
        for row in csv.DictReader(handle):
            local = datetime.strptime(row["Date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            rows.append((int(local.timestamp() * 1000) - CSV_UTC_OFFSET_MS, row["Funding Rate"]))
    rows.sort()
    return tuple(rows)


def dec(value: float) -> str:
    """A number as the exchanges write it: a plain decimal string."""
    text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text or "0"
