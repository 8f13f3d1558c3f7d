"""Per-exchange behaviour behind the ccxt adapter (see ``base.Venue``)."""

from __future__ import annotations

from perptui.services.exchanges.venues.base import Venue, VenueApi
from perptui.services.exchanges.venues.binance import BinanceVenue
from perptui.services.exchanges.venues.bitget import BitgetVenue
from perptui.services.exchanges.venues.bybit import BybitVenue
from perptui.services.exchanges.venues.gate import GateVenue
from perptui.services.exchanges.venues.hyperliquid import HyperliquidVenue
from perptui.services.exchanges.venues.kucoinfutures import KucoinFuturesVenue
from perptui.services.exchanges.venues.okx import OkxVenue

#: ccxt exchange id -> its Venue class. Exchanges not listed get the generic behaviour.
VENUES: dict[str, type[Venue]] = {
    "binance": BinanceVenue,
    "binanceusdm": BinanceVenue,
    "gate": GateVenue,
    "kucoinfutures": KucoinFuturesVenue,
    "okx": OkxVenue,
    "hyperliquid": HyperliquidVenue,
    "bybit": BybitVenue,
    "bitget": BitgetVenue,
}


def venue_for(exchange_id: str) -> Venue:
    """The Venue for a ccxt exchange id (the generic one for exchanges without quirks)."""
    return VENUES.get(exchange_id, Venue)()


__all__ = ["VENUES", "Venue", "VenueApi", "venue_for"]
