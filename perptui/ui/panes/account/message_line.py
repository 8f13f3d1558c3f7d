"""The account pane's message line above the chart: why the account could not be read or a write
failed. Hidden when empty, so it takes no row from the chart."""

from __future__ import annotations

from textual.widgets import Static


class MessageLine(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id, markup=False)

    def say(self, text: str, *, error: bool = False) -> None:
        self.update(text)
        self.set_class(error, "-error")
        self.display = bool(text)
