"""One reader for every number a person types, in a pane's field or on the command line. Pure.

What is read:

- a decimal point always: ``0.013``, ``.5``, ``85913.5``; an exponent: ``1e3``, ``2.5E-4``;
- thousands separators in groups of three, the first group without a leading zero: ``65,000``,
  ``1,234,567.5``; a space or an underscore may separate the groups instead (``1 234 567``, ``1_000``),
  one kind of separator per number;
- a decimal comma only where it cannot be a thousands separator: ``0,013`` (a lone 0 starts no group)
  -> 0.013, ``1,5`` -> 1.5, ``12,3456`` -> 12.3456, ``1234,5`` -> 1234.5; one comma before three
  zeros is a thousands separator (``65,000``: nobody writes 65 as ``65,000`` with a decimal comma);
- a sign (``-`` or ``+``) in front, and the kind's unit behind (``1.5%``, ``10x``, ``250 USDT``).

Refused with one line saying why and what is accepted: a comma that could be either (``1,500``:
1500 or 1.5?), anything else (``abc``, ``1.234,5``, ``0.5,000``, ``1,50,000``), NaN and
infinity, and a value outside the kind's range (``perptui.domain.quantities``): negatives and zero where
only positives make sense get "must be above 0", not "not a number".

``parse_number`` raises ``UsageError`` (a form shows it inline; the CLI exits 2); ``arg_type`` wraps it
for argparse (``ArgumentTypeError``: exit 2 with the flag's name in front).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

from perptui.domain.errors import UsageError
from perptui.domain.quantities import (
    MULTIPLE,
    NON_NEGATIVE,
    OPEN_PERCENT,
    PERCENT,
    POSITIVE,
    PRICE,
    QUANTITY,
    SHARE_PERCENT,
    SIGNED,
    SIGNED_PERCENT,
    Quantity,
    check,
    count,
    leverage,
    money,
)

__all__ = [
    "MULTIPLE",
    "NON_NEGATIVE",
    "OPEN_PERCENT",
    "PERCENT",
    "POSITIVE",
    "PRICE",
    "QUANTITY",
    "SHARE_PERCENT",
    "SIGNED",
    "SIGNED_PERCENT",
    "Quantity",
    "arg_list_type",
    "arg_type",
    "count",
    "leverage",
    "money",
    "parse_number",
    "read_number",
    "shown",
]

#: Digits are ASCII (re.ASCII): ``\d`` alone also matches '١٢' (Arabic-Indic), which float() reads as 12.
_EXPONENT = r"(?:[eE][+-]?\d+)?"
_PLAIN = re.compile(rf"(?:\d+(?:\.\d*)?|\.\d+){_EXPONENT}", re.ASCII)
#: Thousands groups with one separator kind (the backreference), then an optional decimal part.
_GROUPED = re.compile(r"[1-9]\d{0,2}(?P<sep>[,_ ])\d{3}(?:(?P=sep)\d{3})*(?:\.\d*)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"\d+,\d+", re.ASCII)


def shown(text: str) -> str:
    """The text as a message quotes it: stripped, cut at 30 characters."""
    text = str(text).strip()
    return repr(text if len(text) <= 30 else text[:30] + "…")


def _not_a_number(text: str, q: Quantity) -> UsageError:
    return UsageError(f"{shown(text)} is not a number (e.g. {q.example})")


def _strip_unit(value: str, q: Quantity) -> str:
    for suffix in sorted(q.accepted_suffixes(), key=len, reverse=True):
        if len(value) > len(suffix) and value.lower().endswith(suffix.lower()):
            return value[: -len(suffix)].rstrip()
    return value


def read_number(text: str, q: Quantity = SIGNED) -> float:
    """The number ``text`` spells, range unchecked (``q`` gives the unit it may carry and the example a
    refusal quotes); UsageError when it spells none or could mean two numbers."""
    raw = str(text)
    value = _strip_unit(raw.strip(), q)
    if not value:
        raise UsageError(f"{shown(raw)} is empty: type a number (e.g. {q.example})")
    sign = -1.0 if value[0] == "-" else 1.0
    body = value[1:].lstrip() if value[0] in "+-" else value
    if _PLAIN.fullmatch(body):
        number = float(body)
    elif _GROUPED.fullmatch(body):
        if body.count(",") == 1 and "." not in body and not body.endswith(",000"):
            whole, frac = body.split(",")
            minus = "-" if sign < 0 else ""
            decimal = f"{whole}.{frac.rstrip('0')}".rstrip(".")
            raise UsageError(
                f"{shown(raw)} is ambiguous: a comma may be a thousands separator or a decimal comma; "
                f"type {minus}{whole}{frac} or {minus}{decimal}"
            )
        number = float(re.sub(r"[,_ ]", "", body))
    elif _DECIMAL_COMMA.fullmatch(body):
        number = float(body.replace(",", "."))
    else:
        raise _not_a_number(raw, q)
    if not math.isfinite(number):  # 1e999
        raise UsageError(f"{shown(raw)} is too large to be a number here (e.g. {q.example})")
    return sign * number


def parse_number(text: str, q: Quantity) -> float:
    """The number typed, checked against its kind ``q``: one-line UsageError otherwise."""
    return check(read_number(text, q), q, shown(text))


def arg_type(q: Quantity) -> Callable[[str], float]:
    """An argparse ``type=`` for the kind: a refusal becomes ``ArgumentTypeError`` (exit 2); a whole
    kind (``count``) gives an ``int``."""

    def convert(text: str) -> float:
        try:
            value = parse_number(text, q)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return int(value) if q.whole else value

    convert.__name__ = q.noun
    return convert


def arg_list_type(*kinds: Quantity, most: int | None = None) -> Callable[[str], tuple[float, ...]]:
    """An argparse ``type=`` for comma-separated numbers (``1,2,3``): the i-th of ``kinds`` reads the i-th
    number (the last one the rest); at most ``most`` of them."""

    def convert(text: str) -> tuple[float, ...]:
        parts = [part.strip() for part in str(text).split(",")]
        if not any(parts):
            raise argparse.ArgumentTypeError(f"{shown(text)} holds no numbers (comma-separated, e.g. 1,2,3)")
        if most is not None and len(parts) > most:
            raise argparse.ArgumentTypeError(f"{shown(text)} holds {len(parts)} numbers; give at most {most}")
        values = []
        for i, part in enumerate(parts):
            q = kinds[min(i, len(kinds) - 1)]
            try:
                values.append(parse_number(part, q))
            except UsageError as exc:
                where = f"in {shown(text)}: " if len(parts) > 1 else ""
                raise argparse.ArgumentTypeError(f"{where}{exc}") from None
        return tuple(values)

    convert.__name__ = "numbers"
    return convert
