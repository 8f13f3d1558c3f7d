"""Alert rules: what is watched, how severe it is, and the rules on by default. Pure.

A rule is one kind of condition (below) with an optional threshold and market. Rules come from three
places, merged by ``merge_rules``: the defaults here, the config's ``[alerts] rules`` (a rule with a
default's id changes that default, e.g. ``{id = "no-stop", muted = true}``) and the rules the trader
adds with ``perptui alerts add`` (stored in the cache; there, an entry with the id of a default or config
rule only mutes or unmutes it).

Every check refuses a bad value with a one-line ValueError naming the key and what is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, get_args

from perptui.domain.alerts.notification import SEVERITIES, Severity

__all__ = [
    "DEFAULT_COOLDOWN_S",
    "DEFAULT_IDS",
    "DEFAULT_RULES",
    "KINDS",
    "RULE_FIELDS",
    "SEVERITIES",
    "AlertRule",
    "KindSpec",
    "RuleKind",
    "Severity",
    "check_rule",
    "condition_text",
    "in_quiet_hours",
    "merge_rules",
    "parse_quiet_hours",
    "quiet_hours_text",
    "rule_from_fields",
    "rule_id_problem",
    "rule_to_fields",
]

RuleKind = Literal[
    "liq_distance_pct",
    "liq_distance_sigma",
    "margin_ratio",
    "no_stop",
    "stop_filled",
    "take_profit_filled",
    "price_above",
    "price_below",
    "daily_loss_pct",
    "drawdown_pct",
    "breaker",
    "funding_flip",
    "funding_z",
    "funding_apr",
    "carry_predicted_against",
    "carry_below_breakeven",
    "stale_data_min",
    "unreachable",
]
Group = Literal["position", "account", "funding", "data"]
Source = Literal["config", "user"]

DEFAULT_COOLDOWN_S = 900
#: The longest cool-down accepted: a week.
MAX_COOLDOWN_S = 7 * 86_400
DAY_MINUTES = 1_440
_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}", re.ASCII)
_QUIET_RE = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})", re.ASCII)
ID_FORM = (
    "1 to 40 lower-case letters, digits, '-' or '_', starting with a letter or digit (e.g. btc-below-60k)"
)
QUIET_FORM = 'HH:MM-HH:MM in UTC, e.g. "23:00-07:00" (it may wrap midnight)'


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What a kind of rule watches. ``threshold``: the accepted range (exclusive low, inclusive high) and
    its unit, or None when the kind takes none. ``one_shot``: an event (a fill) that fires and never
    clears. ``clears``: whether the end of the condition is notified. ``needs_symbol``: a market must
    be named (a price level means nothing for every market at once)."""

    group: Group
    what: str  # the condition in words, "{t}" standing for the threshold with its unit
    threshold: tuple[float, float, str] | None = None
    one_shot: bool = False
    clears: bool = True
    needs_symbol: bool = False


