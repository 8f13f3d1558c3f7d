"""A loopback speaking OKX's v5 public REST as ccxt calls it (instruments, swap tickers, mark prices,
funding rates and their history, position tiers, open interest, the time), with OKX's error bodies.

Shapes: the instruments are the raw records (``info``) of ccxt's OKX market fixture
(../shared/data/ccxt_static/markets/okx.json), served by ``instType``; every other body has the
fields of OKX's v5 documentation and of the raw responses in ccxt_static/response/okx.json.

Candles (/api/v5/market/candles and /api/v5/market/history-candles) follow OKX's documented paging:
newest first, ``before``/``after`` exclusive as above, ``limit`` default 100, at most 300 on candles and
100 on history-candles (OKX's docs, as ccxt's source states them); candles holds the latest 1,440 bars
only. Each row is [ts, o, h, l, c, vol (contracts), volCcy (base), volCcyQuote, confirm], confirm "0" for
the bar still open at ``now_ms``. Only UTC daily bars (``1Dutc``, what ccxt asks for ``1d``) of the three
swaps are served, from Binance's real daily perp bars of the same coin (../shared/data/binance, the only
real prices in ../shared; not OKX's own prints); any other bar answers OKX's ``Parameter bar error``.

Funding history follows OKX's documented paging: newest first, at most 100 rows (``limit``, default 100),
``before`` = rows newer than that time, ``after`` = rows older than that time (both exclusive). ccxt's
unified call sends only ``before=since-1`` and so gets the newest 100 after ``since``.

OKX has no file in ../shared/data/multi_exchange, so real histories of other venues are served, said
so here: BTC-USDT-SWAP gets HTX's BTC-USDT 8h prints, ETH-USDT-SWAP MEXC's ETH-USDT 8h prints and
LTC-USDT-SWAP, an hourly market here, dYdX's BTC-USD hourly prints (2022-2024). Each history row carries
OKX's two rates: ``realizedRate`` (the settled rate: the real print) and ``fundingRate`` (the rate that
was predicted; served as the print before it, so the two can be told apart).

Not from real OKX data (stated): last prices (BTC from the fixture's open interest, oiUsd / oiCcy; ETH
and LTC from other venues' fixtures: Hyperliquid's ETH mark, Gate's LTC mark), the 24h volumes, open
interest of markets other than BTC (a fixed fraction of the volume) and the position tiers: one ladder
in contracts (BTC-USDT's), shaped so that the issue's example holds (a $20k BTC position at 60k is 33.3
contracts: tier 1, 0.4% and 100x; the same 20,000 read as USDT falls in the 3% / 10x tier).
"""

from __future__ import annotations

import bisect
import time
from typing import Any

from aiohttp import web

from tests.loopback.venues import common
from tests.loopback.venues.okx_hl_shared import ccxt_fixture, dec, funding_csv, require_shared
from tests.loopback.venues.registry import VENUE_LOOPBACKS

#: OKX's documented page limit of /api/v5/public/funding-rate-history.
FUNDING_MAX_LIMIT = 100

#: OKX's documented page limits of the two candle endpoints, and the bars the recent one holds.
RECENT_CANDLES_PATH, HISTORY_CANDLES_PATH = "/api/v5/market/candles", "/api/v5/market/history-candles"
CANDLES_MAX_LIMIT = {RECENT_CANDLES_PATH: 300, HISTORY_CANDLES_PATH: 100}
CANDLES_DEFAULT_LIMIT = 100
RECENT_CANDLES = 1440
#: OKX bar name -> (the Binance bar series served for it, its length in ms): UTC daily bars only.
BARS = {"1Dutc": ("1d", 86_400_000)}
#: instId -> the Binance perp whose real daily bars stand in for its prices.
BAR_SOURCES = {"BTC-USDT-SWAP": "BTCUSDT", "ETH-USDT-SWAP": "ETHUSDT", "LTC-USDT-SWAP": "LTCUSDT"}

#: instId -> (pair, venue) of the real history served (see the module docstring).
FUNDING_SOURCES: dict[str, tuple[str, str]] = {
    "BTC-USDT-SWAP": ("BTC-USDT", "htx"),
    "ETH-USDT-SWAP": ("ETH-USDT", "mexc"),
    "LTC-USDT-SWAP": ("BTC-USDT", "dydx"),
}

