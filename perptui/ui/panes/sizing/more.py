"""The line under the sizing pane when something is out of sight: more below (or above) the main
column, the ladder folded (and the key that shows it). Its own height does not depend on the main
column's content, so showing it cannot hide what it points at."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static


class MoreCue(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id, markup=False)

    def show(self, main: VerticalScroll, ladder_key: str | None) -> None:
        """``main``: the scrolling column; ``ladder_key``: the key that shows the folded ladder (None:
        the ladder is shown)."""
        bottom = max((w.virtual_region_with_margin.bottom for w in main.children if w.display), default=0)
        parts = []
        if bottom > main.scroll_y + main.scrollable_content_region.height:
            parts.append("▼ more below: ↑↓ or the wheel scroll")
        elif main.scroll_y > 0:
            parts.append("▲ more above: ↑↓ or the wheel scroll")
        if ladder_key is not None:
            parts.append(f"{ladder_key} shows the ladder")
        self.update(" · ".join(parts))
        self.display = bool(parts)
