"""The live tables' column layout: widths that fit headers and texts, sideways moves by whole columns."""

from __future__ import annotations

from perptui.ui.widgets.table_layout import ColumnLayout, ColumnSpec, clip

SPECS = (
    ColumnSpec("symbol", "symbol", 6, left=True, max_width=10),
    ColumnSpec("qty", "qty", 4),
    ColumnSpec("margin", "mgn ratio", 5),
    ColumnSpec("liq", "liq", 4),
    ColumnSpec("mode", "mode", 4, left=True),
)


def test_a_column_is_as_wide_as_its_header_and_its_longest_text() -> None:
    layout = ColumnLayout(SPECS)
    assert layout.widths == [6, 4, 9, 4, 4]  # "mgn ratio" whole, not cut to the least width
    grown = layout.fit([[("BTC", ""), ("1", ""), ("1%", ""), ("0.085722802", ""), ("cross", "")]])
    assert grown and layout.widths == [6, 4, 9, 11, 5]
    # It never narrows: a shorter text later keeps the width (no columns jumping on live updates).
    assert not layout.fit([[("BTC", ""), ("1", ""), ("1%", ""), ("0.1", ""), ("cross", "")]])
    assert layout.widths == [6, 4, 9, 11, 5]


def test_only_a_capped_text_column_cuts_its_text_and_says_so() -> None:
    layout = ColumnLayout(SPECS)
    layout.fit([[("1000BONKDEMO/USDT:USDT", ""), ("-123456789.25", ""), ("", ""), ("", ""), ("", "")]])
    assert layout.widths[0] == 10 and layout.widths[1] == len("-123456789.25")
    assert clip("1000BONKDEMO/USDT:USDT", layout.widths[0]) == "1000BONKD…"
    assert clip("-123456789.25", layout.widths[1]) == "-123456789.25"


def test_a_new_header_widens_its_column() -> None:
    layout = ColumnLayout(SPECS)
    assert layout.fit_header(1, "qty▼") is False  # fits in 4
    assert layout.fit_header(3, "liq▼▼") is True and layout.widths[3] == 5


def test_the_window_holds_whole_columns_and_counts_the_hidden_ones() -> None:
    layout = ColumnLayout(SPECS)  # rendered widths with padding: 8 | 6, 11, 6, 6
    window = layout.window(0, 8 + 6 + 11 + 6 + 6)
    assert (window.first, window.stop, window.hidden_left, window.hidden_right) == (1, 5, 0, 0)
    # No room for "mode": it is left out whole...
    window = layout.window(0, 8 + 6 + 11 + 6 + 5)
    assert (window.first, window.stop, window.hidden_right) == (1, 4, 1)
    # ... and one cell stays free after the last column shown for the header's mark.
    window = layout.window(0, 8 + 6 + 11 + 6)
    assert (window.first, window.stop, window.hidden_right) == (1, 3, 2)
    window = layout.window(layout.offset_of(2), 8 + 11 + 6 + 1)
    assert (window.first, window.stop, window.hidden_left, window.hidden_right) == (2, 4, 1, 1)


def test_an_offset_between_columns_snaps_to_the_next_and_the_last_offset_shows_the_last_columns() -> None:
    layout = ColumnLayout(SPECS)
    assert layout.first_at(0) == 1
    assert layout.first_at(1) == 2 and layout.first_at(layout.offset_of(2)) == 2
    width = 8 + 12  # room for "liq" and "mode" after the first column
    largest = layout.total - width  # what a scroll view allows
    window = layout.window(largest, width)
    assert (window.first, window.stop, window.hidden_right) == (3, 5, 0)


def test_a_click_maps_to_the_column_under_it() -> None:
    layout = ColumnLayout(SPECS)
    window = layout.window(layout.offset_of(2), 8 + 11 + 6 + 1)
    assert [layout.column_at(x, window) for x in (0, 7, 8, 18, 19, 24, 25)] == [0, 0, 2, 2, 3, 3, None]
