"""Text for money, prices, quantities, percentages and ages, shared by the panes and the CLI. Pure, no
Textual.

One price format: a price at the market's tick (the tick's decimals: tick 0.1 -> ``85,913.5``, tick
0.000001 -> ``0.085723``); one quantity format at the market's step. Without a tick (or step) a number
shows ``FALLBACK_DIGITS`` significant digits, never an exponent and never cut (``85,913.5``,
``0.0857228``). Unknown (None, NaN, infinity) is ``—`` everywhere. Big numbers keep every digit with
thousands separators.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from perptui.domain.precision import (
    FALLBACK_DIGITS,
    QTY_FALLBACK_DIGITS,
    UNKNOWN,
    num,
    price,
    qty,
    significant,
    step_decimals,
)
from perptui.domain.precision import (
    known as _known,
)

if TYPE_CHECKING:
    from perptui.domain.types import Market

#: What a masked money amount looks like in privacy mode.
MASK = "••••••"

__all__ = ["FALLBACK_DIGITS", "QTY_FALLBACK_DIGITS", "UNKNOWN", "num", "price", "qty", "significant"]


def price_input(value: float, tick: float | None) -> str:
    """A price as typed into a field: the tick's decimals (8 significant digits without one), no
    thousands separators, so it reads back as itself."""
    if tick is None or not tick > 0 or not math.isfinite(tick):
        return significant(value, 8, grouped=False)
    return f"{value:.{step_decimals(tick)}f}"


def market_price(value: float | None, market: Market | None) -> str:
    """A price at ``market``'s tick (the fallback without a market)."""
    return price(value, market.price_tick if market is not None else None)


def market_qty(value: float | None, market: Market | None) -> str:
    """A quantity at ``market``'s amount step (the fallback without a market)."""
    return qty(value, market.amount_step if market is not None else None)


def money(
    value: float | None, currency: str = "", *, private: bool = False, signed: bool = False, decimals: int = 2
) -> str:
    """``5,000.00 USDT``; ``••••••`` in privacy mode; ``—`` when unknown (None or not finite)."""
    if not _known(value):
        return UNKNOWN
    if private:
        return f"{MASK} {currency}".rstrip()
    assert value is not None
    rounded = round(value, decimals) + 0.0  # never -0.00
    text = f"{rounded:+,.{decimals}f}" if signed else f"{rounded:,.{decimals}f}"
    return f"{text} {currency}".rstrip()


def pct(fraction: float | None, decimals: int = 2, *, signed: bool = False) -> str:
    """A fraction as a percent: 0.0125 -> ``1.25%``; never ``-0.00%``."""
    if not _known(fraction):
        return UNKNOWN
    assert fraction is not None
    value = round(fraction * 100, decimals) + 0.0
    return f"{value:+.{decimals}f}%" if signed else f"{value:.{decimals}f}%"


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


def sign_class(value: float | None) -> str:
    """CSS class for a signed amount: ``-positive``, ``-negative`` or ``-flat``."""
    if not _known(value) or value == 0:
        return "-flat"
    assert value is not None
    return "-positive" if value > 0 else "-negative"
