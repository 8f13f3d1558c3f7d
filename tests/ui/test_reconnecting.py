"""The panes while the exchange fails (the loopback Binance, through ccxt): "reconnecting" while their
requests are retried, then the cached data with its age; a silent exchange gives way to the cache at the
deadline. The pane never waits on the network: the workers do."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from perptui.config.settings import Settings
from perptui.services.clock import FrozenClock
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from perptui.ui.app import PerptuiApp
from perptui.ui.factory import build_app
from perptui.ui.panes.scanner import ScannerPane
from perptui.ui.panes.scanner.messages import Reconnecting
from perptui.ui.panes.sizing.messages import Reconnecting as SizingReconnecting
from tests.conftest import FROZEN_NOW_MS
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange
from tests.ui.helpers import settle, sync
from tests.ui.test_scanner_flows import heading, open_scanner

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
loopback_demo = fixtures.loopback_demo
#: Two retries a request, a millisecond apart; the long timeout only keeps a loaded machine from failing
#: a request that is not what the test is about. The header's feed polls once a minute.
NETWORK = {"max_retries": 2, "timeout_ms": 60_000, "backoff_s": 0.001, "deadline_s": 60}
QUIET = {"refresh_s": 60}


def binance_app(server: LoopbackExchange) -> PerptuiApp:
    settings = Settings.model_validate(
        {"exchange": "binanceusdm", "api_base_url": server.base_url, "network": NETWORK, "ui": QUIET}
    )
    store = Store.open(":memory:")
    return build_app(
        settings, source=open_market_data(settings, store), store=store, clock=FrozenClock(FROZEN_NOW_MS)
    )


async def until_cached(pilot, pane: ScannerPane) -> None:
    for _ in range(200):
        await pilot.pause(0.02)
        if pane.last is not None and pane.last.fetched is None:
            return
    raise AssertionError(f"the scan never fell back to the cache: {heading(pane)}")


@sync
async def test_scanner_says_reconnecting_then_shows_the_cache_with_its_age(
    loopback_demo: LoopbackExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every status line the retries put up, as drawn (a newer notice may replace a queued older one:
    # here each is handled).
    shown: list[str] = []
    handle = ScannerPane.on_reconnecting

    def record(self: ScannerPane, event: Reconnecting) -> None:
        handle(self, event)
        shown.append(str(self.status_line.render()))

    monkeypatch.setattr(ScannerPane, "on_reconnecting", record)
    monkeypatch.setattr(Reconnecting, "can_replace", lambda self, message: False)
    app = binance_app(loopback_demo)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        assert "live" in heading(pane) and shown == []
        loopback_demo.faults.busy("/fapi/*", times=None)  # Binance's 503 {"code":-1001,"msg":"busy"}
        pane.refresh_data()
        await until_cached(pilot, pane)
        await settle(pilot)
        assert shown, "no 'reconnecting' while the requests were retried"
        assert shown[0].startswith("reconnecting to binanceusdm: the exchange is busy while reading")
        assert shown[0].endswith("(retry 1/2)…")
        assert any(s.endswith("(retry 2/2)…") for s in shown)
        text = heading(pane)
        assert "CACHED: binanceusdm is unreachable (" in text and "tickers 0 s old" in text
        assert pane.table.row_count > 20  # the cached rows, listed all along
        assert str(pane.status_line.render()) == ""  # the heading says it now


@sync
async def test_a_silent_exchange_gives_way_to_the_cache_at_the_deadline(
    loopback_demo: LoopbackExchange,
) -> None:
    app = binance_app(loopback_demo)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        rows = len(pane.rows)
        pane.ctx.settings.network.deadline_s = 0.3
        loopback_demo.faults.silent("/fapi/*")  # accepts the requests and never answers
        pane.refresh_data()
        await until_cached(pilot, pane)
        text = heading(pane)
        assert "CACHED: binanceusdm did not answer within the 0.3 s deadline" in text, text
        assert "tickers 0 s old" in text and len(pane.rows) == rows


@sync
async def test_sizing_says_reconnecting_then_sizes_on_the_cached_mark_with_its_age(
    loopback_demo: LoopbackExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perptui.ui.panes.sizing.pane import SizingPane
    from tests.ui.test_sizing_flows import fill, open_pane

    shown: list[str] = []
    handle = SizingPane.on_sizing_reconnecting

    def record(self: SizingPane, message: SizingReconnecting) -> None:
        handle(self, message)
        shown.append(str(self.query_one("#size-heading", Static).render()))

    monkeypatch.setattr(SizingPane, "on_sizing_reconnecting", record)
    monkeypatch.setattr(SizingReconnecting, "can_replace", lambda self, message: False)
    app = binance_app(loopback_demo)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        assert not pane.snapshot.cached
        loopback_demo.faults.busy("/fapi/*", times=None)
        await pane.poll().wait()
        await pilot.pause()
        assert shown and "reconnecting to binanceusdm: the exchange is busy" in shown[0]
        final = str(app.query_one("#size-heading", Static).render())
        assert pane.snapshot.cached and "CACHED, 0 s old" in final and "reconnecting" not in final
        assert pane.result is not None and pane.result.quantity > 0