#: instId -> (last price, 24h volume in base units); see the module docstring for the sources.
PRICES: dict[str, tuple[float, float]] = {
    "BTC-USDT-SWAP": (62949.4, 21266.19),
    "ETH-USDT-SWAP": (2312.4, 78250.0),
    "LTC-USDT-SWAP": (74.43, 1_250_000.0),
}
#: Open interest of the fixture (BTC-USDT-SWAP, response/okx.json fetchOpenInterest).
BTC_OPEN_INTEREST = {
    "oi": "2663107.29999999861",
    "oiCcy": "26631.0729999999861",
    "oiUsd": "1676426045.349999124995",
}
OPEN_INTEREST_FRACTION = 0.3

#: (minSz, maxSz) in contracts, mmr, imr, maxLever: one ladder (see the module docstring).
TIER_LADDER: tuple[tuple[int, int, str, str, str], ...] = (
    (0, 2000, "0.004", "0.01", "100"),
    (2000, 4000, "0.005", "0.0133", "75"),
    (4000, 8000, "0.008", "0.02", "50"),
    (8000, 12000, "0.012", "0.0333", "30"),
    (12000, 16000, "0.02", "0.05", "20"),
    (16000, 24000, "0.03", "0.1", "10"),
    (24000, 40000, "0.05", "0.2", "5"),
    (40000, 80000, "0.1", "0.3333", "3"),
    (80000, 150000, "0.15", "0.5", "2"),
)


class OkxApiError(Exception):
    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def ok(data: list[Any]) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})


