"""Candle volumes counted in contracts (Gate's ``v``, KuCoin futures' lots) restated in base units, the unit
``Candle.volume`` holds (a volume x close is then a quote volume, as for Binance and Bybit bars)."""

from __future__ import annotations

from typing import Any

from perptui.services.exchanges import ccxt_convert as conv


def volumes_in_base(rows: list[list[Any]], market: dict[str, Any]) -> list[list[Any]]:
    """ccxt OHLCV rows of ``market`` with the volume (index 5) x its contract size; spot rows as given."""
    size = conv.num(market.get("contractSize")) if market.get("contract") else None
    if not size or size == 1:
        return rows
    out = []
    for row in rows:
        volume = conv.num(row[5]) if len(row) > 5 else None
        out.append([*row[:5], volume * size, *row[6:]] if volume is not None else row)
    return out
