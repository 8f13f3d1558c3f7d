"""A typed price far from the mark gets a second look. Pure.

A price typed with the wrong decimal separator or a digit too many is usually orders of magnitude away
from the market (``0,013`` read as 13 on a perp at 0.013006). More than ``limit`` away from the mark (30%
by default) is flagged with a one-line warning; the caller shows it and asks again before acting on it.
"""

from __future__ import annotations

import math

from perptui.presentation.numbers import price as price_text

#: How far from the mark a typed price may be before it is flagged (a fraction of the mark).
FAR_FROM_MARK = 0.30


def far_from_mark(
    price: float,
    mark: float | None,
    limit: float = FAR_FROM_MARK,
    *,
    what: str = "price",
    tick: float | None = None,
) -> str | None:
    """ "entry 13.000000 is 99,854% above the mark 0.013006", or None when ``price`` is within ``limit``
    of the mark (or either is unknown, not finite or not positive)."""
    if mark is None or not (math.isfinite(price) and math.isfinite(mark)) or price <= 0 or mark <= 0:
        return None
    gap = (price - mark) / mark
    if abs(gap) <= limit:
        return None
    where = "above" if gap > 0 else "below"
    shown, mark_shown = price_text(price, tick), price_text(mark, tick)
    return f"{what} {shown} is {abs(gap) * 100:,.0f}% {where} the mark {mark_shown}"
