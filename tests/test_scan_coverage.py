"""Coverage: the funding prints a perp's cache holds per window against those its interval calls for,
and the statistics resting on a window with holes marked as such (scan rows, their JSON, the pane's
cells), never shown as if complete. The caches are the ones issue 18 found: OKX's newest 100 of 270
8h prints, Bybit's 1h history with pages missing, a hole in the middle of 90 days."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perptui.domain.coverage import WindowCoverage, expected_prints, window_coverage
from perptui.domain.funding_stats import history_stats, history_stats_many
from perptui.domain.scanner import ScanRow, sort_rows
from perptui.domain.timeframes import DAY_MS, HOUR_MS
from perptui.domain.types import FundingPrint, Market, Ticker
from perptui.presentation.scan import coverage_line, held
from perptui.services.scan import cached_scan
from perptui.services.store import Store
from perptui.ui.panes.scanner.columns import COLUMNS, View, cells

NOW = 1_748_736_000_000  # 2025-06-01T00:00Z, a settlement time of every interval
EX = "okx"


def market(symbol: str, interval_h: float | None) -> Market:
    base = symbol.split("/")[0]
    return Market(EX, symbol, base + "-USDT-SWAP", base, "USDT", "USDT", funding_interval_hours=interval_h)


def prints(symbol: str, interval_h: int, days: int, *, skip: range | None = None) -> list[FundingPrint]:
    """A print every ``interval_h`` hours over the last ``days`` days up to NOW, rate 0.0001; the prints
    ``skip`` counts back from NOW (0 = the newest) are left out."""
    n = days * 24 // interval_h
    return [
        FundingPrint(symbol, NOW - k * interval_h * HOUR_MS, 0.0001)
        for k in reversed(range(n))
        if skip is None or k not in skip
    ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def scan(store: Store, markets: list[Market], series: list[FundingPrint]) -> dict[str, ScanRow]:
    store.upsert_funding(EX, series)
    rows = cached_scan(store, EX, markets, NOW, "test").rows
    return {r.symbol: r for r in rows}


def test_expected_prints_follow_the_interval() -> None:
    assert [expected_prints(d, 8) for d in (7, 30, 90)] == [21, 90, 270]
    assert [expected_prints(d, 1) for d in (7, 30, 90)] == [168, 720, 2160]
    assert expected_prints(7, None) is None and expected_prints(7, 0) is None
    # One print short is complete (the newest may not be out yet); two short is not.
    assert WindowCoverage(7, 20, 21).complete and not WindowCoverage(7, 19, 21).complete
    assert not WindowCoverage(7, 5, None).complete  # nothing can be expected: never called complete
    assert window_coverage(None, 8.0)[1] == WindowCoverage(30, 0, 90)


def test_prints_per_window_are_the_same_in_the_per_series_and_the_many_series_statistics() -> None:
    series = prints("BTC/USDT:USDT", 8, 90, skip=range(100, 130))
    times, rates = [p.time for p in series], [p.rate for p in series]
    one = history_stats(times, rates, NOW)
    many = history_stats_many({"BTC": (times, rates), "EMPTY": ([], [])}, NOW)
    assert one.prints == many["BTC"].prints == {7: 21, 30: 90, 90: 240}
    # 30 prints missing: 240h no held print settles in the 90-day window (less the first print's own 8h).
    assert one.unsettled_ms == many["BTC"].unsettled_ms == {7: 0, 30: 0, 90: 30 * 8 * HOUR_MS}
    assert many["EMPTY"].prints == {7: 0, 30: 0, 90: 0} and many["EMPTY"].unsettled_ms == {}


def test_an_interval_change_is_no_hole(store: Store) -> None:
    """Binance moves a perp from 8h to 4h: 45 days of 8h prints then 45 days of 4h ones are 405 prints,
    all there were, not 405 of the 540 that today's 4h would make over 90 days."""
    sol = market("SOL/USDT:USDT", 4)
    old = [p for p in prints(sol.symbol, 8, 91) if p.time <= NOW - 45 * DAY_MS]
    row = scan(store, [sol], old + prints(sol.symbol, 4, 45))[sol.symbol]
    assert [(c.prints, c.expected, c.complete) for c in row.coverage] == [
        (42, 42, True),
        (180, 180, True),
        (405, 405, True),
    ]
    assert row.incomplete == []


def test_okx_newest_page_only_shows_as_incomplete_beyond_its_reach(store: Store) -> None:
    """OKX served its newest 100 of 270 8h prints: 7d and 30d are whole, 90d holds 100/270."""
    btc = market("BTC/USDT:USDT", 8)
    row = scan(store, [btc], prints(btc.symbol, 8, 90)[-100:])[btc.symbol]
    assert [(c.days, c.prints, c.expected, c.complete) for c in row.coverage] == [
        (7, 21, 21, True),
        (30, 90, 90, True),
        (90, 100, 270, False),
    ]
    assert row.mean_apr_90d is None  # the history does not reach back: no figure at all
    assert row.incomplete == []  # nothing shown rests on the short window
    data = row.as_dict()
    assert data["coverage"]["90d"] == {"prints": 100, "expected": 270, "complete": False}
    assert held(row.coverage[2]) == "37%" and coverage_line(row.coverage).endswith("(incomplete)")


