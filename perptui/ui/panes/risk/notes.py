"""What a poll tells the trader on any pane, without Textual: the paper engine's events (a stop filled, a
liquidation, funding settled) and the report's new alerts, as notifications; ``loud`` ones ring the bell
(the position changed without the trader's key, or a limit was crossed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from perptui.domain.alerts.state import Alert
    from perptui.services.paper.events import PaperEvent
    from perptui.services.risk import RiskReport

#: Event kinds that ring the bell: the position changed without the trader's key.
LOUD_EVENTS = {"liquidation", "stop", "take_profit"}
#: More funding settlements than this in one poll are summed in one notification.
FUNDING_NOTES = 3


@dataclass(frozen=True, slots=True)
class Note:
    message: str
    title: str
    severity: Literal["information", "warning", "error"] = "information"
    timeout: float | None = None  # None: the app's default
    loud: bool = False


def event_notes(events: tuple[PaperEvent, ...], *, caught_up: bool) -> list[Note]:
    """What the paper engine did; funding settlements beyond a few are summed in one note."""
    funding = [e for e in events if e.kind == "funding"]
    others = [e for e in events if e.kind != "funding"]
    prefix = "while the app was closed: " if caught_up else ""
    notes = []
    for e in others:
        loud = e.kind in LOUD_EVENTS
        severity: Literal["information", "warning"] = "warning" if loud else "information"
        notes.append(Note(prefix + e.message, "paper", severity, loud=loud))
    if len(funding) > FUNDING_NOTES:
        total = sum(e.funding.amount for e in funding if e.funding is not None)
        notes.append(Note(f"{prefix}{len(funding)} funding settlements, {total:+,.4f} in all", "paper"))
    else:
        notes += [Note(prefix + e.message, "paper") for e in funding]
    return notes


def alert_notes(report: RiskReport) -> list[Note]:
    """The limits crossed since the last poll (each alert is new once)."""
    return [
        Note(a.message, "risk limit", "error" if a.severity == "critical" else "warning", 10, loud=True)
        for a in report.new_alerts
    ]


_SEVERITY: dict[str, Literal["information", "warning", "error"]] = {
    "info": "information",
    "warning": "warning",
    "critical": "error",
}


def rule_notes(alerts: tuple[Alert, ...], told_elsewhere: frozenset[str] = frozenset()) -> list[Note]:
    """What the alert rules fired or cleared this poll, but those of rules the pane tells another way
    (``told_elsewhere``: a risk limit or a paper event says the same) and those held by quiet hours (in
    the history). A fired warning or critical rings the bell."""
    notes = []
    for a in alerts:
        if a.held or a.notification.rule_id in told_elsewhere:
            continue
        n = a.notification
        cleared = n.kind == "cleared"
        severity = "information" if cleared else _SEVERITY[n.severity]
        loud = not cleared and n.severity != "info"
        notes.append(Note(n.title, "alert cleared" if cleared else "alert", severity, 10, loud=loud))
    return notes
