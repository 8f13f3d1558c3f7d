"""Cash-and-carry and cross-exchange spreads, worked by hand (shared/docs/domain.md, "Cash-and-carry"),
and the scanner rows built on them: direction, borrow, round trip, net APR, break-even, unknowns."""

from __future__ import annotations

import pytest

from perptui.domain.carry import FundingLeg, breakeven_days, carry, cross_spread, round_trip_cost
from perptui.domain.funding_stats import FundingHistoryStats
from perptui.domain.scanner import (
    JSON_KEYS,
    SORT_KEYS,
    CarryCosts,
    ScanRow,
    filter_rows,
    scan_row,
    sort_rows,
    spreads,
)
from perptui.domain.types import FundingRate, Market, Ticker

# Spot taker 0.1%, perp taker 0.05%, slippage 10 bp over the four fills: 2 x 0.15% + 0.1% = 0.4%.
SPOT, PERP, SLIP = 0.001, 0.0005, 0.001
COST = 0.004


def test_round_trip_is_four_taker_fills_plus_slippage() -> None:
    assert round_trip_cost(SPOT, PERP, SLIP) == pytest.approx(COST)
    assert round_trip_cost(0.001, 0.0004) == pytest.approx(0.0028)  # no slippage given: none charged


def test_positive_funding_shorts_the_perp_against_spot_without_borrowing() -> None:
    c = carry(0.20, spot_taker=SPOT, perp_taker=PERP, slippage=SLIP, hold_days=30, borrow_apr=0.10)
    assert c is not None
    assert c.direction == "long_spot_short_perp"
    assert c.borrow_apr == 0.0  # long spot needs no borrow
    assert c.round_trip_cost == pytest.approx(COST)
    # 20% a year earned, 0.4% paid once over 30 days = 4.8667% a year.
    assert c.net_apr == pytest.approx(0.20 - 0.004 * 365 / 30)
    assert c.net_apr == pytest.approx(0.151333, abs=1e-6)
    # 0.4% / (20% / 365) = 7.3 days to earn the costs back.
    assert c.breakeven_days == pytest.approx(7.3)


def test_negative_funding_shorts_spot_and_pays_the_borrow() -> None:
    c = carry(-0.30, spot_taker=SPOT, perp_taker=PERP, slippage=SLIP, hold_days=30, borrow_apr=0.10)
    assert c is not None
    assert c.direction == "long_perp_short_spot"
    assert c.funding_apr == -0.30  # the signed APR it was priced on
    assert c.borrow_apr == 0.10
    # |-30%| - 10% borrow = 20% a year earned; the same costs as above.
    assert c.net_apr == pytest.approx(0.30 - 0.10 - 0.004 * 365 / 30)
    assert c.breakeven_days == pytest.approx(0.004 / (0.20 / 365))


def test_a_longer_hold_spreads_the_costs_thinner() -> None:
    short = carry(0.10, spot_taker=SPOT, perp_taker=PERP, slippage=SLIP, hold_days=10)
    long = carry(0.10, spot_taker=SPOT, perp_taker=PERP, slippage=SLIP, hold_days=365)
    assert short is not None and long is not None
    assert short.net_apr == pytest.approx(0.10 - 0.146)  # 0.4% x 365 / 10: a loss
    assert long.net_apr == pytest.approx(0.096)
    assert short.breakeven_days == long.breakeven_days == pytest.approx(14.6)  # the holding period aside


def test_a_carry_that_never_pays_back_has_no_breakeven() -> None:
    # -5% funding earns 5%, but borrowing spot costs 10%: the trade loses every day it is held.
    c = carry(-0.05, spot_taker=SPOT, perp_taker=PERP, slippage=SLIP, borrow_apr=0.10)
    assert c is not None
    assert c.breakeven_days is None
    assert c.net_apr < -0.05
    flat = carry(0.0, spot_taker=SPOT, perp_taker=PERP)
    assert flat is not None and flat.breakeven_days is None and flat.net_apr < 0
    assert breakeven_days(0.004, 0.0) is None and breakeven_days(0.004, -0.1) is None


