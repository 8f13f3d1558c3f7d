"""The hybrid allocation pane (key 4): the plan, its settings, and its trades sent to the paper account."""

from perptui.ui.panes.allocation.pane import AllocationPane

__all__ = ["AllocationPane"]
