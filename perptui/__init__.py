"""perptui: a keyboard-driven terminal app for small-account traders of crypto perpetual futures.

Layers (imports only point downwards):
- ``perptui.domain``: pure maths and types; no Textual, no I/O.
- ``perptui.services``: market data (demo market, ccxt), the SQLite store, importers.
- ``perptui.cli``: the command-line interface over the services.
"""

__version__ = "0.1.0"
