"""``--param KEY=VALUE``: the backtest's settings, their defaults (the allocation plan's) and the one-line
messages a trader gets for a typo or a bad value."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perptui.domain.backtest.params import KEYS, BacktestParams, parse_params
from perptui.domain.backtest.strategies import costs_of, schedule_of
from perptui.domain.errors import UsageError
from perptui.domain.plan.config import PlanConfig


def test_defaults_are_the_plans_where_the_plan_has_the_same_setting() -> None:
    plan, p = PlanConfig(capital=1.0), BacktestParams()
    assert p.top_n == plan.neutral_count
    same = [f.name for f in dataclasses.fields(plan) if f.name in KEYS and f.name != "slippage"]
    assert len(same) >= 20
    for name in same:
        assert getattr(p, name) == getattr(plan, name), name
    assert p.cov_lookback_days == plan.lookback_days


def test_pairs_are_parsed_into_typed_values_and_later_pairs_win() -> None:
    p = parse_params(
        ["top_n=3", "rebalance=never", "drift=0.05", "lookback_days=3.5", "Objective=MAX_SHARPE", "top_n=2"]
    )
    assert (p.top_n, p.rebalance, p.drift, p.lookback_days, p.objective) == (
        2,
        "never",
        0.05,
        3.5,
        "max_sharpe",
    )
    assert isinstance(p.top_n, int)
    assert parse_params(["rebalance=21"]).rebalance == 21
    assert parse_params(["rebalance=7D"]).rebalance == "7d"
    assert parse_params(["drift=none"], base=p).drift is None
    assert parse_params([], base=p) == p


def test_as_dict_round_trips_through_the_parser() -> None:
    p = parse_params(["rebalance=30d", "weighting=equal", "neutral_pct=55", "drift=0.1"])
    again = parse_params([f"{k}={'none' if v is None else v}" for k, v in p.as_dict().items()])
    assert again == p
    assert list(p.as_dict()) == list(KEYS)


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("top_m=3", "unknown parameter 'top_m': did you mean top_n?"),
        ("lookback=30", "did you mean lookback_days"),
        ("zzz=1", "known: rebalance, drift"),
        ("top_n", "bad parameter 'top_n': use KEY=VALUE"),
        ("=3", "use KEY=VALUE"),
        ("top_n=x", "top_n=x is not accepted: use a whole number from 0 to 1,000"),
        ("top_n=2.5", "a whole number"),
        ("lookback_days=0", "lookback_days=0 is not accepted: use a number above 0"),
        ("neutral_pct=120", "at most 100"),
        ("min_carry_apr=nan", "use a number"),
        ("rebalance=12x", "use never, a whole number of bars (>= 1) or a duration like 1d, 7d, 30d"),
        ("rebalance=0", "rebalance=0"),
        ("drift=-1", "none or a fraction above 0"),
        (
            "objective=sharpe",
            "one of max_utility, min_variance, max_sharpe, efficient_risk, efficient_return",
        ),
        ("weighting=cap", "one of equal, optimizer"),
        ("covariance=ewma", "one of sample, ledoit_wolf"),
        ("ma_fast=40", "ma_slow=30 must be above ma_fast=40"),
        ("regime_zero_at=1.5", "regime_zero_at=1.5 must be above regime_k=2"),
        ("regime_history_days=10", "at least regime_window_days=30"),
    ],
)
def test_bad_input_gets_one_line_saying_what_is_accepted(pair: str, says: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_params([pair])
    message = str(err.value)
    assert says in message
    assert "\n" not in message


def test_with_checks_values_and_names() -> None:
    p = BacktestParams()
    assert p.with_(top_n=1).top_n == 1
    with pytest.raises(UsageError, match="unknown parameter 'topn'"):
        p.with_(topn=1)
    with pytest.raises(UsageError, match="leverage_cap"):
        p.with_(leverage_cap=-1.0)
    with pytest.raises(UsageError, match="top_n"):
        p.with_(top_n=True)


@given(
    st.sampled_from(["never", "1", "3", "8h", "1d", "7d", "30d", "2w"]), st.sampled_from(["1h", "4h", "8h"])
)
def test_rebalance_durations_become_whole_bars(text: str, timeframe: str) -> None:
    schedule = schedule_of(parse_params([f"rebalance={text}"]), timeframe)
    bar_h = int(timeframe[:-1])
    if text == "never":
        assert schedule.every_bars is None
    elif text.isdigit():
        assert schedule.every_bars == int(text)
    else:
        hours = {"h": 1, "d": 24, "w": 168}[text[-1]] * int(text[:-1])
        assert schedule.every_bars * bar_h == hours


def test_a_rebalance_that_is_not_whole_bars_is_refused() -> None:
    with pytest.raises(UsageError, match="rebalance=12h is not a whole number of 8h bars"):
        schedule_of(parse_params(["rebalance=12h"]), "8h")


def test_costs_and_drift_reach_the_engine() -> None:
    p = parse_params(["perp_taker=0.0004", "spot_taker=0.00075", "slippage=0.0002", "drift=0.05"])
    costs = costs_of(p)
    assert (costs.perp_taker, costs.spot_taker, costs.slippage) == (0.0004, 0.00075, 0.0002)
    assert schedule_of(p, "8h").drift == 0.05
