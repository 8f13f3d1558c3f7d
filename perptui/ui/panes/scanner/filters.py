"""The scanner's filter fields as typed: a minimum 24h volume in USD (``5m``, ``250k``, ``1,000,000``)
and a minimum |APR| in percent (``10`` or ``10%``), both 0 or more, read by the one number reader
(``perptui.presentation.parse``). Pure; a bad entry raises FilterError with one line saying what is
accepted."""

from __future__ import annotations

from dataclasses import replace

from perptui.domain.errors import UsageError
from perptui.domain.quantities import NON_NEGATIVE, Quantity, check
from perptui.presentation.parse import parse_number, read_number, shown

_SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9}


class FilterError(ValueError):
    pass


_VOLUME = replace(NON_NEGATIVE, noun="volume", example="5m, 250k or 1000000 USD of 24h volume")
_APR = Quantity("percent", sign="non_negative", unit="%", example="10 for 10% a year")


def parse_min_volume(text: str) -> float:
    """USD of 24h volume; blank = 0 (no minimum)."""
    clean = text.strip().lower().removeprefix("$").strip()
    if not clean:
        return 0.0
    scale = _SUFFIXES.get(clean[-1], 1.0)
    number = clean[:-1] if clean[-1] in _SUFFIXES else clean
    try:
        return check(read_number(number, _VOLUME) * scale, _VOLUME, shown(text))
    except UsageError as exc:
        reason = str(exc) if number.strip() else f"{shown(text)} is not a number (e.g. {_VOLUME.example})"
        raise FilterError(f"min volume {reason}") from None


def parse_min_apr(text: str) -> float:
    """|APR| in percent, returned as a fraction (10 -> 0.10); blank = 0 (no minimum)."""
    if not text.strip():
        return 0.0
    try:
        return parse_number(text, _APR) / 100
    except UsageError as exc:
        raise FilterError(f"min |APR| {exc}") from None


def volume_text(value: float) -> str:
    """How a minimum volume is shown back in its field: ``5m``, ``250k``; blank for none."""
    if value <= 0:
        return ""
    for suffix, size in (("b", 1e9), ("m", 1e6), ("k", 1e3)):
        if value >= size and (value / size) == round(value / size, 2):
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def apr_text(fraction: float) -> str:
    return "" if fraction <= 0 else f"{fraction * 100:g}"
