"""The rules screen's reads and writes, each one transaction of the context's store. Blocking: call them
from a worker thread. The meaning of each change is the services' (``services.alerts.manage``), shared
with ``perptui alerts``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.alerts.rules import AlertRule, condition_text
from perptui.services.alerts import manage
from perptui.services.alerts.store import HistoryEntry, load_history, rules_in_force

if TYPE_CHECKING:
    from perptui.ui.context import AppContext

#: How many of the last alerts the screen shows.
HISTORY_SHOWN = 5


@dataclass(frozen=True)
class Loaded:
    rules: list[AlertRule]
    history: list[HistoryEntry]
    enabled: bool


def load(ctx: AppContext, history: int = HISTORY_SHOWN) -> Loaded:
    with ctx.store().reading() as conn:
        rules = rules_in_force(conn, ctx.settings.alerts)
        entries = load_history(conn, history)
    return Loaded(rules, entries, ctx.settings.alerts.enabled)


def summary(rule: AlertRule) -> str:
    where = f" on {rule.symbol}" if rule.symbol else ""
    return f"{rule.id}: {condition_text(rule)}{where}"


def add(ctx: AppContext, fields: dict[str, object]) -> AlertRule:
    with ctx.store().writing() as conn:
        return manage.add_rule(conn, ctx.settings.alerts, fields, ctx.clock.now_ms())


def update(ctx: AppContext, fields: dict[str, object]) -> AlertRule:
    with ctx.store().writing() as conn:
        return manage.update_rule(conn, ctx.settings.alerts, fields, ctx.clock.now_ms())


def mute(ctx: AppContext, rule_id: str, muted: bool) -> AlertRule:
    with ctx.store().writing() as conn:
        return manage.set_muted(conn, ctx.settings.alerts, rule_id, muted, ctx.clock.now_ms())


def remove(ctx: AppContext, rule_id: str) -> AlertRule:
    with ctx.store().writing() as conn:
        return manage.remove_rule(conn, ctx.settings.alerts, rule_id)
