"""The pane registry: adding a pane is one line in ``PANES`` (its id, number key, title and where its
class lives).

A pane's module is imported only when the pane is built (``PaneSpec.load``): the app composes the pane it
opens on and builds the others after the first frame, so their imports stay off the path to it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perptui.ui.panes.base import Pane


@dataclass(frozen=True)
class PaneSpec:
    id: str
    key: str
    title: str
    #: ``"package.module:ClassName"`` of the pane's class.
    path: str

    def load(self) -> type[Pane]:
        """The pane's class (imports its module on first use)."""
        module, _, name = self.path.partition(":")
        return getattr(import_module(module), name)


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("account", "1", "Account", "perptui.ui.panes.account:AccountPane"),
    PaneSpec("sizing", "2", "Size", "perptui.ui.panes.sizing:SizingPane"),
    PaneSpec("scanner", "3", "Scan", "perptui.ui.panes.scanner:ScannerPane"),
    PaneSpec("allocation", "4", "Plan", "perptui.ui.panes.allocation:AllocationPane"),
    PaneSpec("risk", "5", "Risk", "perptui.ui.panes.risk:RiskPane"),
)
