"""The risk pane on the exchange's own account (``account = "exchange"``): its positions through real
ccxt on the loopback Binance exchange, with the same metrics, read-only: the keys that would trade are
not offered, and nothing but reads reaches the exchange."""

from __future__ import annotations

import pytest
from textual.screen import ModalScreen

from perptui.config.settings import Settings
from perptui.services.clock import FrozenClock
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from perptui.ui.factory import build_app
from perptui.ui.screenshots import open_risk
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange
from tests.ui.helpers import settle, sync

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
loopback_real = fixtures.loopback_real
#: A loopback answers at once; the long timeout only keeps a loaded CI machine (a request queued behind
#: busy cores for seconds) from failing a fetch that is not what the test is about.
NETWORK = {"max_retries": 0, "timeout_ms": 60_000, "backoff_s": 0.01}


@sync
async def test_the_exchange_positions_are_shown_read_only(loopback_real: LoopbackExchange) -> None:
    settings = Settings.model_validate(
        {
            "account": "exchange",
            "exchange": "binanceusdm",
            "api_base_url": loopback_real.base_url,
            "api_key": "loopback-key-ui",
            "api_secret": "loopback-secret-ui",
            "network": NETWORK,
            "ui": {"refresh_s": 60},
        }
    )
    store = Store.open(":memory:")
    source = open_market_data(settings, store)
    app = build_app(settings, source=source, store=store, clock=FrozenClock(loopback_real.source.now_ms()))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_risk(pilot, sample=False)
        heading = str(pane.query_one("#risk-heading").render())
        assert "binanceusdm account · read-only" in heading
        [position] = pane.report.positions
        assert (position.symbol, position.side, position.qty) == ("BTC/USDT:USDT", "long", 0.01)
        # A 1,000 USDT cross wallet covers a fall of 0.01 BTC to zero: no price liquidates it.
        assert position.never_liquidated and pane.table.cell_text("BTC/USDT:USDT", "liq") == "never"
        assert position.upnl == 0.01 * (position.mark - 60_000)
        assert pane.table.cell_text("BTC/USDT:USDT", "entry") == "60,000.0"  # at the market's 0.1 tick
        for key in ("c", "r", "s", "b"):
            await pilot.press(key)
            await settle(pilot)
            assert not isinstance(app.screen, ModalScreen)
        assert app.ctx._engine is None  # no paper engine behind the exchange's account
    assert {r.method for r in loopback_real.requests} == {"GET"}