@pytest.mark.parametrize(
    ("funding", "spot", "perp"), [(None, SPOT, PERP), (0.2, None, PERP), (0.2, SPOT, None)]
)
def test_carry_is_unknown_when_the_apr_or_a_fee_is(
    funding: float | None, spot: float | None, perp: float | None
) -> None:
    assert carry(funding, spot_taker=spot, perp_taker=perp, slippage=SLIP) is None


def test_a_holding_period_of_zero_days_is_refused() -> None:
    with pytest.raises(ValueError, match="above 0 days"):
        carry(0.1, spot_taker=SPOT, perp_taker=PERP, hold_days=0)


# --- cross-exchange ---------------------------------------------------------------------------------


def test_cross_spread_longs_the_lowest_and_shorts_the_highest_per_hour() -> None:
    legs = [
        FundingLeg("binanceusdm", "BTC/USDT:USDT", 0.0001 / 8, 0.0005),  # 0.01% per 8h
        FundingLeg("bybit", "BTC/USDT:USDT", 0.0003 / 8, 0.00055),  # 0.03% per 8h
        FundingLeg("okx", "BTC/USDT:USDT", -0.00002, 0.0005),  # -0.002% per hour
    ]
    s = cross_spread("BTC", legs, slippage=0.001, hold_days=30)
    assert s is not None
    assert (s.long.exchange, s.short.exchange) == ("okx", "bybit")
    spread = (0.0003 / 8 + 0.00002) * 24 * 365  # 0.00005750 per hour = 50.37% a year
    assert s.spread_apr == pytest.approx(spread)
    assert s.spread_apr == pytest.approx(0.5037, abs=1e-4)
    cost = 2 * (0.0005 + 0.00055) + 0.001  # both perps in and out, plus slippage
    assert s.round_trip_cost == pytest.approx(cost)
    assert s.net_apr == pytest.approx(spread - cost * 365 / 30)
    assert s.breakeven_days == pytest.approx(cost / (spread / 365))
    assert s.as_dict()["long_exchange"] == "okx" and s.as_dict()["short_rate_per_hour"] == 0.0003 / 8


def test_cross_spread_needs_two_exchanges_and_both_fees() -> None:
    one = [
        FundingLeg("bybit", "BTC/USDT:USDT", 1e-5, 0.0005),
        FundingLeg("bybit", "BTC/USDC:USDC", 3e-5, 0.0005),
    ]
    assert cross_spread("BTC", one) is None  # two perps of one exchange are not a cross-exchange trade
    s = cross_spread("BTC", [FundingLeg("a", "X", 1e-5, 0.0005), FundingLeg("b", "X", 2e-5, None)])
    assert s is not None
    assert s.spread_apr == pytest.approx(1e-5 * 8760)  # the spread is known
    assert (s.round_trip_cost, s.net_apr, s.breakeven_days) == (None, None, None)  # its cost is not


# --- scanner rows -----------------------------------------------------------------------------------

NOW = 1_748_736_000_000


def market(exchange: str = "binanceusdm", base: str = "BTC", *, interval: float | None = 8.0,
           taker: float | None = 0.0005) -> Market:  # fmt: skip
    return Market(exchange, f"{base}/USDT:USDT", f"{base}USDT", base, "USDT", "USDT",
                  taker_fee=taker, funding_interval_hours=interval)  # fmt: skip


def stats(mean30: float | None, *, last_rate: float | None = None, last_interval: float | None = None):
    return FundingHistoryStats(
        asof=NOW, mean_apr={7: mean30, 30: mean30, 90: mean30}, std_apr_30d=None, pct_positive_30d=None,
        zscore_30d=None, longest_run_30d=None, longest_run_sign_30d=None, prints_30d=0,
        last_rate=last_rate, last_time=None if last_rate is None else NOW - 3_600_000,
        last_interval_h=last_interval,
    )  # fmt: skip


