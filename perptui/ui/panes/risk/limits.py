"""The limits as bars: each limit's worst position (or the account), how close it is (green, yellow near,
red breached) and its value. ``compact`` (a terminal under 30 rows) drops the heading: one line a limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from perptui.presentation import risk as rf

if TYPE_CHECKING:
    from perptui.domain.limits import LimitCheck
    from perptui.services.risk import RiskReport

BAR_WIDTH = 10


def _check_style(c: LimitCheck) -> str:
    if c.breached:
        return "bold $text-error"
    if c.warning:
        return "$text-warning"
    return "$text-success" if c.value is not None else "$text-muted"


def limits(report: RiskReport, *, compact: bool = False) -> Content:
    checks = report.limits.summary()
    if not checks:
        return Content.styled("every limit is switched off ([risk] in the config)", "$text-muted")
    lines = [] if compact else [Content.styled("Limits (worst position)", "bold $text-primary")]
    for c in checks:
        subject = c.symbol.split("/")[0] if c.symbol else ""
        flag = rf.limit_flag(c)
        lines.append(
            Content.assemble(
                (f"{rf.LIMIT_LABELS[c.kind]:<15}", "$text-muted"),
                (f"{subject:<8.8}", ""),
                (rf.bar(c.closeness, BAR_WIDTH, full="█", empty="░"), _check_style(c)),
                f" {rf.limit_value(c)}",
                (f" {flag}" if flag else "", _check_style(c)),
            )
        )
    return Content("\n").join(lines)


class RiskLimits(Static):
    def show(self, report: RiskReport, *, compact: bool) -> None:
        self.update(limits(report, compact=compact))
