"""The plan's trend signals and the regime filter, by hand on small series."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from perptui.domain.plan import donchian, ma_crossover, momentum, regime, regime_scale, signals
from perptui.domain.plan.regime import basket_returns


def test_ma_crossover_is_the_sign_of_fast_minus_slow() -> None:
    assert ma_crossover([1, 2, 3, 4, 5], fast=2, slow=5) == 1.0  # 4.5 vs 3
    assert ma_crossover([5, 4, 3, 2, 1], fast=2, slow=5) == -1.0
    assert ma_crossover([3, 3, 3, 3, 3], fast=2, slow=5) == 0.0
    assert ma_crossover([9, 1, 2, 3, 4, 5], fast=2, slow=5) == 1.0  # only the last 5 count
    assert ma_crossover([1, 2, 3, 4], fast=2, slow=5) is None


def test_donchian_breaks_out_and_holds() -> None:
    assert donchian([1, 2, 3, 4], window=3) == 1.0  # 4 > max(1, 2, 3)
    assert donchian([4, 3, 2, 1], window=3) == -1.0
    assert donchian([1, 2, 3, 4, 3.5, 3.8], window=3) == 1.0  # no new extreme: holds the last breakout
    assert donchian([1, 2, 3, 4, 3.5, 3.8, 3.2], window=3) == -1.0  # 3.2 < min(4, 3.5, 3.8)
    assert donchian([2, 1, 3, 2], window=3) == 0.0  # never broke out
    assert donchian([1, 2, 3], window=3) is None


def test_momentum_is_the_return_over_its_expected_spread() -> None:
    closes = [100.0, 110.0, 99.0, 108.9, 110.0]
    span = closes[-4:]  # lookback 3: 3 returns
    ret = span[-1] / span[0] - 1
    logs = [math.log(b / a) for a, b in itertools.pairwise(span)]
    mean = sum(logs) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / 2)
    assert momentum(closes, 3) == pytest.approx(max(-1.0, min(1.0, ret / (sd * math.sqrt(3)))))
    assert momentum([100.0, 101.0, 102.0, 150.0], 3) == 1.0  # clipped
    assert momentum([100.0, 100.0, 100.0], 2) == 0.0  # no move, no spread
    assert momentum([100.0, 101.0], 2) is None


def test_combined_signal_is_the_average() -> None:
    closes = [float(x) for x in range(1, 40)]
    s = signals(closes, 5, 20, 10, 20)
    assert s is not None and (s.ma, s.donchian) == (1.0, 1.0)
    assert s.combined == pytest.approx((1.0 + 1.0 + s.momentum) / 3)
    assert signals(closes[:15], 5, 20, 10, 20) is None


@pytest.mark.parametrize(
    ("ratio", "scale"), [(0.5, 1.0), (2.0, 1.0), (2.25, 0.75), (2.5, 0.5), (3.0, 0.0), (4.0, 0.0)]
)
def test_regime_scale_is_one_below_k_linear_to_zero(ratio: float, scale: float) -> None:
    assert regime_scale(ratio, 2.0, 3.0) == pytest.approx(scale)


def _alternating(a: float, n: int) -> np.ndarray:
    return np.array([a if i % 2 == 0 else -a for i in range(n)])


@pytest.mark.parametrize(
    ("spike", "state", "scale"), [(1.5, "calm", 1.0), (2.5, "elevated", 0.5), (3.5, "off", 0.0)]
)
def test_regime_on_a_volatility_spike(spike: float, state: str, scale: float) -> None:
    # 336 calm days then 30 days at `spike` x the daily move: the last 30-day volatility is spike x the
    # median of the rolling ones (all but the last 29 windows are the calm ones).
    returns = np.concatenate([_alternating(0.01, 336), _alternating(0.01 * spike, 30)])
    r = regime(returns, k=2.0, zero_at=3.0, window=30, history=365)
    assert r.state == state
    assert r.scale == pytest.approx(scale)
    assert r.realised_vol / r.median_vol == pytest.approx(spike)  # type: ignore[operator]
    assert r.median_vol == pytest.approx(0.01 * math.sqrt(30 / 29) * math.sqrt(365))


def test_regime_without_enough_history_is_unknown_and_not_scaled() -> None:
    r = regime(_alternating(0.01, 50), k=2.0, zero_at=3.0)
    assert (r.state, r.scale, r.median_vol) == ("unknown", 1.0, None)
    assert "50 days" in r.reason


def test_basket_returns_use_common_days() -> None:
    a = [(1, 100.0), (2, 110.0), (3, 121.0)]
    b = [(2, 10.0), (3, 9.0), (4, 8.0)]
    assert basket_returns({"a": a, "b": b}) == pytest.approx([(0.1 - 0.1) / 2])
