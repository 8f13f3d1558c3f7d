"""``LiveTable``: a DataTable of rows keyed by a stable id (``exchange:symbol``), refreshed in place.

``show(rows, order)`` writes only the cells whose text or tone changed, adds new rows, removes gone ones
and puts the rows in ``order``, in one batch. The cursor stays on the row it was on (by key, not by
position) and the view scrolls only if that row would leave it. Clearing and refilling instead would
re-measure every cell and reset the cursor and the scroll (style.md, "Tables that update").

Cells are ``(text, tone)`` pairs; the tone names a colour of the theme (``TONES``), resolved when the
table mounts and again when the theme changes, so the cells follow the dark and light themes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widgets.data_table import CellDoesNotExist, ColumnKey

from perptui.ui.widgets.vim import VimTable

Cell = tuple[str, str]  # (text, tone)

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


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    key: str
    header: str
    width: int
    left: bool = False  # text columns are left-aligned, numbers right-aligned


class _KeyedText(Text):
    """A first-column cell that knows its row, so ``DataTable.sort`` can order rows by key."""

    def __init__(self, text: str, row_key: str, **kwargs: object) -> None:
        super().__init__(text, **kwargs)  # type: ignore[arg-type]
        self.row_key = row_key


class LiveTable(VimTable):
    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    """

    def __init__(
        self, columns: Sequence[ColumnSpec], *, id: str | None = None, fixed_columns: int = 1
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, fixed_columns=fixed_columns)
        self.specs = list(columns)
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._styles: dict[str, Style] = {}
        #: Cells written by the last ``show`` (tests and the benchmark read it).
        self.last_written = 0

    def on_mount(self) -> None:
        self._resolve_tones()
        for spec in self.specs:
            self.add_column(self._header_text(spec, spec.header), width=spec.width, key=spec.key)
        self.watch(self.app, "theme", self._theme_changed, init=False)

    # --- the rows ---------------------------------------------------------------------------------

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None when the table is empty)."""
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except CellDoesNotExist:
            return None
        return row_key.value

    def keys_in_order(self) -> list[str]:
        return [str(row.key.value) for row in self.ordered_rows]

    def show(self, rows: Mapping[str, Sequence[Cell]], order: Sequence[str]) -> int:
        """Make the table hold ``rows`` (key -> one cell per column) in ``order``; returns how many cells
        were written (changed, added or removed rows' cells)."""
        written = 0
        cursor = self.cursor_key
        with self.app.batch_update():
            for key in [k for k in self._cells if k not in rows]:
                self.remove_row(key)
                written += len(self._cells.pop(key))
            for key, cells in rows.items():
                cells = tuple(cells)
                old = self._cells.get(key)
                if old is None:
                    self.add_row(*self._render(key, cells), key=key)
                    written += len(cells)
                elif old != cells:
                    for i, (spec, cell) in enumerate(zip(self.specs, cells, strict=True)):
                        if cell != old[i]:
                            self.update_cell(key, spec.key, self._cell(key, i, cell))
                            written += 1
                self._cells[key] = cells
            self._arrange(list(order))
            if cursor is not None and cursor in self._cells:
                index = self.get_row_index(cursor)
                if index != self.cursor_row:
                    self.move_cursor(row=index)
        self.last_written = written
        return written

    def select_key(self, key: str) -> bool:
        """Put the cursor on the row ``key``; False when no such row."""
        if key not in self._cells:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def _arrange(self, order: list[str]) -> None:
        known = [k for k in order if k in self._cells]
        rest = [k for k in self._cells if k not in set(known)]
        order = known + rest
        if self.keys_in_order() == order:
            return
        rank = {key: i for i, key in enumerate(order)}
        self.sort(self.specs[0].key, key=lambda cell: rank[cell.row_key])

    # --- headers ----------------------------------------------------------------------------------

    def set_header(self, column_key: str, label: str) -> None:
        spec = next(s for s in self.specs if s.key == column_key)
        column = self.columns[ColumnKey(column_key)]
        column.label = self._header_text(spec, label)
        self._update_count += 1
        self.refresh()

    @staticmethod
    def _header_text(spec: ColumnSpec, label: str) -> Text:
        return Text(label.ljust(spec.width) if spec.left else label.rjust(spec.width))

    # --- cells and tones --------------------------------------------------------------------------

    def _render(self, key: str, cells: tuple[Cell, ...]) -> list[Text]:
        return [self._cell(key, i, cell) for i, cell in enumerate(cells)]

    def _cell(self, key: str, index: int, cell: Cell) -> Text:
        text, tone = cell
        spec = self.specs[index]
        # Padded here rather than justified: the DataTable draws its cursor row without the Text's
        # justification, which would shift that row's numbers against the others'.
        text = text.ljust(spec.width) if spec.left else text.rjust(spec.width)
        style = self._styles.get(tone, Style())
        if index == 0:
            return _KeyedText(text, key, style=style, no_wrap=True, overflow="ellipsis")
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")

    def _resolve_tones(self) -> None:
        variables = self.app.get_css_variables()
        self._styles = {
            tone: Style(color=variables.get(var) if var else None, bold=bold or None, dim=dim or None)
            for tone, (var, bold, dim) in TONES.items()
        }

    def _theme_changed(self) -> None:
        self._resolve_tones()
        with self.app.batch_update():
            for key, cells in self._cells.items():
                for i, (spec, cell) in enumerate(zip(self.specs, cells, strict=True)):
                    self.update_cell(key, spec.key, self._cell(key, i, cell))
