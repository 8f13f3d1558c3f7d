"""Monte Carlo: the stationary block bootstrap is reproducible with its seed, draws blocks of the asked
mean length with wrap-around, keeps the sample's mean; its percentiles are ordered; paths whose answer
is known (every day the same return) give it. Scenarios replay today's book through history by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.backtest.montecarlo import (
    DailyReturns,
    bootstrap_indices,
    monte_carlo,
    monte_carlo_of,
    resample_returns,
    scenario_replay,
    worst_windows,
)
from perptui.domain.backtest.stress import window
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, HOUR_MS, parse_utc
from tests.test_backtest_metrics import grid, layer, result_of

SAMPLE = np.random.Generator(np.random.PCG64(42)).normal(0.0005, 0.03, 400)


def test_same_seed_same_paths_other_seed_other_paths():
    a = monte_carlo(SAMPLE, capital=1000.0, n_paths=500, seed=7, drawdown_limit=0.2)
    b = monte_carlo(SAMPLE, capital=1000.0, n_paths=500, seed=7, drawdown_limit=0.2)
    c = monte_carlo(SAMPLE, capital=1000.0, n_paths=500, seed=8, drawdown_limit=0.2)
    assert np.array_equal(a.final_equity, b.final_equity)
    assert np.array_equal(a.max_drawdown, b.max_drawdown)
    assert np.array_equal(a.fan, b.fan)
    assert a.prob_drawdown_limit == b.prob_drawdown_limit
    assert not np.array_equal(a.final_equity, c.final_equity)
    assert a.as_dict() == b.as_dict()


def test_reproducible_across_chunks(monkeypatch):
    """Paths drawn in several chunks (a long horizon) are still one seeded sequence: same answer twice."""
    monkeypatch.setattr("perptui.domain.backtest.montecarlo._CHUNK_CELLS", 1000)
    a = monte_carlo(SAMPLE, capital=1.0, n_paths=50, seed=3)
    b = monte_carlo(SAMPLE, capital=1.0, n_paths=50, seed=3)
    assert np.array_equal(a.fan, b.fan)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(1.0, 30.0))
def test_percentiles_are_ordered(seed, block):
    m = monte_carlo(SAMPLE, capital=1000.0, n_paths=200, seed=seed, block_days=block, drawdown_limit=0.3)
    assert np.all(np.diff(m.final_equity) >= 0)
    assert np.all(np.diff(m.max_drawdown) >= 0)
    assert np.all((m.max_drawdown >= 0) & (m.max_drawdown <= 1))
    assert np.all(np.diff(m.fan, axis=0) >= 0)
    assert np.all(m.fan[:, 0] == 1000.0)
    assert m.fan_days[0] == 0 and m.fan_days[-1] == m.horizon_days == len(SAMPLE)
    assert m.fan[:, -1] == pytest.approx(m.final_equity)
    assert 0.0 <= m.prob_drawdown_limit <= 1.0


def test_the_bootstrap_keeps_the_samples_mean():
    """Returns rising from 0 to 1% across the sample: every day must be drawn equally often (wrap-around)
    for the resampled mean to match the sample's 0.5%; a sampler favouring early or late days misses."""
    sample = np.linspace(0.0, 0.01, 300)
    paths = resample_returns(sample, n_paths=4000, horizon_days=300, block_days=20, seed=11)
    assert paths.shape == (4000, 300)
    assert paths.mean() == pytest.approx(sample.mean(), abs=1e-4)
    counts = np.bincount(np.searchsorted(sample, paths.ravel()), minlength=300)
    assert counts.min() > 0.8 * counts.mean() and counts.max() < 1.2 * counts.mean()


@pytest.mark.parametrize("block", [1.0, 5.0, 20.0])
def test_blocks_have_the_asked_mean_length_and_wrap_around(block):
    n = 50
    idx = bootstrap_indices(n, 2000, 400, block, np.random.Generator(np.random.PCG64(5)))
    assert idx.min() == 0 and idx.max() == n - 1
    step_on = (np.diff(idx, axis=1) % n) == 1
    # A day continues its block with probability 1 - 1/block (a new block may also land on the next day).
    expected = (1 - 1 / block) + (1 / block) / n
    assert step_on.mean() == pytest.approx(expected, abs=0.01)
    wrapped = (idx[:, :-1] == n - 1) & (idx[:, 1:] == 0)
    assert block == 1.0 or wrapped.any()


def test_the_same_return_every_day_gives_one_answer():
    up = monte_carlo(np.full(100, 0.01), capital=1000.0, n_paths=300, horizon_days=50, drawdown_limit=0.1)
    assert up.final_equity == pytest.approx(np.full(5, 1000 * 1.01**50))
    assert np.all(up.max_drawdown == 0) and up.prob_drawdown_limit == 0.0 and up.prob_loss == 0.0
    down = monte_carlo(np.full(100, -0.01), capital=1000.0, n_paths=300, horizon_days=50, drawdown_limit=0.3)
    assert down.max_drawdown == pytest.approx(np.full(5, 1 - 0.99**50))
    assert down.prob_drawdown_limit == 1.0 and down.prob_loss == 1.0
    assert monte_carlo(np.full(100, -0.01), capital=1.0, horizon_days=50).prob_drawdown_limit is None


def test_a_ruinous_day_ruins_the_paths_that_draw_it():
    sample = np.r_[np.full(9, 0.01), -1.0]
    m = monte_carlo(
        sample, capital=100.0, n_paths=500, horizon_days=30, block_days=1, seed=1, drawdown_limit=1.0
    )
    assert m.final_equity[0] == 0.0
    assert m.prob_drawdown_limit == pytest.approx(1 - 0.9**30, abs=0.05)


