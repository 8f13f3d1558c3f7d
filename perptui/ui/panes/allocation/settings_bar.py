"""The plan pane's settings bar: every setting with its key, packed into lines of the pane's width
without cutting one; the long labels unless the short ones take fewer lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from perptui.ui.panes.allocation.settings import Setting, settings

if TYPE_CHECKING:
    from perptui.domain.plan import PlanConfig


class SettingsBar(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id)

    def show(self, config: PlanConfig, width: int) -> None:
        full = pack([setting_text(s, config, short=False) for s in settings()], width, gap=3)
        short = pack([setting_text(s, config, short=True) for s in settings()], width, gap=2)
        self.update(Content("\n").join(full if len(full) <= len(short) else short))


def pack(parts: list[Content], width: int, *, gap: int) -> list[Content]:
    """``parts`` joined on lines of at most ``width`` cells (a part longer than a line stands alone)."""
    lines: list[list[Content]] = [[]]
    used = 0
    for part in parts:
        need = part.cell_length + (gap if lines[-1] else 0)
        if lines[-1] and used + need > width:
            lines.append([])
            used, need = 0, part.cell_length
        lines[-1].append(part)
        used += need
    return [Content(" " * gap).join(line) for line in lines]


def setting_text(setting: Setting, config: PlanConfig, *, short: bool) -> Content:
    """``c capital 6,350``: the key, the label (long or short), the value."""
    label = setting.short if short else setting.label
    return Content.assemble(
        (setting.key, "bold $text-accent"),
        f" {label} " if label else " ",
        (setting.text(config), "bold"),
    )
