"""The circuit breaker's state and the alerts standing now (critical in red, warnings in yellow), or a
line saying every limit holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from perptui.presentation import risk as rf

if TYPE_CHECKING:
    from perptui.services.risk import RiskReport


def alerts(report: RiskReport) -> Content:
    b = report.breaker
    lines = [Content.styled(rf.breaker_text(b), "bold $text-error" if b.tripped else "$text-success")]
    if report.alerts:
        for a in report.alerts:
            style = "bold $text-error" if a.severity == "critical" else "$text-warning"
            lines.append(Content.assemble(("! ", style), (a.message, style)))
    else:
        lines.append(Content.styled("no alerts: every limit holds", "$text-muted"))
    return Content("\n").join(lines)


class RiskAlerts(Static):
    def show(self, report: RiskReport) -> None:
        self.update(alerts(report))
