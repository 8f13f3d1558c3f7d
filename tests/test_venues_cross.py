"""The cross-exchange view across three exchanges' loopbacks (Bybit 8h, OKX 8h, Hyperliquid 1h) served by
one composite server: every venue's rows, and the spreads with each venue's rate normalised per hour
(a 1h market's print is not compared with an 8h market's print)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.loopback.venues  # noqa: F401  (registers the venue apps)
from perptui.domain.carry import HOURS_PER_YEAR
from tests.cli_helpers import run_json
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.composite import CompositeVenue
from tests.loopback.venues.registry import VENUE_LOOPBACKS

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
VENUES = ("bybit", "okx", "hyperliquid")


@pytest.fixture
def three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackExchange]:
    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "cache.db"))
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.01")
    apps = [VENUE_LOOPBACKS[v](None) for v in VENUES]
    yield from serve(LoopbackExchange(CompositeVenue(apps), mode="three venues"))


def test_spreads_across_three_venues_compare_rates_per_hour(
    three: LoopbackExchange, capsys: pytest.CaptureFixture
) -> None:
    flags = [arg for v in VENUES for arg in ("--exchange", v)]
    found = run_json(
        capsys, "scan", *flags, "--api-base-url", three.base_url, "--symbols", "BTC", "ETH", "--json"
    )
    rows = found["rows"]
    assert {(r["exchange"], r["symbol"].partition("/")[0]) for r in rows} == set(
        itertools.product(VENUES, ("BTC", "ETH"))
    )
    intervals = {r["exchange"]: r["interval_hours"] for r in rows}
    assert intervals == {"bybit": 8.0, "okx": 8.0, "hyperliquid": 1.0}
    per_hour = {
        (r["exchange"], r["symbol"].partition("/")[0]): r["funding_rate"] / r["interval_hours"] for r in rows
    }
    spreads = {s["base"]: s for s in found["spreads"]}
    assert set(spreads) == {"BTC", "ETH"}
    for base, spread in spreads.items():
        rates = {v: per_hour[(v, base)] for v in VENUES}
        low, high = min(rates, key=rates.__getitem__), max(rates, key=rates.__getitem__)
        assert (spread["long_exchange"], spread["short_exchange"]) == (low, high)
        assert spread["long_rate_per_hour"] == pytest.approx(rates[low], rel=1e-12)
        assert spread["short_rate_per_hour"] == pytest.approx(rates[high], rel=1e-12)
        assert spread["spread_apr"] == pytest.approx((rates[high] - rates[low]) * HOURS_PER_YEAR, rel=1e-12)
