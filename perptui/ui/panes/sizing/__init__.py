"""The sizing pane (key 2): ``SizingPane`` (``pane.py``) and the widgets, data and dialogs it uses."""

from perptui.ui.panes.sizing.pane import SizingPane

__all__ = ["SizingPane"]