def live(rate: float, interval: float | None, exchange_symbol: str = "BTC/USDT:USDT") -> FundingRate:
    return FundingRate(exchange_symbol, NOW, rate, NOW + 3_600_000, None, interval, 101.0, 100.0)


def test_a_row_prices_the_carry_on_the_30_day_mean_with_the_configured_costs() -> None:
    costs = CarryCosts(spot_taker=SPOT, slippage=SLIP, hold_days=30, borrow_apr=0.10)
    row = scan_row(
        market(), funding=live(0.0001, 8.0), ticker=None, stats=stats(-0.30), as_of=NOW, costs=costs
    )
    assert row.funding_rate == 0.0001 and row.interval_hours == 8.0
    assert row.apr == pytest.approx(0.0001 * 3 * 365)  # 10.95% a year
    assert row.basis == pytest.approx(0.01)  # (101 - 100) / 100
    # The current rate is positive, the 30-day mean negative: the carry follows the mean.
    assert row.carry_direction == "long_perp_short_spot"
    assert row.carry_net_apr == pytest.approx(0.30 - 0.10 - COST * 365 / 30)
    assert list(row.as_dict()) == list(JSON_KEYS)


def test_a_row_without_30_days_of_history_or_a_fee_has_no_carry() -> None:
    no_history = scan_row(market(), funding=live(0.0001, 8.0), ticker=None, stats=stats(None), as_of=NOW)
    no_fee = scan_row(market(taker=None), funding=live(0.0001, 8.0), ticker=None, stats=stats(0.2), as_of=NOW)
    for row in (no_history, no_fee):
        assert (row.carry_direction, row.carry_net_apr, row.breakeven_days) == (None, None, None)
    assert no_history.mean_apr_30d is None and no_fee.mean_apr_30d == 0.2


def test_a_row_as_of_a_past_time_uses_the_last_print_and_the_interval_it_settled() -> None:
    # The market says 8h today; the last print before the as-of time settled a 2h period (SOL, Nov 2022).
    row = scan_row(market(base="SOL", interval=8.0), funding=None, ticker=None,
                   stats=stats(0.1, last_rate=-0.002, last_interval=2.0), as_of=NOW)  # fmt: skip
    assert row.funding_rate == -0.002
    assert row.interval_hours == 2.0 and row.interval_inferred
    assert row.apr == pytest.approx(-0.002 * 12 * 365)  # -876% a year, not the -219% an 8h reading gives
    assert row.predicted_rate is None and row.next_funding_time is None  # not known for a past time
    empty = scan_row(
        market(base="SOL", interval=8.0), funding=None, ticker=None, stats=stats(None), as_of=NOW
    )
    assert empty.funding_rate is None and empty.apr is None and empty.interval_hours == 8.0


def test_a_live_row_without_a_stated_interval_infers_it_from_the_prints() -> None:
    row = scan_row(market(interval=None), funding=live(0.0002, None), ticker=None,
                   stats=stats(0.1, last_rate=0.0001, last_interval=4.0), as_of=NOW)  # fmt: skip
    assert row.funding_rate == 0.0002  # the live rate, not the last print
    assert row.interval_hours == 4.0 and row.interval_inferred
    assert row.apr == pytest.approx(0.0002 * 6 * 365)


def test_open_interest_in_usd_from_contracts_and_the_mark() -> None:
    ticker = Ticker("BTC/USDT:USDT", NOW, last=100.0, mark=100.0, index=99.0, quote_volume_24h=5e6,
                    open_interest=1_000.0)  # fmt: skip
    row = scan_row(market(), funding=None, ticker=ticker, stats=None, as_of=NOW)
    assert row.open_interest_usd == pytest.approx(100_000.0)
    assert row.volume_24h_usd == 5e6 and row.basis == pytest.approx(1 / 99)
    assert row.funding_rate is None and row.mean_apr_7d is None


