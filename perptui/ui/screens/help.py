"""Help (F1 or ?): every key of the current pane, then the global keys, as they are after ``[keymap]``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from perptui.ui.keymap import binding
from perptui.ui.widgets.vim import VimTable


@dataclass(frozen=True)
class KeyRow:
    section: str
    keys: str
    description: str
    binding_id: str


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 60%; }
    HelpScreen > Vertical {
        width: 96; height: 32; padding: 0 1;
        border: round $primary; background: $surface;
    }
    HelpScreen #help-title { text-style: bold; color: $text-primary; padding: 0 1; }
    HelpScreen VimTable { height: 1fr; }
    HelpScreen #help-keys { color: $text-muted; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("close_help", "escape,q,f1,question_mark", "close", "Close", "Close the help")
    ]

    def __init__(self, title: str, rows: Sequence[KeyRow]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="help-title")
            yield VimTable(cursor_type="row", zebra_stripes=True)
            yield Static(
                "j/k move · g/G top/bottom · esc close · remap any key by its id in the config "
                "file's [keymap]",
                id="help-keys",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one(VimTable)
        table.add_column("section", width=8)
        table.add_column("keys", width=12)
        table.add_column("what it does", width=48)
        table.add_column("id", width=14)
        for row in self.rows:
            table.add_row(row.section, row.keys, row.description, row.binding_id)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
