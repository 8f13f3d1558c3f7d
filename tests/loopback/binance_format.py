"""Binance USDⓈ-M REST shapes and paging rules, shared by the loopback's data sources."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

FUNDING_DEFAULT_LIMIT, FUNDING_MAX_LIMIT = 100, 1000
FAPI_KLINES_DEFAULT_LIMIT, FAPI_KLINES_MAX_LIMIT = 500, 1500
SPOT_KLINES_DEFAULT_LIMIT, SPOT_KLINES_MAX_LIMIT = 500, 1000

#: Binance kline intervals in ms (1w and 1M are not served: the loopback has no calendar alignment).
INTERVAL_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
}


class BinanceApiError(Exception):
    """Answered as Binance does: HTTP status and a JSON body ``{"code": ..., "msg": ...}``."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def bad_symbol() -> BinanceApiError:
    return BinanceApiError(400, -1121, "Invalid symbol.")


def clamp_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BinanceApiError(400, -1100, "Illegal characters found in parameter 'limit'.") from None
    if value <= 0:
        return default
    return min(value, maximum)


def opt_int(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BinanceApiError(400, -1100, f"Illegal characters found in parameter '{name}'.") from None


def window(times: Sequence[int], start: int | None, end: int | None, limit: int) -> range:
    """Indexes Binance returns from sorted ``times`` (both bounds inclusive):
    with startTime the first ``limit`` at or after it (up to endTime); without, the last ``limit`` up
    to endTime (or up to the end)."""
    hi = bisect_right(times, end) if end is not None else len(times)
    if start is not None:
        lo = bisect_left(times, start)
        return range(lo, max(lo, min(hi, lo + limit)))
    return range(max(0, hi - limit), hi)


def dec(value: float | str | None) -> str:
    """A plain decimal string as Binance sends (no exponent): ``-4.666e-05`` -> ``-0.00004666``."""
    if value is None:
        return ""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not d.is_finite():
        return "0"
    text = format(d, "f")
    return text


def json_number(value: float | str) -> int | float:
    f = float(value)
    return int(f) if math.isfinite(f) and f == int(f) and abs(f) < 2**53 else f


def brackets_from_ccxt_tiers(symbol_id: str, tiers: list[dict[str, Any]]) -> dict[str, Any]:
    """ccxt fetch_leverage_tiers() output of one market -> Binance's /fapi/v1/leverageBracket entry."""
    brackets = []
    for tier in tiers:
        info = tier.get("info") or {}
        brackets.append(
            {
                "bracket": int(float(info.get("bracket", tier.get("tier", len(brackets) + 1)))),
                "initialLeverage": int(float(info.get("initialLeverage", tier["maxLeverage"]))),
                "notionalCap": json_number(info.get("notionalCap", tier["maxNotional"])),
                "notionalFloor": json_number(info.get("notionalFloor", tier["minNotional"])),
                "maintMarginRatio": float(info.get("maintMarginRatio", tier["maintenanceMarginRate"])),
                "cum": float(info.get("cum", 0.0)),
            }
        )
    return {"symbol": symbol_id, "notionalCoef": 1.0, "brackets": brackets}


def kline_row(open_time: int, interval_ms: int, o: Any, h: Any, low: Any, c: Any, v: Any) -> list[Any]:
    volume = float(v)
    close = float(c)
    quote = volume * close
    return [
        open_time,
        dec(o),
        dec(h),
        dec(low),
        dec(c),
        dec(v),
        open_time + interval_ms - 1,
        dec(round(quote, 8)),
        0,
        dec(round(volume / 2, 8)),
        dec(round(quote / 2, 8)),
        "0",
    ]


def aggregate(
    rows: Sequence[tuple[int, float, float, float, float, float]], interval_ms: int
) -> list[tuple[int, float, float, float, float, float]]:
    """OHLCV rows (sorted) -> bars of ``interval_ms`` aligned to the epoch (as Binance's h/d bars)."""
    out: list[tuple[int, float, float, float, float, float]] = []
    for t, o, h, low, c, v in rows:
        bucket = t - t % interval_ms
        if out and out[-1][0] == bucket:
            bt, bo, bh, bl, _bc, bv = out[-1]
            out[-1] = (bt, bo, max(bh, h), min(bl, low), c, round(bv + v, 8))
        else:
            out.append((bucket, o, h, low, c, v))
    return out


def spot_symbol_entry(symbol_id: str, base: str, quote: str, perp: dict[str, Any] | None) -> dict[str, Any]:
    """A /api/v3/exchangeInfo symbol entry; filters copied from the matching perp when there is one."""
    filters: list[dict[str, Any]] = []
    tick, step, min_qty, max_qty = "0.01", "0.00001", "0.00001", "9000"
    if perp:
        for f in perp.get("filters", []):
            if f.get("filterType") == "PRICE_FILTER":
                tick = f.get("tickSize", tick)
            if f.get("filterType") == "LOT_SIZE":
                step, min_qty, max_qty = f.get("stepSize", step), f.get("minQty", min_qty), f.get("maxQty")
    filters.append({"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000", "tickSize": tick})
    filters.append({"filterType": "LOT_SIZE", "minQty": min_qty, "maxQty": max_qty, "stepSize": step})
    filters.append({"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True})
    return {
        "symbol": symbol_id,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": filters,
        "permissions": ["SPOT"],
    }
