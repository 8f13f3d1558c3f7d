"""The loopback's real-data source: ../shared/data/binance served in Binance's REST shapes.

Files are read lazily and cached per process (servers come and go per test, the data stays).
What the data does not have is stated, not invented, except for two clearly synthetic fields:
open interest (a fixed fraction of the last 24h volume) and the spot exchangeInfo entries (listed for
the symbols with spot candles, with the perp's filters).
"""

from __future__ import annotations

import csv
import json
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path
from typing import Any

from tests.loopback import binance_format as bf
from tests.loopback.binance_format import BinanceApiError

EXCHANGE_INFO_FILE = "exchange_info_2022-05-04.json"
TIERS_FILE = "leverage_tiers_2024-10-24.json"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: Synthetic open interest = this fraction of the last 24h base volume.
OPEN_INTEREST_FRACTION = 0.3

Bar = tuple[int, float, float, float, float, float]


@lru_cache(maxsize=4)
def _exchange_info(root: str) -> dict[str, Any]:
    return json.loads((Path(root) / EXCHANGE_INFO_FILE).read_text())


@lru_cache(maxsize=4)
def _tiers(root: str) -> dict[str, Any]:
    return json.loads((Path(root) / TIERS_FILE).read_text())


@lru_cache(maxsize=64)
def _funding(root: str, symbol_id: str) -> tuple[list[int], list[str]]:
    path = Path(root) / "funding" / f"{symbol_id}.csv"
    times: list[int] = []
    rates: list[str] = []
    if not path.is_file():
        return times, rates
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            times.append(int(row["fundingTime"]))
            rates.append(row["fundingRate"])
    order = sorted(range(len(times)), key=times.__getitem__)
    return [times[i] for i in order], [rates[i] for i in order]


def _read_rows(path: Path, prefix: str = "") -> list[Bar]:
    """OHLCV rows with every value present (pandas: the 1h files have ~54k rows each)."""
    import pandas as pd

    columns = [prefix + k for k in ("open", "high", "low", "close", "volume")]
    frame = pd.read_csv(path, usecols=["openTime", *columns]).dropna().sort_values("openTime")
    return list(
        zip(
            frame["openTime"].astype("int64").tolist(),
            *(frame[c].astype(float).tolist() for c in columns),
            strict=True,
        )
    )


@lru_cache(maxsize=64)
def _file_bars(root: str, symbol_id: str, kind: str, interval_ms: int) -> list[Bar] | None:
    """Rows of the 1h (``ohlcv_1h``, perp or its ``spot_`` columns) or 8h file, or None."""
    if interval_ms not in (HOUR_MS, 8 * HOUR_MS):
        return None
    if interval_ms == HOUR_MS:
        path = Path(root) / "ohlcv_1h" / f"{symbol_id}.csv.gz"
        prefix = "" if kind == "perp" else "spot_"
    else:
        path = Path(root) / ("ohlcv_8h_perp" if kind == "perp" else "ohlcv_8h_spot") / f"{symbol_id}.csv"
        prefix = ""
    if not path.is_file():
        return None
    return _read_rows(path, prefix) or None


@lru_cache(maxsize=64)
def _bars_at(root: str, symbol_id: str, kind: str, interval_ms: int) -> tuple[list[int], list[Bar]] | None:
    """Bars of ``interval_ms``: a file with exactly that interval, else aggregated from 1h or 8h."""
    bars: list[Bar] | None = None
    for source_ms in (interval_ms, HOUR_MS, 8 * HOUR_MS):
        if source_ms > interval_ms or interval_ms % source_ms:
            continue
        rows = _file_bars(root, symbol_id, kind, source_ms)
        if rows:
            bars = rows if source_ms == interval_ms else bf.aggregate(rows, interval_ms)
            break
    if bars is None:
        return None
    return [b[0] for b in bars], bars


