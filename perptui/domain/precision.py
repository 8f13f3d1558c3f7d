"""The decimals of a market's price tick or amount step: what prices and quantities are rounded to and
shown with. Pure, standard library only (the panes import it before the first frame)."""

from __future__ import annotations

from decimal import Decimal

#: The most decimals a tick or step is taken to have.
MAX_DECIMALS = 12


def step_decimals(step: float) -> int:
    """Decimals of a step as written (0.001 -> 3, 0.5 -> 1, 5 -> 0, 1e-8 -> 8), at most ``MAX_DECIMALS``."""
    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    return max(0, min(MAX_DECIMALS, -int(exponent)))
