"""A small deterministic MarketData source for the store and backfill tests (not a mock of ccxt).

Funding prints every 8 h (with Binance-like millisecond jitter) and 1 h bars from ``START``; the bar
containing ``now`` is the open bar, whose values depend on ``now``. Pages hold ``page`` rows.

Run as a script it backfills into a file database, for the kill -9 test:
``python -m tests.backfill_source DB SINCE [KILL]``, where KILL (a ``tests.kill_switch`` spec) names
the SQL statement just before which it SIGKILLs itself.
"""

from __future__ import annotations

import asyncio
import sys

from perptui.domain.types import (
    Balance,
    Candle,
    FundingPrint,
    FundingRate,
    LeverageTier,
    Market,
    Position,
    Ticker,
)

HOUR = 3_600_000
START = 1_700_000_000_000 - 1_700_000_000_000 % (8 * HOUR)  # 2023-11-14T16:00Z, on an 8h boundary
SYMBOLS = ("AAA/USDT:USDT", "BBB/USDT:USDT")


def funding_print(symbol: str, i: int) -> FundingPrint:
    salt = sum(map(ord, symbol))
    return FundingPrint(
        symbol, START + i * 8 * HOUR + (i * 7 + salt) % 17, ((i * 37 + salt) % 101 - 40) * 1e-6
    )


def bar(symbol: str, i: int, now: int) -> Candle:
    t = START + i * HOUR
    base = 100.0 + (i * 13 + sum(map(ord, symbol))) % 50
    if t + HOUR > now:  # still open: the close so far depends on the clock
        return Candle(t, base, base + 1, base - 1, base + ((now - t) % 1000) / 1000, float((now - t) // 1000))
    return Candle(t, base, base + 2, base - 2, base + 0.5, 1000.0 + i)


class StepSource:
    """Deterministic history up to ``now`` (ms): prints with time <= now, bars opened before now."""

    name = "stepx"
    is_demo = False

    def __init__(
        self,
        now: int,
        page: int = 100,
        delay: float = 0.0,
        repeat_first_page: bool = False,
        newest_page: bool = False,
    ) -> None:
        self.now = now
        #: Serve the newest ``page`` prints of the window asked for (how OKX answered ccxt's unified call).
        self.newest_page = newest_page
        self.page = page
        self.delay = delay
        self.repeat_first_page = repeat_first_page
        self.calls: list[tuple[str, int, int | None]] = []

    # The clock the backfill reads (it looks for a ``clock`` attribute on the source).
    @property
    def clock(self) -> StepSource:
        return self

    def now_ms(self) -> int:
        return self.now

    def all_funding(self, symbol: str) -> list[FundingPrint]:
        n = (self.now - START) // (8 * HOUR) + 1
        return [p for p in (funding_print(symbol, i) for i in range(max(0, n))) if p.time <= self.now]

    def all_bars(self, symbol: str) -> list[Candle]:
        n = (self.now - START) // HOUR + 1
        return [bar(symbol, i, self.now) for i in range(max(0, n))]

    async def fetch_funding_history(
        self, symbol: str, since: int, until: int | None = None, limit: int | None = None
    ) -> list[FundingPrint]:
        self.calls.append(("funding", since, until))
        if self.delay:
            await asyncio.sleep(self.delay)
        rows = self.all_funding(symbol)
        if self.repeat_first_page:
            return rows[: self.page]
        rows = [p for p in rows if p.time >= since and (until is None or p.time < until)]
        if self.newest_page:
            return rows[-(limit or self.page) :]
        return rows[: limit or self.page]

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: int, until: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        assert timeframe == "1h"
        self.calls.append(("ohlcv", since, until))
        if self.delay:
            await asyncio.sleep(self.delay)
        rows = self.all_bars(symbol)
        if self.repeat_first_page:
            return rows[: self.page]
        rows = [c for c in rows if c.time >= since and (until is None or c.time < until)]
        return rows[: limit or self.page]

    async def load_markets(self) -> list[Market]:
        return []

    async def fetch_leverage_tiers(self, symbols: list[str] | None = None) -> dict[str, list[LeverageTier]]:
        return {}

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        return {}

    async def fetch_funding_rates(self, symbols: list[str] | None = None) -> dict[str, FundingRate]:
        return {}

    async def fetch_balance(self) -> Balance:
        raise NotImplementedError

    async def fetch_positions(self) -> list[Position]:
        raise NotImplementedError

    async def close(self) -> None:
        return None


#: The kill test's clock: 60 days of history, i.e. 180 prints and 1440 bars per symbol.
KILL_NOW = START + 60 * 24 * HOUR + 30 * 60_000


async def _run(db: str, since: int, kill: str | None) -> None:
    from perptui.services.backfill import backfill_funding, backfill_ohlcv
    from perptui.services.store import Store
    from tests import kill_switch

    source = StepSource(KILL_NOW, page=24)

    def report(rows: int, cursor: int) -> None:
        print("page", rows, cursor, flush=True)  # the kill test counts these lines

    with Store.open(db) as store:
        if kill is not None:
            with store.reading() as conn:
                kill_switch.arm(conn, kill)
        for symbol in SYMBOLS:
            await backfill_funding(source, store, symbol, since, None, report)
            await backfill_ohlcv(source, store, symbol, "1h", since, None, report)
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(_run(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
