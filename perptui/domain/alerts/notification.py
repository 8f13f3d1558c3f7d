"""``Notification``: one alert to deliver (to the screen, the log, and the trader's phone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
NotificationKind = Literal["fired", "cleared"]


@dataclass(frozen=True, slots=True)
class Notification:
    key: str  # the condition: "<rule id>:<symbol or *>"
    rule_id: str
    kind: NotificationKind  # its condition started (or a one-shot event happened), or cleared
    severity: Severity
    title: str  # one short line, e.g. "BTC/USDT:USDT 4.2% from liquidation"
    body: str  # one or two lines with the figures
    time: int  # epoch ms
    symbol: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The object ``perptui watch`` prints as one JSON line."""
        iso = datetime.fromtimestamp(self.time / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return {
            "time": iso,
            "event": "alert",
            "kind": self.kind,
            "severity": self.severity,
            "rule": self.rule_id,
            "symbol": self.symbol,
            "title": self.title,
            "body": self.body,
        }
