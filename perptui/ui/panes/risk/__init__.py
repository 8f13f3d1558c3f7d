"""The risk monitor pane (key 5)."""

from perptui.ui.panes.risk.pane import RiskPane

__all__ = ["RiskPane"]
