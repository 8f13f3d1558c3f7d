"""Markets the engine trades: metadata, fees and leverage brackets, from the source or the cache.

A market without brackets gets the conservative default ladder (``domain.tiers.default_tiers``, never
understating maintenance margin); a market without fees gets the configured fallback fees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from perptui.domain.errors import UnknownSymbol
from perptui.domain.market_rules import MarketRules, rules_of
from perptui.domain.paper import PaperPosition
from perptui.domain.symbols import resolve_symbol
from perptui.domain.tiers import default_tiers
from perptui.domain.types import LeverageTier, Market

if TYPE_CHECKING:
    from perptui.services.store import Store


class MarketBook:
    """The markets of one exchange, loaded from the store on first need; ``use`` adds fresh ones."""

    def __init__(self, store: Store, exchange: str, markets: Iterable[Market] = ()) -> None:
        self._store = store
        self.exchange = exchange
        self._markets: dict[str, Market] = {}
        self._loaded = False
        self.use(markets)

    def use(self, markets: Iterable[Market]) -> None:
        for m in markets:
            if m.exchange in ("", self.exchange):
                self._markets[m.symbol] = m

    def _all(self) -> dict[str, Market]:
        if not self._loaded:
            self._loaded = True
            cached = {m.symbol: m for m in self._store.load_markets(self.exchange)}
            self._markets = cached | self._markets
        return self._markets

    def market(self, name: str) -> Market:
        """The market for a user's name (BTC, BTCUSDT, BTC/USDT:USDT ...); UnknownSymbol otherwise."""
        markets = self._all()
        if name in markets:
            return markets[name]
        if not markets:
            raise UnknownSymbol(
                name, [], f"{self.exchange} (no markets cached: run 'perptui markets' online)"
            )
        return markets[resolve_symbol(name, list(markets), self.exchange)]

    def get(self, symbol: str) -> Market | None:
        return self._all().get(symbol)

    def tiers(self, symbol: str) -> tuple[LeverageTier, ...]:
        m = self.get(symbol)
        if m is not None and m.tiers:
            return m.tiers
        return tuple(default_tiers(m.max_leverage if m is not None else None))

    def rules(self, symbol: str) -> MarketRules:
        """The market's rules (``domain.market_rules``) with the brackets the engine uses (the default
        ladder where the market has none)."""
        m = self.get(symbol)
        return replace(rules_of(m) if m is not None else MarketRules(symbol), tiers=self.tiers(symbol))


def fees_of(market: Market | None, taker: float, maker: float) -> tuple[float, float]:
    """(taker, maker) of the market, the fallbacks where it publishes none."""
    if market is None:
        return taker, maker
    return (
        market.taker_fee if market.taker_fee is not None else taker,
        market.maker_fee if market.maker_fee is not None else maker,
    )


def tiers_lookup(
    store: Store, positions: Sequence[PaperPosition], books: dict[str, MarketBook] | None = None
) -> Callable[[PaperPosition], Sequence[LeverageTier]]:
    """Brackets for each position: its exchange's cached ones (or the books given), else the default
    ladder. Reads the store once per exchange."""
    cached: dict[str, dict[str, list[LeverageTier]]] = {}
    for exchange in {p.exchange for p in positions}:
        if books and exchange in books:
            continue
        symbols = sorted({p.symbol for p in positions if p.exchange == exchange})
        cached[exchange] = store.load_tiers(exchange, symbols)

    def tiers_of(p: PaperPosition) -> Sequence[LeverageTier]:
        if books and p.exchange in books:
            return books[p.exchange].tiers(p.symbol)
        return cached.get(p.exchange, {}).get(p.symbol) or default_tiers()

    return tiers_of
