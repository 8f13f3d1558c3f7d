"""One row of the funding-rate scanner per perp, with filters and sorting. Pure.

A row joins the exchange's current funding state, its ticker, the funding history statistics and the
cash-and-carry figures. The carry is priced on the 30-day mean APR (what a position held through the
last 30 days earned), so it is None until 30 days of history are cached. Fractions everywhere; None
where unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from perptui.domain.carry import (
    DEFAULT_BORROW_APR,
    DEFAULT_HOLD_DAYS,
    FundingLeg,
    Spread,
    carry,
    cross_spread,
)
from perptui.domain.coverage import WindowCoverage, coverage_dict, held_share, window_coverage
from perptui.domain.funding import apr, rate_per_hour
from perptui.domain.funding_stats import FundingHistoryStats
from perptui.domain.types import FundingRate, Market, Ticker

ROW_KEYS: tuple[str, ...] = (
    "exchange",
    "symbol",
    "funding_rate",
    "interval_hours",
    "apr",
    "predicted_rate",
    "next_funding_time",
    "mark",
    "index",
    "basis",
    "volume_24h_usd",
    "open_interest_usd",
    "mean_apr_7d",
    "mean_apr_30d",
    "mean_apr_90d",
    "std_apr_30d",
    "pct_positive_30d",
    "zscore_30d",
    "carry_direction",
    "carry_net_apr",
    "breakeven_days",
)
#: What ``as_dict`` (``perptui scan --json``) adds to the row's figures: the ticker's time (ms, None when
#: unknown), the funding prints cached per window, and which statistics rest on an incomplete window.
JSON_KEYS: tuple[str, ...] = (*ROW_KEYS, "ticker_time", "coverage", "incomplete")
#: Each statistic and the window it is computed over (the carry is priced on the 30-day mean).
STAT_WINDOWS: dict[str, int] = {
    "mean_apr_7d": 7,
    "mean_apr_30d": 30,
    "mean_apr_90d": 90,
    "std_apr_30d": 30,
    "pct_positive_30d": 30,
    "zscore_30d": 30,
    "longest_run_30d": 30,
    "carry_net_apr": 30,
    "breakeven_days": 30,
}


@dataclass(frozen=True, slots=True)
class CarryCosts:
    spot_taker: float | None = 0.001
    slippage: float = 0.001  # all four fills together, a fraction of notional
    hold_days: float = DEFAULT_HOLD_DAYS
    borrow_apr: float = DEFAULT_BORROW_APR


@dataclass(frozen=True, slots=True)
class ScanRow:
    exchange: str
    symbol: str
    base: str
    funding_rate: float | None
    interval_hours: float | None
    interval_inferred: bool  # from the spacing of prints, not from the exchange
    rate_per_hour: float | None
    apr: float | None
    predicted_rate: float | None
    next_funding_time: int | None
    mark: float | None
    index: float | None
    basis: float | None
    volume_24h_usd: float | None
    open_interest_usd: float | None
    mean_apr_7d: float | None
    mean_apr_30d: float | None
    mean_apr_90d: float | None
    std_apr_30d: float | None
    pct_positive_30d: float | None
    zscore_30d: float | None
    longest_run_30d: int | None
    carry_direction: str | None
    carry_net_apr: float | None
    breakeven_days: float | None
    taker_fee: float | None
    as_of: int
    price_tick: float | None = None  # the market's, for showing the mark and index at it
    ticker_time: int | None = None  # when the ticker (mark, volume, open interest) was read; None: unknown
    #: The funding prints cached per window (7, 30, 90 days) against those expected.
    coverage: tuple[WindowCoverage, ...] = ()

    @property
    def key(self) -> str:
        """A stable id for a table row: ``exchange:symbol``."""
        return f"{self.exchange}:{self.symbol}"

    def window(self, days: int) -> WindowCoverage | None:
        return next((c for c in self.coverage if c.days == days), None)

    def rests_on_incomplete(self, stat: str) -> bool:
        """The statistic ``stat`` (a key of ``STAT_WINDOWS``) is known and its window lacks prints."""
        days = STAT_WINDOWS.get(stat)
        found = self.window(days) if days is not None else None
        return found is not None and getattr(self, stat) is not None and not found.complete

    @property
    def incomplete(self) -> list[str]:
        """The statistics shown that rest on an incomplete window."""
        return [stat for stat in STAT_WINDOWS if self.rests_on_incomplete(stat)]

    def as_dict(self) -> dict[str, object]:
        data = {key: getattr(self, key) for key in ROW_KEYS}
        data["ticker_time"] = self.ticker_time
        data["coverage"] = coverage_dict(self.coverage)
        data["incomplete"] = self.incomplete
        return data


def basis(mark: float | None, index: float | None) -> float | None:
    if mark is None or index is None or index <= 0:
        return None
    return (mark - index) / index


def scan_row(
    market: Market,
    *,
    funding: FundingRate | None,
    ticker: Ticker | None,
    stats: FundingHistoryStats | None,
    as_of: int,
    costs: CarryCosts = CarryCosts(),
) -> ScanRow:
    """Join what is known of one perp into a row. ``funding`` may be a live state or, for a past as-of
    time, None (the current rate is then the last print at or before it, from ``stats``, and the
    interval the one that print settled, from the spacing of the prints)."""
    rate = funding.rate if funding is not None else None
    interval = (funding.interval_hours if funding is not None else None) or market.funding_interval_hours
    inferred = False
    if funding is None and stats is not None and stats.last_rate is not None:
        # The last settled print stands for the current rate, with the period it settled (the spacing
        # from the print before): SOL settled every 2h in Nov 2022 whatever the market says today.
        rate = stats.last_rate
        if stats.last_interval_h:
            interval, inferred = stats.last_interval_h, True
    if interval is None and stats is not None and stats.last_interval_h:
        interval, inferred = stats.last_interval_h, True
    mark = funding.mark if funding is not None and funding.mark is not None else None
    index = funding.index if funding is not None and funding.index is not None else None
    if ticker is not None:
        mark = mark if mark is not None else ticker.mark
        index = index if index is not None else ticker.index
    oi_usd = None
    if ticker is not None:
        oi_usd = ticker.open_interest_usd
        if oi_usd is None and ticker.open_interest is not None and mark is not None:
            oi_usd = ticker.open_interest * mark
    means = stats.mean_apr if stats is not None else {}
    # Prints expected at the interval the row shows (the one settled at the as-of time).
    coverage = window_coverage(stats, interval)
    c = carry(
        means.get(30),
        spot_taker=costs.spot_taker,
        perp_taker=market.taker_fee,
        slippage=costs.slippage,
        hold_days=costs.hold_days,
        borrow_apr=costs.borrow_apr,
    )
    return ScanRow(
        exchange=market.exchange,
        symbol=market.symbol,
        base=market.base,
        funding_rate=rate,
        interval_hours=interval,
        interval_inferred=inferred,
        rate_per_hour=rate_per_hour(rate, interval),
        apr=apr(rate, interval),
        predicted_rate=funding.predicted_rate if funding is not None else None,
        next_funding_time=funding.next_funding_time if funding is not None else None,
        mark=mark,
        index=index,
        basis=basis(mark, index),
        volume_24h_usd=ticker.quote_volume_24h if ticker is not None else None,
        open_interest_usd=oi_usd,
        mean_apr_7d=means.get(7),
        mean_apr_30d=means.get(30),
        mean_apr_90d=means.get(90),
        std_apr_30d=stats.std_apr_30d if stats is not None else None,
        pct_positive_30d=stats.pct_positive_30d if stats is not None else None,
        zscore_30d=stats.zscore_30d if stats is not None else None,
        longest_run_30d=stats.longest_run_30d if stats is not None else None,
        carry_direction=c.direction if c is not None else None,
        carry_net_apr=c.net_apr if c is not None else None,
        breakeven_days=c.breakeven_days if c is not None else None,
        taker_fee=market.taker_fee,
        as_of=as_of,
        price_tick=market.price_tick,
        ticker_time=ticker_time(ticker),
        coverage=coverage,
    )


def ticker_time(ticker: Ticker | None) -> int | None:
    """The ticker's time; None when unknown (a time of 0 is no time, never 1970)."""
    if ticker is None or not ticker.timestamp or ticker.timestamp <= 0:
        return None
    return int(ticker.timestamp)


