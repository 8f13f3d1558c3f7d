"""Leverage tiers asked symbol by symbol for the markets a command was asked about.

OKX, Bitget and Hyperliquid (and Gate or KuCoin when their bulk endpoint fails) serve tiers only per
symbol, so markets loaded in bulk carry the approximate default ladder there. Asking for every perp
would cost hundreds of requests; for the few a command names it is a handful (the adapter asks only
where the bulk tiers did not already come).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from perptui.domain.errors import ExchangeError
from perptui.domain.types import LeverageTier, Market

if TYPE_CHECKING:
    from perptui.services.marketdata import MarketData


def with_tiers(market: Market, tiers: Sequence[LeverageTier]) -> Market:
    """``market`` with the exchange's brackets; its maximum leverage is theirs (as ``market_from_ccxt``
    derives it from real tiers)."""
    return replace(
        market,
        tiers=tuple(tiers),
        tiers_approximate=False,
        max_leverage=max(t.max_leverage for t in tiers),
    )


async def fetch_symbol_tiers(
    source: MarketData, markets: Sequence[Market], symbols: Sequence[str]
) -> tuple[list[Market], str | None]:
    """``markets`` with the tiers the exchange serves for ``symbols`` folded in, and a note when they
    could not be read (the markets then keep the tiers they were loaded with)."""
    if not symbols:
        return list(markets), None
    try:
        found = await source.fetch_leverage_tiers(list(symbols))
    except ExchangeError as exc:  # unreachable included: the markets themselves were read
        return list(markets), f"leverage tiers of {', '.join(symbols)} not read ({exc})"
    return [with_tiers(m, found[m.symbol]) if found.get(m.symbol) else m for m in markets], None
