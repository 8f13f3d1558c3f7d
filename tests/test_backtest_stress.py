"""Stress windows: the named crashes' dates, parsing any dates, and each window measured per layer and
for the book on a hand-made run (return, drawdown, the funding and fees booked inside it)."""

from __future__ import annotations

import numpy as np
import pytest

from perptui.domain.backtest.engine import run_backtest
from perptui.domain.backtest.stress import (
    NAMED_WINDOWS,
    parse_window,
    stress_metrics,
    windows_of,
)
from perptui.domain.backtest.types import KIND_CLOSE, KIND_TRADE, Costs, FillLedger, FundingLedger, Schedule
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, HOUR_MS, parse_utc
from tests.backtest_data import T0, FixedStrategy, always, book, hand_history
from tests.test_backtest_metrics import grid, layer, result_of

NOV1 = parse_utc("2022-11-01")


def test_named_windows_are_the_three_crashes_dates_included():
    assert list(NAMED_WINDOWS) == ["may_2021", "luna_2022", "ftx_2022"]
    may = NAMED_WINDOWS["may_2021"]
    assert may.start_ms == parse_utc("2021-05-10")
    assert may.end_ms == parse_utc("2021-05-25")
    assert (may.first_date, may.last_date) == ("2021-05-10", "2021-05-24")
    assert NAMED_WINDOWS["luna_2022"].end_ms == parse_utc("2022-06-21")
    assert NAMED_WINDOWS["ftx_2022"].start_ms == parse_utc("2022-11-06")
    assert windows_of(None) == tuple(NAMED_WINDOWS.values())


def test_parse_window_takes_dates_or_a_name():
    w = parse_window("2024-03-01:2024-03-15")
    assert (w.name, w.start_ms, w.end_ms) == (
        "2024-03-01:2024-03-15",
        parse_utc("2024-03-01"),
        parse_utc("2024-03-16"),
    )
    assert parse_window("ftx_2022") is NAMED_WINDOWS["ftx_2022"]
    assert (
        parse_window("2024-03-01:2024-03-01").end_ms - parse_window("2024-03-01:2024-03-01").start_ms
        == DAY_MS
    )


@pytest.mark.parametrize("text", ["2024-03-15:2024-03-01", "march", "2024-03-01", "2024-03-01:2024-13-01"])
def test_bad_windows_get_one_line(text):
    with pytest.raises(UsageError) as info:
        parse_window(text)
    assert "\n" not in str(info.value)
    assert text in str(info.value)


def run_through_november_2022():
    """Daily points 1-30 Nov 2022. carry: +10 a day from 1,000; trend: 1,000 falling 10% on 10 Nov then
    back to 1,000 on 20 Nov. Funding and fills on both sides of the FTX window's edges."""
    times = grid(30, DAY_MS, start=NOV1)
    carry = 1000.0 + 10.0 * np.arange(30)
    trend = np.full(30, 1000.0)
    trend[9:19] = 900.0  # the closes of 9..18 Nov; back at 19 Nov's close (20 Nov 00:00)
    start, end = parse_utc("2022-11-06"), parse_utc("2022-11-23")
    f_time = np.array([start - 12 * HOUR_MS, start, end - 8 * HOUR_MS, end, start + DAY_MS], np.int64)
    f_layer = np.array([0, 0, 0, 0, 1], np.int8)
    f_amount = np.array([1.0, 2.0, 4.0, 8.0, -16.0])
    funding = FundingLedger(
        time=f_time,
        symbol=np.zeros(5, np.int64),
        qty=np.full(5, -1.0),
        mark=np.ones(5),
        rate=f_amount,
        amount=f_amount,
        layer=f_layer,
    )
    # Trades at a bar's open count from the window's first point; closes (stamped with the close whose
    # equity holds them) count up to and including its last point.
    x_time = np.array(
        [start - DAY_MS, start + 3 * DAY_MS, start + 4 * DAY_MS, start, end, start, end], np.int64
    )
    fills = FillLedger(
        time=x_time,
        symbol=np.zeros(7, np.int64),
        leg=np.zeros(7, np.int8),
        qty=np.ones(7),
        price=np.ones(7),
        fee=np.array([0.5, 0.25, 0.125, 1.0, 2.0, 4.0, 8.0]),
        layer=np.array([1, 1, 0, 0, 0, 0, 0], np.int8),
        kind=np.array([KIND_TRADE] * 3 + [KIND_CLOSE] * 2 + [KIND_TRADE] * 2, np.int8),
    )
    return result_of(times, layer("carry", carry), layer("trend", trend), funding=funding, fills=fills)


