"""ccxt exchange id -> a factory of its loopback venue app (each venue module adds its own line).

A factory takes ``now_ms`` (None: the end of the venue's data) and returns the venue app; it calls
``pytest.skip`` with a reason when ../shared data it needs is absent. A venue app provides:

- ``exchange_id``: the ccxt id it speaks for (``okx``, ``bybit``, ...);
- ``now_ms``: the data's "now" (nothing later is served);
- ``funding_symbols``: unified perp symbols served with a real funding history;
- ``served_funding(symbol) -> list[tuple[int, float]]``: every print the server holds for the symbol
  (time in ms, rate), time <= now, as the exchange would report it;
- ``contract_size(symbol) -> float``: the contract size of the market fixture;
- daily candles (ccxt's ``1d``) of ``funding_symbols`` over the served funding, for the one-year
  backtest test (tests/test_venues.py), with the exchange's candle paging;
- ``async handle(request) -> aiohttp.web.StreamResponse | None``: the REST (None for unserved paths).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VenueFactory = Callable[[int | None], Any]

VENUE_LOOPBACKS: dict[str, VenueFactory] = {}
