"""EWMA volatility, covariance and correlation against pandas' ``ewm``; realised volatility; GARCH(1,1)
via arch (checked lightly: it IS arch) and its refusals with too little or bad data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.ewma import (
    annualised,
    correlation,
    ewma_covariance,
    ewma_variance,
    ewma_volatility,
    realised_volatility,
    simple_returns,
)
from perptui.domain.risk_volatility import MIN_GARCH_OBS, garch_forecast, volatility_report

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=200)


def pandas_ewma(values: pd.Series, lam: float = 0.94) -> float:
    return float(values.ewm(alpha=1 - lam, adjust=False).mean().iloc[-1])


@PROPERTY
@given(st.integers(0, 10**6), st.integers(20, 500), st.floats(0.5, 0.99))
def test_ewma_variance_and_covariance_match_pandas(seed: int, n: int, lam: float) -> None:
    r = np.random.default_rng(seed).normal(0, 0.04, size=(n, 3))
    df = pd.DataFrame(r)
    cov = ewma_covariance(r, lam)
    assert cov is not None
    for i in range(3):
        expected = pandas_ewma(df[i] ** 2, lam)
        assert ewma_variance(r[:, i], lam) == pytest.approx(expected, rel=1e-10)
        assert cov[i, i] == pytest.approx(expected, rel=1e-10)
        for j in range(3):
            assert cov[i, j] == pytest.approx(pandas_ewma(df[i] * df[j], lam), rel=1e-9, abs=1e-18)
    corr = correlation(cov)
    assert np.allclose(np.diag(corr), 1.0) and np.all(np.abs(corr) <= 1.0)
    assert np.allclose(corr, corr.T)
    assert np.all(np.linalg.eigvalsh(cov) > -1e-15)  # a covariance: positive semi-definite


def test_ewma_by_hand_and_its_refusals() -> None:
    # Seeded with 0.02^2, then 0.94 x 4e-4 + 0.06 x 0.01^2 = 3.82e-4, then x 0.94 + 0.06 x 0.03^2.
    r = [0.02, 0.01, -0.03]
    expected = 0.94 * (0.94 * 4e-4 + 0.06 * 1e-4) + 0.06 * 9e-4
    assert ewma_variance(r, min_obs=3) == pytest.approx(expected)
    assert ewma_volatility(r, min_obs=3) == pytest.approx(math.sqrt(expected))
    assert ewma_variance(r) is None  # fewer than 20 returns
    assert ewma_covariance(np.zeros((5, 2))) is None
    with pytest.raises(ValueError, match="lambda"):
        ewma_variance([0.01] * 30, lam=1.0)
    with pytest.raises(ValueError, match="NaN"):
        ewma_variance([0.01] * 29 + [math.nan])


def test_correlation_of_a_flat_asset_is_unknown() -> None:
    r = np.column_stack([np.random.default_rng(3).normal(0, 0.02, 50), np.zeros(50)])
    corr = correlation(ewma_covariance(r))  # type: ignore[arg-type]
    assert corr[0, 0] == 1.0 and np.isnan(corr[1, 1]) and np.isnan(corr[0, 1])


def test_realised_volatility_and_annualising() -> None:
    r = [0.5] * 10 + [0.01, -0.03] * 15
    assert realised_volatility(r) == pytest.approx(math.sqrt((0.01**2 + 0.03**2) / 2))
    assert realised_volatility(r[:29]) is None
    assert realised_volatility(r, window=2) == pytest.approx(math.sqrt((0.01**2 + 0.03**2) / 2))
    assert annualised(0.02) == pytest.approx(0.02 * math.sqrt(365))
    assert annualised(None) is None
    assert simple_returns([100.0, 110.0, 99.0]).tolist() == pytest.approx([0.1, -0.1])


def test_garch_refuses_too_little_or_bad_data_with_a_reason() -> None:
    r = np.random.default_rng(5).normal(0, 0.03, MIN_GARCH_OBS - 1)
    g = garch_forecast(r)
    assert g.sigma is None and g.observations == 249
    assert g.reason == "only 249 daily returns (GARCH needs 250)"
    assert garch_forecast([*r, math.nan]).reason == "returns must be one finite series"
    assert garch_forecast(np.zeros(300)).reason == "returns are all zero"
    report = volatility_report(r, fit_garch=False)
    assert report.garch.sigma is None and report.garch.reason == "GARCH not requested"
    assert report.ewma is not None and report.realised is not None and report.observations == 249


def btc_returns(data: Path, until: str, days: int) -> np.ndarray:
    df = pd.read_csv(data / "ohlcv_1d_perp" / "BTCUSDT.csv", parse_dates=["date"]).set_index("date")
    return df["close"].loc[:until].pct_change().dropna().to_numpy()[-days:]


def test_garch_on_real_btc_returns(binance_data: Path) -> None:
    r = btc_returns(binance_data, "2024-12-31", 730)
    g = garch_forecast(r)
    assert g.reason is None and g.sigma is not None and g.observations == 730
    assert g.persistence is not None and 0 < g.persistence < 1
    # Light check against arch itself: the same fit, the same one-day forecast.
    from arch import arch_model

    fit = arch_model(r * 100, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    assert g.sigma == pytest.approx(math.sqrt(fit.forecast(horizon=1).variance.iloc[-1, 0]) / 100, rel=1e-6)
    report = volatility_report(r)
    assert report.garch.sigma == pytest.approx(g.sigma)
    assert report.ewma is not None and report.realised is not None
    # BTC's daily volatility in 2024: a few percent by every measure.
    for sigma in (g.sigma, report.ewma, report.realised):
        assert 0.005 < sigma < 0.08
    assert report.ewma_ratio == pytest.approx(report.realised / report.ewma)
