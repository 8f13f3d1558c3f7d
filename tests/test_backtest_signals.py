"""The backtest's vectorised trend signals equal the allocation plan's at every bar: row t of the grid is
``plan.signals`` applied to the asset's closes up to bar t (its own bars, gaps dropped), NaN where the
plan gives None or the asset has no close at t. A trader relies on the backtest trading exactly the
signals the allocation pane shows."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.backtest.signals_vec import donchian, ma_crossover, momentum, signal_grid
from perptui.domain.plan.signals import donchian as plan_donchian
from perptui.domain.plan.signals import ma_crossover as plan_ma
from perptui.domain.plan.signals import momentum as plan_momentum
from perptui.domain.plan.signals import signals as plan_signals
from tests.backtest_data import binance_history
from tests.conftest import BINANCE_DATA

#: The module (``perptui.domain.plan`` exports a function of the same name).
plan_module = importlib.import_module("perptui.domain.plan.signals")


@contextmanager
def _donchian_once() -> Iterator[Callable[[np.ndarray, int], float | None]]:
    """The plan's ``donchian``, remembering its last answer: ``signals`` asks it again for the closes just
    asked about, and each call walks the whole history (the grid's reference is quadratic in the bars).
    The pure function's own answer either way; the plan's ``signals`` still composes it."""
    last: list[tuple[bytes, int, float | None]] = []

    def donchian_once(closes: np.ndarray, window: int) -> float | None:
        key = np.asarray(closes, dtype=float).tobytes()
        if last and last[0][0] == key and last[0][1] == window:
            return last[0][2]
        value = plan_donchian(closes, window)
        last[:] = [(key, window, value)]
        return value

    with mock.patch.object(plan_module, "donchian", donchian_once):
        yield donchian_once


def _plan_grid(closes: np.ndarray, fast: int, slow: int, window: int, lookback: int) -> dict[str, np.ndarray]:
    """The plan's functions bar by bar on each column's closes so far (NaN dropped)."""
    with _donchian_once() as plan_dc:
        return _plan_grid_of(closes, fast, slow, window, lookback, plan_dc)


def _plan_grid_of(
    closes: np.ndarray,
    fast: int,
    slow: int,
    window: int,
    lookback: int,
    plan_dc: Callable[[np.ndarray, int], float | None],
) -> dict[str, np.ndarray]:
    t, n = closes.shape
    out = {name: np.full((t, n), np.nan) for name in ("ma", "dc", "mo", "all_ma", "all_dc", "all_mo", "comb")}
    for i in range(n):
        for row in range(t):
            if not np.isfinite(closes[row, i]):
                continue
            c = closes[: row + 1, i]
            c = c[np.isfinite(c)]
            for key, value in (
                ("ma", plan_ma(c, fast, slow)),
                ("dc", plan_dc(c, window)),
                ("mo", plan_momentum(c, lookback)),
            ):
                out[key][row, i] = np.nan if value is None else value
            s = plan_signals(c, fast, slow, window, lookback)
            if s is not None:
                out["all_ma"][row, i], out["all_dc"][row, i], out["all_mo"][row, i] = (
                    s.ma,
                    s.donchian,
                    s.momentum,
                )
                out["comb"][row, i] = s.combined
    return out


def _same(a: np.ndarray, b: np.ndarray) -> None:
    """Equal bit for bit, NaN in the same places."""
    assert np.array_equal(np.isnan(a), np.isnan(b)), np.argwhere(np.isnan(a) != np.isnan(b))[:5]
    mask = ~np.isnan(a)
    assert np.array_equal(a[mask], b[mask]), np.argwhere(mask & (a != b))[:5]


def _check(closes: np.ndarray, fast: int, slow: int, window: int, lookback: int) -> None:
    want = _plan_grid(closes, fast, slow, window, lookback)
    _same(ma_crossover(closes, fast, slow), want["ma"])
    _same(donchian(closes, window), want["dc"])
    _same(momentum(closes, lookback), want["mo"])
    grid = signal_grid(closes, fast, slow, window, lookback)
    _same(grid.ma, want["all_ma"])
    _same(grid.donchian, want["all_dc"])
    _same(grid.momentum, want["all_mo"])
    _same(grid.combined, want["comb"])


@pytest.mark.skipif(not BINANCE_DATA.is_dir(), reason=f"real Binance data not present at {BINANCE_DATA}")
def test_signals_equal_the_plans_on_real_binance_closes_at_every_bar() -> None:
    """ARB lists in 2023 (leading NaN) next to BTC and ETH; the last 1,500 8h bars, plan defaults and a
    short set (more breakouts and crossings)."""
    h = binance_history(["BTC/USDT:USDT", "ETH/USDT:USDT", "ARB/USDT:USDT"])
    assert h is not None
    arb_first = int(np.argmax(np.isfinite(h.close[:, 2])))
    closes = h.close[arb_first - 400 : arb_first + 1100]
    assert np.isnan(closes[:400, 2]).all() and np.isfinite(closes[400:, 2]).all()
    _check(closes, 10, 30, 20, 30)
    _check(closes, 3, 7, 5, 4)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n_bars=st.integers(1, 70),
    n_assets=st.integers(1, 3),
    fast=st.integers(1, 6),
    extra=st.integers(1, 8),
    window=st.integers(2, 12),
    lookback=st.integers(1, 12),
)
def test_signals_equal_the_plans_on_any_closes(
    data: st.DataObject, n_bars: int, n_assets: int, fast: int, extra: int, window: int, lookback: int
) -> None:
    """Random walks with flat stretches (ties in the crossover, zero volatility), gaps anywhere, late
    starts, and the odd non-positive close (momentum undefined)."""
    price = st.one_of(
        st.floats(0.5, 2000.0, allow_nan=False),
        st.sampled_from([100.0, 100.0, 100.0, np.nan, 0.0, 100.5]),
    )
    cols = data.draw(
        st.lists(st.lists(price, min_size=n_bars, max_size=n_bars), min_size=n_assets, max_size=n_assets)
    )
    closes = np.array(cols, dtype=float).T.reshape(n_bars, n_assets)
    _check(closes, fast, fast + extra, window, lookback)


def test_a_bar_without_a_close_has_no_signal_and_the_next_bar_continues_the_series() -> None:
    """The plan sees an exchange's list of closes: a missing bar is not in it. So the bar after a gap
    continues the count, and the gap bar itself has no signal (no price at the decision)."""
    closes = np.array([1.0, 2, 3, np.nan, 4, 5])[:, None]
    ma = ma_crossover(closes, 1, 3)
    assert np.isnan(ma[3, 0])
    assert ma[4, 0] == 1.0  # mean(4) > mean(2, 3, 4): the closes 2, 3, 4 with the gap dropped
    assert np.isnan(ma[1, 0])  # two closes: too few for the 3-close average
