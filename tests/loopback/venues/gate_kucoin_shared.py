"""What the Gate and KuCoin futures loopbacks share: the ccxt fixtures and the real funding histories of
../shared/data (read once per process), and a query-parameter reader that answers like the exchange.
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
