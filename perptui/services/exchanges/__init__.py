"""Real exchanges behind the MarketData protocol. ccxt itself is imported only when one is built."""

from perptui.services.exchanges.ccxt_adapter import CcxtExchange

__all__ = ["CcxtExchange"]
