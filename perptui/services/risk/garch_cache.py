"""GARCH(1,1) forecasts cached per (exchange, symbol, last daily bar): a fit costs ~20 ms (plus ~1.5 s to
import arch the first time) and its inputs change once a day, while the monitor refreshes every 2 s.
Process-wide and thread-safe; old days are dropped when a symbol's newer bar arrives."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from perptui.domain.risk_volatility import GarchForecast, garch_forecast

if TYPE_CHECKING:
    import numpy as np

_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[tuple[int, int], GarchForecast]] = {}


def cached_garch(exchange: str, symbol: str, last_bar: int, returns: np.ndarray) -> GarchForecast:
    """The forecast for these returns, fitted at most once per (exchange, symbol, last bar, length)."""
    key, stamp = (exchange, symbol), (last_bar, int(returns.size))
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    fit = garch_forecast(returns)
    with _lock:
        _cache[key] = (stamp, fit)
    return fit


def clear() -> None:
    """Forget every fit (tests)."""
    with _lock:
        _cache.clear()
