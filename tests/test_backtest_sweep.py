"""Parameter grids and the process-pool sweep: every combination once, results in the items' order,
the same answers as a plain loop, progress reported once per item, a failing item named in one line."""

from __future__ import annotations

import io
import time
from functools import partial

import numpy as np
import pytest
from rich.console import Console

from perptui.domain.backtest.grid import expand_grid, grid_label, parse_grid
from perptui.domain.errors import UsageError
from perptui.services.backtest_sweep import SweepError, sweep, with_progress_bar

# --- grids ----------------------------------------------------------------------------------------


def test_expand_grid_gives_every_combination_last_key_fastest():
    assert expand_grid({"top_n": [1, 2, 3], "rebalance": ["7d", "30d"]}) == [
        {"top_n": 1, "rebalance": "7d"},
        {"top_n": 1, "rebalance": "30d"},
        {"top_n": 2, "rebalance": "7d"},
        {"top_n": 2, "rebalance": "30d"},
        {"top_n": 3, "rebalance": "7d"},
        {"top_n": 3, "rebalance": "30d"},
    ]
    assert expand_grid({}) == [{}]
    with pytest.raises(UsageError, match="top_n"):
        expand_grid({"top_n": []})
    with pytest.raises(UsageError, match="rebalance"):
        expand_grid({"rebalance": "7d"})


def test_parse_grid_reads_key_equals_values():
    grid = parse_grid(["top_n=1,2,3", "rebalance = 7d, 30d"])
    assert grid == {"top_n": ["1", "2", "3"], "rebalance": ["7d", "30d"]}
    assert len(expand_grid(grid)) == 6
    assert grid_label({"top_n": "1", "rebalance": "7d"}) == "top_n=1 rebalance=7d"
    assert grid_label({}) == "defaults"


@pytest.mark.parametrize(
    "items", [["top_n"], ["=1,2"], ["top_n=1,,2"], ["top_n=1", "top_n=2"], ["top_n=1,1"]]
)
def test_bad_grids_get_one_line(items):
    with pytest.raises(UsageError) as info:
        parse_grid(items)
    assert "\n" not in str(info.value)


# --- sweep: module-level functions, so spawned workers can import them -----------------------------


def score(params: dict) -> float:
    """A small deterministic 'backtest': a seeded random walk's final value for the parameter set."""
    rng = np.random.Generator(np.random.PCG64(params["seed"]))
    return float(np.cumsum(rng.normal(params["drift"], 1.0, 2000))[-1])


def finish_in_reverse(item: int) -> int:
    """Later items sleep less, so they tend to finish first: the output order must not follow."""
    time.sleep(0.02 * (5 - item))
    return item * item


def fail_on_three(item: int) -> int:
    if item == 3:
        raise ValueError("three is\nnot allowed")
    return item


def usage_fail(item: dict) -> None:
    raise UsageError(f"bad top_n {item['top_n']!r}: use a whole number >= 1")


def add(offset: int, item: int) -> int:
    return item + offset


GRID = expand_grid({"seed": [1, 2, 3], "drift": [-0.1, 0.0, 0.1]})


def test_parallel_equals_serial_in_the_items_order():
    serial = [score(p) for p in GRID]
    assert sweep(score, GRID, workers=2) == serial
    assert sweep(score, GRID, workers=1) == serial


def test_order_is_kept_when_items_finish_out_of_order():
    assert sweep(finish_in_reverse, list(range(5)), workers=2) == [0, 1, 4, 9, 16]


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_is_called_once_per_item(workers):
    calls: list[tuple[int, int]] = []
    sweep(score, GRID, workers=workers, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, len(GRID)) for i in range(1, len(GRID) + 1)]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_item_is_named_in_one_line(workers):
    with pytest.raises(SweepError) as info:
        sweep(fail_on_three, [1, 2, 3, 4], workers=workers)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("sweep item 3 of 4 (3) failed: ValueError: three is not allowed")
    assert info.value.exit_code == 1


def test_a_usage_error_in_a_worker_stays_a_usage_error():
    with pytest.raises(SweepError) as info:
        sweep(usage_fail, [{"top_n": "x"}, {"top_n": "y"}], workers=2)
    assert "top_n=" in str(info.value) and "use a whole number" in str(info.value)
    assert info.value.exit_code == UsageError.exit_code


def test_a_partial_of_a_module_function_works_and_a_lambda_is_refused():
    assert sweep(partial(add, 10), [1, 2, 3], workers=2) == [11, 12, 13]
    with pytest.raises(UsageError, match="module-level"):
        sweep(lambda x: x, [1, 2], workers=2)
    assert sweep(lambda x: x + 1, [1], workers=4) == [2]  # one item: no pool, no pickling


def test_no_items_and_bad_workers():
    assert sweep(score, [], workers=2) == []
    with pytest.raises(UsageError):
        sweep(score, GRID, workers=0)


def test_progress_bar_counts_to_the_total():
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=100)
    with with_progress_bar(4, "sweep", console=console) as progress:
        sweep(finish_in_reverse, [1, 2, 3, 4], workers=1, progress=progress)
    text = out.getvalue()
    assert "sweep" in text and "4/4" in text
