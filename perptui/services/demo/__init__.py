"""The built-in demo market: offline, deterministic, every name says DEMO.

``DemoExchange(seed, clock)`` implements ``perptui.services.marketdata.MarketData``. Imports only numpy
and the domain layer (no pandas, scipy, ccxt or textual), so it stays cheap on the app's start-up path.
"""

from perptui.services.demo.exchange import DemoExchange
from perptui.services.demo.universe import ORIGIN_MS, UNIVERSE

__all__ = ["ORIGIN_MS", "UNIVERSE", "DemoExchange"]
