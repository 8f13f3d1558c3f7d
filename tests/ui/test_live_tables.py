"""The risk and scanner tables as drawn at 80x24 and 120x40: every cell on screen is a whole value (sign
and digits kept) or a column left out, headers are whole, and a sideways key moves exactly one column."""

from __future__ import annotations

import pytest
from textual import events

from perptui.ui.panes.scanner.columns import COLUMNS
from perptui.ui.screenshots import open_risk
from perptui.ui.widgets.live_table import LiveTable
from tests.ui.helpers import settle, sync
from tests.ui.test_scanner_flows import open_scanner

SIZES = [(80, 24), (120, 40)]
CUES = {"‹", "›"}


def lines(table: LiveTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def first_scrolled_header(table: LiveTable) -> str:
    """The header text drawn right after the fixed first column."""
    header = lines(table)[0][table.columns.fixed :]
    return header.strip().removesuffix("›").strip()


def assert_every_cell_whole(table: LiveTable) -> None:
    shown = lines(table)
    header, rows = shown[0], shown[1:]
    specs = table.specs
    # Headers: every word drawn is a word of a header (or a hidden-columns mark), each shown header whole.
    header_words = {w for spec in specs for w in table.header_text(spec.key).split()}
    marks = CUES | {f"+{n}" for n in range(1, len(specs))}
    assert set(header.split()) <= header_words | marks, header
    visible = table.visible_columns()
    for key in visible:
        assert table.header_text(key) in header, (key, header)
    # Rows: every word drawn is a word of that row's cells, so no cell lost a sign or leading digits.
    order = table.keys_in_order()
    top = int(table.scroll_y)
    for y, line in enumerate(rows):
        if top + y >= len(order):
            assert not line.strip()
            continue
        key = order[top + y]
        texts = {spec.key: table.cell_text(key, spec.key) for spec in specs}
        words = {w for text in texts.values() for w in text.split()}
        assert set(line.split()) <= words, (key, line, texts)
        for column in visible:  # and the shown columns' texts are there whole, e.g. "-0.0009%"
            assert f" {texts[column]}" in f" {line}", (column, texts[column], line)


async def assert_scrolls_a_column_per_key(pilot, table: LiveTable) -> None:  # type: ignore[no-untyped-def]
    specs = table.specs
    first = table.visible_columns()[1]
    index = next(i for i, s in enumerate(specs) if s.key == first)
    assert index == 1 and first_scrolled_header(table).startswith(table.header_text(specs[1].key))
    while specs[-1].key not in table.visible_columns():  # columns hidden on the right
        await pilot.press("right")
        await pilot.pause()
        index += 1
        assert table.visible_columns()[1] == specs[index].key
        assert first_scrolled_header(table).lstrip("‹ ").startswith(table.header_text(specs[index].key))
        assert_every_cell_whole(table)
    assert table.visible_columns()[-1] == specs[-1].key  # the last column reached, shown whole
    await pilot.press("right")
    await pilot.pause()
    assert table.visible_columns()[1] == specs[index].key  # nothing more to show on the right
    while index > 1:
        await pilot.press("left")
        await pilot.pause()
        index -= 1
        assert table.visible_columns()[1] == specs[index].key
        assert_every_cell_whole(table)
    # A scroll offset between two columns (the wheel, the scrollbar) shows the next column whole.
    table.scroll_to(x=table.columns.offset_of(3) - 1, animate=False, immediate=True)
    await pilot.pause()
    assert table.visible_columns()[1] == specs[3].key
    assert_every_cell_whole(table)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_the_risk_table_never_shows_a_cut_number(make_app, size) -> None:
    app = make_app(history=True)
    async with app.run_test(size=size) as pilot:
        pane = await open_risk(pilot)
        table = pane.table
        assert app.focused is table
        assert any(table.cell_text(k, "upnl").startswith("-") for k in table.keys_in_order())
        assert_every_cell_whole(table)
        await assert_scrolls_a_column_per_key(pilot, table)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_the_scanner_table_never_shows_a_cut_number(make_app, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        pane = await open_scanner(pilot)
        table = pane.table
        assert app.focused is table
        assert any(table.cell_text(k, "rate").startswith("-") for k in table.keys_in_order())
        assert_every_cell_whole(table)
        await assert_scrolls_a_column_per_key(pilot, table)


@sync
async def test_a_column_hidden_on_either_side_is_marked_in_the_header(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_risk(pilot)
        table = pane.table
        header = lines(table)[0]
        assert "‹" not in header and header.rstrip().endswith("›")
        await pilot.press("right")
        await pilot.pause()
        header = lines(table)[0]
        assert header[table.columns.fixed - 1] == "‹" and header.rstrip().endswith("›")


@sync
async def test_a_sideways_wheel_step_moves_one_column_and_a_header_click_sorts_the_column_under_it(
    make_app,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        table = pane.table
        specs = table.specs
        table.post_message(events.MouseScrollRight(table, 30, 3, 0, 0, 0, False, False, False))
        await pilot.pause()
        assert table.visible_columns()[1] == specs[2].key
        shift_wheel = events.MouseScrollDown(table, 30, 3, 0, 0, 0, True, False, False)
        table.post_message(shift_wheel)
        await pilot.pause()
        assert table.visible_columns()[1] == specs[3].key
        assert_every_cell_whole(table)
        await pilot.press("right")
        await pilot.pause()
        await pilot.click(table, offset=(table.columns.fixed + 1, 0))
        await settle(pilot)
        column = next(c for c in COLUMNS if c.spec.key == specs[4].key)
        assert pane.view.sort == column.sort_key != "abs_apr"
        assert_every_cell_whole(table)  # the sort mark widened no header into a cut one


@sync
async def test_a_resize_keeps_every_cell_whole(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_risk(pilot)
        table = pane.table
        await pilot.press("right", "right", "right")
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert_every_cell_whole(table)
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert_every_cell_whole(table)
