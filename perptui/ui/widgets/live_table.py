"""``LiveTable``: a table of rows keyed by a stable id (``exchange:symbol``), refreshed in place, fast
with hundreds of rows.

``show(rows, order)`` compares each row's cells with the shown ones, re-renders only the rows that
changed, adds and removes rows and puts them in ``order``. The cursor stays on the row it was on (by
key, not by position) and the view scrolls only if that row would leave it (style.md, "Tables that
update").

Why not ``DataTable``: any change there invalidates every cached cell, so each refresh renders every
visible cell again through Rich (about 90 ms for 20 rows of 17 columns here, benchmarks/
bench_scan_table.py). Here the columns have fixed widths and the cells are plain ``(text, tone)``
pairs, so a row renders to one cached ``Strip`` of segments and a line on screen is a crop of it
(the Line API of ``ScrollView``, as toolong's log view does). The header row and the first column stay
in place while the rest scrolls sideways a whole column at a time; a column is never drawn in part
and widens to its texts, so a number never loses its sign or digits (``table_layout``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from perptui.ui.keymap import binding
from perptui.ui.widgets.table_layout import PAD, Cell, ColumnLayout, ColumnSpec, Window, clip

__all__ = ["Cell", "ColumnSpec", "LiveTable"]

#: Tone -> (theme variable of the colour, bold, dim). The variables hold plain colours in both themes.
TONES: dict[str, tuple[str | None, bool, bool]] = {
    "": (None, False, False),
    "pos": ("text-success", False, False),
    "neg": ("text-error", False, False),
    "pos-strong": ("text-success", True, False),
    "neg-strong": ("text-error", True, False),
    "warn": ("text-warning", False, False),
    "strong": (None, True, False),
    "muted": (None, False, True),  # the theme's text-muted is relative ("auto 60%"): dim is the same idea
}
#: The header's marks for columns hidden to the left and to the right.
LEFT_CUE, RIGHT_CUE = "‹", "›"


class LiveTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LiveTable { height: 1fr; background: $surface; }
    LiveTable > .live-table--header { background: $panel; text-style: bold; }
    LiveTable > .live-table--odd { background: $surface-lighten-1; }
    LiveTable > .live-table--fixed { background: $panel-darken-1; }
    LiveTable > .live-table--cursor { background: $block-cursor-blurred-background; }
    LiveTable > .live-table--cue { color: $text-accent; text-style: bold; }
    LiveTable:focus > .live-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "live-table--header",
        "live-table--odd",
        "live-table--fixed",
        "live-table--cursor",
        "live-table--cue",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("down", "j,down", "cursor(1)", "Down", "Next row", show=False),
        binding("up", "k,up", "cursor(-1)", "Up", "Previous row", show=False),
        binding("top", "g,home", "cursor_to(0)", "Top", "First row", show=False),
        binding("bottom", "G,end", "cursor_to(-1)", "Bottom", "Last row", show=False),
        binding("page_down", "ctrl+d,pagedown", "page(1)", "Page down", "A page down", show=False),
        binding("page_up", "ctrl+u,pageup", "page(-1)", "Page up", "A page up", show=False),
        binding("scroll_right", "right,l", "scroll_right", "Right", "Show the next column", show=False),
        binding("scroll_left", "left,h", "scroll_left", "Left", "Show the previous column", show=False),
        binding("select", "enter", "select", "Select", "Act on the row", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, table: LiveTable, key: str | None) -> None:
            super().__init__()
            self.table, self.key = table, key

    class Selected(Message):
        """Enter (or a click on the cursor's row)."""

        def __init__(self, table: LiveTable, key: str) -> None:
            super().__init__()
            self.table, self.key = table, key

    class HeaderClicked(Message):
        def __init__(self, table: LiveTable, column_key: str) -> None:
            super().__init__()
            self.table, self.column_key = table, column_key

    cursor_row: reactive[int] = reactive(0, always_update=False)

    def __init__(self, columns: Sequence[ColumnSpec], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.specs = list(columns)
        self._headers = {spec.key: spec.header for spec in self.specs}
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._order: list[str] = []
        self._strips: dict[str, Strip] = {}  # key -> the rendered row, all columns, without background
        self._styles: dict[str, Style] = {}
        self.columns = ColumnLayout(self.specs)
        #: Cells written by the last ``show`` (tests and the benchmark read it).
        self.last_written = 0

    def on_mount(self) -> None:
        self._resolve_tones()
        self.watch(self.app, "theme", self._theme_changed, init=False)
        self._resize()

    # --- the rows ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None when the table is empty)."""
        return self._order[self.cursor_row] if 0 <= self.cursor_row < len(self._order) else None

    def keys_in_order(self) -> list[str]:
        return list(self._order)

    def cell(self, key: str, column_key: str) -> Cell:
        """The shown ``(text, tone)`` of a row's cell."""
        return self._cells[key][self._index(column_key)]

    def cell_text(self, key: str, column_key: str) -> str:
        return self.cell(key, column_key)[0]

    def header_text(self, column_key: str) -> str:
        return self._headers[column_key]

    def column_width(self, column_key: str) -> int:
        return self.columns.widths[self._index(column_key)]

    def visible_columns(self) -> list[str]:
        """The keys of the columns on screen, the fixed one first."""
        window = self._window()
        return [self.specs[0].key] + [self.specs[i].key for i in range(window.first, window.stop)]

    def _index(self, column_key: str) -> int:
        return next(i for i, spec in enumerate(self.specs) if spec.key == column_key)

    def show(self, rows: Mapping[str, Sequence[Cell]], order: Sequence[str]) -> int:
        """Make the table hold ``rows`` (key -> one cell per column) in ``order`` (keys missing from it
        go last); returns how many cells were written (changed, added or removed rows' cells)."""
        cursor = self.cursor_key
        written = 0
        changed: list[tuple[Cell, ...]] = []
        for key in [k for k in self._cells if k not in rows]:
            written += len(self._cells.pop(key))
            self._strips.pop(key, None)
        for key, cells in rows.items():
            cells = tuple(cells)
            old = self._cells.get(key)
            if old != cells:
                written += len(cells) if old is None else sum(a != b for a, b in zip(old, cells, strict=True))
                self._cells[key] = cells
                self._strips.pop(key, None)
                changed.append(cells)
        if self.columns.fit(changed):
            self._strips.clear()  # a column widened: every row moves
        listed = [k for k in order if k in self._cells]
        seen = set(listed)
        self._order = listed + [k for k in self._cells if k not in seen]
        self.last_written = written
        self._resize()
        if cursor is not None and cursor in self._cells:
            self._move(self._order.index(cursor), announce=False)
        else:
            self._move(min(self.cursor_row, max(0, len(self._order) - 1)), announce=cursor != self.cursor_key)
        self.refresh()
        return written

    def select_key(self, key: str) -> bool:
        """Put the cursor on the row ``key``; False when no such row."""
        if key not in self._cells:
            return False
        self._move(self._order.index(key))
        return True

    def set_header(self, column_key: str, label: str) -> None:
        if self._headers.get(column_key) != label:
            self._headers[column_key] = label
            if self.columns.fit_header(self._index(column_key), label):
                self._strips.clear()
                self._resize()
            self.refresh()

    # --- the cursor -------------------------------------------------------------------------------

    def _move(self, row: int, *, announce: bool = True) -> None:
        row = max(0, min(row, len(self._order) - 1)) if self._order else 0
        moved = row != self.cursor_row
        self.cursor_row = row
        self._scroll_to_cursor()
        if moved and announce:
            self.post_message(self.Highlighted(self, self.cursor_key))
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        visible = self._visible_rows()
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _visible_rows(self) -> int:
        """Rows on screen: the height less the header and a horizontal scrollbar when there is one."""
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor_row + step)

    def action_cursor_to(self, row: int) -> None:
        self._move(row if row >= 0 else len(self._order) - 1)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor_row + direction * max(1, self._visible_rows() - 1))

    def action_select(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Selected(self, self.cursor_key))

    # --- sideways, a column at a time ------------------------------------------------------------

    def _window(self) -> Window:
        return self.columns.window(self.scroll_x, self.scrollable_content_region.width)

    def action_scroll_right(self) -> None:
        window = self._window()
        if window.hidden_right:
            self._show_first(window.first + 1)

    def action_scroll_left(self) -> None:
        window = self._window()
        if window.hidden_left:
            self._show_first(window.first - 1)

    def _show_first(self, column: int) -> None:
        self.scroll_to(x=self.columns.offset_of(column), animate=False, immediate=True)

    def _scroll_right_for_pointer(self, **_: object) -> bool:
        """A wheel step sideways moves one column too (Textual's hook for the wheel)."""
        first = self._window().first
        self.action_scroll_right()
        return self._window().first != first

    def _scroll_left_for_pointer(self, **_: object) -> bool:
        first = self._window().first
        self.action_scroll_left()
        return self._window().first != first

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self.columns.column_at(event.x, self._window())
            if column is not None:
                self.post_message(self.HeaderClicked(self, self.specs[column].key))
            return
        row = int(self.scroll_y) + event.y - 1
        if 0 <= row < len(self._order):
            if row == self.cursor_row:
                self.action_select()
            else:
                self._move(row)

    # --- drawing ----------------------------------------------------------------------------------

    def _resize(self) -> None:
        self.virtual_size = Size(self.columns.total, len(self._order) + 1)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header_line(width)
        row = int(self.scroll_y) + y - 1
        if row >= len(self._order):
            return Strip.blank(width, self.rich_style)
        key = self._order[row]
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._row_strip(self._cells[key])
        if row == self.cursor_row:
            cursor = self.get_component_rich_style("live-table--cursor")
            plain = Strip([Segment(s.text, cursor) for s in strip])  # the cursor's colours win
            return self._line(plain, cursor, width, cursor=True)
        background = self.get_component_rich_style("live-table--odd") if row % 2 else self.rich_style
        return self._line(strip, background, width)

    def _line(self, strip: Strip, background: Style, width: int, cursor: bool = False) -> Strip:
        """The first column fixed, then the scrolled columns that fit whole, on the row's background."""
        layout, window = self.columns, self._window()
        head = strip.crop(0, layout.fixed)
        if not cursor:
            head = head.apply_style(self.get_component_rich_style("live-table--fixed"))
        start, end = layout.span(window)
        line = Strip.join([head, strip.crop(start, end)]).apply_style(background)
        return line.extend_cell_length(width, background).crop(0, width)

    def _header_line(self, width: int) -> Strip:
        """The headers, with a mark where columns are hidden: "‹" on the left, "+3 ›" on the right."""
        style = self.get_component_rich_style("live-table--header")
        line = self._line(self._header_strip(), style, width)
        window, fixed = self._window(), self.columns.fixed
        cue = style + self.get_component_rich_style("live-table--cue")
        if window.hidden_left and 0 < fixed <= width:  # in the first column's right-hand padding
            line = Strip.join([line.crop(0, fixed - 1), Strip([Segment(LEFT_CUE, cue)]), line.crop(fixed)])
        if window.hidden_right:
            visible = min(width, self.scrollable_content_region.width)
            start, end = self.columns.span(window)
            room = visible - (fixed + end - start)  # blank cells after the last column shown
            mark = f"+{window.hidden_right} {RIGHT_CUE}"
            mark = mark if room > len(mark) else RIGHT_CUE  # else in the cell the window keeps free
            at = max(0, visible - len(mark))
            line = Strip.join([line.crop(0, at), Strip([Segment(mark, cue)]), line.crop(at + len(mark))])
        return line.crop(0, width)

    def _row_strip(self, cells: tuple[Cell, ...]) -> Strip:
        segments: list[Segment] = []
        pad = Segment(" " * PAD)
        for spec, width, (text, tone) in zip(self.specs, self.columns.widths, cells, strict=True):
            text = clip(text, width)
            text = text.ljust(width) if spec.left else text.rjust(width)
            segments += (pad, Segment(text, self._styles.get(tone)), pad)
        return Strip(segments, self.columns.total)

    def _header_strip(self) -> Strip:
        cells = tuple((self._headers[spec.key], "strong") for spec in self.specs)
        return self._row_strip(cells)

    def _resolve_tones(self) -> None:
        variables = self.app.get_css_variables()
        self._styles = {
            tone: Style(color=variables.get(var) if var else None, bold=bold or None, dim=dim or None)
            for tone, (var, bold, dim) in TONES.items()
        }

    def _theme_changed(self) -> None:
        self._resolve_tones()
        self._strips.clear()
        self.refresh()

    def on_resize(self) -> None:
        self._scroll_to_cursor()