KINDS: dict[RuleKind, KindSpec] = {
    "liq_distance_pct": KindSpec("position", "liquidation distance below {t}", (0, 100, "%")),
    "liq_distance_sigma": KindSpec("position", "liquidation distance below {t} daily sigmas", (0, 100, "")),
    "margin_ratio": KindSpec("position", "margin ratio above {t}", (0, 100, "%")),
    "no_stop": KindSpec("position", "an open position without a stop-loss"),
    "stop_filled": KindSpec("position", "a stop-loss filled", one_shot=True, clears=False),
    "take_profit_filled": KindSpec("position", "a take-profit filled", one_shot=True, clears=False),
    "price_above": KindSpec("position", "mark price above {t}", (0, 1e12, ""), needs_symbol=True),
    "price_below": KindSpec("position", "mark price below {t}", (0, 1e12, ""), needs_symbol=True),
    "daily_loss_pct": KindSpec("account", "loss today beyond {t} of equity", (0, 100, "%")),
    "drawdown_pct": KindSpec("account", "drawdown beyond {t}", (0, 100, "%")),
    "breaker": KindSpec("account", "the circuit breaker tripped"),
    "funding_flip": KindSpec("funding", "the funding rate changed sign", clears=False),
    "funding_z": KindSpec("funding", "|funding z-score| above {t}", (0, 100, "")),
    "funding_apr": KindSpec("funding", "|funding APR| above {t}", (0, 100_000, "%")),
    "carry_predicted_against": KindSpec("funding", "the next funding print predicted against an open carry"),
    "carry_below_breakeven": KindSpec("funding", "an open carry's net APR below its break-even"),
    "stale_data_min": KindSpec("data", "market data older than {t}", (0, 10_080, " min")),
    "unreachable": KindSpec("data", "the exchange unreachable"),
}
assert set(KINDS) == set(get_args(RuleKind))


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One rule. ``symbol`` None watches every position (or every watched perp); ``quiet_hours`` are UTC
    minutes of the day (start, end), the end excluded, and may wrap midnight; ``source`` says where it
    was defined: ``config`` (a default, or the config file) or ``user`` (``perptui alerts add``)."""

    id: str
    kind: RuleKind
    threshold: float | None = None
    symbol: str | None = None
    severity: Severity = "warning"
    cooldown_s: int = DEFAULT_COOLDOWN_S
    quiet_hours: tuple[int, int] | None = None
    muted: bool = False
    source: Source = "config"

    @property
    def spec(self) -> KindSpec:
        return KINDS[self.kind]

    def as_dict(self) -> dict[str, object]:
        """The rule as JSON (``perptui alerts list --json``): quiet hours as text, ``HH:MM-HH:MM``."""
        return {
            "id": self.id,
            "kind": self.kind,
            "threshold": self.threshold,
            "symbol": self.symbol,
            "severity": self.severity,
            "cooldown_s": self.cooldown_s,
            "quiet_hours": None if self.quiet_hours is None else quiet_hours_text(self.quiet_hours),
            "muted": self.muted,
            "source": self.source,
            "condition": condition_text(self),
        }


#: On by default: the four the issue names, with thresholds a small account can live with.
DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule("liq-distance", "liq_distance_pct", threshold=5.0, severity="warning"),
    AlertRule("no-stop", "no_stop", severity="warning"),
    AlertRule("breaker", "breaker", severity="critical"),
    AlertRule("stale-data", "stale_data_min", threshold=10.0, severity="warning"),
)

DEFAULT_IDS = frozenset(rule.id for rule in DEFAULT_RULES)

#: The keys a rule may have in the config or the cache (``source`` is where it was found, not a key).
#: A funding rule's market meaning every perp of the exchange (the scanner's whole list), not only the
#: watched ones (held, in a carry, or named).
EVERY_PERP = "*"
RULE_FIELDS = ("id", "kind", "threshold", "symbol", "severity", "cooldown_s", "quiet_hours", "muted")


def rule_id_problem(value: object) -> str | None:
    """Why ``value`` is not a rule id, or None when it is one."""
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        return f"{value!r} is not a rule id: use {ID_FORM}"
    return None


def parse_quiet_hours(text: str) -> tuple[int, int]:
    """``"23:00-07:00"`` -> (1380, 420): UTC minutes of the day, start and end (the end excluded). The
    ValueError's message leaves the text out ("is not a span of hours: use ..."): callers quote it."""
    match = _QUIET_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"is not a span of hours: use {QUIET_FORM}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"is not a span of hours (hours 00-23, minutes 00-59): use {QUIET_FORM}")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError(f"starts and ends at the same minute: use {QUIET_FORM}")
    return start, end


