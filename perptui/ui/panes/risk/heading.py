"""The risk pane's first line: which account, on which exchange, live or cached marks, as of when, and
the last poll's error (in the warning colour while the marks are cached or a poll failed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from perptui.domain.timeframes import iso_utc

if TYPE_CHECKING:
    from perptui.services.risk import RiskReport


class RiskHeading(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("reading the account…", id=id, markup=False)

    def show(self, report: RiskReport | None, error: str | None) -> None:
        if report is None:
            self.update(error or "reading the account…")
            self.set_class(error is not None, "-stale")
            return
        where = "paper account" if report.kind == "paper" else f"{report.account} account · read-only"
        state = "live" if report.live else "CACHED marks"
        text = f"Risk · {where} on {report.exchange} · {state} · {iso_utc(report.as_of)}"
        if error:
            text += f" · {error}"
        self.update(text)
        self.set_class(not report.live or error is not None, "-stale")
