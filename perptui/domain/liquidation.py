"""Tier lookups and the liquidation price of a linear perp (Binance USDⓈ-M, one-way mode). Pure.

    LP = (WB + cum - s x Q x E) / (Q x MMR - s x Q)

``WB`` is the wallet balance backing the position: its isolated margin, or for cross margin the cross
wallet balance adjusted by the account's other positions (+ their unrealised PnL - their maintenance
margin). ``MMR`` and ``cum`` belong to the tier holding the position's notional AT THE LIQUIDATION PRICE:
the tier of the entry notional is tried first, and another tier is used when the price it gives falls
outside it. Because maintenance margin ``N x MMR - cum`` is continuous and rises more slowly than the
margin balance falls, exactly one tier is consistent for real (continuous) brackets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from perptui.domain.types import LeverageTier, Side


def side_sign(side: Side) -> int:
    return 1 if side == "long" else -1


def tier_for_notional(tiers: Sequence[LeverageTier], notional: float) -> LeverageTier | None:
    """The bracket a position of this (absolute) notional falls in, ``[min, max)``; the last one beyond
    the ladder; None without tiers."""
    if not tiers:
        return None
    n = abs(notional)
    for tier in tiers:
        if tier.min_notional <= n < tier.max_notional:
            return tier
    return tiers[-1] if n >= tiers[-1].min_notional else tiers[0]


def tier_allowing(tiers: Sequence[LeverageTier], notional: float) -> LeverageTier | None:
    """The bracket whose leverage limit applies to a position of this notional. A notional equal to a
    bracket's cap is still allowed by that bracket (the cap is the largest notional it permits)."""
    if not tiers:
        return None
    n = abs(notional)
    for tier in tiers:
        if n <= tier.max_notional:
            return tier
    return tiers[-1]


def max_leverage(tiers: Sequence[LeverageTier], market_max: float | None = None) -> float | None:
    """The highest leverage the market allows at any size: its own limit, else the first bracket's."""
    candidates = [t.max_leverage for t in tiers[:1] if t.max_leverage > 0]
    if market_max is not None and market_max > 0:
        candidates.append(market_max)
    return min(candidates) if candidates else None


def max_notional_at_leverage(tiers: Sequence[LeverageTier], leverage: float) -> float | None:
    """The largest notional allowed at this leverage: the cap of the last bracket whose max leverage is
    at least ``leverage`` (``inf`` for an open-ended bracket); None when no bracket allows it."""
    allowed = [t for t in tiers if t.max_leverage >= leverage]
    if not allowed:
        return None
    return max(t.max_notional for t in allowed)


@dataclass(frozen=True, slots=True)
class Liquidation:
    """The liquidation price and the bracket it was computed with.

    ``price`` is None when the position cannot be liquidated by any positive price (a long whose
    margin covers a fall to zero); 0 for a short whose wallet is so negative that every price
    liquidates it; ``tier`` is the bracket used."""

    price: float | None
    tier: LeverageTier


def _formula(wallet: float, qty: float, entry: float, s: int, tier: LeverageTier) -> float:
    return (wallet + tier.maint_amount - s * qty * entry) / (qty * tier.mmr - s * qty)


def liquidation_price(
    side: Side,
    qty: float,
    entry: float,
    wallet_balance: float,
    tiers: Sequence[LeverageTier],
) -> Liquidation | None:
    """Solve the exchange formula with the bracket consistent with the liquidation notional.

    Each bracket's line ``N x MMR - cum`` lies on or below the (convex, continuous) maintenance-margin
    curve, so the price it gives is never beyond the true one: a long's true liquidation price is the
    highest of the brackets' prices and a short's the lowest, and that is also the one whose notional
    falls in its own bracket. When brackets are inconsistent (bad data) that conservative choice is
    kept. None without tiers or without a position (``qty <= 0``)."""
    if qty <= 0 or not tiers or entry <= 0:
        return None
    s = side_sign(side)
    candidates: list[tuple[float, LeverageTier]] = []
    for tier in tiers:
        if qty * tier.mmr - s * qty == 0:  # mmr of 100% on a long: this bracket gives no price
            continue
        price = _formula(wallet_balance, qty, entry, s, tier)
        if math.isfinite(price):
            candidates.append((price, tier))
    if not candidates:
        return Liquidation(None, tiers[0])
    consistent = [(p, t) for p, t in candidates if p > 0 and t.min_notional <= qty * p < t.max_notional]
    pool = consistent or candidates
    price, tier = max(pool, key=lambda c: c[0]) if s > 0 else min(pool, key=lambda c: c[0])
    if s < 0:
        # A short's price is positive unless the wallet is below -Q x E: then every price is below
        # maintenance (liquidated at once), reported as 0, never as "not liquidated".
        return Liquidation(max(price, 0.0), tier)
    # A long whose margin covers a fall to zero is never liquidated.
    return Liquidation(price if price > 0 else None, tier)


def margin_balance_at(side: Side, qty: float, entry: float, wallet_balance: float, price: float) -> float:
    """The position's margin balance if the mark were ``price``: wallet + unrealised PnL."""
    return wallet_balance + side_sign(side) * qty * (price - entry)
