"""The risk pane (key 5) on the demo market with three paper positions: BTC far from liquidation, ETH
near the minimum distance, SOL inside it. Colours, alerts (notification, bell, logged once), the
keys on a position (close, reduce, move the stop, size it) and the circuit breaker end to end."""

from __future__ import annotations

import asyncio

from textual.widgets import Input

from perptui.presentation.numbers import MASK
from perptui.ui.screenshots import open_risk
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from tests.ui.helpers import notifications, settle, sync, wait_for_screen
from tests.ui.test_sizing_flows import fill

SIZE = (120, 40)
BTC, ETH, SOL = "BTCDEMO/USDT:USDT", "ETHDEMO/USDT:USDT", "SOLDEMO/USDT:USDT"


def count_bells(app) -> list[int]:  # type: ignore[no-untyped-def]
    rung: list[int] = []
    app.bell = lambda: rung.append(1)
    return rung


async def answer_form(pilot, text: str) -> FormDialog:  # type: ignore[no-untyped-def]
    dialog = await wait_for_screen(pilot, FormDialog)
    dialog.query_one(Input).value = text
    await pilot.press("enter")
    await pilot.pause()
    return dialog


async def poll_again(pilot, pane) -> None:  # type: ignore[no-untyped-def]
    pane.refresh_data(soon=True)
    for _ in range(100):
        await settle(pilot)
        if not pane.polling:
            return
        await pilot.pause(0.05)


