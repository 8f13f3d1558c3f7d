"""Vim-style movement (j/k, g/G, ctrl+d/ctrl+u) for scrolling containers and tables."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable

from perptui.ui.keymap import binding


class VimScroll(VerticalScroll):
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("down", "j", "scroll_down", "Down", "Scroll down", show=False),
        binding("up", "k", "scroll_up", "Up", "Scroll up", show=False),
        binding("top", "g", "scroll_home", "Top", "Scroll to the top", show=False),
        binding("bottom", "G", "scroll_end", "Bottom", "Scroll to the bottom", show=False),
        binding("page_down", "ctrl+d", "page_down", "Page down", "Scroll a page down", show=False),
        binding("page_up", "ctrl+u", "page_up", "Page up", "Scroll a page up", show=False),
    ]


class VimTable(DataTable):
    """A DataTable with j/k/g/G/ctrl+d/ctrl+u as well as the arrows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        binding("down", "j", "cursor_down", "Down", "Next row", show=False),
        binding("up", "k", "cursor_up", "Up", "Previous row", show=False),
        binding("top", "g", "scroll_top", "Top", "First row", show=False),
        binding("bottom", "G", "scroll_bottom", "Bottom", "Last row", show=False),
        binding("page_down", "ctrl+d", "page_down", "Page down", "A page down", show=False),
        binding("page_up", "ctrl+u", "page_up", "Page up", "A page up", show=False),
    ]
