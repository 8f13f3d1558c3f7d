"""`perptui size` on every venue loopback, including exchanges that serve leverage tiers only per symbol
(OKX, Bitget, KuCoin) or by a published rule (Hyperliquid): the ticket's liquidation rests on that
exchange's own bracket, never on the approximate default ladder, and the quantity is a whole number of
the exchange's lots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.loopback.venues  # noqa: F401  (registers the venue apps)
from tests.cli_helpers import run_json
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.registry import VENUE_LOOPBACKS

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
#: The bracket of a ~$5k position: OKX's first tier (0.4%, 100x, the loopback's ladder shaped as OKX's
#: BTC-USDT-SWAP), Bitget's real BTCUSDT tier 1 (0.4%, 125x), Hyperliquid's rule at the fixture's 50x
#: (maintenance = half the initial margin at max leverage: 1%).
FIRST_BRACKET = {"okx": (0.004, 100.0), "bitget": (0.004, 125.0), "hyperliquid": (0.01, 50.0)}
TICKET = ["--side", "long", "--stop-pct", "2", "--equity", "10000", "--risk-pct", "1", "--leverage", "10"]


@pytest.fixture(params=sorted(VENUE_LOOPBACKS))
def venue(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "cache.db"))
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.01")
    yield from serve(LoopbackExchange(VENUE_LOOPBACKS[request.param](None), mode=request.param))


def test_the_ticket_uses_the_exchanges_own_bracket(
    venue: LoopbackExchange, capsys: pytest.CaptureFixture
) -> None:
    app = venue.source
    symbol = app.funding_symbols[0]
    ticket = run_json(
        capsys, "size", "--symbol", symbol, "--exchange", app.exchange_id, "--api-base-url", venue.base_url,
        *TICKET, "--json",
    )  # fmt: skip
    tier = ticket["liquidation_tier"]
    assert ticket["tiers_approximate"] is False
    if app.exchange_id in FIRST_BRACKET:
        mmr, max_leverage = FIRST_BRACKET[app.exchange_id]
        assert (tier["mmr"], tier["max_leverage"], tier["maint_amount"]) == (mmr, max_leverage, 0.0)
    # Isolated long, maintenance = notional x mmr - amount:
    # liq = (entry x (1 - 1/leverage) - amount / quantity) / (1 - mmr).
    entry, qty, mmr, amount = ticket["entry"], ticket["quantity"], tier["mmr"], tier["maint_amount"]
    want = (entry * (1 - 1 / 10) - amount / qty) / (1 - mmr)
    assert ticket["liquidation_price"] == pytest.approx(want, rel=1e-9)
    assert ticket["contracts"] * app.contract_size(symbol) == pytest.approx(ticket["quantity"], rel=1e-12)
    # The bracket is kept: an offline run right after sizes on it too.
    again = run_json(
        capsys, "size", "--symbol", symbol, "--exchange", app.exchange_id, "--offline", *TICKET, "--json"
    )  # fmt: skip
    assert again["tiers_approximate"] is False and again["liquidation_tier"] == tier
