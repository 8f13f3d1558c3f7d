"""Confirmations you cannot fall into: a plain one takes Enter for yes; one that carries a warning
defaults to No (Enter, n and Escape decline, only y confirms) and shows the warning above its prompt.
A dialog taller than the screen scrolls its lines and keeps the warnings and the prompt in view."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.containers import VerticalScroll
from textual.widgets import Static

from perptui.ui.widgets.dialogs import ConfirmDialog
from tests.ui.helpers import sync

WARNING = "the stop 79,000.0 lies beyond the liquidation price 80,100.0: it can never fill"


class Host(App[None]):
    def __init__(self, dialog: ConfirmDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.answers: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


async def answer(dialog: ConfirmDialog, key: str) -> bool | None:
    app = Host(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        return app.answers[0] if app.answers else None


@pytest.mark.parametrize(("key", "expected"), [("enter", True), ("y", True), ("n", False), ("escape", False)])
@sync
async def test_a_plain_confirmation_takes_enter_for_yes(key: str, expected: bool) -> None:
    dialog = ConfirmDialog("Deposit?", ["Deposit 100.00 USDT"])
    assert not dialog.default_no and dialog.prompt == "y/enter: yes   n/esc: no"
    assert await answer(dialog, key) is expected


@pytest.mark.parametrize(
    ("key", "expected"), [("enter", False), ("n", False), ("escape", False), ("y", True)]
)
@sync
async def test_a_confirmation_with_a_warning_defaults_to_no(key: str, expected: bool) -> None:
    dialog = ConfirmDialog("Send this LONG?", ["Quantity 0.01"], warnings=[WARNING], action="place it")
    assert dialog.default_no and dialog.prompt == "y: yes, place it   enter/n/esc: no"
    assert await answer(dialog, key) is expected


@sync
async def test_a_tall_dialog_scrolls_and_keeps_the_warning_and_the_prompt_on_an_80x24_screen() -> None:
    lines = [f"line {i:02d} of the ticket" for i in range(40)]
    dialog = ConfirmDialog("Send this LONG?", lines, warnings=[WARNING, "a second flag"], action="place it")
    app = Host(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        prompt = screen.query_one(".dialog--keys", Static)
        flags = list(screen.query(".dialog--warning").results(Static))
        body = screen.query_one("#confirm-lines", VerticalScroll)
        assert [str(f.content) for f in flags] == [f"⚠ {WARNING}", "⚠ a second flag"]
        for widget in (prompt, *flags):  # on the screen, under the lines, the prompt last
            assert widget.region.bottom <= 24 and widget.region.y >= body.region.bottom
        assert flags[-1].region.bottom <= prompt.region.y
        assert body.max_scroll_y > 0  # the lines scroll (they are focused: the arrows move them)
        assert app.focused is body
        await pilot.press("end")
        await pilot.pause()
        last = screen.query(Static).filter(".dialog--line").last()
        assert str(last.content) == "line 39 of the ticket"
        assert body.region.contains_region(last.region)
        await pilot.press("enter")
        await pilot.pause()
        assert app.answers == [False]
