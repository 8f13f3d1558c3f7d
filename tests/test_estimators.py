"""The optimiser's estimators on real Binance returns: Ledoit-Wolf against scikit-learn, EWMA against a
direct pandas ewm, the sample covariance against pandas, the annualisation factors, lookbacks, expected
returns from funding and drift and their shrinkage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.covariance import LedoitWolf

from perptui.domain.errors import UsageError
from perptui.domain.estimators import (
    bars_per_year,
    covariance,
    drift,
    ewma_half_life_covariance,
    james_stein_factor,
    ledoit_wolf,
    lookback_rows,
    perp_expected_returns,
    sample_covariance,
)

from .optimize_data import daily_returns, funding_apr, hourly_returns


def test_bars_per_year_use_a_365_day_year() -> None:
    assert bars_per_year("1h") == 8760
    assert bars_per_year("4h") == 2190
    assert bars_per_year("8h") == 1095
    assert bars_per_year("1d") == 365
    with pytest.raises(UsageError, match="use one of 1h, 4h, 8h, 1d"):
        bars_per_year("15m")


def test_lookbacks_take_the_last_days_of_bars() -> None:
    r = np.arange(2 * 24 * 100, dtype=float).reshape(-1, 2) / 1e6  # 100 days of hourly bars
    assert lookback_rows(r, "1h", 7).shape == (168, 2)
    assert lookback_rows(r, "4h", 30).shape == (180, 2)
    assert lookback_rows(r, "8h", 90).shape == (270, 2)
    assert lookback_rows(r, "1d", 90).shape == (90, 2)
    np.testing.assert_array_equal(lookback_rows(r, "1h", 7), r[-168:])
    with pytest.raises(UsageError, match="use one of 7, 30, 90"):
        lookback_rows(r, "1h", 14)


def test_ledoit_wolf_matches_scikit_learn_on_real_returns(binance_data: Path) -> None:
    for returns, tf in ((daily_returns(binance_data), "1d"), (hourly_returns(binance_data), "1h")):
        for days in (7, 30, 90):
            r = lookback_rows(returns.to_numpy(), tf, days)
            ours = ledoit_wolf(r, tf)
            ref = LedoitWolf().fit(r)
            assert ours.shrinkage == pytest.approx(ref.shrinkage_, rel=1e-10, abs=1e-14)
            np.testing.assert_allclose(ours.cov, ref.covariance_ * bars_per_year(tf), rtol=1e-10)
            assert np.all(np.linalg.eigvalsh(ours.cov) > 0)


def test_ewma_matches_pandas_ewm_on_real_returns(binance_data: Path) -> None:
    frame = daily_returns(binance_data).iloc[:, :4]
    half_life = 20.0
    cov = ewma_half_life_covariance(frame.to_numpy(), "1d", half_life)
    alpha = 1 - 0.5 ** (1 / half_life)
    for i, a in enumerate(frame.columns):
        for j, b in enumerate(frame.columns):
            direct = (frame[a] * frame[b]).ewm(alpha=alpha, adjust=False).mean().iloc[-1] * 365
            assert cov[i, j] == pytest.approx(direct, rel=1e-10)
    # pandas' halflife parameter means the same weights
    direct = (frame.iloc[:, 0] ** 2).ewm(halflife=half_life, adjust=False).mean().iloc[-1] * 365
    assert cov[0, 0] == pytest.approx(direct, rel=1e-10)
    np.testing.assert_allclose(covariance(frame.to_numpy(), "1d", "ewma", half_life), cov)


def test_sample_covariance_matches_pandas_and_annualises(binance_data: Path) -> None:
    frame = hourly_returns(binance_data)
    np.testing.assert_allclose(
        sample_covariance(frame.to_numpy(), "1h"), frame.cov().to_numpy() * 8760, rtol=1e-12
    )
    daily = daily_returns(binance_data)
    vol = np.sqrt(np.diag(covariance(daily.to_numpy(), "1d", "sample")))
    assert np.all((vol > 0.2) & (vol < 2.0))  # crypto: 20% to 200% a year
    with pytest.raises(UsageError, match="unknown covariance method"):
        covariance(daily.to_numpy(), "1d", "shrunk")


def test_expected_returns_of_a_perp_are_drift_less_funding() -> None:
    out = perp_expected_returns([0.10, -0.05, 0.0], [0.20, 0.0, -0.1])
    np.testing.assert_allclose(out.mu, [0.10, 0.05, -0.1])  # a long pays positive funding
    assert out.shrinkage == 0
    half = perp_expected_returns([0.10, -0.05], shrinkage=0.5)
    np.testing.assert_allclose(half.mu, [-0.05, 0.025])  # funding alone: short earns it
    with pytest.raises(UsageError, match="between 0 and 1"):
        perp_expected_returns([0.1], shrinkage=1.5)


def test_james_stein_shrinks_more_when_the_estimates_are_noise() -> None:
    means = np.array([0.3, -0.2, 0.1, 0.05])
    assert james_stein_factor(means, np.full(4, 0.01)) == pytest.approx(2 * 1e-4 / float(means @ means))
    assert james_stein_factor(means, np.full(4, 10.0)) == 1.0  # all noise: all the way to zero
    assert james_stein_factor(means[:2], np.full(2, 0.1)) == 0.0  # needs 3 or more


def test_expected_returns_from_real_funding_and_drift(binance_data: Path) -> None:
    r = daily_returns(binance_data).to_numpy()
    d, se = drift(r, "1d")
    np.testing.assert_allclose(d, r.mean(axis=0) * 365)
    f = funding_apr(binance_data)
    assert np.all(np.abs(f) < 1.0)
    out = perp_expected_returns(f, d, std_errors=se)
    assert 0 < out.shrinkage <= 1  # a year of daily drift is mostly noise
    np.testing.assert_allclose(out.mu, (1 - out.shrinkage) * (d - f))
