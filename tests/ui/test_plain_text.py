"""Text a user copies or reads is shown as it is: help ids whole (they go into ``[keymap]``), the equity
range "[ALL]" not eaten as markup, typed input with brackets in an error message."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from perptui.ui.factory import known_binding_ids
from perptui.ui.screens.help import HelpScreen
from perptui.ui.widgets.dialogs import FormDialog
from perptui.ui.widgets.equity_chart import EquityChart
from tests.ui.helpers import settle, sync, wait_for_screen

PANE_KEYS = ("1", "2", "3", "4", "5")


def top_border(widget: Widget) -> str:
    """The widget's first line as drawn: its border and border title."""
    return widget.render_lines(Region(0, 0, widget.outer_size.width, 1))[0].text


def shown_ids(table: DataTable) -> list[str]:
    """The id column's text on every drawn line (blank on a description's wrapped lines)."""
    x = sum(c.get_render_width(table) for c in table.ordered_columns[:2])
    width = table.ordered_columns[2].get_render_width(table)
    lines = [table.render_line(y).text for y in range(1, table.scrollable_content_region.height)]
    return [line[x : x + width].strip() for line in lines]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_every_id_in_the_help_is_a_whole_binding_id(make_app, size) -> None:
    known = set(known_binding_ids())
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for pane_key in PANE_KEYS:
            await pilot.press(pane_key, "question_mark")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, HelpScreen)
            table = screen.query_one(DataTable)
            assert table.outer_size.width <= size[0]
            every = {r.binding_id for r in screen.rows}
            seen: set[str] = set()
            for _ in screen.rows:  # down the table: it scrolls when the rows do not fit
                seen |= {i for i in shown_ids(table) if i}
                if seen >= every:  # every row's id has been drawn: scrolling on shows them again
                    break
                await pilot.press("j")
            seen |= {i for i in shown_ids(table) if i}
            assert seen <= known, seen - known  # nothing cut, e.g. "pane_allocatio"
            assert seen == every  # and every row's id reached the screen
            await pilot.press("escape")
            await pilot.pause()


@sync
async def test_the_chosen_equity_range_all_is_shown(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        chart = app.query_one(EquityChart)
        assert "[1M]" in top_border(chart) and " ALL " in top_border(chart)
        await pilot.press("]")
        await pilot.pause()
        assert chart.range_name == "ALL"
        title = top_border(chart)
        assert "[ALL]" in title and " 1M " in title, title


@sync
async def test_typed_brackets_come_back_in_the_error_as_typed(make_app) -> None:
    """Markup would drop "[b]" and fail on "[/b]" (a crash, before)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("c")
        dialog = await wait_for_screen(pilot, FormDialog)
        dialog.query_one(Input).value = "[b]1[/b]"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        assert "'[b]1[/b]' is not a number" in str(dialog.query_one("#error", Static).render())
        dialog.query_one(Input).value = "1[/b]"
        await pilot.press("enter")
        await pilot.pause()
        assert "'1[/b]' is not a number" in str(dialog.query_one("#error", Static).render())
        dialog.notify("stop [/x] at [ALL]")  # a toast: plain too, whatever the caller asks
        await pilot.pause()
        note = list(app._notifications)[-1]
        assert note.message == "stop [/x] at [ALL]" and not note.markup
