"""The alert state machine: a notification once when a condition starts and once when it clears. Pure.

``step`` reads the rules' conditions in an observation against the state of each key (kept in the cache
between polls and restarts, so a restart never notifies again) and gives the new states and the alerts:

- **fired** when a key's condition starts (it was clear or never seen), **cleared** when it stops; never
  on a poll where nothing changed. A one-shot event (a stop or take-profit fill) fires each time it
  happens (no cool-down: each fill is news) and never clears. A kind whose end means nothing
  (``funding_flip``) clears without a word.
- **unknown** values give no condition: the key keeps its state (no fire, no clear). A position rule's
  key clears when its position is gone, but only when the exchange was read (``obs.reachable``).
- **cool-down**: a key that starts again less than ``cooldown_s`` after its last fired notification
  does not notify; nor does its clearing (a cleared notification only follows a fired one).
- **quiet hours** (the rule's, UTC): alerts below critical are returned ``held``: the caller records them
  in the history and does not deliver them. A held fire counts as notified (its clear follows, held or
  not) and starts the cool-down.
- **muted** rules keep their keys' state but never notify.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from perptui.domain.alerts.evaluate import Condition, conditions, rule_id_of, symbol_of
from perptui.domain.alerts.notification import Notification, NotificationKind
from perptui.domain.alerts.observe import Observation
from perptui.domain.alerts.rules import AlertRule, condition_text, in_quiet_hours

#: Kinds whose condition belongs to an open position: it clears when the position is gone.
POSITION_KINDS = frozenset({"liq_distance_pct", "liq_distance_sigma", "margin_ratio", "no_stop"})


@dataclass(frozen=True, slots=True)
class KeyState:
    """One key's state: whether its condition holds, since when (epoch ms of the last start or clear),
    and when it last fired a notification (delivered or held), for the cool-down."""

    active: bool
    since: int
    last_sent: int | None = None

    @property
    def notified(self) -> bool:
        """Whether the current (or last) start was notified: only then is its clearing notified."""
        return self.last_sent is not None and self.last_sent >= self.since


@dataclass(frozen=True, slots=True)
class Alert:
    """A notification to record; ``held``: in the rule's quiet hours, so recorded but not delivered."""

    notification: Notification
    held: bool = False


class StepResult(NamedTuple):
    """What ``step`` gives: every key's state (those not touched included) and the alerts, in the order
    of the rules."""

    states: dict[str, KeyState]
    alerts: tuple[Alert, ...]


def step(rules: Iterable[AlertRule], obs: Observation, states: Mapping[str, KeyState]) -> StepResult:
    """Advance every key of ``rules`` by one observation."""
    new = dict(states)
    alerts: list[Alert] = []
    for rule in rules:
        seen: set[str] = set()
        for cond in conditions(rule, obs):
            seen.add(cond.key)
            alerts.extend(_advance(rule, cond, obs.now, new))
        if rule.kind in POSITION_KINDS and obs.reachable:
            held_symbols = {p.symbol for p in obs.positions}
            for key, state in list(new.items()):
                symbol = symbol_of(key)
                if (
                    state.active
                    and key not in seen
                    and rule_id_of(key) == rule.id
                    and symbol not in held_symbols
                ):
                    gone = Condition(key, False, f"{symbol or 'position'} closed", None, symbol)
                    alerts.extend(_advance(rule, gone, obs.now, new))
    return StepResult(new, tuple(alerts))


def _advance(rule: AlertRule, cond: Condition, now: int, states: dict[str, KeyState]) -> list[Alert]:
    """Move ``cond.key``'s state in ``states``; the alert it gives, if any."""
    spec = rule.spec
    prev = states.get(cond.key)
    if spec.one_shot:
        if not cond.active or rule.muted:
            return []
        states[cond.key] = KeyState(False, prev.since if prev else now, now)
        return [_alert(rule, cond, "fired", now)]
    was_active = prev is not None and prev.active
    if cond.active and not was_active:
        last = prev.last_sent if prev else None
        cooling = last is not None and now - last < rule.cooldown_s * 1000
        if rule.muted or cooling:
            states[cond.key] = KeyState(True, now, last)
            return []
        states[cond.key] = KeyState(True, now, now)
        return [_alert(rule, cond, "fired", now)]
    if not cond.active and was_active and prev is not None:
        states[cond.key] = KeyState(False, now, prev.last_sent)
        if prev.notified and spec.clears and not rule.muted:
            return [_alert(rule, cond, "cleared", now)]
    return []


def _alert(rule: AlertRule, cond: Condition, kind: NotificationKind, now: int) -> Alert:
    what = condition_text(rule)
    if kind == "fired":
        title, body = cond.message, f"{what} ({rule.severity}; rule {rule.id})"
    else:
        title, body = f"cleared: {cond.message}", f"no longer {what} (rule {rule.id})"
    held = rule.severity != "critical" and in_quiet_hours(rule.quiet_hours, now)
    notification = Notification(
        key=cond.key,
        rule_id=rule.id,
        kind=kind,
        severity=rule.severity,
        title=title,
        body=body,
        time=now,
        symbol=cond.symbol,
    )
    return Alert(notification, held)
