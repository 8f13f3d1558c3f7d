"""ccxt exchange id -> a factory of its loopback venue app (each module adds its own line).

A factory takes ``now_ms`` (the data's "now": nothing after it is served) and returns the venue app;
it calls ``pytest.skip`` with a reason when ../shared data it needs is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VenueFactory = Callable[[int], Any]

VENUE_LOOPBACKS: dict[str, VenueFactory] = {}