def _row(exchange: str, base: str, rate: float, interval: float, taker: float | None = 0.0005,
         volume: float | None = 1e6) -> ScanRow:  # fmt: skip
    ticker = None if volume is None else Ticker(f"{base}/USDT:USDT", NOW, quote_volume_24h=volume)
    funding = live(rate, interval, f"{base}/USDT:USDT")
    m = market(exchange, base, interval=interval, taker=taker)
    return scan_row(m, funding=funding, ticker=ticker, stats=None, as_of=NOW)


def test_spreads_compare_rates_per_hour_not_raw_rates() -> None:
    """0.08% per 8h is 0.01% an hour; 0.02% per 1h is 0.02% an hour: the 1h market pays more, although
    its raw rate is four times smaller."""
    rows = [
        _row("binanceusdm", "ETH", 0.0008, 8),
        _row("bybit", "ETH", 0.0002, 1),
        _row("bybit", "XRP", 0.001, 8),
    ]
    found = spreads(rows, CarryCosts(slippage=0.0, hold_days=30))
    assert [s.base for s in found] == ["ETH"]  # XRP is on one exchange only
    s = found[0]
    assert (s.long.exchange, s.short.exchange) == ("binanceusdm", "bybit")
    assert s.spread_apr == pytest.approx((0.0002 - 0.0001) * 8760)
    assert s.round_trip_cost == pytest.approx(2 * (0.0005 + 0.0005))


def test_spreads_are_widest_net_first_and_unknown_net_last() -> None:
    rows = [
        _row("a", "BTC", 0.0001, 8), _row("b", "BTC", 0.0002, 8),
        _row("a", "ETH", 0.0001, 8), _row("b", "ETH", 0.0009, 8),
        _row("a", "SOL", 0.0001, 8, taker=None), _row("b", "SOL", 0.005, 8),
    ]  # fmt: skip
    found = spreads(rows)
    assert [s.base for s in found] == ["ETH", "BTC", "SOL"]
    assert found[-1].net_apr is None and found[-1].spread_apr > found[0].spread_apr


def test_sorting_puts_unknowns_last_either_way_and_accepts_a_generator() -> None:
    rows = [_row("a", "BTC", 0.0001, 8), _row("a", "ETH", -0.0005, 8), _row("a", "SOL", 0.0003, 8),
            _row("a", "XRP", 0.0, 8, volume=None)]  # fmt: skip
    rows.append(scan_row(market("a", "DOGE"), funding=None, ticker=None, stats=None, as_of=NOW))  # no rate
    by_abs = sort_rows(r for r in rows)  # a generator is read once: every row must still come back
    assert [r.base for r in by_abs] == ["ETH", "SOL", "BTC", "XRP", "DOGE"]
    assert [r.base for r in sort_rows(rows, "apr")] == ["SOL", "BTC", "XRP", "ETH", "DOGE"]
    assert [r.base for r in sort_rows(rows, "apr", descending=False)] == ["ETH", "XRP", "BTC", "SOL", "DOGE"]
    assert sort_rows(rows, "volume_24h_usd")[-2:] == sorted(
        [r for r in rows if r.volume_24h_usd is None], key=lambda r: r.key
    )
    assert "abs_apr" in SORT_KEYS and "exchange" not in SORT_KEYS
    with pytest.raises(ValueError, match="unknown sort key"):
        sort_rows(rows, "nonsense")


def test_filters_drop_rows_whose_filtered_value_is_unknown() -> None:
    rows = [_row("a", "BTC", 0.0001, 8, volume=5e6), _row("a", "ETH", -0.0005, 8, volume=1e5),
            _row("a", "XRP", 0.001, 8, volume=None)]  # fmt: skip
    assert [r.base for r in filter_rows(rows, min_volume=1e6)] == ["BTC"]
    assert [r.base for r in filter_rows(rows, min_abs_apr=0.5)] == ["ETH", "XRP"]  # |-54.75%|, 109.5%
    assert [r.base for r in filter_rows(rows, text="et")] == ["ETH"]
    assert filter_rows(rows) == rows
