"""Services: market data sources (demo market, ccxt exchanges), the SQLite store, file importers."""
