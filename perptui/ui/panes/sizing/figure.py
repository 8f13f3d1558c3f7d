"""``Figure``: a ``Stat`` whose value is never cut; when the row is too narrow the label gives way."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from perptui.ui.widgets.stat import Stat


class Figure(Stat):
    """A Stat whose value is never cut: when the row is too narrow the label gives way (with an ellipsis)."""

    def render(self) -> Text:
        label_style = self.get_component_rich_style("stat--label")
        value_style = self.get_component_rich_style("stat--value")
        value, label, width = self.text, self.label, self.size.width
        room = width - cell_len(value) - 1
        if cell_len(label) > room:
            label = label[: room - 1] + "…" if room > 1 else ""
        gap = max(1 if label else 0, width - cell_len(label) - cell_len(value))
        return Text.assemble(
            (label, label_style), " " * gap, (value, value_style), no_wrap=True, overflow="ellipsis"
        )
