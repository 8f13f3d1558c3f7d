"""The sizing pane's `o`: the whole ticket in a confirmation, then a paper order on the local paper
account (market when the entry follows the mark, limit at a typed entry), refused before any
confirmation while the circuit breaker is tripped; declining sends nothing."""

from __future__ import annotations

from perptui.ui.widgets.dialogs import ConfirmDialog
from tests.ui.helpers import notifications, settle, sync, wait_for_screen
from tests.ui.test_sizing_flows import SIZE, fill, open_pane


async def confirm_dialog(pilot) -> str:  # type: ignore[no-untyped-def]
    return "\n".join((await wait_for_screen(pilot, ConfirmDialog)).lines)


@sync
async def test_o_shows_the_whole_order_and_places_it_on_the_paper_account(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        await fill(pilot, "targets", "1,2")
        result = pane.result
        assert result is not None and result.tradable
        await pilot.press("o")
        text = await confirm_dialog(pilot)
        assert "MARKET order" in text and "Quantity" in text and "Liquidation" in text
        assert "not sent: the later targets" in text and "PAPER account only" in text
        await pilot.press("y")
        await settle(pilot)
        engine = app.ctx.paper_engine()
        [position] = engine.positions()
        assert position.symbol == result.symbol and position.side == result.side
        assert position.qty == result.quantity
        assert position.stop == result.stop and position.take_profit == result.take_profits[0].price
        # Declining sends nothing.
        await pilot.press("o")
        await confirm_dialog(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert len(engine.fills()) == 1


@sync
async def test_a_typed_entry_is_a_limit_order_and_a_tripped_breaker_refuses_new_orders(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        mark = pane.snapshot.mark
        await fill(pilot, "entry", f"{mark * 0.95:.1f}")
        await pilot.press("o")
        assert "LIMIT BUY at" in (text := await confirm_dialog(pilot)) and "rests until the mark" in text
        await pilot.press("y")
        await settle(pilot)
        engine = app.ctx.paper_engine()
        [order] = engine.orders(open_only=True)
        assert order.kind == "limit" and order.price == pane.result.entry and engine.positions() == []
        # The breaker trips (a daily loss): a new order is refused with the reason before any
        # confirmation, nothing is written.
        from perptui.services.store.risk_events import log_event

        with engine.store.writing() as conn:
            log_event(
                conn, engine.account.name, engine.now(), "breaker_trip", "critical", "daily loss limit hit"
            )
        await pilot.press("o")
        await settle(pilot)  # no confirmation waits for an answer
        assert not isinstance(app.screen, ConfirmDialog)
        assert any("paper order refused" in m for m in notifications(pilot))
        assert len(engine.orders(open_only=True)) == 1
