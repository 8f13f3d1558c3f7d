"""Loopback servers speaking other exchanges' REST (one module per exchange family), built from the real
shapes in ../shared/data/ccxt_static and the real funding histories in ../shared/data/multi_exchange.

Each module exports a venue app class with ``async handle(request)`` (see ``tests.loopback.server``)
and registers a factory in ``VENUE_LOOPBACKS`` (``tests.loopback.venues.registry``), which the
cross-exchange tests are parametrised over.
"""

# Each venue module registers its factory in ``registry.VENUE_LOOPBACKS`` on import; list them here.
from tests.loopback.venues import bitget, bybit, gate, hyperliquid, kucoinfutures, okx  # noqa: F401
