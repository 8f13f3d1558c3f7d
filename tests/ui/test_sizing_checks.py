"""The sizing pane's second looks: `x` cycles the stop mode without moving the stop, a typed price far
from the mark is flagged inline and makes the order confirmation default to No, a limit order is worded
by where it stands against the mark, and `c` says honestly where the ticket went."""

from __future__ import annotations

import pytest

from perptui.config.paths import data_dir
from perptui.presentation.numbers import price_input
from perptui.ui.widgets.dialogs import ConfirmDialog
from tests.ui.helpers import notifications, settle, sync, wait_for_screen
from tests.ui.test_sizing_flows import SIZE, fill, open_pane


@sync
async def test_x_cycles_the_stop_mode_and_comes_back_to_the_same_stop(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        stop = pane.result.stop
        seen = []
        for _ in range(3):  # % -> price -> ATR -> %
            await pilot.press("x")
            await settle(pilot)  # the ATR is read when its mode is first shown
            assert pane.result is not None
            seen.append((pane.form.stop_mode, pane.form.stop))
            assert pane.result.stop == stop  # the stop never moves while cycling
        (m1, price), (m2, multiple), (m3, pct) = seen
        assert (m1, m2, m3) == ("price", "atr", "pct")
        assert price == price_input(stop, pane.market.price_tick)
        assert multiple and pct == "2"
        # A second round gives the same texts.
        for mode, text in seen:
            await pilot.press("x")
            await settle(pilot)
            assert (pane.form.stop_mode, pane.form.stop) == (mode, text)
        # Typing a stop starts a new run from it.
        await fill(pilot, "stop", "1.5")
        await pilot.press("x", "x", "x")
        await settle(pilot)
        assert (pane.form.stop_mode, pane.form.stop) == ("pct", "1.5")


@sync
async def test_a_typed_entry_far_from_the_mark_is_flagged_and_the_order_defaults_to_no(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        mark, tick = pane.snapshot.mark, pane.market.price_tick
        await pilot.press("x")  # the stop as a price
        await fill(pilot, "stop", price_input(mark * 0.98, tick))
        await fill(pilot, "entry", price_input(mark * 1.5, tick))  # a buy limit 50% above the mark
        assert pane.result is not None
        warning = str(app.query_one("#size-warning-0").content)
        assert "entry" in warning and "above the mark" in warning and "50%" in warning
        await pilot.press("o")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert dialog.default_no and any("above the mark" in w for w in dialog.warnings)
        assert dialog.prompt == "y: yes, place it   enter/n/esc: no"
        text = "\n".join(dialog.lines)
        assert "marketable, fills at once" in text and "rests until" not in text
        await pilot.press("enter")  # Enter answers No here
        await settle(pilot)
        engine = app.ctx.paper_engine()
        assert engine.positions() == [] and engine.orders() == []
        assert "order not sent" in notifications(pilot)
        # Within 30% of the mark: no warning, a limit below the mark rests (a plain confirmation).
        await fill(pilot, "stop", price_input(mark * 0.93, tick))
        await fill(pilot, "entry", price_input(mark * 0.95, tick))
        assert all("the mark" not in str(w.content) for w in app.query(".size-warning") if w.display)
        await pilot.press("o")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert "rests until the mark (now" in "\n".join(dialog.lines) and not dialog.default_no
        await pilot.press("n")
        await settle(pilot)


@sync
async def test_a_tripped_breaker_is_said_before_any_confirmation(make_app) -> None:
    from perptui.services.store.risk_events import log_event

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        await fill(pilot, "stop", "2")
        engine = app.ctx.paper_engine()
        with engine.store.writing() as conn:
            log_event(conn, engine.account.name, engine.now(), "breaker_trip", "critical", "loss limit hit")
        await pilot.press("o")
        await settle(pilot)  # would hang on an unanswered confirmation
        assert not isinstance(app.screen, ConfirmDialog)
        refused = [m for m in notifications(pilot) if m.startswith("paper order refused")]
        assert refused and "circuit breaker" in refused[0]
        assert engine.orders(open_only=False) == []


@sync
async def test_c_says_where_the_ticket_went_and_saves_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        await pilot.press("c")
        await settle(pilot)
        saved = data_dir() / "ticket.txt"
        assert saved.read_text() == app.clipboard + "\n" and pane.result.symbol in app.clipboard
        [said] = [m for m in notifications(pilot) if "ticket" in m]
        assert "copied" not in said
        assert "OSC 52" in said and str(saved) in said


@pytest.mark.parametrize("side", ["long", "short"])
def test_cycling_the_stop_mode_keeps_the_stop_price(demo_source, side: str) -> None:
    """Pure: % -> price -> ATR -> % for the same stop price; an ATR with many digits makes a rounded
    2-decimal multiple move the stop by ticks, so the texts carry as many decimals as it takes."""
    import asyncio
    from dataclasses import replace

    from perptui.ui.panes.sizing.edits import cycle_stop
    from perptui.ui.panes.sizing.model import Context, FormState, entry_price, stop_of

    market = next(m for m in asyncio.run(demo_source.load_markets()) if m.symbol.startswith("BTC"))
    ctx = Context(market, mark=85_913.46, equity=5_000.0, atr=1_234.5678)
    form, cycle = FormState(side=side, stop="2"), None  # type: ignore[arg-type]
    stop = stop_of(form, ctx, entry_price(form, ctx))
    modes = []
    for _ in range(6):
        mode, text, cycle = cycle_stop(form, ctx, cycle)
        form = replace(form, stop_mode=mode, stop=text)
        assert stop_of(form, ctx, entry_price(form, ctx)) == stop
        modes.append((mode, text))
    assert [m for m, _ in modes] == ["price", "atr", "pct"] * 2 and modes[2][1] == "2"
    assert modes[:3] == modes[3:]


@pytest.mark.parametrize(
    ("side", "price", "said"),
    [
        ("long", 110.0, "LIMIT BUY at 110.0, at or above the mark 100.0: marketable, fills at once"),
        ("long", 90.0, "LIMIT BUY at 90.0: rests until the mark (now 100.0) falls to it, maker fee"),
        ("short", 90.0, "LIMIT SELL at 90.0, at or below the mark 100.0: marketable, fills at once"),
        ("short", 110.0, "LIMIT SELL at 110.0: rests until the mark (now 100.0) rises to it, maker fee"),
    ],
)
def test_a_limit_order_is_worded_by_where_it_stands_against_the_mark(
    side: str, price: float, said: str
) -> None:
    from perptui.domain.paper import OrderRequest
    from perptui.ui.panes.sizing.order import how_sent

    assert how_sent(OrderRequest("X/USDT:USDT", side, 1.0, price=price, mark=100.0), 0.1).startswith(said)  # type: ignore[arg-type]
    unknown = how_sent(OrderRequest("X/USDT:USDT", side, 1.0, price=price), 0.1)  # type: ignore[arg-type]
    assert "fills at once if the mark has crossed it" in unknown


@sync
async def test_at_80x24_the_order_warning_and_prompt_are_on_screen_and_enter_says_no(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "leverage", "50")
        await fill(pilot, "stop", "2")  # beyond the liquidation price at 50x
        assert any(w.code == "stop_beyond_liquidation" for w in pane.result.warnings)
        await pilot.press("o")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        await pilot.pause()
        flag = dialog.query(".dialog--warning").first()
        prompt = dialog.query_one(".dialog--keys")
        assert "lies beyond the liquidation price" in str(flag.content)
        assert 0 <= flag.region.y < flag.region.bottom <= prompt.region.y < 24
        assert str(prompt.content) == "y: yes, place it   enter/n/esc: no"
        await pilot.press("enter")
        await settle(pilot)
        assert app.ctx.paper_engine().positions() == []
