"""The default backtest span: four years up to the last closed bar, reaching back to 2021-01-01 so the
named crash windows stay inside a default run."""

from hypothesis import given
from hypothesis import strategies as st

from perptui.domain.backtest.span import default_span
from perptui.domain.backtest.stress import NAMED_WINDOWS
from perptui.domain.timeframes import DAY_MS, parse_utc, timeframe_ms


def test_today_the_default_still_holds_may_2021_luna_and_ftx() -> None:
    since, until = default_span(parse_utc("2026-12-03") + 5 * 3_600_000, "8h")
    assert until == parse_utc("2026-12-03")  # the last closed 8h bar
    assert since == parse_utc("2021-01-01")  # four years back would start after FTX
    assert all(since <= w.start_ms and w.end_ms <= until for w in NAMED_WINDOWS.values())


def test_a_span_ending_before_2025_is_four_years() -> None:
    since, until = default_span(parse_utc("2023-06-01"), "1d")  # --to 2023-06-01 without --from
    assert (since, until) == (parse_utc("2023-06-01") - 4 * 365 * DAY_MS, parse_utc("2023-06-01"))


@given(
    now=st.integers(parse_utc("2019-01-01"), parse_utc("2040-01-01")),
    timeframe=st.sampled_from(["1h", "4h", "8h", "1d"]),
)
def test_the_span_is_on_the_bar_grid_at_least_four_years_and_starts_by_2021(now: int, timeframe: str) -> None:
    since, until = default_span(now, timeframe)
    tf = timeframe_ms(timeframe)
    assert since % tf == 0 and until % tf == 0
    assert until <= now < until + tf
    assert until - since >= 4 * 365 * DAY_MS
    assert since <= parse_utc("2021-01-01")
