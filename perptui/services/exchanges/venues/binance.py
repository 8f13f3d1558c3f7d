"""Binance USDⓈ-M: pages of up to 1000 prints; brackets only on a signed endpoint."""

from __future__ import annotations

from perptui.services.exchanges.venues.base import Venue


class BinanceVenue(Venue):
    # Without a limit ccxt asks for Binance's default page (100), so 90 days of 1h prints took 22
    # requests instead of 3; the scanner's first backfill of every perp is where that counts.
    funding_page_limit = 1000

    def needs_keys_for_tiers(self, has_keys: bool) -> bool:
        return not has_keys
