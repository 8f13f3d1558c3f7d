"""The market data interface every source implements (the demo market and ccxt exchanges).

All methods are async and return domain types. Implementations raise only ``perptui.domain.errors``
exceptions (ExchangeError and subclasses, UnknownSymbol), never a library's own.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

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


@runtime_checkable
class MarketData(Protocol):
    #: Exchange id: ``"demo"`` or a ccxt id such as ``"binanceusdm"``.
    name: str
    #: True for the built-in demo market (every view of it says DEMO).
    is_demo: bool

    async def load_markets(self) -> list[Market]:
        """Every linear perpetual market, with tiers where the exchange serves them with the markets."""
        ...

    async def fetch_leverage_tiers(self, symbols: list[str] | None = None) -> dict[str, list[LeverageTier]]:
        """Maintenance-margin brackets per symbol; symbols the exchange gives none for are left out."""
        ...

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]: ...

    async def fetch_funding_rates(self, symbols: list[str] | None = None) -> dict[str, FundingRate]: ...

    async def fetch_funding_history(
        self, symbol: str, since: int, until: int | None = None, limit: int | None = None
    ) -> list[FundingPrint]:
        """Settled prints with ``since <= time`` (and ``time < until`` when given), oldest first.

        May return fewer than asked (one page); callers page by calling again after the last time.
        """
        ...

    async def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str,
        since: int,
        until: int | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        """Closed and the current bar, oldest first; one page, like fetch_funding_history.

        ``symbol`` may be a perp (``BTC/USDT:USDT``) or its spot market (``BTC/USDT``).
        """
        ...

    async def fetch_balance(self) -> Balance:
        """The account's balance in the settle currency; needs API keys (AuthenticationError without)."""
        ...

    async def fetch_positions(self) -> list[Position]:
        """Open positions; needs API keys."""
        ...

    async def close(self) -> None: ...