def test_a_window_inside_the_run_per_layer_and_total():
    result = run_through_november_2022()
    (row,) = stress_metrics(result, [NAMED_WINDOWS["ftx_2022"]])
    assert row.note is None
    assert (row.covered_start, row.covered_end) == (parse_utc("2022-11-06"), parse_utc("2022-11-23"))
    carry, trend = row.layers["carry"], row.layers["trend"]
    # Points 6 Nov 00:00 (index 5: 1,050) and 23 Nov 00:00 (index 22: 1,220).
    assert carry.total_return == pytest.approx(1220 / 1050 - 1)
    assert carry.max_drawdown == 0.0
    assert carry.funding_pnl == 6.0  # the prints at the start and 8 h before the end; not 5 Nov or 23 Nov
    assert carry.fees == 0.125 + 2.0 + 4.0  # the close at the end and the trade at the start
    assert trend.total_return == pytest.approx(0.0)
    assert trend.max_drawdown == pytest.approx(0.1)
    assert trend.worst_day == pytest.approx(-0.1)
    assert trend.worst_day_time == parse_utc("2022-11-10")
    assert trend.funding_pnl == -16.0 and trend.fees == 0.25
    assert row.total.total_return == pytest.approx((1220 + 1000) / (1050 + 1000) - 1)
    assert row.total.funding_pnl == -10.0 and row.total.fees == 0.375 + 6.0
    d = row.as_dict()
    assert d["first_date"] == "2022-11-06" and d["last_date"] == "2022-11-22"
    assert set(d["layers"]) == {"carry", "trend"}
    assert set(d["total"]) == {
        "total_return",
        "max_drawdown",
        "funding_pnl",
        "fees",
        "worst_day",
        "worst_day_time",
    }


def test_windows_outside_the_run_say_so():
    result = run_through_november_2022()
    rows = stress_metrics(result, windows_of(["may_2021", "luna_2022", "2023-01-01:2023-01-31"]))
    assert [row.note for row in rows] == ["outside the run"] * 3
    assert all(row.total is None and row.layers == {} for row in rows)
    assert rows[0].as_dict()["total"] is None


def test_a_window_the_run_covers_in_part_is_measured_on_that_part():
    result = run_through_november_2022()
    (row,) = stress_metrics(result, [parse_window("2022-10-20:2022-11-05")])
    assert row.note is not None and "covers only" in row.note
    assert row.covered_start == NOV1
    assert row.layers["carry"].total_return == pytest.approx(1050 / 1000 - 1)
    assert row.layers["carry"].funding_pnl == 1.0


def test_on_the_engine_a_windows_funding_and_fees_are_its_equity_change_at_flat_prices():
    """The engine's own ledgers: prices never move (no slippage), so every layer's equity change over a
    window is exactly its funding minus its fees. Prints at each 8h open and inside bars, trades every
    third bar, B's market stopping (a close fill stamped with its last close, 21 Jan 00:00): windows
    before, at and after that close, and adjacent windows adding up to the whole."""
    h8, n = 8 * HOUR_MS, 90
    opens = np.full((n, 2), 100.0)
    opens[60:, 1] = np.nan
    prints = [(T0 + i * h8, c, 0.0001 * (1 + c)) for i in range(n) for c in (0, 1)]
    prints += [(T0 + i * h8 + 4 * HOUR_MS, 0, -0.0002) for i in range(0, n, 5)]
    history = hand_history(["A/USDT:USDT", "B/USDT:USDT"], opens, close=opens, funding=prints)
    carry = FixedStrategy(lambda k: book([-0.5 if (k // 9) % 2 == 0 else -0.3, -0.4]), "carry")
    result = run_backtest(
        history,
        [(carry, 1000.0), (always(book([0.6, 0.0]), "trend"), 500.0)],
        costs=Costs(perp_taker=0.001, spot_taker=0.001, slippage=0.0),
        schedule=Schedule(every_bars=3),
    )
    assert np.count_nonzero(result.fills.kind == KIND_CLOSE) == 1
    texts = [
        "2021-01-03:2021-01-05",
        "2021-01-20:2021-01-20",
        "2021-01-21:2021-01-21",
        "2021-01-01:2021-01-30",
    ]
    rows = stress_metrics(result, windows_of(texts))
    for row in rows:
        assert row.note is None
        a, b = np.searchsorted(result.times, [row.covered_start, row.covered_end])
        for path in result.layers:
            stats = row.layers[path.name]
            change = path.equity[b] - path.equity[a]
            assert change == pytest.approx(stats.funding_pnl - stats.fees, abs=1e-9)
    whole = rows[-1]
    assert whole.total.funding_pnl == pytest.approx(result.funding_pnl)
    assert whole.total.fees == pytest.approx(result.fees)
    halves = stress_metrics(result, windows_of(["2021-01-01:2021-01-20", "2021-01-21:2021-01-30"]))
    assert sum(row.total.fees for row in halves) == pytest.approx(result.fees)
    assert sum(row.total.funding_pnl for row in halves) == pytest.approx(result.funding_pnl)
