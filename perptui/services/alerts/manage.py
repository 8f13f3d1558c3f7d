"""Changes to the rules in force: add, edit, mute, unmute, remove. ``perptui alerts`` and the app's rules
screen both call these, inside the caller's transaction (``Store.writing()``), so they agree on what a
change means: a default or config rule is only muted or unmuted (its entry in the cache holds the mute
alone); a rule added in the app or with ``alerts add`` is the user's, and only it is edited or removed.

A change the rules refuse raises a :class:`RuleChangeError` (the callers word it for their place: a flag
of the CLI, a line of the screen); a stored rule a later version refuses raises ValueError from
``rules_in_force``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from perptui.config.settings import AlertsSettings
from perptui.domain.alerts.rules import DEFAULT_IDS, AlertRule
from perptui.services.alerts.store import delete_rule, load_rules, rules_in_force, save_rule

__all__ = [
    "NotUserRule",
    "RuleChangeError",
    "RuleExists",
    "UnknownRule",
    "add_rule",
    "auto_id",
    "find_rule",
    "origin",
    "remove_rule",
    "set_muted",
    "update_rule",
]


class RuleChangeError(Exception):
    """A change the rules in force do not allow."""


class UnknownRule(RuleChangeError):
    def __init__(self, rule_id: str, known: list[str]) -> None:
        super().__init__(f"no alert rule {rule_id!r}; the rules are: {', '.join(known) or 'none'}")
        self.rule_id, self.known = rule_id, known


class RuleExists(RuleChangeError):
    def __init__(self, rule: AlertRule) -> None:
        super().__init__(f"a rule {rule.id!r} exists ({origin(rule)})")
        self.rule = rule


class NotUserRule(RuleChangeError):
    """Only the user's own rules are edited or removed; the others are muted."""

    def __init__(self, rule: AlertRule) -> None:
        super().__init__(f"{rule.id!r} is {origin(rule)}: it can only be muted")
        self.rule = rule


def origin(rule: AlertRule) -> str:
    """Where ``rule`` was defined, in words."""
    if rule.source == "user":
        return "one of yours"
    return "a default rule" if rule.id in DEFAULT_IDS else "a rule of the config file"


def auto_id(fields: Mapping[str, object], taken: set[str]) -> str:
    """``price-below-btc``, then ``price-below-btc-2`` ...: the kind and the market's base."""
    stem = str(fields["kind"]).replace("_", "-")
    symbol = fields.get("symbol")
    if isinstance(symbol, str):
        base = "".join(c for c in symbol.partition("/")[0].lower() if c.isascii() and c.isalnum())
        stem = f"{stem}-{base}"[:36] if base else stem
    rule_id, n = stem, 2
    while rule_id in taken:
        rule_id, n = f"{stem}-{n}", n + 1
    return rule_id


def find_rule(conn: sqlite3.Connection, settings: AlertsSettings, rule_id: str) -> AlertRule:
    rules = {r.id: r for r in rules_in_force(conn, settings)}
    if rule_id not in rules:
        raise UnknownRule(rule_id, list(rules))
    return rules[rule_id]


def add_rule(
    conn: sqlite3.Connection, settings: AlertsSettings, fields: Mapping[str, object], now: int
) -> AlertRule:
    """Store a new user rule (``fields`` already checked by ``rule_from_fields``); without an ``id`` one
    is made from the kind and the market. RuleExists when the id is taken."""
    rules = {r.id: r for r in rules_in_force(conn, settings)}
    if "id" not in fields:
        fields = {"id": auto_id(fields, set(rules)), **fields}
    elif (clash := rules.get(str(fields["id"]))) is not None:
        raise RuleExists(clash)
    save_rule(conn, fields, now)
    return find_rule(conn, settings, str(fields["id"]))


def update_rule(
    conn: sqlite3.Connection, settings: AlertsSettings, fields: Mapping[str, object], now: int
) -> AlertRule:
    """Replace the user rule ``fields["id"]`` with ``fields`` (its mute kept unless given)."""
    rule = find_rule(conn, settings, str(fields["id"]))
    if rule.source != "user":
        raise NotUserRule(rule)
    save_rule(conn, {"muted": rule.muted, **fields}, now)
    return find_rule(conn, settings, rule.id)


def set_muted(
    conn: sqlite3.Connection, settings: AlertsSettings, rule_id: str, muted: bool, now: int
) -> AlertRule:
    """Mute or unmute any rule: a user rule's entry keeps its keys; a default or config rule's entry is
    the mute alone."""
    rule = find_rule(conn, settings, rule_id)
    stored = {str(f.get("id")): f for f in load_rules(conn)}
    entry = stored.get(rule_id, {"id": rule_id}) if rule.source == "user" else {"id": rule_id}
    save_rule(conn, {**entry, "muted": muted}, now)
    return find_rule(conn, settings, rule_id)


def remove_rule(conn: sqlite3.Connection, settings: AlertsSettings, rule_id: str) -> AlertRule:
    """Remove a user rule (and its conditions' state); returns what it was."""
    rule = find_rule(conn, settings, rule_id)
    if rule.source != "user":
        raise NotUserRule(rule)
    delete_rule(conn, rule_id)
    return rule
