"""What the rules screen's workers post back to it."""

from __future__ import annotations

from textual.message import Message

from perptui.ui.screens.alerts.changes import Loaded


class RulesLoaded(Message):
    """The rules in force and the last alerts, or why they could not be read."""

    def __init__(self, loaded: Loaded | None, error: str | None = None) -> None:
        super().__init__()
        self.loaded, self.error = loaded, error


class RuleChanged(Message):
    """A change was saved (``done`` says what, ``rule_id`` the rule to keep the cursor on), or refused
    (``error``)."""

    def __init__(self, done: str | None, rule_id: str | None = None, error: str | None = None) -> None:
        super().__init__()
        self.done, self.rule_id, self.error = done, rule_id, error
