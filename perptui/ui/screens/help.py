"""Help (F1 or ?): every key of the current pane, then the global keys, as they are after ``[keymap]``.

A key's id is what a user copies into ``[keymap]``, so the id column is as wide as the longest id and
the description wraps instead; the box shrinks to the terminal and the table scrolls (80x24 too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from perptui.ui.keymap import binding
from perptui.ui.widgets.vim import VimTable

BOX_WIDTH = 96  # the help's box, when the terminal is wider
#: Cells around the table inside the box: border, padding and a vertical scrollbar.
BOX_CHROME = 2 + 2 + 2
KEYS_MAX = 16  # a longer key list wraps
DESCRIPTION_MIN = 16


@dataclass(frozen=True)
class KeyRow:
    section: str
    keys: str
    description: str
    binding_id: str


def column_widths(rows: Sequence[KeyRow], table_width: int) -> tuple[int, int, int, int]:
    """(section, keys, id, description) widths for a table ``table_width`` cells wide; each column
    has one blank cell on either side. The id is never cut: the description takes what is left."""
    section = max([len("section"), *(len(r.section) for r in rows)])
    keys = min(KEYS_MAX, max([len("keys"), *(len(r.keys) for r in rows)]))
    ident = max([len("id"), *(len(r.binding_id) for r in rows)])
    description = max(DESCRIPTION_MIN, table_width - (section + keys + ident) - 4 * 2)
    return section, keys, ident, description


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = f"""
    HelpScreen {{ align: center middle; background: $background 60%; }}
    HelpScreen > Vertical {{
        width: {BOX_WIDTH}; max-width: 100%; height: 32; max-height: 100%; padding: 0 1;
        border: round $primary; background: $surface;
    }}
    HelpScreen #help-title {{ text-style: bold; color: $text-primary; padding: 0 1; }}
    HelpScreen VimTable {{ height: 1fr; }}
    HelpScreen #help-keys {{ color: $text-muted; padding: 0 1; }}
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("close_help", "escape,q,f1,question_mark", "close", "Close", "Close the help")
    ]

    def __init__(self, title: str, rows: Sequence[KeyRow]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = list(rows)
        self._filled_for = -1

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="help-title", markup=False)
            yield VimTable(cursor_type="row", zebra_stripes=True)
            yield Static(
                "j/k move · g/G top/bottom · esc close · remap any key by its id in the config "
                "file's [keymap]",
                id="help-keys",
                markup=False,
            )

    def on_mount(self) -> None:
        self._fill(self.app.size.width)
        self.query_one(VimTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fill(event.size.width)

    def _fill(self, screen_width: int) -> None:
        """(Re)build the table for the box's width: the columns are sized once, not per cell."""
        table_width = min(BOX_WIDTH, screen_width) - BOX_CHROME
        if table_width == self._filled_for:
            return
        self._filled_for = table_width
        table = self.query_one(VimTable)
        row = table.cursor_row
        table.clear(columns=True)
        widths = column_widths(self.rows, table_width)
        for label, width in zip(("section", "keys", "id", "what it does"), widths, strict=True):
            table.add_column(label, width=width)
        for r in self.rows:  # Text, not str: a DataTable reads a str as markup ("[keymap]" would vanish)
            cells = (r.section, r.keys, r.binding_id, r.description)
            table.add_row(*(Text(cell) for cell in cells), height=None)
        if self.rows:
            table.move_cursor(row=min(row, len(self.rows) - 1))

    def action_close(self) -> None:
        self.dismiss(None)
