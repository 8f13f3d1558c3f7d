"""Target notionals to quantities the exchange accepts. Pure.

Quantity = notional / mark rounded DOWN to the market's amount step and its maximum quantity (base
units, as ``Market`` holds it: already contracts x contract size) by the market rules
(``domain.market_rules.fit_qty``, the same the paper engine refuses orders with); under the market's
minimum quantity or minimum notional the leg is dropped and the rule's one line returned. The notional
is recomputed from the rounded quantity.
"""

from __future__ import annotations

import math

from perptui.domain.market_rules import fit_qty, floor_to_step
from perptui.domain.types import Market

#: Slack for a quotient that is a whole number of steps but lands a hair under it in floating point.
_EPS = 1e-9


def qty_step(market: Market) -> float | None:
    """The smallest quantity increment in base units, None when the market does not say."""
    if not market.amount_step or market.amount_step <= 0:
        return None
    return market.amount_step


def round_down(qty: float, step: float | None) -> float:
    """``qty`` rounded down to a multiple of ``step`` (unchanged without a step), as a clean decimal."""
    if step is None or qty <= 0:
        return max(qty, 0.0)
    return floor_to_step(qty, step)


def round_to_step(steps: float, step: float) -> float:
    """``steps`` x ``step`` without the floating-point tail (0.1 x 3 = 0.3, not 0.30000000000000004)."""
    decimals = max(0, -math.floor(math.log10(step)) + 6)
    return round(steps * step, decimals)


def nearest(qty: float, step: float | None) -> float:
    """``qty`` to the nearest multiple of ``step``: a difference of two rounded quantities, cleaned."""
    if step is None:
        return qty
    return round_to_step(round(qty / step), step)


def sized(market: Market, notional: float, mark: float) -> tuple[float, str | None]:
    """(quantity, None) or (0, why it is dropped) for a target ``notional`` at ``mark``."""
    if not (mark > 0) or not math.isfinite(notional) or notional <= 0:
        return 0.0, "no position at this size"
    qty, refused = fit_qty(market, notional / mark, mark)
    return (0.0, refused.message) if refused is not None else (qty, None)
