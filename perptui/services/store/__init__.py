"""The local SQLite cache (stdlib sqlite3, WAL): markets, tiers, funding, OHLCV, snapshots.

``Store`` is the only public entry point. Opening it resolves and touches nothing until called.
"""

from perptui.services.store.migrations import latest_version
from perptui.services.store.store import Store

__all__ = ["Store", "latest_version"]