class RealBinanceData:
    """Serves the captured files. ``now_ms`` cuts every series at that time (what the exchange knew
    then); None serves everything up to the end of the files. ``list_adjusted_intervals=False`` serves
    an empty fundingInfo (as before Binance had it), so clients must infer intervals from history."""

    mode = "real"

    def __init__(
        self, root: Path, now_ms: int | None = None, *, list_adjusted_intervals: bool = True
    ) -> None:
        self.root = str(Path(root).resolve())
        self._now = now_ms
        self.list_adjusted_intervals = list_adjusted_intervals

    # -------------------------------------------------------------------------------------- helpers

    def now_ms(self) -> int:
        if self._now is not None:
            return self._now
        return max((self._funding(s)[0][-1] for s in self.data_symbols() if self._funding(s)[0]), default=0)

    def data_symbols(self) -> list[str]:
        folder = Path(self.root) / "funding"
        return sorted(p.stem for p in folder.glob("*.csv"))

    def _perp_entries(self) -> dict[str, dict[str, Any]]:
        return {s["symbol"]: s for s in _exchange_info(self.root)["symbols"]}

    def _check_perp(self, symbol_id: str | None) -> str:
        if not symbol_id or symbol_id not in self._perp_entries():
            raise bf.bad_symbol()
        return symbol_id

    def _funding(self, symbol_id: str) -> tuple[list[int], list[str]]:
        times, rates = _funding(self.root, symbol_id)
        if self._now is not None:
            cut = bisect_right(times, self._now)
            return times[:cut], rates[:cut]
        return times, rates

    def _interval_h(self, times: list[int]) -> int | None:
        gaps = [round((b - a) / HOUR_MS) for a, b in zip(times[-4:], times[-3:], strict=False)]
        gaps = [g for g in gaps if g > 0]
        return min(gaps) if gaps else None

    def _bars(self, symbol_id: str, kind: str, interval_ms: int) -> tuple[list[int], list[Bar]]:
        found = _bars_at(self.root, symbol_id, kind, interval_ms)
        if found is None:
            return [], []
        times, bars = found
        if self._now is not None:
            cut = bisect_right(times, self._now)
            return times[:cut], bars[:cut]
        return times, bars

    def _last_close(self, symbol_id: str, kind: str) -> float | None:
        for interval in (HOUR_MS, 8 * HOUR_MS):
            _times, bars = self._bars(symbol_id, kind, interval)
            if bars:
                return bars[-1][4]
        return None

    # ---------------------------------------------------------------------------------------- REST

    async def exchange_info(self) -> dict[str, Any]:
        return _exchange_info(self.root)

    async def spot_exchange_info(self) -> dict[str, Any]:
        perps = self._perp_entries()
        symbols = []
        folder = Path(self.root) / "ohlcv_8h_spot"
        for path in sorted(folder.glob("*.csv")):
            symbol_id = path.stem
            quote = "USDT" if symbol_id.endswith("USDT") else None
            if quote is None:
                continue
            base = symbol_id[: -len(quote)]
            symbols.append(bf.spot_symbol_entry(symbol_id, base, quote, perps.get(symbol_id)))
        return {"timezone": "UTC", "serverTime": self.now_ms(), "rateLimits": [], "symbols": symbols}

    def _premium(self, symbol_id: str) -> dict[str, Any] | None:
        times, rates = self._funding(symbol_id)
        if not times:
            return None
        full_times, full_rates = _funding(self.root, symbol_id)
        now = self.now_ms()
        nxt = bisect_right(full_times, now)
        interval = self._interval_h(times) or 8
        if nxt < len(full_times):
            rate, next_time = full_rates[nxt], full_times[nxt] - full_times[nxt] % HOUR_MS
        else:
            rate, next_time = rates[-1], times[-1] - times[-1] % HOUR_MS + interval * HOUR_MS
        mark = self._last_close(symbol_id, "perp")
        index = self._last_close(symbol_id, "spot") or mark
        return {
            "symbol": symbol_id,
            "markPrice": bf.dec(mark),
            "indexPrice": bf.dec(index),
            "estimatedSettlePrice": bf.dec(index),
            "lastFundingRate": bf.dec(rate),
            "interestRate": "0.00010000",
            "nextFundingTime": next_time,
            "time": now,
        }

    async def premium_index(self, symbol_id: str | None) -> Any:
        if symbol_id is not None:
            self._check_perp(symbol_id)
            entry = self._premium(symbol_id)
            if entry is None:
                raise bf.bad_symbol()
            return entry
        perps = self._perp_entries()
        return [e for s in self.data_symbols() if s in perps and (e := self._premium(s))]

    async def funding_rate(
        self, symbol_id: str | None, start: int | None, end: int | None, limit: int
    ) -> Any:
        if not symbol_id:
            raise BinanceApiError(400, -1102, "Mandatory parameter 'symbol' was not sent.")
        times, rates = self._funding(symbol_id)
        return [
            {"symbol": symbol_id, "fundingTime": times[i], "fundingRate": bf.dec(rates[i]), "markPrice": ""}
            for i in bf.window(times, start, end, limit)
        ]

    async def funding_info(self) -> list[dict[str, Any]]:
        """Like Binance: only markets whose interval differs from the default 8h are listed."""
        perps = self._perp_entries()
        result: list[dict[str, Any]] = []
        if not self.list_adjusted_intervals:
            return result
        for symbol_id in self.data_symbols():
            hours = self._interval_h(self._funding(symbol_id)[0])
            if symbol_id in perps and hours and hours != 8:
                result.append(
                    {
                        "symbol": symbol_id,
                        "adjustedFundingRateCap": "0.02000000",
                        "adjustedFundingRateFloor": "-0.02000000",
                        "fundingIntervalHours": hours,
                        "disclaimer": False,
                    }
                )
        return result

    async def klines(
        self, symbol_id: str | None, interval: str, start: int | None, end: int | None, limit: int, spot: bool
    ) -> list[list[Any]]:
        if spot:
            known = {s["symbol"] for s in (await self.spot_exchange_info())["symbols"]}
            if symbol_id not in known:
                raise bf.bad_symbol()
        else:
            self._check_perp(symbol_id)
        interval_ms = bf.INTERVAL_MS.get(interval)
        if interval_ms is None:
            raise BinanceApiError(400, -1120, "Invalid interval.")
        assert symbol_id is not None
        times, bars = self._bars(symbol_id, "spot" if spot else "perp", interval_ms)
        return [
            bf.kline_row(bars[i][0], interval_ms, *bars[i][1:]) for i in bf.window(times, start, end, limit)
        ]

    def _ticker(self, symbol_id: str) -> dict[str, Any] | None:
        for interval in (HOUR_MS, 8 * HOUR_MS):
            times, bars = self._bars(symbol_id, "perp", interval)
            if bars:
                break
        else:
            return None
        last_open = bars[-1][0]
        day = bars[bisect_right(times, last_open - DAY_MS) :]
        volume = sum(b[5] for b in day)
        quote = sum(b[5] * b[4] for b in day)
        open_price, last = day[0][1], day[-1][4]
        return {
            "symbol": symbol_id,
            "priceChange": bf.dec(round(last - open_price, 8)),
            "priceChangePercent": bf.dec(round((last / open_price - 1) * 100, 3)),
            "weightedAvgPrice": bf.dec(round(quote / volume, 8) if volume else last),
            "lastPrice": bf.dec(last),
            "lastQty": "0.001",
            "openPrice": bf.dec(open_price),
            "highPrice": bf.dec(max(b[2] for b in day)),
            "lowPrice": bf.dec(min(b[3] for b in day)),
            "volume": bf.dec(round(volume, 8)),
            "quoteVolume": bf.dec(round(quote, 8)),
            "openTime": day[0][0],
            "closeTime": last_open + interval - 1,
            "firstId": 1,
            "lastId": 2,
            "count": len(day),
        }

    async def ticker_24hr(self, symbol_id: str | None) -> Any:
        if symbol_id is not None:
            self._check_perp(symbol_id)
            entry = self._ticker(symbol_id)
            if entry is None:
                raise bf.bad_symbol()
            return entry
        perps = self._perp_entries()
        return [e for s in self.data_symbols() if s in perps and (e := self._ticker(s))]

    async def open_interest(self, symbol_id: str | None) -> dict[str, Any]:
        self._check_perp(symbol_id)
        assert symbol_id is not None
        ticker = self._ticker(symbol_id)
        if ticker is None:
            raise bf.bad_symbol()
        amount = round(float(ticker["volume"]) * OPEN_INTEREST_FRACTION, 3)
        return {"openInterest": bf.dec(amount), "symbol": symbol_id, "time": self.now_ms()}

    async def leverage_brackets(self, symbol_id: str | None) -> Any:
        perps = self._perp_entries()
        out = []
        for key, tiers in _tiers(self.root).items():
            pair, _, settle = key.partition(":")
            if not settle or "-" in settle:  # spot-style keys of old files, dated futures
                continue
            candidate = pair.replace("/", "")
            if candidate in perps and (symbol_id is None or candidate == symbol_id):
                out.append(bf.brackets_from_ccxt_tiers(candidate, tiers))
        if symbol_id is not None:
            if not out:
                raise bf.bad_symbol()
            return out
        return out
