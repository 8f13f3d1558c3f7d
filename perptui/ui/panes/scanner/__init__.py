"""The funding scanner pane (key 3)."""

from perptui.ui.panes.scanner.pane import ScannerPane

__all__ = ["ScannerPane"]
