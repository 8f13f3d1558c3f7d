"""The scanner pane against exchanges through ccxt (the loopback exchange, never a mock): the cross-
exchange view with a second exchange, and an exchange that stops answering (the cache stands in and
the heading says so)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Static

from perptui.config.settings import Settings
from perptui.domain.scanner import spreads
from perptui.services.clock import FrozenClock
from perptui.services.scan import BACKFILL_STAGES
from perptui.services.scan_costs import carry_costs
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from perptui.ui.app import PerptuiApp
from perptui.ui.factory import build_app
from perptui.ui.panes.scanner import ScannerPane
from perptui.ui.panes.scanner.messages import BackfillProgress
from tests.conftest import FROZEN_NOW_MS
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange
from tests.ui.helpers import settle, sync
from tests.ui.test_scanner_flows import heading, open_scanner

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
loopback_demo = fixtures.loopback_demo
#: A loopback answers at once; the long timeout only keeps a loaded CI machine (a request queued behind
#: busy cores for seconds) from failing a fetch that is not what the test is about.
NETWORK = {"max_retries": 0, "timeout_ms": 60_000, "backoff_s": 0.01}
#: The header's ticker feed polls once a minute: its requests would only interleave with the scanner's,
#: which is not what these tests are about.
QUIET = {"refresh_s": 60}


def binance_app(server: LoopbackExchange) -> PerptuiApp:
    """The app on the loopback Binance, its clock at the loopback's time (the history windows end
    where its data does)."""
    settings = Settings.model_validate(
        {"exchange": "binanceusdm", "api_base_url": server.base_url, "network": NETWORK, "ui": QUIET}
    )
    store = Store.open(":memory:")
    source = open_market_data(settings, store)
    return build_app(settings, source=source, store=store, clock=FrozenClock(FROZEN_NOW_MS))


@pytest.fixture
def second_exchange() -> Iterator[LoopbackExchange]:
    """The demo market under another seed, served as Binance: the same assets, other funding."""
    yield from fixtures.serve(fixtures.make_demo(seed=8))


@sync
async def test_cross_exchange_view_shows_each_assets_spread_between_the_exchanges(
    demo_source, second_exchange: LoopbackExchange
) -> None:
    settings = Settings.model_validate(
        {"demo": {"frozen_at": "2025-06-01T00:00", "seed": 7}, "scan": {"exchanges": ["binanceusdm"]}}
    )
    store = Store.open(":memory:")
    other_settings = Settings.model_validate(
        {"exchange": "binanceusdm", "api_base_url": second_exchange.base_url, "network": NETWORK}
    )
    other = open_market_data(other_settings, store)
    app = build_app(settings, source=demo_source, store=store, other_sources={"binanceusdm": other})
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("x")
        for _ in range(100):
            await settle(pilot)
            if pane.spreads.table.row_count:
                break
            await pilot.pause(0.05)
        assert app.focused is pane.spreads.table
        [other_scan] = pane.others
        expected = spreads([*pane.rows.values(), *other_scan.rows], carry_costs(settings.scan))
        assert len(expected) == len(pane.rows) > 20  # every demo asset is listed on both
        assert pane.spreads.table.keys_in_order() == [s.base for s in expected]
        top = expected[0]
        assert top.long.rate_per_hour <= top.short.rate_per_hour
        assert pane.spreads.table.cell_text(top.base, "long") == top.long.exchange
        assert pane.spreads.table.cell_text(top.base, "net") == f"{(top.net_apr or 0) * 100:+.1f}%"
        note = str(pane.query_one("#scan-cross-note", Static).render())
        assert "of demo, binanceusdm" in note
        await pilot.press("x")  # back to the perps
        assert app.focused is pane.table


@sync
async def test_cross_exchange_view_without_other_exchanges_says_how_to_add_them(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("x")
        await settle(pilot)
        note = str(pane.query_one("#scan-cross-note", Static).render())
        assert "demo is the only one configured" in note and '[scan] exchanges = ["bybit", "okx"]' in note
        assert pane.spreads.table.row_count == 0
        await pilot.press("enter")  # nothing to size in this view
        assert app.current_pane == "scanner"  # type: ignore[attr-defined]


@sync
async def test_an_unreachable_exchange_leaves_the_cached_rows_marked_as_cached(
    loopback_demo: LoopbackExchange,
) -> None:
    app = binance_app(loopback_demo)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        live_rows = dict(pane.rows)
        assert "live" in heading(pane) and len(live_rows) > 20
        btc = "binanceusdm:BTCDEMO/USDT:USDT"
        assert live_rows[btc].mean_apr_30d is not None  # backfilled through ccxt
        loopback_demo.faults.http(503, "/fapi/*", times=None)
        pane.refresh_data()
        for _ in range(100):
            await settle(pilot)
            if pane.last is not None and pane.last.fetched is None:
                break
            await pilot.pause(0.05)
        text = heading(pane)
        assert "CACHED: binanceusdm is unreachable" in text and "tickers" in text
        assert pane.query_one("#scan-heading").has_class("-stale")
        assert set(pane.rows) == set(live_rows)  # every perp still listed, from the cache
        cached = pane.rows[btc]
        assert cached.mark is not None and cached.mean_apr_30d == pytest.approx(live_rows[btc].mean_apr_30d)
        assert pane.table.row_count == len(live_rows)


@sync
async def test_first_view_backfills_the_history_in_the_background_with_a_progress_bar(
    loopback_demo: LoopbackExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the pane shows after each progress step: (stage label, bar shown, table rows). A progress
    # message replaces an older one still queued, so which steps reach the bar would depend on how the
    # event loop interleaves the backfill and the pane: here every step is handled, and recorded as drawn.
    steps: list[tuple[str, bool, int]] = []
    handle = ScannerPane.on_backfill_progress

    def record(self: ScannerPane, message: BackfillProgress) -> None:
        handle(self, message)
        label = str(self.query_one("#scan-progress-label", Static).render()).split(" · ")[0]
        steps.append((label, self.query_one("#scan-progress").display, self.table.row_count))

    monkeypatch.setattr(ScannerPane, "on_backfill_progress", record)
    monkeypatch.setattr(BackfillProgress, "can_replace", lambda self, message: False)
    app = binance_app(loopback_demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        pane = app.pane("scanner")  # type: ignore[attr-defined]
        bar = pane.query_one("#scan-progress")
        for _ in range(20):  # settle() waits for the backfill's worker; its results start the statistics'
            await settle(pilot)
            if pane.backfill_done_at is not None:
                break
        assert pane.backfill_done_at is not None
        # Every step drew the bar over a full, usable table; recent gaps first, the oldest last.
        assert len(steps) == len(pane.rows) * len(BACKFILL_STAGES)
        assert all(shown and rows == len(pane.rows) > 20 for _, shown, rows in steps), steps
        stages = [label for i, (label, *_) in enumerate(steps) if i == 0 or label != steps[i - 1][0]]
        assert stages == [f"history {days}d" for days in BACKFILL_STAGES]
        assert not bar.display
        await settle(pilot)
        btc = pane.rows["binanceusdm:BTCDEMO/USDT:USDT"]
        assert btc.mean_apr_90d is not None and btc.zscore_30d is not None
        # Afterwards only new prints are asked for: nothing is due at the frozen time, so no request.
        before = len(loopback_demo.requests_to("/fapi/v1/fundingRate"))
        pane.backfill_done_at = None
        pane.backfill_if_due()
        await settle(pilot)
        assert pane.backfill_done_at is not None
        assert len(loopback_demo.requests_to("/fapi/v1/fundingRate")) == before


@pytest.fixture
def three_venues() -> Iterator[LoopbackExchange]:
    """Bybit (8h), OKX (8h) and Hyperliquid (1h) loopbacks on one server (tests/loopback/venues)."""
    import tests.loopback.venues  # noqa: F401  (registers the venue apps)
    from tests.loopback.venues.composite import CompositeVenue
    from tests.loopback.venues.registry import VENUE_LOOPBACKS

    apps = [VENUE_LOOPBACKS[v](None) for v in ("bybit", "okx", "hyperliquid")]
    yield from fixtures.serve(LoopbackExchange(CompositeVenue(apps), mode="three venues"))


@sync
async def test_cross_exchange_view_across_three_venues_compares_rates_per_hour(
    three_venues: LoopbackExchange,
) -> None:
    """`x` on Bybit with scan.exchanges = OKX and Hyperliquid: each venue's own interval (8h, 8h, 1h)
    normalised per hour before the spread is taken."""
    url = three_venues.base_url
    settings = Settings.model_validate(
        {"exchange": "bybit", "api_base_url": url, "network": NETWORK, "ui": QUIET,
         "scan": {"exchanges": ["okx", "hyperliquid"]}}
    )  # fmt: skip
    store = Store.open(":memory:")
    others = {
        exchange: open_market_data(
            Settings.model_validate({"exchange": exchange, "api_base_url": url, "network": NETWORK}), store
        )
        for exchange in ("okx", "hyperliquid")
    }
    now = three_venues.source.app("bybit").now_ms
    source = open_market_data(settings, store)
    app = build_app(settings, source=source, store=store, clock=FrozenClock(now), other_sources=others)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("x")
        for _ in range(1200):  # a bounded wait on the scans (a slow poll is restarted: no settle here)
            if pane.spreads.table.row_count and len(pane.others) == 2:
                break
            await pilot.pause(0.05)
        note = str(pane.query_one("#scan-cross-note", Static).render())
        assert len(pane.others) == 2, (note, pane.other_notes)
        rows = [*pane.rows.values(), *(r for scan in pane.others for r in scan.rows)]
        per_hour = {
            (r.exchange, r.symbol.partition("/")[0]): r.funding_rate / r.interval_hours
            for r in rows
            if r.symbol.partition("/")[0] in ("BTC", "ETH") and r.funding_rate is not None
        }
        assert {e for e, _ in per_hour} == {"bybit", "okx", "hyperliquid"}
        assert {r.exchange: r.interval_hours for r in rows if r.symbol.startswith("BTC/")} == {
            "bybit": 8.0, "okx": 8.0, "hyperliquid": 1.0
        }  # fmt: skip
        for base in ("BTC", "ETH"):
            rates = {e: rate for (e, b), rate in per_hour.items() if b == base}
            low, high = min(rates, key=rates.__getitem__), max(rates, key=rates.__getitem__)
            assert pane.spreads.table.cell_text(base, "long") == low
            assert pane.spreads.table.cell_text(base, "short") == high