def test_monte_carlo_of_a_result_uses_its_daily_returns_and_capital():
    equity = 1000 * np.cumprod(np.r_[1.0, 1 + SAMPLE[:60]])
    result = result_of(grid(61), layer("carry", equity))
    m = monte_carlo_of(result, n_paths=100, seed=1)
    assert m.horizon_days == 60 and m.capital == 1000.0
    direct = monte_carlo(equity[1:] / equity[:-1] - 1, capital=1000.0, n_paths=100, seed=1)
    assert m.final_equity == pytest.approx(direct.final_equity)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"returns": np.array([0.01])},
        {"returns": np.array([0.01, np.nan])},
        {"returns": SAMPLE, "n_paths": 0},
        {"returns": SAMPLE, "block_days": 0.5},
        {"returns": SAMPLE, "drawdown_limit": 15.0},
        {"returns": SAMPLE, "horizon_days": 0},
    ],
)
def test_bad_monte_carlo_input_gets_one_line(kwargs):
    with pytest.raises(UsageError) as info:
        monte_carlo(capital=1.0, **kwargs)
    assert "\n" not in str(info.value)


# --- scenarios -------------------------------------------------------------------------------------


def test_daily_returns_from_8h_closes():
    """Closes at 08, 16 and 24:00 of two days: each day's close is its 00:00 close."""
    t0 = parse_utc("2024-01-01")
    close_times = t0 + 8 * HOUR_MS * np.arange(1, 7)
    closes = np.array([[1.0, 10.0], [2.0, 10.0], [100.0, 10.0], [3.0, 11.0], [4.0, 12.0], [110.0, np.nan]])
    daily = DailyReturns.from_closes(close_times, ("A", "B"), closes)
    assert list(daily.times) == [t0 + 2 * DAY_MS]
    assert daily.returns[0, 0] == pytest.approx(0.1)
    assert np.isnan(daily.returns[0, 1])


T1 = parse_utc("2022-11-01")


def book_history() -> DailyReturns:
    """Ten days (ending 2 to 11 Nov 2022): A falls 10% on day 4 and 20% on day 8; B rises 5% on day 4;
    C has no returns before day 6."""
    r = np.zeros((10, 3))
    r[3, 0], r[3, 1] = -0.10, 0.05
    r[7, 0] = -0.20
    r[8, 0] = 0.10
    r[:5, 2] = np.nan
    return DailyReturns(T1 + DAY_MS * np.arange(1, 11), ("A", "B", "C"), r)


def test_a_named_window_replays_todays_book():
    """Long 1,000 of A, short 400 of B through days 3-5: A -10% (-100), B +5% (-20): -120."""
    w = window("crash", "2022-11-03", "2022-11-05")
    (s,) = scenario_replay({"A": 1000.0, "B": -400.0}, book_history(), [w], equity=2000.0, worst=0)
    assert s.pnl_path == pytest.approx([0.0, 0.0, -120.0, -120.0])
    assert s.pnl == pytest.approx(-120.0) and s.drawdown == pytest.approx(120.0)
    assert s.drawdown_pct == pytest.approx(0.06)
    assert (s.start_ms, s.end_ms) == (parse_utc("2022-11-03"), parse_utc("2022-11-06"))
    assert s.missing == () and s.note is None


def test_worst_windows_of_the_books_history_do_not_overlap():
    """Long 1,000 of A: the worst 2-day window holds day 8 (-20%), the next one day 4 (-10%)."""
    scenarios = scenario_replay({"A": 1000.0}, book_history(), [], worst=2, worst_days=2)
    assert [s.pnl for s in scenarios] == pytest.approx([-200.0, -100.0])
    assert scenarios[0].name == "worst 2d #1 (2022-11-07 to 2022-11-08)"
    assert scenarios[0].drawdown_pct is None
    starts = sorted(s.start_ms for s in scenarios)
    assert starts[1] - starts[0] >= 2 * DAY_MS


def test_worst_windows_skip_days_a_held_symbol_has_no_return():
    """C has no returns on days 1-5, so day 4's fall of A cannot be a candidate while C is held."""
    scenarios = scenario_replay({"A": 1000.0, "C": 10.0}, book_history(), [], worst=3, worst_days=2)
    assert all(s.start_ms >= T1 + 5 * DAY_MS for s in scenarios)
    # The worst is days 7-8 (A -20%); the only window left that does not overlap it is days 9-10 (+10%).
    assert [s.pnl for s in scenarios] == pytest.approx([-200.0, 100.0])


def test_missing_days_in_a_named_window_count_flat_and_are_named():
    w = window("early", "2022-11-01", "2022-11-10")
    (s,) = scenario_replay({"A": 1000.0, "C": 10.0}, book_history(), [w], worst=0)
    assert s.missing == ("C",)
    assert "C" in s.note
    assert s.pnl == pytest.approx(1000 * (0.9 * 0.8 * 1.1 - 1))


def test_scenarios_outside_the_history_and_unknown_symbols():
    w = window("may_2021", "2021-05-10", "2021-05-24")
    (s,) = scenario_replay({"A": 1.0}, book_history(), [w], worst=0)
    assert s.pnl is None and s.note == "outside the history"
    with pytest.raises(UsageError, match="ZZZ"):
        scenario_replay({"ZZZ": 1.0}, book_history(), [w])


def test_worst_windows_picks_in_order():
    assert worst_windows(np.array([0.0, -5.0, -4.0, 1.0, -3.0, np.nan]), 3, 2) == [1, 4]
    assert worst_windows(np.array([np.nan, np.nan]), 2, 1) == []
