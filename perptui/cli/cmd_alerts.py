"""`perptui alerts list|add|remove|mute|unmute|history`: the alert rules in force and the notifications.

Rules come from the defaults, the config's ``[alerts] rules`` and ``alerts add`` (kept in the cache's
``alert_rules``); ``mute``/``unmute`` of a default or config rule is kept there too, as an override.
Every flag is checked before the cache is opened; a rule the checks refuse is one line, exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from perptui.config.settings import Settings
from perptui.domain.alerts.rules import (
    DEFAULT_IDS,
    EVERY_PERP,
    AlertRule,
    condition_text,
    quiet_hours_text,
    rule_from_fields,
)
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import iso_utc
from perptui.presentation import alerts as alert_words

from .context import open_store, settings_from_args
from .output import note, out, print_json, say

#: Keys of a rule -> the flag of ``alerts add`` that sets them (for messages).
_FLAGS = {"id": "--id", "threshold": "--threshold", "symbol": "--symbol", "severity": "--severity",
          "cooldown_s": "--cooldown", "quiet_hours": "--quiet", "kind": "--kind"}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.action == "add":
        return _add(args, settings, _fields(args))
    if args.action == "history":
        return _history(args, settings)
    if args.action == "list":
        return _list(args, settings)
    return _change(args, settings)


def _now(settings: Settings) -> int:
    from perptui.services.sources import clock_for

    return clock_for(settings).now_ms()


# --- list -------------------------------------------------------------------------------------------


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store, store.reading() as conn:
        rules = _in_force(conn, settings)
    if args.json:
        print_json({"enabled": settings.alerts.enabled, "rules": [r.as_dict() for r in rules]})
        return 0
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    columns = ("id", "kind", "level", "market", "severity", "cool", "quiet UTC", "muted", "from")
    for name in columns:
        table.add_column(name, no_wrap=name != "kind", overflow="fold")
    for r in rules:
        table.add_row(r.id, r.kind, alert_words.threshold(r), alert_words.market(r.symbol), r.severity,
                      alert_words.duration(r.cooldown_s),
                      quiet_hours_text(r.quiet_hours) if r.quiet_hours else "—", "muted" if r.muted else "",
                      r.source)  # fmt: skip
    out().print(table)
    if not settings.alerts.enabled:
        note("alerts are off: [alerts] enabled = false in the config")
    return 0


def _in_force(conn: Any, settings: Settings) -> list[AlertRule]:
    from perptui.services.alerts.store import rules_in_force

    try:
        return rules_in_force(conn, settings.alerts)
    except ValueError as exc:  # a stored rule a later version would refuse
        raise UsageError(f"{exc}: remove it with 'perptui alerts remove'") from None


# --- add --------------------------------------------------------------------------------------------


def _fields(args: argparse.Namespace) -> dict[str, object]:
    """The rule's keys from the flags, checked before the cache is opened (``id`` made later)."""
    fields: dict[str, object] = {"id": args.id or "new-rule", "kind": args.kind, "severity": args.severity}
    if args.threshold is not None:
        fields["threshold"] = float(args.threshold)
    if args.symbol is not None:
        fields["symbol"] = args.symbol
    if getattr(args, "all_perps", False):
        fields["symbol"] = EVERY_PERP
    if args.cooldown is not None:
        fields["cooldown_s"] = int(args.cooldown)
    if args.quiet is not None:
        fields["quiet_hours"] = quiet_hours_text(args.quiet)
    try:
        rule_from_fields(fields, source="user")
    except ValueError as exc:
        key, _, problem = str(exc).partition(": ")
        raise UsageError(f"{_FLAGS.get(key, key)}: {problem}") from None
    if args.id is None:
        del fields["id"]
    return fields


def _add(args: argparse.Namespace, settings: Settings, fields: dict[str, object]) -> int:
    from perptui.services.alerts.manage import RuleExists, add_rule

    now = _now(settings)
    with open_store(settings) as store, store.writing() as conn:
        _in_force(conn, settings)  # a stored rule a later version refuses, said first
        try:
            rule = add_rule(conn, settings.alerts, fields, now)
        except RuleExists as exc:
            where = "added with 'alerts add'" if exc.rule.source == "user" else "in the config or a default"
            raise UsageError(
                f"--id: a rule {exc.rule.id!r} exists ({where}); give another id, or remove it first"
            ) from None
    if args.json:
        print_json(rule.as_dict())
    else:
        say(f"added rule {rule.id}: {_summary(rule)}")
    return 0


def _summary(rule: AlertRule) -> str:
    where = f" on {rule.symbol}" if rule.symbol else ""
    quiet = f", quiet {quiet_hours_text(rule.quiet_hours)} UTC" if rule.quiet_hours else ""
    return f"{condition_text(rule)}{where} ({rule.severity}, cool-down {rule.cooldown_s:,} s{quiet})"


# --- remove, mute, unmute ---------------------------------------------------------------------------


def _change(args: argparse.Namespace, settings: Settings) -> int:
    from perptui.services.alerts.manage import NotUserRule, RuleChangeError, remove_rule, set_muted

    rule_id = args.id
    with open_store(settings) as store, store.writing() as conn:
        _in_force(conn, settings)  # a stored rule a later version refuses, said first
        try:
            if args.action == "remove":
                remove_rule(conn, settings.alerts, rule_id)
                rule, done = None, f"removed rule {rule_id}"
            else:
                muted = args.action == "mute"
                rule = set_muted(conn, settings.alerts, rule_id, muted, _now(settings))
                done = f"{'muted' if muted else 'unmuted'} rule {rule_id}"
        except NotUserRule:
            what = "a default rule" if rule_id in DEFAULT_IDS else "a rule of the config file"
            raise UsageError(
                f"{rule_id!r} is {what}, not one added with 'alerts add': mute it instead, with "
                f"'perptui alerts mute {rule_id}' or muted = true in its [[alerts.rules]] entry"
            ) from None
        except RuleChangeError as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print_json({"action": args.action, "rule": rule.as_dict() if rule is not None else {"id": rule_id}})
    else:
        say(done)
    return 0


# --- history ----------------------------------------------------------------------------------------


def _history(args: argparse.Namespace, settings: Settings) -> int:
    from perptui.services.alerts.store import load_history

    with open_store(settings) as store, store.reading() as conn:
        entries = load_history(conn, args.limit)
    if args.json:
        print_json({"history": [{**e.as_dict(), "at": iso_utc(e.time)} for e in entries]})
        return 0
    if not entries:
        say("no alert has fired yet")
        return 0
    for e in entries:  # one line each, never wrapped (scripts may grep it)
        delivery = alert_words.delivery(e.held, e.delivered)
        say(f"{iso_utc(e.time)}  {e.severity:<8}  {e.kind:<7}  {e.rule_id}  {e.title}  [{delivery}]")
    return 0
