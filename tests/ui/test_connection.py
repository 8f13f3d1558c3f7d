"""The exchange link: live, reconnecting with backoff, offline with the cache's age; and the app on a
loopback exchange that fails keeps running and says it is reconnecting."""

from __future__ import annotations

import contextlib

import pytest
from textual.worker import WorkerCancelled, WorkerFailed

from perptui.config.settings import Settings
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from perptui.ui.connection import Link, LinkState
from perptui.ui.factory import build_app
from perptui.ui.feed import MarketFeed
from perptui.ui.widgets.dialogs import FormDialog
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange
from tests.ui.helpers import settle, sync

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
loopback_demo = fixtures.loopback_demo


def test_link_backs_off_then_goes_offline_and_recovers() -> None:
    link = Link(refresh_s=2.0)
    assert link.state is LinkState.CONNECTING
    assert link.succeeded(1_000) == 2.0 and link.label(None) == "live"
    assert link.failed("503") == 4.0 and link.label(None) == "reconnecting · retry in 4 s"
    assert link.failed("503") == 8.0 and link.state is LinkState.RECONNECTING
    link.failed("503")
    assert link.state is LinkState.OFFLINE
    assert link.label(180_000) == "offline · cache 3 min old" and link.label(None) == "offline · no cache"
    assert [link.failed("x") for _ in range(5)][-1] == 60.0  # capped
    link.succeeded(2_000)
    assert link.state is LinkState.LIVE and link.failures == 0


async def until_link(pilot, feed: MarketFeed, state: LinkState) -> None:  # type: ignore[no-untyped-def]
    """Until the feed's link is in ``state``: each round awaits the poll under way, so this waits for
    polls to finish, never for a wall-clock delay (the poll timer is not what makes it end)."""
    for _ in range(50):
        if feed.link.state is state and pilot.app.status_bar.link_state is state:
            break
        for worker in [w for w in pilot.app.workers if w.name == "poll"]:
            with contextlib.suppress(WorkerFailed, WorkerCancelled):
                await worker.wait()
        await pilot.pause()  # the status bar takes the state the feed posted


@sync
async def test_exchange_failure_shows_reconnecting_and_the_app_keeps_running(
    loopback_demo: LoopbackExchange,
) -> None:
    settings = Settings.model_validate(
        {
            "exchange": "binanceusdm",
            "api_base_url": loopback_demo.base_url,
            "network": {"max_retries": 0, "timeout_ms": 60_000, "backoff_s": 0.01},
            # The poll timers never fire during the test (it starts the retry itself); the retry is
            # due after the backoff's 60 s cap.
            "ui": {"refresh_s": 600},
        }
    )
    store = Store.open(":memory:")
    loopback_demo.faults.http(503, "/fapi/*", times=None)
    app = build_app(settings, source=open_market_data(settings, store), store=store)
    assert app.ctx.badge == "PAPER"
    async with app.run_test(size=(120, 40)) as pilot:
        bar, feed = app.status_bar, app.query_one(MarketFeed)
        await until_link(pilot, feed, LinkState.RECONNECTING)  # the first poll, after the first frame
        assert bar.link_state is LinkState.RECONNECTING and feed.link.failures == 1
        assert "reconnecting · retry in 60 s" in str(app.query_one("#link").content)
        await pilot.press("d")  # the paper account still works
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("escape")
        loopback_demo.faults.clear()
        feed.poll()  # the retry its timer would start: the link is live again
        await until_link(pilot, feed, LinkState.LIVE)
        assert bar.link_state is LinkState.LIVE and feed.link.failures == 0
        await settle(pilot)
    assert loopback_demo.requests_to("/fapi/v1/exchangeInfo")
