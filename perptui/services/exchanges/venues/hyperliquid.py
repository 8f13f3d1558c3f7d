"""Hyperliquid: no tier endpoint (margin from its published rule), tickers without a time, swap contexts.

- Margin: "the maintenance margin is half of the initial margin at max leverage"
  (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations), the max leverage being the
  asset's ``maxLeverage`` in ``meta`` (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margining):
  40x gives 1.25%. One bracket, the rate on the whole position.
- Tickers are the perps' asset contexts (``metaAndAssetCtxs``) and carry no time: stamped on receipt
  (the generic ``fix_ticker``); their mark (``markPx``) and oracle price, which ccxt's ticker drops, are
  put back. Without ``type`` ccxt would also read the spot and HIP-3 contexts.
- Funding history (``fundingHistory``: ``startTime``, optional ``endTime``) is ascending from
  ``startTime``, at most 500 rows a response: ccxt's unified call already pages it from ``since``.
- Candles (``candleSnapshot``: ``startTime``, ``endTime``) are every candle of the window, oldest first,
  of the most recent 5000 Hyperliquid keeps: ccxt's unified call (``startTime`` = since) already returns
  every bar from ``since``, so the generic ``ohlcv`` holds; bars older than the 5000 do not exist there.
"""

from __future__ import annotations

import math
from typing import Any

from perptui.domain.types import LeverageTier
from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.venues.base import Venue


def max_leverage_of(market: dict[str, Any]) -> float | None:
    """The asset's ``maxLeverage`` (ccxt's leverage limit, else the raw ``meta`` record's)."""
    stated = conv.num(((market.get("limits") or {}).get("leverage") or {}).get("max"))
    if stated is None:
        stated = conv.num((market.get("info") or {}).get("maxLeverage"))
    return stated if stated and stated > 0 else None


class HyperliquidVenue(Venue):
    #: Hyperliquid answers time-range queries with at most 500 rows.
    funding_page_limit = 500
    #: Hyperliquid keeps the most recent 5000 candles of an interval (ccxt's fetchOHLCV limit).
    ohlcv_page_limit = 5000

    def published_tiers(self, market: dict[str, Any]) -> list[LeverageTier] | None:
        leverage = max_leverage_of(market)
        if leverage is None:
            return None
        return [LeverageTier(0.0, math.inf, 1.0 / (2.0 * leverage), 0.0, leverage)]

    def ticker_params(self) -> dict[str, Any]:
        return {"type": "swap"}

    def fix_ticker(self, raw: dict[str, Any], market: dict[str, Any], received_ms: int) -> dict[str, Any]:
        """Also the mark and the oracle (index) price of the context, which ccxt's ticker leaves out."""
        fixed = super().fix_ticker(raw, market, received_ms)
        raw_info = fixed.get("info")
        info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        if fixed.get("markPrice") is None:
            fixed["markPrice"] = conv.num(info.get("markPx"))
        if fixed.get("indexPrice") is None:
            fixed["indexPrice"] = conv.num(info.get("oraclePx"))
        return fixed
