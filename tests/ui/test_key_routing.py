"""Keys follow the screen: a key typed right after a pane key acts on the pane switched to, never on the
pane just hidden (on the risk pane, `2` then `c` used to close a position from behind the sizing pane).
Each pair is pressed in one call, both through ``pilot.press`` and with the keys queued before the app
reads the first (as a terminal delivers fast typing). A burst of hundreds of keys refreshes the final
pane once, leaves its keys in the footer and the clock running."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen

from perptui.ui.screenshots import open_risk
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from perptui.ui.widgets.footer import KeysFooter
from tests.ui.helpers import notifications, press_queued, settle, settle_or_fail, sync, wait_for_screen

SIZE = (120, 40)
BTC = "BTCDEMO/USDT:USDT"

Press = Callable[..., Awaitable[None]]


async def press_with_pilot(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)


PRESSES: dict[str, Press] = {"pilot.press": press_with_pilot, "queued": press_queued}


async def no_dialog(pilot: Pilot) -> None:
    """Nothing opened a dialog (a key that reached the hidden pane would have), then settle."""
    for _ in range(10):
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ModalScreen), f"a dialog opened: {pilot.app.screen!r}"
    await settle_or_fail(pilot)


async def go(pilot: Pilot, key: str) -> None:
    await pilot.press(key)
    await settle(pilot)


@pytest.mark.parametrize("how", PRESSES)
@sync
async def test_a_key_after_a_pane_key_acts_on_the_pane_switched_to(make_app, how: str) -> None:
    press = PRESSES[how]
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_risk(pilot)
        engine = app.ctx.paper_engine()
        open_before = len(engine.positions())

        # Risk -> Size, `c`: the sizing pane's copy, not the risk pane's close.
        await press(pilot, "2", "c")
        await no_dialog(pilot)
        assert app.current_pane == "sizing"
        assert any("ticket" in m for m in notifications(pilot))
        assert len(engine.positions()) == open_before

        # Size -> Risk, `c`: the risk pane's close of the row under the cursor.
        await press(pilot, "5", "c")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert dialog.title_text == f"Close {BTC}?"
        await pilot.press("n")
        await settle(pilot)

        # Risk -> Account, `s`: the account's split, not the risk pane's stop.
        await press(pilot, "1", "s")
        form = await wait_for_screen(pilot, FormDialog)
        assert form.title_text == "Hybrid plan split"
        await pilot.press("escape")
        await settle(pilot)

        # Account -> Risk, `s`: the risk pane's stop, not the account's split.
        await press(pilot, "5", "s")
        form = await wait_for_screen(pilot, FormDialog)
        assert form.title_text == f"Stop-loss of {BTC}"
        await pilot.press("escape")
        await settle(pilot)

        # Risk -> Plan, `x`: the plan's trades (or why there are none), never a close.
        await press(pilot, "4", "x")
        for _ in range(10):
            await pilot.pause()
        if isinstance(app.screen, ConfirmDialog):
            assert app.screen.title_text.startswith("Send ")
            await pilot.press("n")
        await settle_or_fail(pilot)
        assert app.current_pane == "allocation"
        assert len(engine.positions()) == open_before


@sync
async def test_a_hidden_pane_never_acts_even_when_a_stale_focus_lands_in_it(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        risk = await open_risk(pilot)
        await go(pilot, "2")
        assert risk.check_action("close_position", ()) is False  # hidden: its keys are off
        risk.table.focus()  # a focus queued before the switch, as Widget.focus does
        await press_queued(pilot, "c")
        await no_dialog(pilot)
        assert app.focused is app.pane("sizing")  # sent back to the pane shown
        assert len(app.ctx.paper_engine().positions()) == 3


#: Keys that act on each pane without opening a dialog; the burst picks them for the pane it is on, so a
#: key reaching another pane would open one there (`s` on the account, `c`/`r` on the risk pane).
SAFE_KEYS = {
    "account": ["]", "["],
    "sizing": ["l", "s", "m", "f"],
    "scanner": ["j", "k", "i"],
    "allocation": ["j", "k"],
    "risk": ["j", "k"],
}
PANE_KEYS = {"1": "account", "2": "sizing", "3": "scanner", "4": "allocation", "5": "risk"}


def burst(n: int, seed: int = 16) -> tuple[list[str], str]:
    """``n`` keys: pane switches mixed with each pane's own keys; and the pane it ends on."""
    rng = random.Random(seed)
    keys, pane = [], "risk"
    while len(keys) < n:
        if rng.random() < 0.5:
            key = rng.choice(list(PANE_KEYS))
            keys.append(key)
            pane = PANE_KEYS[key]
        else:
            keys.append(rng.choice(SAFE_KEYS[pane]))
    return keys, pane


