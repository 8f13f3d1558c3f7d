"""Text for money, prices, percentages and ages, shared by the panes and the CLI. Pure, no Textual."""

from __future__ import annotations

import math

#: What a masked money amount looks like in privacy mode.
MASK = "••••••"
UNKNOWN = "—"


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def money(
    value: float | None, currency: str = "", *, private: bool = False, signed: bool = False, decimals: int = 2
) -> str:
    """``5,000.00 USDT``; ``••••••`` in privacy mode; ``—`` when unknown (None or not finite)."""
    if not _known(value):
        return UNKNOWN
    if private:
        return f"{MASK} {currency}".rstrip()
    assert value is not None
    text = f"{value:+,.{decimals}f}" if signed else f"{value:,.{decimals}f}"
    return f"{text} {currency}".rstrip()


def pct(fraction: float | None, decimals: int = 2, *, signed: bool = False) -> str:
    """A fraction as a percent: 0.0125 -> ``1.25%``."""
    if not _known(fraction):
        return UNKNOWN
    assert fraction is not None
    return f"{fraction * 100:+.{decimals}f}%" if signed else f"{fraction * 100:.{decimals}f}%"


def leverage(value: float | None) -> str:
    return UNKNOWN if not _known(value) else f"{value:.2f}x"


def age(ms: int | None) -> str:
    """A short age: ``12 s``, ``3 min``, ``5 h``, ``2 d``; ``—`` when unknown."""
    if ms is None:
        return UNKNOWN
    seconds = max(0, ms) // 1000
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86_400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86_400} d"


def staleness(ms: int | None) -> str:
    """How old cached data is: ``1.5 h old``; ``never fetched`` without any."""
    if ms is None:
        return "never fetched"
    seconds = ms / 1000
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit} old"
    return f"{seconds:.0f} s old"


def num(value: float | None, digits: int = 6) -> str:
    if value is None:
        return UNKNOWN
    return f"{value:,.{digits}g}" if abs(value) < 1e15 else f"{value:.3e}"


def price(value: float | None, tick: float | None) -> str:
    """A price with as many decimals as the market's tick has (4 significant digits without a tick)."""
    if value is None:
        return UNKNOWN
    if not tick or tick <= 0:
        return f"{value:,.4g}"
    decimals = max(0, -math.floor(math.log10(tick) + 1e-9))
    return f"{value:,.{decimals}f}"


def sign_class(value: float | None) -> str:
    """CSS class for a signed amount: ``-positive``, ``-negative`` or ``-flat``."""
    if not _known(value) or value == 0:
        return "-flat"
    assert value is not None
    return "-positive" if value > 0 else "-negative"
