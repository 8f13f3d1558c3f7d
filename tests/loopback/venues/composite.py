"""Several venue apps behind one loopback server, for the cross-exchange view.

The exchanges' REST paths do not overlap (Bybit ``/v5``, OKX ``/api/v5``, Gate ``/api/v4``, ...), so
one server can answer for all of them and every exchange's ``--api-base-url`` points at it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web


class CompositeVenue:
    """Asks each app in turn; the first that serves the path answers."""

    def __init__(self, apps: Iterable[Any]) -> None:
        self.apps = list(apps)
        self.exchange_ids = [app.exchange_id for app in self.apps]

    def app(self, exchange_id: str) -> Any:
        return self.apps[self.exchange_ids.index(exchange_id)]

    async def handle(self, request: web.Request) -> web.StreamResponse | None:
        for app in self.apps:
            response = await app.handle(request)
            if response is not None:
                return response
        return None
