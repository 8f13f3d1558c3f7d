"""The account pane (key 1): balances, risk budget, the hybrid plan's split, PnL and equity history."""

from perptui.ui.panes.account.pane import AccountPane

__all__ = ["AccountPane"]
