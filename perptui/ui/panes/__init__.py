"""The pane registry: adding a pane is one line in ``PANES`` (its id, number key, title and class)."""

from __future__ import annotations

from dataclasses import dataclass

from perptui.ui.panes.account import AccountPane
from perptui.ui.panes.allocation import AllocationPane
from perptui.ui.panes.base import Pane
from perptui.ui.panes.risk import RiskPane
from perptui.ui.panes.scanner import ScannerPane
from perptui.ui.panes.sizing import SizingPane


@dataclass(frozen=True)
class PaneSpec:
    id: str
    key: str
    title: str
    cls: type[Pane]


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("account", "1", "Account", AccountPane),
    PaneSpec("sizing", "2", "Size", SizingPane),
    PaneSpec("scanner", "3", "Scan", ScannerPane),
    PaneSpec("allocation", "4", "Plan", AllocationPane),
    PaneSpec("risk", "5", "Risk", RiskPane),
)