@sync
async def test_positions_are_coloured_by_distance_to_liquidation_and_masked_in_privacy(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_risk(pilot)
        table = pane.table
        assert table.keys_in_order() == [BTC, ETH, SOL]
        tones = {key: table.cell(key, "to_liq")[1] for key in (BTC, ETH, SOL)}
        assert tones == {BTC: "pos", ETH: "warn", SOL: "neg-strong"}
        by_symbol = {p.symbol: p for p in pane.report.positions}
        assert table.cell_text(SOL, "to_liq") == f"{by_symbol[SOL].liq_distance * 100:.1f}%"
        assert by_symbol[SOL].liq_distance < 0.10 < by_symbol[ETH].liq_distance < 0.125
        assert table.cell_text(ETH, "stop") != "none" and table.cell_text(SOL, "stop") == "none"
        assert not pane.query_one("#risk-empty").display
        await pilot.press("p")
        await settle(pilot)
        assert table.cell_text(BTC, "notional") == MASK and table.cell_text(BTC, "upnl") == MASK
        assert MASK in str(pane.query_one("#risk-portfolio").render())


@sync
async def test_a_breach_is_notified_with_the_bell_and_logged_once(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        rung = count_bells(app)
        pane = await open_risk(pilot)
        sol = [m for m in notifications(pilot) if SOL in m and "liquidation distance" in m]
        eth = [m for m in notifications(pilot) if ETH in m and "liquidation distance" in m]
        assert len(sol) == 1 and "breaches" in sol[0] and len(eth) == 1 and "nears" in eth[0]
        assert rung
        alerts_text = str(pane.query_one("#risk-alerts").render())
        assert "SOLDEMO/USDT:USDT liquidation distance" in alerts_text
        # The next checks find the same breaches: no new notification, no bell, nothing logged again.
        before, bells = len(notifications(pilot)), len(rung)
        await poll_again(pilot, pane)
        await poll_again(pilot, pane)
        assert len(notifications(pilot)) == before and len(rung) == bells
        from perptui.services.risk import alert_log

        logged = [e for e in alert_log(app.ctx.store(), "paper") if e.symbol == SOL]
        assert len([e for e in logged if e.kind == "liq_distance"]) == 1


@sync
async def test_close_asks_first_and_declining_keeps_the_position(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_risk(pilot)
        engine = app.ctx.paper_engine()
        assert pane.table.cursor_key == BTC
        await pilot.press("c")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert "reduce-only MARKET order" in "\n".join(dialog.lines)
        await pilot.press("n")
        await settle(pilot)
        assert engine.position(BTC) is not None
        await pilot.press("c")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        await poll_again(pilot, pane)
        assert engine.position(BTC) is None
        assert pane.table.keys_in_order() == [ETH, SOL]


@sync
async def test_reduce_by_a_share_after_a_rejected_amount(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_risk(pilot)
        await pilot.press("j", "j")
        assert pane.table.cursor_key == SOL
        await pilot.press("r")
        dialog = await answer_form(pilot, "7")  # 5 are open
        assert "close at most that" in dialog.error and app.screen is dialog
        await answer_form(pilot, "40%")
        lines = "\n".join((await wait_for_screen(pilot, ConfirmDialog)).lines)
        assert "quantity 2.00 of 5.00" in lines  # at SOLDEMO's 0.01 step
        await pilot.press("y")
        await settle(pilot)
        await poll_again(pilot, pane)
        assert app.ctx.paper_engine().position(SOL).qty == 3
        assert pane.table.cell_text(SOL, "qty") == "3.00"


@sync
async def test_move_stop_refuses_the_wrong_side_then_moves_it(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_risk(pilot)
        mark = {p.symbol: p.mark for p in pane.report.positions}[BTC]
        await pilot.press("s")  # BTC: a long
        dialog = await answer_form(pilot, f"{mark * 1.01:.1f}")
        assert "must be below the mark" in dialog.error and app.screen is dialog
        old = app.ctx.paper_engine().position(BTC).stop
        await answer_form(pilot, "78000")
        # The confirmation shows the loss at the old and the new stop; 2.5% of equity is above the
        # 2% maximum per trade: flagged, so Enter answers no.
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        text = "\n".join(dialog.lines)
        assert dialog.title_text == f"Move the stop of {BTC}?"
        assert f"{old:,.1f} → 78,000.0" in text and "risk now" in text and "risk after" in text
        assert dialog.default_no and "above your maximum of 2.00% per trade" in dialog.warnings[0]
        await pilot.press("enter")
        await settle(pilot)
        assert app.ctx.paper_engine().position(BTC).stop == old
        # 80,000 stays within the maximum: a plain confirmation, Enter moves it.
        await pilot.press("s")
        await answer_form(pilot, "80000")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert not dialog.default_no and dialog.prompt == "y/enter: yes, move it   n/esc: no"
        await pilot.press("enter")
        await settle(pilot)
        await poll_again(pilot, pane)
        assert app.ctx.paper_engine().position(BTC).stop == 80000
        assert pane.table.cell_text(BTC, "stop") == "80,000.0"  # at BTCDEMO's 0.1 tick


@sync
async def test_removing_a_stop_defaults_to_no_and_a_position_without_one_is_alerted(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_risk(pilot)
        engine = app.ctx.paper_engine()
        alerts = str(pane.query_one("#risk-alerts").render())
        assert f"{SOL} has no stop-loss" in alerts and f"{ETH} has no stop-loss" not in alerts
        assert any(f"{SOL} has no stop-loss" in m for m in notifications(pilot))
        stop = engine.position(ETH).stop
        await pilot.press("j", "s")  # ETH, a short with a stop
        await answer_form(pilot, "")  # blank removes it
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert dialog.title_text == f"Remove the stop of {ETH}?" and dialog.default_no
        assert "no stop: the loss runs to liquidation at" in "\n".join(dialog.lines)
        assert dialog.prompt == "y: yes, remove it   enter/n/esc: no"
        await pilot.press("enter")
        await settle(pilot)
        assert engine.position(ETH).stop == stop
        await pilot.press("s")
        await answer_form(pilot, "")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        await poll_again(pilot, pane)
        assert engine.position(ETH).stop is None
        assert f"{ETH} has no stop-loss" in str(pane.query_one("#risk-alerts").render())


@sync
async def test_enter_opens_the_position_in_the_sizing_pane(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_risk(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        assert app.current_pane == "sizing"
        assert app.pane("sizing").form.symbol == ETH


@sync
async def test_no_positions_says_how_to_open_one(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_risk(pilot, positions=False)
        assert pane.query_one("#risk-empty").display
        assert pane.table.row_count == 0
        assert "every limit holds" in str(pane.query_one("#risk-alerts").render())


@sync
async def test_drawdown_trips_the_breaker_orders_are_refused_until_a_confirmed_reset(make_app) -> None:
    """A max drawdown of 0.1%: the sample positions' fees breach it, the breaker trips, the sizing
    pane's order is refused, closing still works, and a confirmed reset allows orders again."""
    app = make_app(history=True, config={"risk": {"max_drawdown_pct": 0.1}})
    async with app.run_test(size=SIZE) as pilot:
        rung = count_bells(app)
        pane = await open_risk(pilot)
        assert pane.report.breaker.tripped and rung
        assert any("drawdown" in m for m in notifications(pilot))
        assert "circuit breaker TRIPPED" in str(pane.query_one("#risk-alerts").render())
        engine = app.ctx.paper_engine()
        # Orders are refused while tripped; closing is allowed.
        await pilot.press("2")
        await settle(pilot)
        await fill(pilot, "stop", "2")
        await pilot.press("o")  # refused at once: no confirmation first
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert any("paper order refused" in m for m in notifications(pilot))
        assert len(engine.positions()) == 3
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("c")  # BTC
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert engine.position(BTC) is None
        # Reset: declined keeps it tripped; confirmed lets orders through again.
        await pilot.press("b")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert engine.breaker().tripped
        await pilot.press("b")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        await poll_again(pilot, pane)
        assert not pane.report.breaker.tripped and not engine.breaker().tripped
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("o")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert engine.position(BTC) is not None


@sync
async def test_a_hidden_pane_keeps_watching_but_draws_only_when_shown(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_risk(pilot)
        await pilot.press("1")
        await settle(pilot)
        engine = app.ctx.paper_engine()
        await asyncio.to_thread(engine.close, BTC)
        await poll_again(pilot, pane)
        assert [p.symbol for p in pane.report.positions] == [ETH, SOL]  # polled while hidden
        assert pane.table.keys_in_order() == [BTC, ETH, SOL]  # but not drawn
        await pilot.press("5")
        await settle(pilot)
        assert pane.table.keys_in_order() == [ETH, SOL]


@sync
async def test_on_start_the_app_settles_what_fell_due_while_it_was_closed(demo_source) -> None:
    """A position opened three days before the app starts, its stop 0.5% under the mark: the demo's
    history crosses it, so the app's first poll fills the stop from the fetched candles and says so."""
    from perptui.domain.paper import OrderRequest
    from perptui.services.clock import FrozenClock
    from perptui.services.demo import DemoExchange
    from perptui.services.paper import open_engine
    from perptui.ui.screenshots import demo_app

    app = demo_app(history=True, source=demo_source)
    ctx = app.ctx
    then = ctx.clock.now_ms() - 3 * 86_400_000
    earlier = DemoExchange(7, FrozenClock(then))
    markets = await earlier.load_markets()
    mark = (await earlier.fetch_funding_rates([BTC]))[BTC].mark
    engine = open_engine(ctx.settings, ctx.store(), FrozenClock(then), markets)
    engine.place_order(OrderRequest(BTC, "long", 0.01, leverage=2, stop=round(mark * 0.995, 1), mark=mark))
    assert engine.position(BTC) is not None
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_risk(pilot, positions=False, sample=False)
        assert any(m.startswith("while the app was closed:") and "stop" in m for m in notifications(pilot))
        assert app.ctx.paper_engine().position(BTC) is None
        assert pane.table.row_count == 0
