"""The backtest results view, opened from the allocation pane."""

from perptui.ui.screens.backtest.screen import BacktestScreen

__all__ = ["BacktestScreen"]
