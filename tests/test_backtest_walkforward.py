"""Walk-forward on synthetic strategies whose best parameters are known: it keeps the in-sample best,
reports out-of-sample as it came, chains the folds' equity, and warns when a parameter set shines only on
the data it was chosen on."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from perptui.domain.backtest.grid import expand_grid
from perptui.domain.backtest.metrics import metrics_of
from perptui.domain.backtest.walkforward import FoldSpan, overfit_warning, plan_folds, walk_forward
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, parse_utc

START = parse_utc("2023-01-01")
IS_DAYS, OOS_DAYS = 30, 10


def path(start: int, end: int, mean_of_day) -> tuple[np.ndarray, np.ndarray]:
    """Daily points from ``start`` to ``end``: each day returns ``mean_of_day(day)`` plus a fixed
    wiggle of that calendar day (the same day gives the same wiggle in every window)."""
    days = (end - start) // DAY_MS
    times = start + DAY_MS * np.arange(days + 1, dtype=np.int64)
    day = times[1:] // DAY_MS
    r = np.array([mean_of_day(int(d)) for d in day]) + 0.01 * np.sin(day * 1.7)
    return times, 1000.0 * np.cumprod(np.r_[1.0, 1.0 + r])


def test_plan_folds_tile_the_run_with_whole_folds():
    folds = plan_folds(START, START + 100 * DAY_MS, IS_DAYS, OOS_DAYS)
    assert len(folds) == 7  # 30 + 7 x 10 = 100 days
    assert folds[0] == FoldSpan(START, START + 30 * DAY_MS, START + 30 * DAY_MS, START + 40 * DAY_MS)
    assert all(b.oos_start == a.oos_end for a, b in itertools.pairwise(folds))
    assert folds[-1].oos_end == START + 100 * DAY_MS
    assert len(plan_folds(START, START + 109 * DAY_MS, IS_DAYS, OOS_DAYS)) == 7  # a 9-day tail is not tested
    with pytest.raises(UsageError, match="at least 40 days"):
        plan_folds(START, START + 39 * DAY_MS, IS_DAYS, OOS_DAYS)
    with pytest.raises(UsageError):
        plan_folds(START, START + 100 * DAY_MS, 0, OOS_DAYS)


def test_each_fold_keeps_the_in_sample_best_and_reports_its_out_of_sample_run():
    """Set k drifts up 0.5% a day (the others 0) in the 50-day regimes where (day // 50) % 3 == k - 1:
    the winner changes with the regime; each fold's out-of-sample result is that set's own run, good or
    bad (fold 3 keeps k = 1 while the regime has just turned to k = 2)."""

    def evaluate(params, start, end):
        return path(start, end, lambda d: 0.005 if (d // 50) % 3 == params["k"] - 1 else 0.0)

    grid = expand_grid({"k": [1, 2, 3]})
    end = START + 100 * DAY_MS
    wf = walk_forward(evaluate, grid, start_ms=START, end_ms=end, in_sample_days=30, out_of_sample_days=10)
    assert len(wf.folds) == 7
    for fold in wf.folds:
        sharpes = [metrics_of(*evaluate(p, fold.span.is_start, fold.span.is_end)).sharpe for p in grid]
        assert fold.in_sample_sharpes == pytest.approx(sharpes)
        assert fold.choice == int(np.argmax(sharpes))
        assert fold.params == grid[fold.choice]
        oos = metrics_of(*evaluate(fold.params, fold.span.oos_start, fold.span.oos_end))
        assert fold.out_of_sample.total_return == pytest.approx(oos.total_return)
        assert fold.out_of_sample.sharpe == pytest.approx(oos.sharpe)
    assert [f.choice for f in wf.folds] == [0, 0, 0, 1, 1, 1, 1]
    assert wf.folds[2].out_of_sample.total_return < 0.01 < wf.folds[0].out_of_sample.total_return


def test_the_stitched_equity_chains_the_folds():
    def evaluate(params, start, end):
        return path(start, end, lambda d: 0.001 * params["k"])

    grid = [{"k": 1}, {"k": 2}]
    wf = walk_forward(
        evaluate,
        grid,
        start_ms=START,
        end_ms=START + 70 * DAY_MS,
        in_sample_days=30,
        out_of_sample_days=10,
        capital=5000.0,
    )
    assert wf.equity[0] == 5000.0
    assert wf.times[0] == START + 30 * DAY_MS and wf.times[-1] == START + 70 * DAY_MS
    assert np.all(np.diff(wf.times) == DAY_MS)  # one point per day, none repeated at the joins
    chained = np.prod([1 + f.out_of_sample.total_return for f in wf.folds])
    assert wf.equity[-1] == pytest.approx(5000.0 * chained)
    assert wf.out_of_sample.total_return == pytest.approx(chained - 1)
    assert wf.out_of_sample_sharpe == wf.out_of_sample.sharpe
    assert all(f.params == {"k": 2} for f in wf.folds)
    assert wf.overfit_warning is None  # the same drift in and out of sample


def test_a_set_that_shines_only_in_sample_triggers_the_warning():
    """'fit' earns 1% a day on any in-sample window and loses 0.5% a day out of sample (it was fitted
    to noise); 'plain' earns 0.1% everywhere. 'fit' wins every fold and the warning says so."""

    def evaluate(params, start, end):
        in_sample = end - start == IS_DAYS * DAY_MS
        drift = {"fit": 0.01 if in_sample else -0.005, "plain": 0.001}[params["name"]]
        return path(start, end, lambda d: drift)

    grid = [{"name": "plain"}, {"name": "fit"}]
    wf = walk_forward(
        evaluate,
        grid,
        start_ms=START,
        end_ms=START + 90 * DAY_MS,
        in_sample_days=IS_DAYS,
        out_of_sample_days=OOS_DAYS,
    )
    assert all(f.params == {"name": "fit"} for f in wf.folds)
    assert wf.in_sample_sharpe > 0.5
    assert wf.out_of_sample_sharpe < 0
    assert wf.out_of_sample.total_return < 0  # reported as it came, not the in-sample story
    assert wf.overfit_warning is not None and "overfitting" in wf.overfit_warning


def test_ties_keep_the_first_set_and_unknown_sharpes_never_win():
    def same(params, start, end):
        return path(start, end, lambda d: 0.001)

    wf = walk_forward(
        same,
        [{"a": 1}, {"a": 2}],
        start_ms=START,
        end_ms=START + 40 * DAY_MS,
        in_sample_days=30,
        out_of_sample_days=10,
    )
    assert wf.folds[0].choice == 0

    def flat_first(params, start, end):
        times, equity = path(start, end, lambda d: 0.0)
        return (times, np.full(len(times), 1000.0)) if params["a"] == 1 else (times, equity)

    wf = walk_forward(
        flat_first,
        [{"a": 1}, {"a": 2}],
        start_ms=START,
        end_ms=START + 40 * DAY_MS,
        in_sample_days=30,
        out_of_sample_days=10,
    )
    assert wf.folds[0].in_sample_sharpes[0] is None
    assert wf.folds[0].choice == 1

    def all_flat(params, start, end):
        times = start + DAY_MS * np.arange((end - start) // DAY_MS + 1)
        return times, np.full(len(times), 1000.0)

    wf = walk_forward(
        all_flat,
        [{"a": 1}, {"a": 2}],
        start_ms=START,
        end_ms=START + 40 * DAY_MS,
        in_sample_days=30,
        out_of_sample_days=10,
    )
    assert wf.folds[0].choice == 0 and wf.folds[0].note is not None
    assert wf.in_sample_sharpe is None and wf.overfit_warning is None


def test_map_jobs_runs_each_phase_in_one_batch():
    calls: list[int] = []

    def evaluate(params, start, end):
        return path(start, end, lambda d: 0.001 * params["k"])

    def batch(jobs):
        calls.append(len(jobs))
        return [evaluate(*job) for job in jobs]

    grid = expand_grid({"k": [1, 2, 3]})
    kwargs = {
        "start_ms": START,
        "end_ms": START + 60 * DAY_MS,
        "in_sample_days": 30,
        "out_of_sample_days": 10,
    }
    batched = walk_forward(evaluate, grid, map_jobs=batch, **kwargs)
    serial = walk_forward(evaluate, grid, **kwargs)
    assert calls == [3 * 3, 3]  # three folds x three sets in sample, then one set per fold
    assert np.array_equal(batched.equity, serial.equity)
    assert batched.as_dict() == serial.as_dict()


def test_an_empty_path_is_a_one_line_error():
    with pytest.raises(UsageError) as info:
        walk_forward(
            lambda p, s, e: (np.empty(0), np.empty(0)),
            [{"top_n": 2}],
            start_ms=START,
            end_ms=START + 40 * DAY_MS,
            in_sample_days=30,
            out_of_sample_days=10,
        )
    assert "top_n=2" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(UsageError):
        walk_forward(
            lambda p, s, e: None,
            [],
            start_ms=START,
            end_ms=START + 40 * DAY_MS,
            in_sample_days=30,
            out_of_sample_days=10,
        )


@pytest.mark.parametrize(
    ("is_sharpe", "oos_sharpe", "warned"),
    [
        (1.0, 0.4, True),  # fell below half
        (1.0, 0.6, False),
        (0.3, -0.1, True),  # the sign flipped
        (0.3, 0.1, False),  # a weak in-sample result: no claim to test
        (-0.5, -1.0, False),
        (None, 0.1, False),
        (2.0, None, False),
    ],
)
def test_the_overfitting_rule(is_sharpe, oos_sharpe, warned):
    assert (overfit_warning(is_sharpe, oos_sharpe) is not None) == warned
