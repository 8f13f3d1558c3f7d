"""How one exchange differs from ccxt's unified behaviour, in one place per exchange.

ccxt unifies names, not semantics: OKX pages funding history newest-first, Bitget ignores time filters,
OKX states tiers in contracts, Bybit and Hyperliquid tickers carry no time. ``CcxtExchange`` asks its
``Venue`` at each such point; the base class here is the generic behaviour (what ccxt's unified call
does), and ``venues/<exchange>.py`` overrides only what that exchange does differently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from perptui.domain.types import LeverageTier
from perptui.services.exchanges import ccxt_convert as conv

T = TypeVar("T")

#: Per-symbol tier requests (exchanges without a bulk endpoint): never for more than this many.
MAX_PER_SYMBOL_TIER_REQUESTS = 20


class VenueApi(Protocol):
    """What a venue may use of the adapter: the ccxt instance, the retrying call, the raw markets."""

    @property
    def ex(self) -> Any:
        """The ccxt exchange instance (markets loaded)."""
        ...

    async def call(
        self, what: str, fn: Callable[..., Awaitable[T]], *args: Any, symbol: str | None = None, **kwargs: Any
    ) -> T:
        """ccxt call with retries; failures leave as perptui domain errors."""
        ...

    def raw_market(self, symbol: str) -> dict[str, Any]:
        """ccxt's market dict of a linear perp."""
        ...

    def interval_hours(self, symbol: str) -> float | None:
        """The funding interval known for ``symbol`` (stated or inferred), if any."""
        ...


async def funding_page(
    api: VenueApi, symbol: str, since: int | None, limit: int | None, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """One ccxt funding-rate-history request (with the adapter's retries and error translation)."""
    return await api.call(
        f"reading funding history of {symbol}",
        api.ex.fetch_funding_rate_history,
        symbol,
        since,
        limit,
        params,
        symbol=symbol,
    )


async def candle_page(
    api: VenueApi,
    exchange: Any,
    symbol: str,
    timeframe: str,
    since: int | None,
    limit: int | None,
    params: dict[str, Any],
) -> list[list[Any]]:
    """One ccxt OHLCV request on ``exchange`` (the instance for the symbol: spot symbols may use a twin)."""
    return await api.call(
        f"reading {timeframe} candles of {symbol}",
        exchange.fetch_ohlcv,
        symbol,
        timeframe,
        since,
        limit,
        params,
        symbol=symbol,
    )


class Venue:
    """The generic behaviour: ccxt's unified calls taken at their word."""

    #: The largest funding-history page the exchange serves (its documented maximum); None: ccxt's default.
    funding_page_limit: int | None = None
    #: The largest OHLCV page; None: ccxt's default.
    ohlcv_page_limit: int | None = None

    # ------------------------------------------------------------------------------------ history

    async def funding_history(
        self, api: VenueApi, symbol: str, since: int, until: int | None, limit: int | None
    ) -> list[dict[str, Any]]:
        """ccxt funding-rate-history rows with ``since <= timestamp`` (``< until`` when given).

        The contract backfill relies on: the rows are *every* print from ``since`` up to the last row
        returned (one page, oldest first after sorting), never the newest page of a longer window.
        """
        params: dict[str, Any] = {}
        if until is not None:
            params["until"] = int(until) - 1  # ccxt's until is inclusive; ours is exclusive
        return await funding_page(api, symbol, int(since), limit or self.funding_page_limit, params)

    async def ohlcv(
        self,
        api: VenueApi,
        exchange: Any,
        symbol: str,
        timeframe: str,
        since: int,
        until: int | None,
        limit: int | None,
    ) -> list[list[Any]]:
        """ccxt OHLCV rows from ``since``, with the same completeness contract as ``funding_history``.
        ``exchange`` is the ccxt instance for the symbol (spot symbols may use a twin)."""
        params: dict[str, Any] = {}
        if until is not None:
            params["until"] = int(until) - 1
        return await candle_page(
            api, exchange, symbol, timeframe, int(since), limit or self.ohlcv_page_limit, params
        )

    # -------------------------------------------------------------------------------------- tiers

    def needs_keys_for_tiers(self, has_keys: bool) -> bool:
        """True when the tier endpoint is signed and there are no keys (do not even ask)."""
        return False

    async def leverage_tiers(
        self, api: VenueApi, symbols: list[str] | None
    ) -> dict[str, list[dict[str, Any]]]:
        """Raw ccxt tiers per symbol: the bulk endpoint where ccxt has one, else one request per symbol
        (for ``symbols`` only). Errors propagate; the adapter falls back to the cache."""
        has = api.ex.has
        if has.get("fetchLeverageTiers"):
            return await api.call("reading leverage tiers", api.ex.fetch_leverage_tiers, symbols) or {}
        raw: dict[str, list[dict[str, Any]]] = {}
        if has.get("fetchMarketLeverageTiers") and symbols:
            for symbol in symbols[:MAX_PER_SYMBOL_TIER_REQUESTS]:
                raw[symbol] = await api.call(
                    f"reading leverage tiers of {symbol}",
                    api.ex.fetch_market_leverage_tiers,
                    symbol,
                    symbol=symbol,
                )
        return raw

    def tiers_from_ccxt(self, raw: list[dict[str, Any]], market: dict[str, Any]) -> list[LeverageTier]:
        """ccxt tiers (notional in the quote currency) -> LeverageTier."""
        return conv.tiers_from_ccxt(raw)

    def published_tiers(self, market: dict[str, Any]) -> list[LeverageTier] | None:
        """Tiers from the exchange's published margin rule when it has no tier endpoint (None: unknown)."""
        return None

    # ------------------------------------------------------------------------------------ tickers

    def ticker_params(self) -> dict[str, Any]:
        """Extra params for fetch_tickers so perps get the swap tickers (never the spot ones)."""
        return {}

    def fix_ticker(self, raw: dict[str, Any], market: dict[str, Any], received_ms: int) -> dict[str, Any]:
        """Fill what ccxt leaves empty: the time (stamped on receipt) and the 24h quote volume (base
        volume x contract size x last) when the exchange gives neither."""
        fixed = dict(raw)
        if not fixed.get("timestamp"):
            fixed["timestamp"] = received_ms
        if conv.num(fixed.get("quoteVolume")) is None:
            base, last = conv.num(fixed.get("baseVolume")), conv.num(fixed.get("last"))
            if base is not None and last is not None:
                fixed["quoteVolume"] = base * self.base_volume_unit(market) * last
        return fixed

    def base_volume_unit(self, market: dict[str, Any]) -> float:
        """Base units in one unit of ccxt's ``baseVolume`` (1 where ccxt already reports base units)."""
        return 1.0

    # ------------------------------------------------------------------------------------ markets

    def min_notional(self, market: dict[str, Any]) -> float | None:
        """The smallest order value the exchange accepts, where ccxt does not put it in limits.cost."""
        return conv.num(((market.get("limits") or {}).get("cost") or {}).get("min"))