class OkxVenueApp:
    """OKX's public REST over the fixture's instruments and the histories above."""

    exchange_id = "okx"

    def __init__(self, now_ms: int | None = None) -> None:
        require_shared()
        common.require(common.BINANCE_DATA / "ohlcv_1d_perp")
        markets = ccxt_fixture("markets", "okx")
        self.instruments = [m["info"] for m in markets.values()]
        self.symbol_of = {m["info"]["instId"]: symbol for symbol, m in markets.items()}
        self.id_of = {symbol: inst for inst, symbol in self.symbol_of.items()}
        self._history: dict[str, list[tuple[int, str]]] = {}
        for inst, (pair, venue) in FUNDING_SOURCES.items():
            self._history[inst] = list(funding_csv(pair, venue))
        latest = max(rows[-1][0] for rows in self._history.values())
        self.now_ms = latest if now_ms is None else int(now_ms)
        for inst, rows in self._history.items():
            self._history[inst] = [(t, r) for t, r in rows if t <= self.now_ms]
        self.funding_symbols = tuple(self.symbol_of[inst] for inst in FUNDING_SOURCES)

    # ---------------------------------------------------------------------------- the registry API

    def served_funding(self, symbol: str) -> list[tuple[int, float]]:
        return [(t, float(r)) for t, r in self._history[self.id_of[symbol]]]

    def contract_size(self, symbol: str) -> float:
        return float(self._instrument(self.id_of[symbol])["ctVal"])

    def interval_ms(self, inst: str) -> int:
        rows = self._history[inst]
        return rows[-1][0] - rows[-2][0]

    def bars(self, symbol: str, timeframe: str = "1d") -> list[common.Bar]:
        """The bars served for ``symbol`` (open time <= now), oldest first."""
        source = BAR_SOURCES[self.id_of[symbol]]
        return [b for b in common.binance_bars(source, timeframe) if b[0] <= self.now_ms]

    # ------------------------------------------------------------------------------------- dispatch

    async def handle(self, request: web.Request) -> web.StreamResponse | None:
        if request.path in CANDLES_MAX_LIMIT:
            try:
                return self.candles(request.query, recent=request.path == RECENT_CANDLES_PATH)
            except OkxApiError as err:
                return web.json_response({"code": err.code, "msg": err.msg, "data": []}, status=err.status)
        route = ROUTES.get(request.path)
        if route is None:
            return None
        try:
            return route(self, request.query)
        except OkxApiError as err:
            return web.json_response({"code": err.code, "msg": err.msg, "data": []}, status=err.status)

    def _instrument(self, inst: str) -> dict[str, Any]:
        for record in self.instruments:
            if record["instId"] == inst:
                return record
        raise OkxApiError("51001", "Instrument ID does not exist")

    def _swap_ids(self, query: Any) -> list[str]:
        if query.get("instType", "SWAP") != "SWAP":
            raise OkxApiError("51000", "Parameter instType error")
        inst = query.get("instId")
        if inst:
            self._instrument(inst)
            return [inst]
        return [r["instId"] for r in self.instruments if r["instType"] == "SWAP" and r["instId"] in PRICES]

    # ------------------------------------------------------------------------------------ endpoints

    def time(self, query: Any) -> web.Response:
        return ok([{"ts": str(int(time.time() * 1000))}])

    def instruments_of(self, query: Any) -> web.Response:
        kind = query.get("instType")
        if kind not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise OkxApiError("51000", "Parameter instType error")
        rows = [r for r in self.instruments if r["instType"] == kind]
        if kind == "OPTION":
            rows = [r for r in rows if r.get("uly") == query.get("uly")]
        return ok(rows)

    def tickers(self, query: Any) -> web.Response:
        kind = query.get("instType")
        if kind != "SWAP":
            # Only the swaps are served: the scanner must never read OKX's spot tickers for perps.
            raise OkxApiError("51000", f"Parameter instType error (loopback serves SWAP only, not {kind})")
        return ok([self._ticker(inst) for inst in self._swap_ids({})])

    def _ticker(self, inst: str) -> dict[str, Any]:
        last, base_volume = PRICES[inst]
        contracts = base_volume / float(self._instrument(inst)["ctVal"])
        return {
            "instType": "SWAP",
            "instId": inst,
            "last": dec(last),
            "lastSz": "1",
            "askPx": dec(last * 1.0001),
            "askSz": "120",
            "bidPx": dec(last * 0.9999),
            "bidSz": "95",
            "open24h": dec(last * 0.99),
            "high24h": dec(last * 1.02),
            "low24h": dec(last * 0.98),
            "volCcy24h": dec(base_volume),  # base currency for derivatives
            "vol24h": dec(contracts),  # contracts
            "ts": str(self.now_ms),
            "sodUtc0": dec(last * 0.995),
            "sodUtc8": dec(last * 0.997),
        }

    def mark_price(self, query: Any) -> web.Response:
        rows = []
        for inst in self._swap_ids(query):
            rows.append(
                {"instId": inst, "instType": "SWAP", "markPx": dec(PRICES[inst][0]), "ts": str(self.now_ms)}
            )
        return ok(rows)

    def funding_rate(self, query: Any) -> web.Response:
        inst = query.get("instId")
        if not inst:
            raise OkxApiError("50014", "Parameter instId can not be empty")
        targets = list(FUNDING_SOURCES) if inst == "ANY" else [inst]
        rows = []
        for target in targets:
            self._instrument(target)
            history = self._history.get(target)
            if not history:
                raise OkxApiError("51001", "Instrument ID does not exist")
            step = self.interval_ms(target)
            last_time, last_rate = history[-1]
            rows.append(
                {
                    "instType": "SWAP",
                    "instId": target,
                    "method": "current_period",
                    "formulaType": "withRate",
                    "fundingRate": last_rate,
                    "fundingTime": str(last_time + step),
                    "nextFundingRate": "",
                    "nextFundingTime": str(last_time + 2 * step),
                    "maxFundingRate": "0.0075",
                    "minFundingRate": "-0.0075",
                    "settFundingRate": last_rate,
                    "settState": "settled",
                    "premium": "0",
                    "interestRate": "0.0001",
                    "impactValue": "20000",
                    "ts": str(self.now_ms),
                }
            )
        return ok(rows)

    def funding_rate_history(self, query: Any) -> web.Response:
        inst = query.get("instId")
        if not inst:
            raise OkxApiError("50014", "Parameter instId can not be empty")
        self._instrument(inst)
        history = self._history.get(inst, [])
        limit = _int(query.get("limit"), "limit", FUNDING_MAX_LIMIT)
        limit = max(1, min(limit, FUNDING_MAX_LIMIT))
        before = _int(query.get("before"), "before", None)
        after = _int(query.get("after"), "after", None)
        times = [t for t, _ in history]
        lo = 0 if before is None else bisect.bisect_right(times, before)
        hi = len(times) if after is None else bisect.bisect_left(times, after)
        window = range(max(lo, hi - limit), hi) if hi > lo else range(0)
        rows = []
        for i in reversed(window):  # newest first
            t, rate = history[i]
            predicted = history[i - 1][1] if i > 0 else rate
            rows.append(
                {
                    "instType": "SWAP",
                    "instId": inst,
                    "formulaType": "withRate",
                    "method": "current_period",
                    "fundingRate": predicted,
                    "realizedRate": rate,
                    "fundingTime": str(t),
                }
            )
        return ok(rows)

    def candles(self, query: Any, recent: bool) -> web.Response:
        """Newest first, the newest ``limit`` bars between ``before`` and ``after`` (both exclusive)."""
        inst = query.get("instId")
        if not inst:
            raise OkxApiError("50014", "Parameter instId can not be empty")
        self._instrument(inst)
        bar = query.get("bar", "1m")
        if bar not in BARS:
            raise OkxApiError("51000", f"Parameter bar error (loopback serves {', '.join(BARS)} only)")
        if inst not in BAR_SOURCES:
            raise OkxApiError(
                "51000", f"Parameter instId error (loopback serves candles of {', '.join(BAR_SOURCES)})"
            )
        limit = _int(query.get("limit"), "limit", CANDLES_DEFAULT_LIMIT)
        limit = max(1, min(limit, CANDLES_MAX_LIMIT[RECENT_CANDLES_PATH if recent else HISTORY_CANDLES_PATH]))
        before = _int(query.get("before"), "before", None)
        after = _int(query.get("after"), "after", None)
        timeframe, step = BARS[bar]
        rows = self.bars(self.symbol_of[inst], timeframe)
        if recent:
            rows = rows[-RECENT_CANDLES:]
        rows = [b for b in rows if (before is None or b[0] > before) and (after is None or b[0] < after)]
        size = float(self._instrument(inst)["ctVal"])
        data = []
        for t, o, h, low, c, volume in reversed(rows[-limit:]):
            confirm = "0" if t + step > self.now_ms else "1"
            prices = (common.dec(v) for v in (o, h, low, c))
            quote = common.dec(round(volume * c, 4))
            data.append([str(t), *prices, common.dec(volume / size), common.dec(volume), quote, confirm])
        return ok(data)

    def position_tiers(self, query: Any) -> web.Response:
        if query.get("instType") not in ("SWAP", "FUTURES", "OPTION", "MARGIN"):
            raise OkxApiError("51000", "Parameter instType error")
        if query.get("tdMode") not in ("cross", "isolated"):
            raise OkxApiError("51000", "Parameter tdMode error")
        family = query.get("instFamily") or query.get("uly")
        if not family:
            raise OkxApiError("50014", "Parameter instFamily can not be empty")
        if not any(r.get("instFamily") == family for r in self.instruments):
            raise OkxApiError("51001", "Instrument ID does not exist")
        rows = []
        for n, (low, high, mmr, imr, lever) in enumerate(TIER_LADDER, start=1):
            rows.append(
                {
                    "uly": family,
                    "instFamily": family,
                    "instId": "",
                    "tier": str(n),
                    "minSz": str(low),
                    "maxSz": str(high),
                    "mmr": mmr,
                    "imr": imr,
                    "maxLever": lever,
                    "optMgnFactor": "0",
                    "quoteMaxLoan": "",
                    "baseMaxLoan": "",
                }
            )
        return ok(rows)

    def open_interest(self, query: Any) -> web.Response:
        rows = []
        for inst in self._swap_ids(query):
            if inst == "BTC-USDT-SWAP":
                values = dict(BTC_OPEN_INTEREST)
            else:
                last, base_volume = PRICES[inst]
                base = base_volume * OPEN_INTEREST_FRACTION
                values = {
                    "oi": dec(base / float(self._instrument(inst)["ctVal"])),
                    "oiCcy": dec(base),
                    "oiUsd": dec(base * last),
                }
            rows.append({"instId": inst, "instType": "SWAP", **values, "ts": str(self.now_ms)})
        return ok(rows)


def _int(text: str | None, name: str, default: int | None) -> int | None:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise OkxApiError("51000", f"Parameter {name} error", status=400) from None


ROUTES = {
    "/api/v5/public/time": OkxVenueApp.time,
    "/api/v5/public/instruments": OkxVenueApp.instruments_of,
    "/api/v5/market/tickers": OkxVenueApp.tickers,
    "/api/v5/public/mark-price": OkxVenueApp.mark_price,
    "/api/v5/public/funding-rate": OkxVenueApp.funding_rate,
    "/api/v5/public/funding-rate-history": OkxVenueApp.funding_rate_history,
    "/api/v5/public/position-tiers": OkxVenueApp.position_tiers,
    "/api/v5/public/open-interest": OkxVenueApp.open_interest,
}

VENUE_LOOPBACKS["okx"] = OkxVenueApp
