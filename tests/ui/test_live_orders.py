"""Live orders from the keyboard, with a stand-in trader at the AppContext seam (``live_fakes``) on the
demo market served by the loopback exchange in Binance's format. The sizing pane's ``o`` shows every
order of the ticket and sends only on the typed symbol or ``y`` (never a bare Enter); an entry left
without its stop offers to close it; the live orders screen's kill switch needs KILL typed. In paper and
demo modes ``o`` still goes to the paper account and no live trader can be built."""

from __future__ import annotations

import pytest
from textual.screen import ModalScreen

from perptui.config.settings import Settings
from perptui.domain.errors import UsageError
from perptui.services.clock import FrozenClock
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from perptui.ui.app import PerptuiApp
from perptui.ui.factory import build_app
from perptui.ui.screens.live_orders.screen import LiveOrdersScreen
from perptui.ui.widgets.dialogs import ConfirmDialog
from perptui.ui.widgets.live_dialogs import LiveOrderDialog, NakedDialog, TypedConfirmDialog
from tests.conftest import FROZEN_NOW_MS
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange
from tests.ui.helpers import notifications, settle, sync, type_text, wait_for_screen
from tests.ui.live_fakes import FakeTrader, live_settings
from tests.ui.test_sizing_flows import fill, open_pane

loopback_demo = fixtures.loopback_demo


def live_app(server: LoopbackExchange, trader: FakeTrader, **extra: object) -> PerptuiApp:
    settings = live_settings(server.base_url, **extra)
    store = Store.open(":memory:")
    source = open_market_data(settings, store)
    app = build_app(settings, source=source, store=store, clock=FrozenClock(FROZEN_NOW_MS))
    app.ctx.trader_factory = lambda: trader  # type: ignore[assignment,return-value]  # the stand-in
    return app


async def sized(pilot) -> None:  # type: ignore[no-untyped-def]
    pane = await open_pane(pilot)
    await fill(pilot, "stop", "2")
    await fill(pilot, "targets", "1,2")
    assert pane.result is not None and pane.result.tradable, pane.error


async def live_dialog(pilot) -> LiveOrderDialog:  # type: ignore[no-untyped-def]
    dialog = await wait_for_screen(pilot, LiveOrderDialog)
    await pilot.pause()
    return dialog


def test_the_badge_says_which_account_and_live_only_when_orders_can_be_sent() -> None:
    base = {"exchange": "binanceusdm", "api_key": "k", "api_secret": "s"}
    cases = [
        ({}, "DEMO"),
        (base, "PAPER"),
        ({**base, "account": "exchange"}, "EXCHANGE"),
        ({**base, "account": "exchange", "trading": {"live": True}}, "LIVE"),
        ({**base, "account": "exchange", "testnet": True, "trading": {"live": True}}, "LIVE TESTNET"),
        ({**base, "trading": {"live": True}}, "PAPER"),  # live = true on the paper account: no order path
    ]
    for config, badge in cases:
        assert build_app(Settings.model_validate(config)).ctx.badge == badge, config


@pytest.mark.parametrize("config", [{}, {"exchange": "binanceusdm", "trading": {"live": True}}])
def test_no_live_trader_exists_in_demo_or_paper_mode(config: dict[str, object]) -> None:
    app = build_app(Settings.model_validate(config))
    app.ctx.trader_factory = FakeTrader  # type: ignore[assignment]  # never reached
    with pytest.raises(UsageError):
        app.ctx.live_trader()
    assert app.ctx._trader is None and not app.ctx.live


