"""How the live order confirmation and the live orders screen look on a small (80x24) and a common
(120x40) terminal: the demo app (frozen clock, seeded demo market) with the dialog of a ticket on the
demo's BTC perp and the screen on a stand-in trader's book (``live_fakes``). Review the report before
``pytest --snapshot-update``."""

from __future__ import annotations

from dataclasses import replace

from perptui.domain.live.plan import plan_orders
from perptui.domain.paper import OrderRequest, TakeProfitTarget
from perptui.ui.panes.sizing.live_flow import order_dialog
from perptui.ui.screens.live_orders.screen import LiveOrdersScreen
from tests.conftest import FROZEN_NOW_MS
from tests.ui.helpers import settle
from tests.ui.live_fakes import BTC, FakeTrader

SMALL = (80, 24)
MEDIUM = (120, 40)
BANNER = "LIVE ORDERS · binanceusdm TESTNET"


async def show_live_dialog(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    markets = {m.symbol: m for m in await pilot.app.ctx.source().load_markets()}
    market = replace(markets[BTC], exchange="binanceusdm")  # as the banner says: the plan names it
    request = OrderRequest(
        BTC,
        "long",
        0.012,
        leverage=5,
        margin_mode="isolated",
        stop=98_000.0,
        mark=100_000.0,
        take_profits=(TakeProfitTarget(104_000.0, 0.5), TakeProfitTarget(108_000.0, 0.5)),
    )
    plan = plan_orders(request, market, confirmed_at=FROZEN_NOW_MS, attach_stop=False)
    warnings = ["the stop is 2.1 x ATR from the entry: wider than the usual 1.5"]
    pilot.app.push_screen(order_dialog(plan, market, BANNER, warnings))
    await pilot.pause()


async def show_live_screen(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    pilot.app.push_screen(LiveOrdersScreen(FakeTrader(), BANNER))  # type: ignore[arg-type]  # the stand-in
    await settle(pilot)


def test_live_order_confirmation_small(snap_compare, make_app) -> None:
    """The red banner, every order with its exchange symbol, amount, trigger and id, the typed field."""
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=show_live_dialog)


def test_live_order_confirmation_medium(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=MEDIUM, run_before=show_live_dialog)


def test_live_orders_screen_small(snap_compare, make_app) -> None:
    """The positions with their protection (NO STOP in red), the open orders (perptui's marked)."""
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=show_live_screen)


def test_live_orders_screen_medium(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=MEDIUM, run_before=show_live_screen)
