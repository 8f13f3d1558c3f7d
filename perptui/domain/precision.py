"""The decimals of a market's price tick or amount step, and the one text of a price and a quantity at
them: what prices and quantities are rounded to and shown with. ``presentation.numbers`` re-exports the
texts; the domain's own messages use them from here, so the domain never imports the presentation.
Pure, standard library only (the panes import it before the first frame)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TypeGuard

UNKNOWN = "—"
#: Significant digits of a price or quantity whose market publishes no tick or step.
FALLBACK_DIGITS = 6
QTY_FALLBACK_DIGITS = 8
#: The most decimals a tick or step is taken to have.
MAX_DECIMALS = 12


def step_decimals(step: float) -> int:
    """Decimals of a step as written (0.001 -> 3, 0.5 -> 1, 5 -> 0, 1e-8 -> 8), at most ``MAX_DECIMALS``."""
    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    return max(0, min(MAX_DECIMALS, -int(exponent)))


def known(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def significant(value: float, digits: int, *, grouped: bool = True) -> str:
    """``digits`` significant digits with thousands separators, trailing zeros dropped, no exponent:
    85913.487 -> ``85,913.5``, 0.085722802 -> ``0.0857228``, 1.23e12 -> ``1,230,000,000,000``."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:{',' if grouped else ''}.{min(decimals, 20)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _on_grid(value: float | None, grid: float | None, fallback_digits: int) -> str:
    """``value`` with the decimals of ``grid`` (a tick or a step); ``fallback_digits`` significant digits
    when the grid is unknown."""
    if not known(value):
        return UNKNOWN
    assert value is not None
    if grid is None or not grid > 0 or not math.isfinite(grid):
        return significant(value, fallback_digits)
    return f"{value:,.{step_decimals(grid)}f}"


def price(value: float | None, tick: float | None) -> str:
    """A price with the decimals of the market's tick; ``FALLBACK_DIGITS`` significant digits without one."""
    return _on_grid(value, tick, FALLBACK_DIGITS)


def qty(value: float | None, step: float | None) -> str:
    """A quantity with the decimals of the market's step; ``QTY_FALLBACK_DIGITS`` significant digits
    without one."""
    return _on_grid(value, step, QTY_FALLBACK_DIGITS)


def num(value: float | None, digits: int = 6) -> str:
    """A plain figure (a step, a minimum notional, a ratio) to ``digits`` significant digits."""
    return significant(value, digits) if known(value) else UNKNOWN