#: Sort keys a user may give, with the column each sorts by; ``abs_apr`` sorts by |APR|, ``history_90d``
#: by the share of the last 90 days' funding prints the cache holds.
SORT_KEYS: tuple[str, ...] = (*ROW_KEYS[1:], "abs_apr", "history_90d")
#: Keys that sort smallest first by default: text A to Z, the soonest funding, the quickest break-even;
#: numbers sort largest first.
ASCENDING_KEYS = frozenset({"symbol", "carry_direction", "next_funding_time", "breakeven_days"})


def sort_value(row: ScanRow, key: str) -> float | str | None:
    if key == "abs_apr":
        return abs(row.apr) if row.apr is not None else None
    if key == "history_90d":  # the 90-day window's prints held as a share of those expected
        window = row.window(90)
        return held_share(window) if window is not None else None
    return getattr(row, key)


def sort_rows(rows: Iterable[ScanRow], key: str = "abs_apr", *, descending: bool = True) -> list[ScanRow]:
    """Sort by a column; unknown values always last, whichever the direction; ties by symbol."""
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort key {key!r}")
    rows = list(rows)  # read twice below: a generator would give its rows to the first pass only
    known = [r for r in rows if sort_value(r, key) is not None]
    unknown = [r for r in rows if sort_value(r, key) is None]
    known.sort(key=lambda r: r.key)
    known.sort(key=lambda r: sort_value(r, key), reverse=descending)  # type: ignore[arg-type,return-value]  # known: values not None, one type per key
    unknown.sort(key=lambda r: r.key)
    return known + unknown


