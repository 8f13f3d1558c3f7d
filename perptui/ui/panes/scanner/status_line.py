"""The scanner's line under the table: what just went wrong (a refused filter, a failed scan), else the
standing note on the last history backfill (why it stopped, which perps have no history)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

if TYPE_CHECKING:
    from perptui.services.scan import BackfillReport


class StatusLine(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id, markup=False)
        self.note = ""

    def say(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` (blank: the standing note)."""
        self.update(text or self.note)
        self.set_class(error, "-error")

    def show_backfill(self, report: BackfillReport | None, error: BaseException | None) -> None:
        """The backfill ended with ``report`` (None: nothing fetched) or stopped on ``error``."""
        if error is not None:
            self.note = f"history backfill stopped ({error}); the statistics use what is cached"
        elif report is not None and report.skipped:
            listed = ", ".join(sorted(report.skipped)[:3]) + (" …" if len(report.skipped) > 3 else "")
            self.note = f"no funding history for {len(report.skipped)} perp(s): {listed}"
        else:
            self.note = ""
        self.say("")
