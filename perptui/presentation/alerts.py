"""Alert rules and their history in words, for ``perptui alerts`` and the app's rules screen."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from perptui.domain.alerts.rules import DEFAULT_IDS, AlertRule

_DURATION_RE = re.compile(r"([0-9]+)\s*([smhd]?)", re.ASCII)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3_600, "d": 86_400}
DURATION_FORM = "whole seconds, or with a unit: 90s, 15m, 2h, 1d"


def duration(seconds: int) -> str:
    """900 -> 15m, 3600 -> 1h, 45 -> 45s."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_duration(text: str) -> int:
    """``"15m"`` -> 900 (``duration`` read back); ValueError saying what is accepted."""
    match = _DURATION_RE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a duration: use {DURATION_FORM}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def threshold(rule: AlertRule) -> str:
    """The rule's threshold with its unit ("5%", "2.5"), or a dash for a kind that takes none."""
    spec = rule.spec.threshold
    return "—" if spec is None or rule.threshold is None else f"{rule.threshold:g}{spec[2].strip()}"


def market(symbol: str | None) -> str:
    """A rule's market: one symbol, "all" (every position or watched perp), or "every perp"."""
    if symbol is None:
        return "all"
    return "every perp" if symbol == "*" else symbol


def source(rule: AlertRule) -> str:
    """default, config or user."""
    if rule.source == "user":
        return "user"
    return "default" if rule.id in DEFAULT_IDS else "config"


def delivery(held: bool, delivered: Sequence[Mapping[str, object]] | None) -> str:
    """What became of a recorded alert: held, not sent, or delivered to how many targets."""
    if held:
        return "held (quiet hours)"
    if delivered is None:
        return "not sent"
    if not delivered:
        return "no target"
    ok = sum(1 for d in delivered if d.get("ok"))
    return f"delivered to {ok}/{len(delivered)} targets"