def test_a_hole_inside_the_window_marks_every_statistic_resting_on_it(store: Store) -> None:
    """Bybit 1h: the history reaches back 90 days but pages are missing inside it. The means are still
    computed (sum / days) and would be understated: each is marked, in the row, its JSON and the pane."""
    eth = market("ETH/USDT:USDT", 1)
    # 300 prints missing 10 to 22 days back: inside the 30- and 90-day windows, not the 7-day one.
    row = scan(store, [eth], prints(eth.symbol, 1, 91, skip=range(240, 540)))[eth.symbol]
    assert [(c.prints, c.expected, c.complete) for c in row.coverage] == [
        (168, 168, True),
        (420, 720, False),
        (1860, 2160, False),
    ]
    assert row.mean_apr_30d is not None and row.mean_apr_90d is not None
    assert row.incomplete == [
        "mean_apr_30d",
        "mean_apr_90d",
        "std_apr_30d",
        "pct_positive_30d",
        "zscore_30d",
        "longest_run_30d",
    ]  # no carry: the market states no taker fee
    assert row.as_dict()["incomplete"] == row.incomplete
    shown = dict(zip((c.spec.key for c in COLUMNS), cells(row, View(NOW, 14.0)), strict=True))
    assert shown["7d"][0].endswith("%") and shown["7d"][1] != "muted"  # the 7-day window is whole
    for key in ("30d", "90d", "pos", "z"):
        assert shown[key][0].endswith("*") and shown[key][1] == "muted", key
    assert shown["hist"] == ("86%", "warn")  # 1860 / 2160, never rounded up to look whole


def test_complete_history_is_not_marked_and_sorts_by_coverage(store: Store) -> None:
    full, short = market("BTC/USDT:USDT", 8), market("SOL/USDT:USDT", 8)
    series = prints(full.symbol, 8, 91) + prints(short.symbol, 8, 91, skip=range(30, 60))
    rows = scan(store, [full, short], series)
    assert rows[full.symbol].incomplete == [] and all(c.complete for c in rows[full.symbol].coverage)
    shown = dict(zip((c.spec.key for c in COLUMNS), cells(rows[full.symbol], View(NOW, 14.0)), strict=True))
    assert not any(text.endswith("*") for text, _ in shown.values()) and shown["hist"] == ("100%", "")
    ordered = sort_rows(rows.values(), "history_90d")
    assert [r.symbol for r in ordered] == [full.symbol, short.symbol]


def test_ticker_time_is_the_tickers_and_unknown_never_zero(store: Store) -> None:
    """A ticker cached without a time (an exchange that gives none, before stamping on receipt) is no
    ticker for a time: it never reads as 1970 nor stands in as of a past time."""
    btc, eth = market("BTC/USDT:USDT", 8), market("ETH/USDT:USDT", 8)
    timeless = Ticker(eth.symbol, 0, mark=3_000.0)
    store.insert_tickers(EX, [Ticker(btc.symbol, NOW - 60_000, mark=60_000.0), timeless])
    rows = scan(store, [btc, eth], prints(btc.symbol, 8, 8) + prints(eth.symbol, 8, 8))
    assert rows[btc.symbol].as_dict()["ticker_time"] == NOW - 60_000 and rows[btc.symbol].mark == 60_000.0
    assert rows[eth.symbol].as_dict()["ticker_time"] is None and rows[eth.symbol].mark is None
    assert store.cache_age_ms(EX, "tickers", NOW) == 60_000  # the timeless ticker did not mark 1970


def test_perptui_scan_marks_what_rests_on_an_incomplete_window(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline from a cache holding 90 days of a demo perp's prints with two weeks missing: the table
    marks the figures with `*` and says why under it; the JSON lists them in `incomplete`."""
    from perptui.cli import main
    from tests.cli_helpers import run_json

    db = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(db))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    demo = {m["symbol"]: m for m in run_json(capsys, "markets", "--json")}
    symbol = next(s for s, m in demo.items() if m["funding_interval_hours"] == 8)
    with Store.open(db) as store:
        store.upsert_funding("demo", prints(symbol, 8, 91, skip=range(30, 72)))
    row = run_json(capsys, "scan", "--offline", "--symbols", symbol, "--json")["rows"][0]
    assert row["coverage"]["30d"] == {"prints": 48, "expected": 90, "complete": False}
    assert "mean_apr_30d" in row["incomplete"] and "mean_apr_7d" not in row["incomplete"]
    assert main(["scan", "--offline", "--symbols", symbol]) == 0
    out = capsys.readouterr().out
    assert "%*" in out and "* rests on an incomplete window" in out
