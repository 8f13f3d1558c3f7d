"""Maintenance-margin tiers: continuity of ``cum`` and the conservative default ladder.

Pure functions, no I/O.

The default ladder is used when neither the exchange nor the cache has a market's real brackets. It
must never understate maintenance margin, so it is built from an upper envelope of real brackets:
for every USDT- and USDC-margined market in Binance's leverage brackets of 2024-10-24 (344 markets,
including the small caps with the steepest brackets), the maintenance margin ``MM(N) = N x mmr - cum``
at notional ``N`` is at most the default's. Why this holds: each real ``MM(N)`` is convex in ``N`` (rates
rise with notional, ``cum`` keeps it continuous), so their maximum ``E(N)`` is convex, and a piecewise
linear curve through points on or above ``E`` lies above it between them. The ladder's rates are the
chord slopes of ``E`` through 0, 10k, 50k, 100k, 250k, 500k and 1M USDT (3%, 5%, 9.65%, 10.83%, 12.5%,
27.5%, then 50% as every real last tier), each rounded up. A test checks the envelope against the real
file in the developers' checkout.

Each default tier's max leverage is ``floor(0.5 / mmr)`` (maintenance margin at most half the initial
margin at the tier's limit, as on Binance), capped by the market's own max leverage when it is known.
Markets get this ladder with ``tiers_approximate=True`` and every view should say so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from perptui.domain.types import LeverageTier

#: (min_notional, mmr) of the default ladder; see the module docstring for where the numbers come from.
DEFAULT_LADDER: tuple[tuple[float, float], ...] = (
    (0.0, 0.03),
    (10_000.0, 0.05),
    (50_000.0, 0.10),
    (100_000.0, 0.11),
    (250_000.0, 0.125),
    (500_000.0, 0.30),
    (1_000_000.0, 0.50),
)


def continuous_maint_amounts(brackets: Iterable[tuple[float, float]]) -> list[float]:
    """``cum`` for each ``(min_notional, mmr)`` bracket (sorted by notional) so that maintenance margin
    ``N x mmr - cum`` is continuous across bracket edges, starting from 0 at the first bracket."""
    result: list[float] = []
    prev_mmr: float | None = None
    cum = 0.0
    for floor, mmr in brackets:
        if prev_mmr is not None:
            cum += floor * (mmr - prev_mmr)
        result.append(cum)
        prev_mmr = mmr
    return result


def default_tiers(max_leverage: float | None = None) -> list[LeverageTier]:
    """The conservative default ladder, optionally capped at the market's max leverage."""
    cums = continuous_maint_amounts(DEFAULT_LADDER)
    tiers: list[LeverageTier] = []
    for i, ((floor, mmr), cum) in enumerate(zip(DEFAULT_LADDER, cums, strict=True)):
        cap = DEFAULT_LADDER[i + 1][0] if i + 1 < len(DEFAULT_LADDER) else math.inf
        lev = float(max(1, math.floor(0.5 / mmr + 1e-9)))
        if max_leverage is not None and max_leverage > 0:
            lev = min(lev, float(max_leverage))
        tiers.append(LeverageTier(floor, cap, mmr, round(cum, 8), lev))
    return tiers


def maintenance_margin(tiers: list[LeverageTier] | tuple[LeverageTier, ...], notional: float) -> float:
    """``notional x mmr - cum`` of the tier the (absolute) notional falls in; the last tier beyond it."""
    if not tiers:
        raise ValueError("no tiers")
    n = abs(notional)
    for tier in tiers:
        if tier.min_notional <= n < tier.max_notional:
            return n * tier.mmr - tier.maint_amount
    last = tiers[-1] if n >= tiers[-1].min_notional else tiers[0]
    return n * last.mmr - last.maint_amount