@sync
async def test_a_burst_of_600_keys_refreshes_the_final_pane_once_and_keeps_the_clock(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_risk(pilot)
        activated: list[str] = []
        for pane in app.pane_widgets():
            original = pane.activated

            def counting(original=original, name=str(pane.id)) -> None:  # type: ignore[no-untyped-def]
                activated.append(name)
                original()

            pane.activated = counting  # type: ignore[method-assign]
        footer = app.query_one(KeysFooter)
        recomposes: list[int] = []
        original_recompose = footer.recompose

        async def counting_recompose() -> None:
            recomposes.append(1)
            await original_recompose()

        footer.recompose = counting_recompose  # type: ignore[method-assign]

        keys, final = burst(600)
        await press_queued(pilot, *keys)
        await no_dialog(pilot)

        assert app.current_pane == final
        assert activated in ([], [final])  # one refresh for the whole burst (none if it ends where it began)
        assert len(recomposes) <= 10  # Textual's footer recomposed once per focus change: ~450 here
        pane = app.pane()
        assert app.focused is not None and pane in app.focused.ancestors_with_self
        # The footer shows the keys active on the final pane, none of another pane's.
        active = {b.action for _, b, _, _ in app.screen.active_bindings.values() if b.show}
        in_footer = {key.action for key in footer.query("FooterKey")} - {"command_palette"}  # type: ignore[attr-defined]
        shown = {b.action for bs in pane._bindings.key_to_bindings.values() for b in bs if b.show}
        assert in_footer == active and shown & in_footer
        others = {
            b.action
            for other in app.pane_widgets()
            if other is not pane
            for bs in other._bindings.key_to_bindings.values()
            for b in bs
        }
        assert not (in_footer & (others - shown))
        # The clock still ticks: a tick queued now is drawn at once.
        app.ctx.clock.advance(61_000)  # type: ignore[attr-defined]
        app.call_later(app._tick)
        await pilot.pause()
        assert app.status_bar.clock_text == "2025-06-01 00:01:01 UTC"


@pytest.mark.parametrize("how", PRESSES)
@sync
async def test_a_burst_typed_across_the_sizing_form_lands_in_the_field_shown_focused(
    make_app, how: str
) -> None:
    """Tab moves to the next field before the next key is read: "3 tab 3 tab 5 0" typed fast fills three
    fields, not "3350" into the first; shift+Tab goes back the same way."""
    press = PRESSES[how]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await go(pilot, "2")
        await go(pilot, "e")
        pane = app.pane("sizing")
        form = pane.form_widget  # type: ignore[attr-defined]
        assert app.focused is form.input("stop")

        await press(pilot, "3", "tab", "3", "tab", "5", "0")
        await settle_or_fail(pilot)
        values = {name: form.input(name).value for name in ("entry", "stop", "risk", "leverage", "targets")}
        assert values == {"entry": "", "stop": "3", "risk": "3", "leverage": "50", "targets": ""}
        assert app.focused is form.input("leverage")

        await press(pilot, "shift+tab", "shift+tab", "2", "tab", "tab", "tab", "2")
        await settle_or_fail(pilot)
        values = {name: form.input(name).value for name in ("entry", "stop", "risk", "leverage", "targets")}
        assert values == {"entry": "", "stop": "2", "risk": "3", "leverage": "50", "targets": "2"}
        assert app.focused is form.input("targets")
        typed = pane.form  # type: ignore[attr-defined]
        assert (typed.stop, typed.risk, typed.leverage, typed.targets) == ("2", "3", "50", "2")
        assert pane.result is not None and pane.result.leverage == 50  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", PRESSES)
@sync
async def test_escape_typed_fast_in_a_field_gives_the_next_key_to_the_pane(make_app, how: str) -> None:
    """ "3 esc s" typed fast: 3 in the stop, then `s` sizes a short, not "3s" in the stop."""
    press = PRESSES[how]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await go(pilot, "2")
        await go(pilot, "e")
        pane = app.pane("sizing")
        form = pane.form_widget  # type: ignore[attr-defined]
        await press(pilot, "3", "escape", "s")
        await settle_or_fail(pilot)
        assert form.input("stop").value == "3"
        assert app.focused is pane
        assert pane.form.side == "short"  # type: ignore[attr-defined]
