"""A real exchange through ``ccxt.async_support``, behind the MarketData protocol.

Only unified ``swap and linear`` markets are used. Where an exchange behaves differently from ccxt's
unified call (paging, units, missing fields), its ``Venue`` (``venues/``) says how; the adapter asks the
venue at each such point. Tested against Binance, Bybit, OKX, Bitget, Gate, KuCoin futures and
Hyperliquid through the loopback servers in ``tests/loopback``.

ccxt is imported only when a CcxtExchange is built, so the app's start-up never pays for it.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import SecretStr

from perptui.config.urls import mask_url, url_password
from perptui.domain.errors import (
    AuthenticationError,
    ExchangeError,
    PerptuiError,
    UnknownExchange,
    UsageError,
)
from perptui.domain.funding import interval_hours_from_times
from perptui.domain.symbols import resolve_symbol
from perptui.domain.tier_check import TierProblem, check_tiers
from perptui.domain.tiers import default_tiers
from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import (
    Balance,
    Candle,
    FundingPrint,
    FundingRate,
    LeverageTier,
    Market,
    Position,
    Ticker,
)
from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.ccxt_errors import is_retryable, network_reason, translate
from perptui.services.exchanges.retry import RetryNotice, backoff_delay, parse_retry_after, report_retry
from perptui.services.exchanges.urls import check_base_url, rebase_urls
from perptui.services.exchanges.venues import venue_for

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Open interest is one request per symbol on Binance: never for more than this many at once.
MAX_OPEN_INTEREST_SYMBOLS = 20


def _ccxt() -> Any:
    import ccxt.async_support as ccxt_async

    return ccxt_async


def _secret(value: SecretStr | str | None) -> str | None:
    if value is None:
        return None
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return text or None


#: Binance's error codes mean different things per API (``-2019`` is "margin insufficient" on fapi), and
#: ccxt picks the table by the URL's host (https://fapi.binance.com/...). Behind a relay or a mirror
#: (``api_base_url``) the host is another, so the path picks it instead.
_BINANCE_PATH_TABLES = (
    ("/fapi/", "linear"),
    ("/dapi/", "inverse"),
    ("/eapi/", "option"),
    ("/papi/", "portfolioMargin"),
    ("/sapi/", "spot"),
    ("/api/", "spot"),
)


def _errors_by_path(exchange: Any) -> None:
    """Let ccxt find Binance's per-API error table by the path when the host is rebased (see above), so a
    refused order raises its own class (InsufficientFunds, InvalidOrder ...) there too."""
    by_host = exchange.get_exceptions_by_url

    def by_url(url: str | None, exact_or_broad: str) -> dict[str, Any]:
        found = by_host(url, exact_or_broad)
        if found or not url:
            return dict(found)
        for marker, table in _BINANCE_PATH_TABLES:
            if marker in url:
                return dict((exchange.exceptions.get(table) or {}).get(exact_or_broad) or {})
        return {}

    exchange.get_exceptions_by_url = by_url


class CcxtExchange:
    """MarketData for any ccxt exchange with linear perpetuals (binanceusdm, bybit, okx, ...).

    ``api_base_url`` replaces scheme and host of every REST URL (a path in it prefixes theirs);
    ``testnet`` switches ccxt to sandbox mode first. ``cached_tiers`` returns tiers from the local
    cache, used when the exchange will not serve them (Binance's brackets need API keys).
    """

    is_demo = False

    def __init__(
        self,
        exchange_id: str,
        *,
        api_key: SecretStr | None = None,
        api_secret: SecretStr | None = None,
        api_password: SecretStr | None = None,
        api_base_url: str | None = None,
        testnet: bool = False,
        timeout_ms: int = 10_000,
        max_retries: int = 4,
        backoff_base_s: float = 0.5,
        cached_tiers: Callable[[], dict[str, list[LeverageTier]]] | None = None,
    ) -> None:
        ccxt = _ccxt()
        exchange_id = (exchange_id or "").strip()
        if exchange_id not in ccxt.exchanges:
            close = difflib.get_close_matches(exchange_id.lower(), ccxt.exchanges, n=3, cutoff=0.6)
            hint = ("; did you mean " + " or ".join(close) + "?") if close else ""
            raise UnknownExchange(
                f"unknown exchange {exchange_id!r}{hint} (any ccxt exchange id with linear perpetuals, "
                "e.g. binanceusdm, bybit, okx)"
            )
        self.name = exchange_id
        self.venue = venue_for(exchange_id)
        self.max_retries = max(0, int(max_retries))
        self.backoff_base_s = float(backoff_base_s)
        self._ccxt = ccxt
        self._cached_tiers = cached_tiers
        self._base_url = check_base_url(api_base_url) if api_base_url else None
        key, secret, password = _secret(api_key), _secret(api_secret), _secret(api_password)
        url_secret = url_password(self._base_url) if self._base_url else None
        self._secrets = tuple(s for s in (key, secret, password, url_secret) if s)
        self._has_keys = bool(key and secret)
        self._credentials = {"apiKey": key, "secret": secret, "password": password}
        self._timeout_ms = int(timeout_ms)
        self._testnet = testnet
        self._ex = self._make_exchange()
        self._spot_ex: Any = None
        self._markets: dict[str, Market] | None = None
        self._perps: dict[str, dict[str, Any]] = {}
        self._spot_symbols: set[str] = set()
        self._intervals: dict[str, float] = {}
        self._tiers: dict[str, list[LeverageTier]] | None = None
        self._tiers_answered: set[str] = set()
        self._markets_lock = asyncio.Lock()

    def __repr__(self) -> str:
        where = f", api_base_url={mask_url(self._base_url)!r}" if self._base_url else ""
        keys = "with API keys" if self._has_keys else "without API keys"
        return f"CcxtExchange({self.name!r}, {keys}{where})"

    __str__ = __repr__

    @property
    def has_keys(self) -> bool:
        return self._has_keys

    @property
    def ccxt_urls(self) -> Any:
        """ccxt's REST URL tree in use (for diagnostics and tests)."""
        return self._ex.urls.get("api")

    def _make_exchange(self, options: dict[str, Any] | None = None) -> Any:
        ccxt = self._ccxt
        config: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": self._timeout_ms,
            # Currencies and margin pairs are not needed, and they are signed endpoints on several
            # exchanges (Binance's sapi).
            "options": {"fetchCurrencies": False, "fetchMargins": False, **(options or {})},
        }
        config.update({k: v for k, v in self._credentials.items() if v})
        exchange = getattr(ccxt, self.name)(config)
        self._include_spot_markets(exchange)
        self._reject_unreadable_bodies(exchange)
        if self._testnet:
            try:
                exchange.set_sandbox_mode(True)
            except ccxt.NotSupported:
                raise ExchangeError(f"{self.name} has no testnet in ccxt") from None
        if self._base_url:
            exchange.urls["api"] = rebase_urls(exchange.urls["api"], self._base_url)
            if hasattr(exchange, "get_exceptions_by_url"):
                _errors_by_path(exchange)
        return exchange

    def _reject_unreadable_bodies(self, exchange: Any) -> None:
        """ccxt hands a 2xx body that is not valid JSON to the parsers as a plain string, which then fail
        in odd ways (or quietly yield nothing: an empty market list). Raise ccxt's BadResponse instead,
        through ``handle_errors``, the hook ccxt provides for per-exchange response checks."""
        ccxt = self._ccxt
        original = exchange.handle_errors

        def handle_errors(
            code: Any, reason: Any, url: Any, method: Any, headers: Any, body: Any, *rest: Any
        ) -> Any:
            response = rest[0] if rest else None
            if response is None and isinstance(code, int) and 200 <= code < 300 and body and body.strip():
                raise ccxt.BadResponse(f"{exchange.id} answered with a body that is not valid JSON")
            return original(code, reason, url, method, headers, body, *rest)

        exchange.handle_errors = handle_errors

    @staticmethod
    def _include_spot_markets(exchange: Any) -> None:
        """Exchanges split by market type (binanceusdm) load only their perps; the matching spot markets
        are needed for spot symbols and spot OHLCV, so ask for them too."""
        fetch_markets = exchange.options.get("fetchMarkets")
        if isinstance(fetch_markets, dict):
            types = list(fetch_markets.get("types") or [])
            if types and "spot" not in types:
                fetch_markets["types"] = [*types, "spot"]

    async def _exchange_for(self, symbol: str) -> Any:
        """The ccxt instance that reads ``symbol``. Binance's ``market()`` maps spot symbols to their perps
        when the default type is swap (binanceusdm), so spot symbols go through a twin instance whose
        default type is spot, sharing the loaded markets (no extra request)."""
        if symbol not in self._spot_symbols or self._ex.market(symbol).get("spot"):
            return self._ex
        if self._spot_ex is None:
            twin = self._make_exchange({"defaultType": "spot"})
            twin.set_markets(self._ex.markets, self._ex.currencies)
            self._spot_ex = twin
        return self._spot_ex

    # ------------------------------------------------------------------- what a Venue may use (VenueApi)

    @property
    def ex(self) -> Any:
        return self._ex

    async def call(
        self, what: str, fn: Callable[..., Awaitable[T]], *args: Any, symbol: str | None = None, **kwargs: Any
    ) -> T:
        return await self._call(what, fn, *args, symbol=symbol, **kwargs)

    def raw_market(self, symbol: str) -> dict[str, Any]:
        return self._perps.get(symbol) or self._ex.market(symbol)

    def interval_hours(self, symbol: str) -> float | None:
        return self._intervals.get(symbol)

    # ----------------------------------------------------------------------------------------- calls

    async def _call(
        self,
        what: str,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        symbol: str | None = None,
        **kwargs: Any,
    ) -> T:
        """Call ccxt with retries on transient errors; every failure leaves as a domain error."""
        attempt = 0
        while True:
            try:
                return await fn(*args, **kwargs)
            except PerptuiError:
                raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_retryable(exc, self._ccxt) and attempt < self.max_retries:
                    retry_after = None
                    if isinstance(exc, self._ccxt.DDoSProtection | self._ccxt.RateLimitExceeded):
                        retry_after = parse_retry_after(getattr(self._ex, "last_response_headers", None))
                    delay = backoff_delay(attempt, self.backoff_base_s, retry_after_s=retry_after)
                    log.info(
                        "%s: %s failed (%s), retry %d/%d in %.2fs",
                        self.name,
                        what,
                        type(exc).__name__,
                        attempt + 1,
                        self.max_retries,
                        delay,
                    )
                    attempt += 1
                    reason = network_reason(exc, self._ccxt)
                    report_retry(RetryNotice(self.name, what, attempt, self.max_retries, reason, delay))
                    await asyncio.sleep(delay)
                    continue
                known = sorted({*self._perps, *self._spot_symbols}) if self._perps else None
                raise translate(
                    exc,
                    self._ccxt,
                    self.name,
                    what,
                    symbol=symbol,
                    known_symbols=known,
                    attempts=attempt + 1,
                    secrets=self._secrets,
                ) from None

    # --------------------------------------------------------------------------------------- markets

    async def _ensure_markets(self) -> None:
        if self._markets is not None:
            return
        async with self._markets_lock:
            if self._markets is None:
                await self._load()

    async def _load(self) -> None:
        raw = await self._call("loading markets", self._ex.load_markets)
        perps = {s: m for s, m in raw.items() if conv.is_linear_perp(m)}
        if not perps:
            raise ExchangeError(f"{self.name} lists no linear perpetual markets")
        self._perps = perps
        self._spot_symbols = {s for s, m in raw.items() if m.get("spot")}
        self._intervals.update(await self._stated_intervals())
        self._tiers = await self._exchange_tiers(None)
        cached = self._cached_tier_map() if len(self._tiers or {}) < len(perps) else {}  # read once
        self._markets = {s: self._build_market(s, cached) for s in sorted(perps)}

    def _build_market(self, symbol: str, cached_tiers: dict[str, list[LeverageTier]] | None = None) -> Market:
        """``cached_tiers``: the cache's tiers, when already read (else read for this market)."""
        market = self._perps[symbol]
        tiers = (self._tiers or {}).get(symbol)
        approximate = False
        if not tiers:
            cached = (self._cached_tier_map() if cached_tiers is None else cached_tiers).get(symbol)
            published = self.venue.published_tiers(market)
            if cached:
                tiers = list(cached)
            elif published:
                tiers = published
            else:
                leverage_max = conv.num(((market.get("limits") or {}).get("leverage") or {}).get("max"))
                tiers, approximate = default_tiers(leverage_max), True
        spot = symbol.partition(":")[0]
        return conv.market_from_ccxt(
            market,
            exchange=self.name,
            precision_mode=int(self._ex.precisionMode),
            tiers=tiers,
            tiers_approximate=approximate,
            funding_interval_hours=self._intervals.get(symbol),
            spot_symbol=spot if spot in self._spot_symbols else None,
            min_notional=self.venue.min_notional(market),
        )

    async def load_markets(self) -> list[Market]:
        await self._ensure_markets()
        assert self._markets is not None
        # Intervals learnt since the first load (from funding history spacing) are folded in.
        for symbol, hours in self._intervals.items():
            market = self._markets.get(symbol)
            if market is not None and market.funding_interval_hours != hours:
                self._markets[symbol] = self._build_market(symbol)
        return list(self._markets.values())

    def _resolve(self, name: str, *, spot_ok: bool = False) -> str:
        known = list(self._perps) + (sorted(self._spot_symbols) if spot_ok else [])
        if name in self._perps or (spot_ok and name in self._spot_symbols):
            return name
        if spot_ok and "/" in name and ":" not in name and name.upper() in self._spot_symbols:
            return name.upper()
        return resolve_symbol(name, known, self.name)

    async def _resolve_many(self, symbols: list[str] | None) -> list[str] | None:
        await self._ensure_markets()
        if symbols is None:
            return None
        return [self._resolve(s) for s in symbols]

    # --------------------------------------------------------------------------------------- funding

    async def _stated_intervals(self) -> dict[str, float]:
        """Intervals the exchange states (fetch_funding_intervals, e.g. Binance's fundingInfo, which
        lists only markets whose interval or caps were adjusted). Unknown ones stay unknown."""
        result: dict[str, float] = {}
        if not self._ex.has.get("fetchFundingIntervals"):
            return result
        try:
            raw = await self._call("reading funding intervals", self._ex.fetch_funding_intervals)
        except PerptuiError as exc:
            log.warning("%s: funding intervals unavailable: %s", self.name, exc)
            return result
        for symbol, entry in (raw or {}).items():
            hours = conv.interval_hours_from_text((entry or {}).get("interval"))
            if hours and symbol in self._perps:
                result[symbol] = hours
        return result

    async def infer_funding_intervals(self, symbols: list[str]) -> dict[str, float | None]:
        """Infer each market's current funding interval from the spacing of its latest prints (one
        history request per symbol); remembered for later loads."""
        resolved = await self._resolve_many(symbols) or []
        result: dict[str, float | None] = {}
        for symbol in resolved:
            rows = await self._call(
                f"reading recent funding of {symbol}",
                self._ex.fetch_funding_rate_history,
                symbol,
                None,
                10,
                symbol=symbol,
            )
            hours = interval_hours_from_times([int(r["timestamp"]) for r in rows if r.get("timestamp")])
            if hours:
                self._intervals[symbol] = hours
            result[symbol] = hours
        return result

    async def fetch_funding_rates(self, symbols: list[str] | None = None) -> dict[str, FundingRate]:
        resolved = await self._resolve_many(symbols)
        if resolved is not None:
            unknown = [s for s in resolved if s not in self._intervals]
            if unknown:
                await self.infer_funding_intervals(unknown)
        if self._ex.has.get("fetchFundingRates"):
            raw = await self._call("reading funding rates", self._ex.fetch_funding_rates, resolved)
        else:
            targets = resolved if resolved is not None else list(self._perps)
            raw = {}
            for symbol in targets:
                raw[symbol] = await self._call(
                    f"reading the funding rate of {symbol}",
                    self._ex.fetch_funding_rate,
                    symbol,
                    symbol=symbol,
                )
        result = {}
        for symbol, entry in (raw or {}).items():
            if symbol not in self._perps or (resolved is not None and symbol not in resolved):
                continue
            rate = conv.funding_rate_from_ccxt(entry, self._intervals.get(symbol))
            if rate.interval_hours and symbol not in self._intervals:
                self._intervals[symbol] = rate.interval_hours
            result[symbol] = rate
        return result

    async def fetch_funding_history(
        self, symbol: str, since: int, until: int | None = None, limit: int | None = None
    ) -> list[FundingPrint]:
        await self._ensure_markets()
        symbol = self._resolve(symbol)
        rows = await self.venue.funding_history(self, symbol, int(since), until, limit)
        return conv.funding_prints_from_ccxt(rows or [], symbol, int(since), until)

    # ---------------------------------------------------------------------------------------- prices

    async def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str,
        since: int,
        until: int | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        await self._ensure_markets()
        timeframe_ms(timeframe)  # a readable UsageError for nonsense
        symbol = self._resolve(symbol, spot_ok=True)
        if self._ex.timeframes and timeframe not in self._ex.timeframes:
            raise UsageError(
                f"{self.name} has no {timeframe} candles; it offers " + ", ".join(list(self._ex.timeframes))
            )
        exchange = await self._exchange_for(symbol)
        rows = await self.venue.ohlcv(self, exchange, symbol, timeframe, int(since), until, limit)
        return conv.candles_from_ccxt(rows or [], int(since), until)

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        resolved = await self._resolve_many(symbols)
        params = self.venue.ticker_params()
        raw = await self._call("reading tickers", self._ex.fetch_tickers, resolved, params)
        received_ms = int(time.time() * 1000)
        raw = {
            s: self.venue.fix_ticker(t, self._perps[s], received_ms)
            for s, t in (raw or {}).items()
            if s in self._perps
        }
        if resolved is not None:
            raw = {s: t for s, t in raw.items() if s in resolved}
        marks: dict[str, Any] = {}
        missing_marks = any(t.get("markPrice") is None for t in raw.values())
        if missing_marks and self._ex.has.get("fetchMarkPrices"):
            try:
                marks = await self._call("reading mark prices", self._ex.fetch_mark_prices, resolved)
            except ExchangeError as exc:
                log.warning("%s: mark prices unavailable: %s", self.name, exc)
        result: dict[str, Ticker] = {}
        for symbol, entry in raw.items():
            mark_entry = marks.get(symbol) or {}
            merged = dict(entry)
            if merged.get("markPrice") is None:
                merged["markPrice"] = mark_entry.get("markPrice")
            if merged.get("indexPrice") is None:
                merged["indexPrice"] = mark_entry.get("indexPrice")
            result[symbol] = conv.ticker_from_ccxt(merged)
        if resolved is not None and self._ex.has.get("fetchOpenInterest"):
            for symbol in resolved[:MAX_OPEN_INTEREST_SYMBOLS]:
                if symbol not in result:
                    continue
                oi = await self._call(
                    f"reading open interest of {symbol}", self._ex.fetch_open_interest, symbol, symbol=symbol
                )
                size = conv.num(self._perps[symbol].get("contractSize")) or 1.0
                ticker = result[symbol]
                base, value = conv.open_interest_from_ccxt(oi or {}, size, ticker.mark or ticker.last)
                result[symbol] = Ticker(
                    symbol=ticker.symbol,
                    timestamp=ticker.timestamp,
                    last=ticker.last,
                    mark=ticker.mark,
                    index=ticker.index,
                    quote_volume_24h=ticker.quote_volume_24h,
                    open_interest=base,
                    open_interest_usd=value,
                )
        return result

    # ----------------------------------------------------------------------------------------- tiers

    def _cached_tier_map(self) -> dict[str, list[LeverageTier]]:
        if self._cached_tiers is None:
            return {}
        try:
            return self._cached_tiers() or {}
        except PerptuiError as exc:
            log.warning("%s: cached tiers unavailable: %s", self.name, exc)
            return {}

    async def _exchange_tiers(self, symbols: list[str] | None) -> dict[str, list[LeverageTier]]:
        """Tiers the exchange serves. Failures (no keys for Binance's signed brackets, not supported,
        unreachable) give an empty result, and callers fall back to the cache or the default."""
        if self.venue.needs_keys_for_tiers(self._has_keys):
            return {}
        try:
            raw = await self.venue.leverage_tiers(self, symbols)
        except PerptuiError as exc:
            log.warning("%s: leverage tiers unavailable from the exchange: %s", self.name, exc)
            return {}
        # Asked by name and answered: symbols it has no tiers for are not asked again (a pane polls every
        # few seconds). A bulk answer proves nothing for exchanges that serve tiers only per symbol.
        self._tiers_answered.update(symbols or ())
        result = {}
        for symbol, tiers in (raw or {}).items():
            if symbol in self._perps and tiers:
                checked = self._checked_tiers(symbol, self.venue.tiers_from_ccxt(tiers, self._perps[symbol]))
                if checked:
                    result[symbol] = checked
        return result

    def _checked_tiers(self, symbol: str, tiers: list[LeverageTier]) -> list[LeverageTier]:
        """Every venue's converted tiers through the one tier check: ``cum`` recomputed where it
        contradicts the brackets; none (the cache's or the default ladder, approximate) when unusable."""
        if not tiers:
            return []
        try:
            result = check_tiers(tiers)
        except TierProblem as exc:
            log.warning("%s %s: the exchange's leverage tiers are unusable: %s", self.name, symbol, exc)
            return []
        if result.warning:
            log.warning("%s %s: the exchange's leverage tiers: %s", self.name, symbol, result.warning)
        return list(result.tiers)

    async def fetch_leverage_tiers(self, symbols: list[str] | None = None) -> dict[str, list[LeverageTier]]:
        """The exchange's brackets, else the cache's; symbols with neither are left out."""
        resolved = await self._resolve_many(symbols)
        wanted = resolved if resolved is not None else list(self._perps)
        asked = self._tiers_answered
        if self._tiers is None or (
            resolved is not None and not all(s in self._tiers or s in asked for s in resolved)
        ):
            fresh = await self._exchange_tiers(resolved)
            self._tiers = {**(self._tiers or {}), **fresh}
        result = {s: list(self._tiers[s]) for s in wanted if self._tiers.get(s)}
        missing = [s for s in wanted if s not in result]
        if missing:
            cached = self._cached_tier_map()
            for symbol in missing:
                if cached.get(symbol):
                    result[symbol] = list(cached[symbol])
        return result

    # ------------------------------------------------------------------------------------- account

    def _require_keys(self, what: str) -> None:
        if not self._has_keys:
            raise AuthenticationError(
                f"{what} on {self.name} needs an API key and secret; add them to the exchange settings"
            )

    def _settle_currency(self) -> str:
        settles: list[str] = [m["settle"] for m in self._perps.values() if m.get("settle")]
        if "USDT" in settles:
            return "USDT"
        return max(set(settles), key=settles.count) if settles else "USDT"

    async def fetch_balance(self) -> Balance:
        self._require_keys("reading the balance")
        await self._ensure_markets()
        raw = await self._call("reading the balance", self._ex.fetch_balance)
        return conv.balance_from_ccxt(raw or {}, self._settle_currency())

    async def fetch_positions(self) -> list[Position]:
        self._require_keys("reading positions")
        await self._ensure_markets()
        raw = await self._call("reading positions", self._ex.fetch_positions)
        result = []
        for entry in raw or []:
            symbol = entry.get("symbol")
            if symbol not in self._perps:
                continue
            size = conv.num(self._perps[symbol].get("contractSize")) or 1.0
            position = conv.position_from_ccxt(entry, size)
            if position is not None:
                result.append(position)
        return result

    # ------------------------------------------------------------------------------------------ misc

    async def server_time_offset_ms(self) -> int | None:
        """Exchange clock minus local clock, when the exchange tells its time (diagnostics)."""
        if not self._ex.has.get("fetchTime"):
            return None
        server = await self._call("reading the server time", self._ex.fetch_time)
        return int(server) - int(time.time() * 1000) if server else None

    async def close(self) -> None:
        for exchange in (self._ex, self._spot_ex):
            if exchange is None:
                continue
            try:
                await exchange.close()
            except Exception as exc:  # closing must never raise
                log.debug("%s: close failed: %s", self.name, exc)

    async def __aenter__(self) -> CcxtExchange:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
