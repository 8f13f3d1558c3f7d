"""What the allocation pane's workers (the solve, the read of the account) report back to it on the UI
thread (not bubbled: the pane's own). A solve replaced by a newer one reports nothing."""

from __future__ import annotations

from textual.message import Message

from perptui.ui.panes.allocation.solve import AccountBasis, Solved


class PlanSolved(Message, bubble=False):
    def __init__(self, solved: Solved) -> None:
        super().__init__()
        self.solved = solved


class PlanFailed(Message, bubble=False):
    """No plan: ``error`` says why (one line)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class BasisRead(Message, bubble=False):
    """The account's capital and split, read for the plan to follow; ``reread``: the trader asked (``r``),
    so the plan follows the account's capital again and reads the market again."""

    def __init__(self, basis: AccountBasis, *, reread: bool) -> None:
        super().__init__()
        self.basis = basis
        self.reread = reread
