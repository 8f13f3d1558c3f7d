"""The scanner's filter fields as typed: a minimum 24h volume in USD (``5m``, ``250k``, ``1,000,000``)
and a minimum |APR| in percent (``10`` or ``10%``). Pure; a bad entry raises FilterError with one line
saying what is accepted."""

from __future__ import annotations

import math

_SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9}


class FilterError(ValueError):
    pass


def parse_min_volume(text: str) -> float:
    """USD of 24h volume; blank = 0 (no minimum)."""
    clean = text.strip().lower().replace(",", "").replace("_", "").removeprefix("$").strip()
    if not clean:
        return 0.0
    scale = _SUFFIXES.get(clean[-1], 1.0)
    number = clean[:-1] if clean[-1] in _SUFFIXES else clean
    value = _number(number)
    if value is None or value < 0:
        raise FilterError(
            f"min volume {text.strip()!r}: give USD of 24h volume, 0 or more, e.g. 5m, 250k or 1000000"
        )
    return value * scale


def parse_min_apr(text: str) -> float:
    """|APR| in percent, returned as a fraction (10 -> 0.10); blank = 0 (no minimum)."""
    clean = text.strip().removesuffix("%").strip()
    if not clean:
        return 0.0
    value = _number(clean)
    if value is None or value < 0:
        raise FilterError(f"min |APR| {text.strip()!r}: give a percent a year, 0 or more, e.g. 10 for 10%")
    return value / 100


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


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
