"""The rule form's texts -> a rule's keys, checked field by field (pure: no Textual).

Blank cool-down and quiet hours follow the ``[alerts]`` defaults (the keys are left out, as
``perptui alerts add`` does); ``none`` in the quiet hours says never quiet. A bad value raises
:class:`FieldError` naming the form's field, so the form shows the message at that field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perptui.domain.alerts.rules import (
    KINDS,
    SEVERITIES,
    AlertRule,
    RuleKind,
    quiet_hours_text,
    rule_from_fields,
)
from perptui.presentation import alerts as words

#: The form's fields, in order.
FIELDS = ("kind", "threshold", "market", "severity", "cooldown", "quiet")
#: A rule's key -> the form's field showing it.
_FIELD_OF_KEY = {
    "kind": "kind",
    "threshold": "threshold",
    "symbol": "market",
    "severity": "severity",
    "cooldown_s": "cooldown",
    "quiet_hours": "quiet",
}
#: The kinds "alert me" offers from the scanner, funding_flip first.
FUNDING_KINDS: tuple[RuleKind, ...] = ("funding_flip", "funding_apr", "funding_z")


class FieldError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.field = name
        self.message = message


@dataclass(frozen=True)
class FormValues:
    """What the form holds: the kind and severity chosen, the other fields as typed."""

    kind: RuleKind
    threshold: str = ""
    market: str = ""
    severity: str = "warning"
    cooldown: str = ""
    quiet: str = ""
    #: A starting threshold per kind (the scanner's current values), filled in when that kind is chosen.
    suggested: dict[str, float] = field(default_factory=dict)


def explain(kind: RuleKind) -> str:
    """One line on what a kind of rule watches, and the threshold it takes."""
    spec = KINDS[kind]
    what = spec.what.replace("{t}", "X")
    if spec.threshold is None:
        return f"{spec.group}: fires when {what}; takes no threshold"
    low, high, unit = spec.threshold
    return f"{spec.group}: fires when {what}; X above {low:g} and up to {high:g}{unit}"


def threshold_hint(kind: RuleKind) -> str:
    spec = KINDS[kind].threshold
    if spec is None:
        return "this kind takes no threshold"
    low, high, unit = spec
    return f"a number above {low:g} and up to {high:g}{unit.strip()}"


def market_hint(kind: RuleKind) -> str:
    spec = KINDS[kind]
    if spec.group in ("account", "data"):
        return "this kind watches the whole account or the data: leave it blank"
    if spec.needs_symbol:
        return "required: a market, e.g. BTC/USDT:USDT"
    if spec.group == "funding":
        return "blank: the perps held or in a carry; * every perp of the exchange; or one, e.g. BTC"
    return "blank: every position or perp; or one market, e.g. BTC/USDT:USDT"


def threshold_text(value: float) -> str:
    return f"{value:g}"


def values_of(
    rule: AlertRule, *, default_cooldown_s: int, default_quiet: tuple[int, int] | None
) -> FormValues:
    """The form's texts for editing ``rule``; a cool-down or quiet hours equal to the ``[alerts]``
    defaults are left blank (saved, they keep following the defaults)."""
    quiet = ""
    if rule.quiet_hours != default_quiet:
        quiet = "none" if rule.quiet_hours is None else quiet_hours_text(rule.quiet_hours)
    return FormValues(
        kind=rule.kind,
        threshold="" if rule.threshold is None else threshold_text(rule.threshold),
        market=rule.symbol or "",
        severity=rule.severity,
        cooldown="" if rule.cooldown_s == default_cooldown_s else words.duration(rule.cooldown_s),
        quiet=quiet,
    )


def _number(text: str, kind: RuleKind) -> float:
    cleaned = text.strip().removesuffix("%").replace(",", "").replace("_", "").strip()
    try:
        return float(cleaned)
    except ValueError:
        raise FieldError("threshold", f"{text.strip()!r} is not a number: {threshold_hint(kind)}") from None


def parse(values: FormValues, rule_id: str | None = None) -> dict[str, object]:
    """The rule's keys (``id`` only when given: a new rule's is made when it is saved); FieldError
    naming the field for a bad value."""
    if values.kind not in KINDS:
        raise FieldError("kind", "choose a kind of rule")
    fields: dict[str, object] = {"kind": values.kind}
    if KINDS[values.kind].threshold is not None:
        if not values.threshold.strip():
            raise FieldError("threshold", f"required: {threshold_hint(values.kind)}")
        fields["threshold"] = _number(values.threshold, values.kind)
    if values.market.strip():
        fields["symbol"] = values.market.strip()
    if values.severity not in SEVERITIES:
        raise FieldError("severity", f"choose one of {', '.join(SEVERITIES)}")
    fields["severity"] = values.severity
    if values.cooldown.strip():
        try:
            fields["cooldown_s"] = words.parse_duration(values.cooldown)
        except ValueError as exc:
            raise FieldError("cooldown", str(exc)) from None
    quiet = values.quiet.strip()
    if quiet:
        fields["quiet_hours"] = "" if quiet.lower() == "none" else quiet
    try:
        rule_from_fields({"id": rule_id or "new-rule", **fields}, source="user")
    except ValueError as exc:
        key, _, problem = str(exc).partition(": ")
        name = _FIELD_OF_KEY.get(key)
        if name is None:
            raise FieldError("kind", str(exc)) from None
        raise FieldError(name, problem) from None
    return {"id": rule_id, **fields} if rule_id else fields