def filter_rows(
    rows: Iterable[ScanRow],
    *,
    min_volume: float | None = None,
    min_abs_apr: float | None = None,
    text: str = "",
) -> list[ScanRow]:
    """Rows passing the filters; a row whose volume or APR is unknown fails a filter on it."""
    needle = text.strip().lower()
    out: list[ScanRow] = []
    for row in rows:
        if min_volume is not None and (row.volume_24h_usd is None or row.volume_24h_usd < min_volume):
            continue
        if min_abs_apr is not None and (row.apr is None or abs(row.apr) < min_abs_apr):
            continue
        if needle and needle not in row.symbol.lower() and needle not in row.exchange.lower():
            continue
        out.append(row)
    return out


def rows_by_base(rows: Iterable[ScanRow]) -> dict[str, list[ScanRow]]:
    grouped: dict[str, list[ScanRow]] = {}
    for row in rows:
        grouped.setdefault(row.base, []).append(row)
    return grouped


def spreads(rows: Iterable[ScanRow], costs: CarryCosts = CarryCosts()) -> list[Spread]:
    """The cross-exchange funding spread of every base asset listed on two or more exchanges, widest
    net first (unknown net last)."""
    found: list[Spread] = []
    for base, group in rows_by_base(rows).items():
        legs = [
            FundingLeg(r.exchange, r.symbol, r.rate_per_hour, r.taker_fee)
            for r in group
            if r.rate_per_hour is not None
        ]
        spread = cross_spread(base, legs, slippage=costs.slippage, hold_days=costs.hold_days)
        if spread is not None:
            found.append(spread)
    found.sort(key=lambda s: (s.net_apr is None, -(s.net_apr or 0.0), s.base))
    return found