@sync
async def test_o_in_live_mode_shows_every_order_and_enter_alone_never_sends(
    loopback_demo: LoopbackExchange,
) -> None:
    trader = FakeTrader()
    app = live_app(loopback_demo, trader)
    async with app.run_test(size=(120, 40)) as pilot:
        assert str(app.query_one("#badge").content).strip() == "LIVE"
        await sized(pilot)
        await pilot.press("o")
        dialog = await live_dialog(pilot)
        text = "\n".join(dialog.lines)
        # The entry, the reduce-only stop and both take-profits, each on the exchange's symbol with its id.
        for label in ("entry", "stop", "TP1", "TP2"):
            assert any(line.startswith(label) for line in dialog.lines), label
        assert text.count("BTCDEMOUSDT") == 4 and text.count("reduce-only") == 3
        assert "STOP-MARKET" in text and "TAKE-PROFIT-MARKET" in text and "id pt" in text
        assert "LIVE ORDERS" in dialog.banner and dialog.words == ["BTCDEMO", "BTCDEMOUSDT"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and "enter alone never sends" in dialog.error
        await type_text(pilot, "ETH")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and "'ETH' is not it" in dialog.error
        await pilot.press("escape")
        await settle(pilot)
        assert trader.placed == [] and "nothing sent" in notifications(pilot)


@sync
async def test_typing_the_symbol_sends_the_ticket_once(loopback_demo: LoopbackExchange) -> None:
    trader = FakeTrader()
    app = live_app(loopback_demo, trader)
    async with app.run_test(size=(120, 40)) as pilot:
        await sized(pilot)
        await pilot.press("o")
        await live_dialog(pilot)
        await type_text(pilot, "btcdemo")
        await pilot.press("enter")
        await settle(pilot)
        [plan] = trader.placed
        assert plan.symbol == "BTCDEMO/USDT:USDT" and [o.label for o in plan.orders] == [
            "entry",
            "stop",
            "TP1",
            "TP2",
        ]
        assert any("entry (pt" in n and "accepted" in n for n in notifications(pilot))
        assert app.ctx.paper_engine().fills() == []  # nothing went to the paper account


@sync
async def test_y_sends_and_a_naked_entry_offers_to_close_it(loopback_demo: LoopbackExchange) -> None:
    trader = FakeTrader(naked=True)
    app = live_app(loopback_demo, trader)
    async with app.run_test(size=(120, 40)) as pilot:
        await sized(pilot)
        await pilot.press("o")
        await live_dialog(pilot)
        await pilot.press("y")
        naked = await wait_for_screen(pilot, NakedDialog)
        assert naked.symbol == "BTCDEMO/USDT:USDT" and len(trader.placed) == 1
        await pilot.press("c")
        await settle(pilot)
        [closed] = trader.closed
        assert closed.symbol == "BTCDEMO/USDT:USDT"  # the book's position, closed reduce-only at market
        assert not isinstance(app.screen, ModalScreen)


@sync
async def test_a_naked_entry_can_retry_its_stop_and_enter_keeps_it(loopback_demo: LoopbackExchange) -> None:
    trader = FakeTrader(naked=True)
    app = live_app(loopback_demo, trader)
    async with app.run_test(size=(120, 40)) as pilot:
        await sized(pilot)
        await pilot.press("o")
        await live_dialog(pilot)
        await pilot.press("y")
        await wait_for_screen(pilot, NakedDialog)
        await pilot.press("r")
        await settle(pilot)
        [stop] = trader.sent
        assert stop.leg == "stop" and stop.reduce_only and trader.closed == []
        await pilot.press("o")
        await live_dialog(pilot)
        await pilot.press("y")
        await wait_for_screen(pilot, NakedDialog)
        await pilot.press("enter")  # the default keeps it: closing is never done by a stray key
        await settle(pilot)
        assert trader.closed == [] and any("WITHOUT A STOP" in n for n in notifications(pilot))


@sync
async def test_a_tripped_breaker_refuses_before_any_confirmation(loopback_demo: LoopbackExchange) -> None:
    trader = FakeTrader(breaker="circuit breaker tripped: daily loss 5% reached")
    app = live_app(loopback_demo, trader)
    async with app.run_test(size=(120, 40)) as pilot:
        await sized(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert not isinstance(app.screen, ModalScreen) and trader.placed == []
        assert any("live order refused: circuit breaker tripped" in n for n in notifications(pilot))


@sync
async def test_the_kill_switch_needs_kill_typed(loopback_demo: LoopbackExchange) -> None:
    trader = FakeTrader()
    app = live_app(loopback_demo, trader)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert "NO STOP" in str(app.query_one("#risk-no-stop").render())  # the short ETH of the book
        await pilot.press("O")
        screen = await wait_for_screen(pilot, LiveOrdersScreen)
        await settle(pilot)
        assert screen.positions_table.row_count == 2 and screen.orders_table.row_count == 2
        await pilot.press("K")
        dialog = await wait_for_screen(pilot, TypedConfirmDialog)
        for keys in (["y"], ["enter"], ["k", "i", "l", "enter"]):
            await pilot.press(*keys)
            await pilot.pause()
            assert app.screen is dialog and trader.kills == 0, keys
        dialog.typed.value = ""
        await type_text(pilot, "KILL")
        await pilot.press("enter")
        await settle(pilot)
        assert trader.kills == 1 and app.screen is screen
        assert screen.positions_table.row_count == 0 and "nothing is open" in notifications(pilot)[-1]


@sync
async def test_the_live_orders_screen_cancels_and_closes_after_confirming(
    loopback_demo: LoopbackExchange,
) -> None:
    trader = FakeTrader()
    app = live_app(loopback_demo, trader)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("1")  # the account pane has O too
        await settle(pilot)
        await pilot.press("O")
        screen = await wait_for_screen(pilot, LiveOrdersScreen)
        await settle(pilot)
        await pilot.press("c")  # close the BTC long under the cursor: its base typed
        dialog = await wait_for_screen(pilot, TypedConfirmDialog)
        await type_text(pilot, "BTCDEMO")
        await pilot.press("enter")
        await settle(pilot)
        assert [p.symbol for p in trader.closed] == ["BTCDEMO/USDT:USDT"] and dialog is not app.screen
        await pilot.press("tab")  # to the orders table
        await pilot.press("x")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert [o.id for o in trader.cancelled] == ["11"] and app.screen is screen


@sync
async def test_demo_mode_o_still_goes_to_the_paper_account(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        assert pane.check_action("send_live_order", ()) is False and not app.ctx.live
        await pilot.press("o")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert "PAPER account only" in "\n".join(dialog.lines)
        await pilot.press("y")
        await settle(pilot)
        assert len(app.ctx.paper_engine().fills()) == 1 and app.ctx._trader is None
        await pilot.press("5")
        await settle(pilot)
        assert app.pane("risk").check_action("live_orders", ()) is False