def quiet_hours_text(span: tuple[int, int]) -> str:
    start, end = span
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def in_quiet_hours(span: tuple[int, int] | None, time_ms: int) -> bool:
    """Whether ``time_ms`` (epoch ms) falls in the quiet span (UTC), which may wrap midnight."""
    if span is None:
        return False
    minute = (time_ms // 60_000) % DAY_MINUTES
    start, end = span
    return start <= minute < end if start < end else minute >= start or minute < end


def condition_text(rule: AlertRule) -> str:
    """The rule's condition in words: "liquidation distance below 5%"."""
    spec = rule.spec
    text = spec.what
    if spec.threshold is not None and rule.threshold is not None:
        text = text.replace("{t}", f"{rule.threshold:g}{spec.threshold[2]}")
    return text


def check_rule(rule: AlertRule) -> AlertRule:
    """``rule`` when every value is acceptable; else a one-line ValueError naming the key."""
    if (problem := rule_id_problem(rule.id)) is not None:
        raise ValueError(f"id: {problem}")
    if rule.kind not in KINDS:
        raise ValueError(f"kind: {rule.kind!r} is not a kind of rule; use one of {', '.join(KINDS)}")
    spec = rule.spec
    if spec.threshold is None:
        if rule.threshold is not None:
            raise ValueError(f"threshold: a {rule.kind} rule takes none; leave it out")
    else:
        low, high, unit = spec.threshold
        if rule.threshold is None:
            raise ValueError(
                f"threshold: a {rule.kind} rule needs one, above {low:g} and up to {high:g}{unit}"
            )
        if not low < rule.threshold <= high:  # NaN fails too
            raise ValueError(
                f"threshold: {rule.threshold!r} is outside what a {rule.kind} rule accepts: above {low:g} "
                f"and up to {high:g}{unit}"
            )
    if rule.symbol == EVERY_PERP and spec.group != "funding":
        raise ValueError(
            f"symbol: {EVERY_PERP} (every perp of the scanner) is for funding rules; a {rule.kind} rule "
            "watches the positions, or one market"
        )
    if spec.needs_symbol and rule.symbol is None:
        raise ValueError(f"symbol: a {rule.kind} rule needs a market (e.g. BTC or BTC/USDT:USDT)")
    if rule.symbol is not None and spec.group in ("account", "data"):
        whole = "the whole account" if spec.group == "account" else "the exchange's data"
        raise ValueError(f"symbol: a {rule.kind} rule watches {whole}, not one market; leave it out")
    if rule.symbol is not None and (not rule.symbol.strip() or len(rule.symbol) > 64):
        raise ValueError(f"symbol: {rule.symbol!r} is not a market's name (e.g. BTC or BTC/USDT:USDT)")
    if rule.severity not in SEVERITIES:
        raise ValueError(f"severity: {rule.severity!r} is not one of {', '.join(SEVERITIES)}")
    if not 0 <= rule.cooldown_s <= MAX_COOLDOWN_S:
        raise ValueError(f"cooldown_s: {rule.cooldown_s!r} is outside 0 to {MAX_COOLDOWN_S} seconds (a week)")
    if rule.quiet_hours is not None:
        start, end = rule.quiet_hours
        if not (0 <= start < DAY_MINUTES and 0 <= end < DAY_MINUTES) or start == end:
            raise ValueError(f"quiet_hours: {rule.quiet_hours!r} is not a span of minutes of the day")
    return rule


def _field(fields: Mapping[str, object], key: str, base: object) -> object:
    return fields.get(key, base)


def rule_from_fields(
    fields: Mapping[str, object],
    *,
    source: Source,
    base: AlertRule | None = None,
    cooldown_s: int = DEFAULT_COOLDOWN_S,
    quiet_hours: tuple[int, int] | None = None,
) -> AlertRule:
    """A rule from a table of the config or a row of the cache (``RULE_FIELDS``; ``quiet_hours`` as
    ``"HH:MM-HH:MM"``). ``base``: the rule it changes (same id), whose values fill the keys left out;
    else ``cooldown_s`` and ``quiet_hours`` (the ``[alerts]`` ones) fill theirs. ValueError naming the
    key for a bad value or an unknown key."""
    unknown = sorted(set(fields) - set(RULE_FIELDS))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; a rule has {', '.join(RULE_FIELDS)}")
    rule_id = fields.get("id")
    if (problem := rule_id_problem(rule_id)) is not None:
        raise ValueError(f"id: {problem}" if "id" in fields else f"id: every rule needs one ({ID_FORM})")
    kind = _field(fields, "kind", base.kind if base else None)
    if kind is None:
        raise ValueError(f"kind: rule {rule_id!r} needs one: {', '.join(KINDS)}")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind: {kind!r} is not a kind of rule; use one of {', '.join(KINDS)}")
    threshold = _field(fields, "threshold", base.threshold if base and base.kind == kind else None)
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
        raise ValueError(f"threshold: {threshold!r} is not a number")
    symbol = _field(fields, "symbol", base.symbol if base else None)
    if symbol is not None and not isinstance(symbol, str):
        raise ValueError(f"symbol: {symbol!r} is not a market's name (e.g. BTC or BTC/USDT:USDT)")
    severity = _field(fields, "severity", base.severity if base else "warning")
    cooldown = _field(fields, "cooldown_s", base.cooldown_s if base else cooldown_s)
    if isinstance(cooldown, bool) or not isinstance(cooldown, int):
        raise ValueError(f"cooldown_s: {cooldown!r} is not a whole number of seconds")
    quiet = fields.get("quiet_hours", ...)
    span: tuple[int, int] | None
    if quiet is ...:
        span = base.quiet_hours if base else quiet_hours
    elif quiet is None or quiet == "":
        span = None
    elif isinstance(quiet, str):
        try:
            span = parse_quiet_hours(quiet)
        except ValueError as exc:
            raise ValueError(f"quiet_hours: {quiet!r} {exc}") from None
    else:
        raise ValueError(f"quiet_hours: {quiet!r} is not text: use {QUIET_FORM}")
    muted = _field(fields, "muted", base.muted if base else False)
    if not isinstance(muted, bool):
        raise ValueError(f"muted: {muted!r} is not true or false")
    rule = AlertRule(
        id=str(rule_id),
        kind=kind,  # checked against KINDS above
        threshold=None if threshold is None else float(threshold),
        symbol=symbol.strip() if isinstance(symbol, str) else None,
        severity=severity,  # type: ignore[arg-type]  # check_rule refuses another value
        cooldown_s=cooldown,
        quiet_hours=span,
        muted=muted,
        source=source,
    )
    return check_rule(rule)


def rule_to_fields(rule: AlertRule) -> dict[str, object]:
    """The keys of ``rule`` as the config and the cache hold them (the inverse of ``rule_from_fields``)."""
    return {
        "id": rule.id,
        "kind": rule.kind,
        "threshold": rule.threshold,
        "symbol": rule.symbol,
        "severity": rule.severity,
        "cooldown_s": rule.cooldown_s,
        "quiet_hours": "" if rule.quiet_hours is None else quiet_hours_text(rule.quiet_hours),
        "muted": rule.muted,
    }


def merge_rules(
    config: Iterable[Mapping[str, object]],
    user: Iterable[Mapping[str, object]],
    *,
    cooldown_s: int = DEFAULT_COOLDOWN_S,
    quiet_hours: tuple[int, int] | None = None,
) -> list[AlertRule]:
    """The rules in force: the defaults, each changed by a config rule of the same id, the config's own
    rules, then the user's. A user entry with the id of a default or config rule only sets its
    ``muted`` (one left without its rule, the config having dropped it, is ignored). ``cooldown_s``
    and ``quiet_hours`` (``[alerts]``) apply where a rule gives none. Raises ValueError (naming the
    rule and the key) for a bad one; ids are unique in the result."""
    rules: dict[str, AlertRule] = {}
    for rule in DEFAULT_RULES:
        rules[rule.id] = replace(rule, cooldown_s=cooldown_s, quiet_hours=quiet_hours)
    for index, fields in enumerate(config):
        try:
            rule = rule_from_fields(fields, source="config", base=rules.get(str(fields.get("id"))),
                                    cooldown_s=cooldown_s, quiet_hours=quiet_hours)  # fmt: skip
        except ValueError as exc:
            raise ValueError(f"rule {index + 1}{_named(fields)}: {exc}") from None
        rules[rule.id] = rule
    for fields in user:
        rule_id = str(fields.get("id"))
        if rule_id in rules and rules[rule_id].source == "config":
            muted = fields.get("muted")
            if isinstance(muted, bool):
                rules[rule_id] = replace(rules[rule_id], muted=muted)
            continue
        if "kind" not in fields:
            continue  # the mute of a config rule the config no longer has
        try:
            rule = rule_from_fields(fields, source="user", cooldown_s=cooldown_s, quiet_hours=quiet_hours)
        except ValueError as exc:
            raise ValueError(f"stored rule{_named(fields)}: {exc}") from None
        rules[rule.id] = rule
    return list(rules.values())


def _named(fields: Mapping[str, object]) -> str:
    return f" ({fields['id']!r})" if isinstance(fields.get("id"), str) else ""
