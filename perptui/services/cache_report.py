"""What the cache holds of each perp, with times: the funding prints per 7/30/90-day window against those
its interval calls for, the first and newest print, and the newest ticker. ``perptui markets`` and
``perptui fetch`` show it (and their JSON carries it), so a trader sees a thin history before trusting a
statistic built on it. Blocking (SQLite): call it from a thread in the app."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.coverage import WindowCoverage, coverage_dict, window_coverage
from perptui.domain.scanner import ticker_time
from perptui.domain.types import Market, Ticker

if TYPE_CHECKING:
    from perptui.services.store import Store


@dataclass(frozen=True, slots=True)
class PerpCache:
    symbol: str
    coverage: tuple[WindowCoverage, ...]
    first_print: int | None  # ms; None: no print cached
    last_print: int | None
    ticker: Ticker | None  # the newest cached ticker that has a time
    asof: int  # the time the windows end at (the source's clock: the demo market's may be frozen)

    def as_dict(self) -> dict[str, object]:
        """``{"funding_prints": {"7d": {"prints", "expected", "complete"}, ...}, "funding_first_time",
        "funding_last_time", "ticker": {"time", "mark", "last", "volume_24h_usd"} | null}``; times in ms."""
        t = self.ticker
        ticker = None
        if t is not None:
            volume = t.quote_volume_24h
            ticker = {"time": ticker_time(t), "mark": t.mark, "last": t.last, "volume_24h_usd": volume}
        return {
            "funding_prints": coverage_dict(self.coverage),
            "funding_first_time": self.first_print,
            "funding_last_time": self.last_print,
            "ticker": ticker,
        }


def cache_report(store: Store, exchange: str, markets: Sequence[Market], now: int) -> dict[str, PerpCache]:
    """Each market's cached history as of ``now``; prints are expected at the market's stated interval,
    else the one its newest prints settled (their spacing)."""
    from perptui.services.scan import history_stats_of

    stats = history_stats_of(store, exchange, markets, now)
    tickers = store.latest_tickers(exchange)
    report: dict[str, PerpCache] = {}
    for m in markets:
        s = stats[m.symbol]
        bounds = store.funding_bounds(exchange, m.symbol)
        interval = m.funding_interval_hours or s.last_interval_h
        report[m.symbol] = PerpCache(
            symbol=m.symbol,
            coverage=window_coverage(s, interval),
            first_print=bounds[0] if bounds else None,
            last_print=bounds[1] if bounds else None,
            ticker=tickers.get(m.symbol),
            asof=now,
        )
    return report
