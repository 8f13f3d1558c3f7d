"""The scanner's line under the table: what just went wrong (a refused filter, a failed scan), else the
standing note (why the backfill stopped or skipped perps)."""

from __future__ import annotations

from textual.widgets import Static


class StatusLine(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id, markup=False)
        self.note = ""

    def say(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` (blank: the standing note)."""
        self.update(text or self.note)
        self.set_class(error, "-error")

    def set_note(self, note: str) -> None:
        """Keep ``note`` as the standing note and show it."""
        self.note = note
        self.say("")
