"""The sizing pane's `o`: the whole ticket in a confirmation, then a paper order on the local paper
account (market when the entry follows the mark, limit at a typed entry), refused before any
confirmation while the circuit breaker is tripped; declining sends nothing. What is placed is the
ticket through the market's rules: prices on the tick, quantities on the step, every target a
take-profit level at its share."""

from __future__ import annotations

import pytest

from perptui.domain.paper import split_targets
from perptui.domain.sized_order import sized_order
from perptui.ui.widgets.dialogs import ConfirmDialog
from tests.ui.helpers import notifications, settle, sync, wait_for_screen
from tests.ui.test_sizing_flows import SIZE, fill, open_pane


async def confirm_dialog(pilot) -> str:  # type: ignore[no-untyped-def]
    return "\n".join((await wait_for_screen(pilot, ConfirmDialog)).lines)


@sync
async def test_the_three_targets_become_three_take_profits_on_the_paper_account(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        await fill(pilot, "targets", "1,2,3")
        result, market = pane.result, pane.market
        assert result is not None and result.tradable and market is not None
        assert len(result.take_profits) == 3
        await pilot.press("o")
        text = await confirm_dialog(pilot)
        assert "MARKET order" in text and "Quantity" in text and "Liquidation" in text
        assert "3 take-profits attached" in text and "PAPER account only" in text
        await pilot.press("y")
        await settle(pilot)
        engine = app.ctx.paper_engine()
        [position] = engine.positions()
        sent = sized_order(result, market, limit=False, mark=pane.snapshot.mark)
        assert position.symbol == result.symbol and position.side == result.side
        assert position.qty == sent.qty == result.quantity
        assert position.stop == sent.stop
        # Every target, on the tick (toward the entry), at its share of the quantity on the step; the
        # last closes the rest, so the levels close the whole position.
        assert [t.price for t in position.take_profits] == [t.price for t in sent.take_profits]
        assert position.take_profits == split_targets(sent.take_profits, position.qty, market.amount_step)
        assert [t.share for t in sent.take_profits] == [t.share for t in result.take_profits]
        assert sum(t.qty for t in position.take_profits) == pytest.approx(position.qty)
        tick = market.price_tick
        assert tick and all(abs(t.price / tick - round(t.price / tick)) < 1e-6 for t in position.take_profits)
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
        sent = sized_order(pane.result, pane.market, limit=True, mark=mark)
        assert order.kind == "limit" and order.price == sent.price and engine.positions() == []
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
