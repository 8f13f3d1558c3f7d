"""`perptui markets --symbols` on an exchange that serves tiers only per symbol (OKX, Bitget, Hyperliquid):
the markets come in bulk with the approximate default ladder, the symbols asked for get the exchange's own
brackets (one request for those only), and the cache keeps them for offline runs. The approximate ladder
stored for the others never stands in as the exchange's own."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from perptui.domain.errors import ExchangeUnavailable
from perptui.domain.tiers import default_tiers
from perptui.domain.types import LeverageTier, Market
from perptui.services.demo import DemoExchange
from perptui.services.store import Store
from tests.cli_helpers import run_json

#: OKX-like brackets in USDT (as the adapter converts them): 0.4% to 100x up to 500k.
REAL = [
    LeverageTier(0.0, 500_000.0, 0.004, 0.0, 100.0),
    LeverageTier(500_000.0, float("inf"), 0.01, 3_000.0, 50.0),
]


class PerSymbolTiers(DemoExchange):
    """The demo market as an exchange without a bulk tier endpoint: markets carry the default ladder
    (approximate) and tiers come only for the symbols asked for."""

    def __init__(self, *args, fail: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[list[str] | None] = []
        self.fail = fail

    async def load_markets(self) -> list[Market]:
        markets = await super().load_markets()
        return [replace(m, tiers=tuple(default_tiers(20.0)), tiers_approximate=True) for m in markets]

    async def fetch_leverage_tiers(self, symbols: list[str] | None = None) -> dict[str, list[LeverageTier]]:
        self.asked.append(symbols)
        if self.fail:
            raise ExchangeUnavailable("demo: connection reset (test)")
        return {s: list(REAL) for s in symbols or []}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    return path


def use(monkeypatch: pytest.MonkeyPatch, source: PerSymbolTiers) -> None:
    monkeypatch.setattr("perptui.services.sources.open_market_data", lambda *a, **k: source)


def test_markets_asked_for_get_the_exchanges_tiers_and_the_cache_keeps_them(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = PerSymbolTiers(seed=7)
    use(monkeypatch, source)
    every = run_json(capsys, "markets", "--json")
    assert source.asked == []  # no symbols named: no per-symbol requests for every perp
    btc, eth = every[0]["symbol"], every[1]["symbol"]
    assert every[0]["max_leverage"] is not None

    chosen = run_json(capsys, "markets", "--symbols", btc, "--json")
    assert source.asked == [[btc]]  # only the one asked for
    assert chosen[0]["tiers"] == [t.as_dict() for t in REAL] and chosen[0]["max_leverage"] == 100.0

    offline = {m["symbol"]: m for m in run_json(capsys, "markets", "--offline", "--json")}
    assert offline[btc]["tiers"] == chosen[0]["tiers"]  # stored with the markets
    with Store.open(db) as store:
        markets = {m.symbol: m for m in store.load_markets("demo")}
        assert not markets[btc].tiers_approximate and markets[eth].tiers_approximate
        # The default ladder stored for ETH is no tier of the exchange's: the adapter's fallback skips it.
        assert set(store.load_tiers("demo", real_only=True)) == {btc}


def test_tiers_that_cannot_be_read_leave_the_markets_and_say_so(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = PerSymbolTiers(seed=7, fail=True)
    use(monkeypatch, source)
    symbol = run_json(capsys, "markets", "--json")[0]["symbol"]
    from perptui.cli import main

    assert main(["markets", "--symbols", symbol, "--json"]) == 0
    captured = capsys.readouterr()
    assert "leverage tiers of " + symbol + " not read" in captured.err
    assert "approximate tiers" in captured.err
