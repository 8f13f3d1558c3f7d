"""What the allocation pane's solve worker reports back to it on the UI thread (not bubbled: the pane's
own). A solve replaced by a newer one reports nothing."""

from __future__ import annotations

from textual.message import Message

from perptui.ui.panes.allocation.solve import Solved


class PlanSolved(Message, bubble=False):
    def __init__(self, solved: Solved) -> None:
        super().__init__()
        self.solved = solved


class PlanFailed(Message, bubble=False):
    """No plan: ``error`` says why (one line)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
