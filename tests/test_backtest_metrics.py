"""Backtest metrics on equity paths whose answers can be worked out by hand, and properties that hold
for any path (drawdown in [0, 1], the worst day no better than the average day)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.backtest.metrics import (
    METRIC_KEYS,
    daily_points,
    daily_returns,
    layer_metrics,
    max_drawdown_of,
    metrics_of,
    total_metrics,
)
from perptui.domain.backtest.types import BacktestResult, FillLedger, FundingLedger, LayerResult
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, HOUR_MS, parse_utc

T0 = parse_utc("2024-01-01")


def grid(n_points: int, step_ms: int = DAY_MS, start: int = T0) -> np.ndarray:
    return start + step_ms * np.arange(n_points, dtype=np.int64)


def empty_fills() -> FillLedger:
    i, f = np.empty(0, np.int64), np.empty(0)
    return FillLedger(i, i, i.astype(np.int8), f, f, f, i.astype(np.int8), i.astype(np.int8))


def empty_funding() -> FundingLedger:
    i, f = np.empty(0, np.int64), np.empty(0)
    return FundingLedger(i, i, f, f, f, f, i.astype(np.int8))


def layer(name: str, equity, *, gross=None, traded=None, funding=0.0, fees=0.0) -> LayerResult:
    equity = np.asarray(equity, dtype=float)
    k = len(equity) - 1
    return LayerResult(
        name=name,
        capital=float(equity[0]),
        equity=equity,
        gross=np.zeros(k) if gross is None else np.asarray(gross, float),
        traded=np.zeros(k) if traded is None else np.asarray(traded, float),
        price_pnl=float(equity[-1] - equity[0]) - funding + fees,
        funding_pnl=funding,
        fees=fees,
        liquidations=0,
    )


def result_of(times, *layers: LayerResult, funding: FundingLedger | None = None, fills=None):
    """A hand-made result: the layers' paths on ``times``, empty ledgers unless given."""
    return BacktestResult(
        strategy="hybrid",
        timeframe="1d",
        symbols=("BTC/USDT:USDT",),
        times=np.asarray(times, dtype=np.int64),
        layers=tuple(layers),
        fills=empty_fills() if fills is None else fills,
        funding=empty_funding() if funding is None else funding,
    )


# --- hand-computable paths --------------------------------------------------------------------------


def test_constant_gain_a_year_long_has_exact_cagr_and_no_sharpe():
    """1,000 growing 0.1% a day for 365 days: CAGR = total return = 1.001^365 - 1, no volatility, no
    drawdown; a riskless path has no Sharpe, Sortino or Calmar (None, not infinity)."""
    equity = 1000 * 1.001 ** np.arange(366)
    m = metrics_of(grid(366), equity, capital=1000.0)
    assert m.days == 365
    assert m.total_return == pytest.approx(1.001**365 - 1, rel=1e-12)
    assert m.cagr == pytest.approx(1.001**365 - 1, rel=1e-12)
    assert m.volatility == 0.0
    assert m.sharpe is None and m.sortino is None and m.calmar is None
    assert m.max_drawdown == 0.0 and m.max_drawdown_days == 0.0
    assert m.worst_day == pytest.approx(0.001, rel=1e-9)
    assert m.final_equity == pytest.approx(1000 * 1.001**365)


def test_constant_loss_never_recovers():
    """0.1% lost every day: the drawdown is the whole fall, lasting the whole run; Sortino is
    mean / |r| x sqrt(365) = -sqrt(365); Calmar = CAGR / drawdown."""
    equity = 1000 * 0.999 ** np.arange(366)
    m = metrics_of(grid(366), equity)
    assert m.max_drawdown == pytest.approx(1 - 0.999**365, rel=1e-12)
    assert m.max_drawdown_days == 365
    assert m.sharpe is None
    assert m.sortino == pytest.approx(-math.sqrt(365), rel=1e-9)
    assert m.calmar == pytest.approx((0.999**365 - 1) / (1 - 0.999**365), rel=1e-9)


def test_drawdown_depth_and_duration_on_8h_bars():
    """110 -> 88 is the deepest fall (20%); back above 110 three bars (one day) after the peak."""
    times = grid(6, 8 * HOUR_MS)
    equity = [100.0, 110.0, 88.0, 99.0, 121.0, 110.0]
    depth, days = max_drawdown_of(times, equity)
    assert depth == pytest.approx(0.2)
    assert days == pytest.approx(1.0)
    m = metrics_of(times, equity)
    assert m.max_drawdown == pytest.approx(0.2)
    assert m.total_return == pytest.approx(0.1)


def test_daily_points_take_each_utc_days_last_point():
    """8h bars from 00:00: the close at the next 00:00 ends day one (99), day two ends at 16:00 (110)."""
    times = grid(6, 8 * HOUR_MS)
    equity = np.array([100.0, 110.0, 88.0, 99.0, 121.0, 110.0])
    t, e = daily_points(times, equity)
    assert list(t) == [times[0], times[3], times[5]]
    assert list(e) == [100.0, 99.0, 110.0]
    day_t, r = daily_returns(times, equity)
    assert list(day_t) == [times[3], times[5]]
    assert r == pytest.approx([-0.01, 110 / 99 - 1])
    m = metrics_of(times, equity)
    assert m.worst_day == pytest.approx(-0.01)
    assert m.worst_day_time == times[3]


def test_a_start_mid_day_counts_the_rest_of_that_day_as_the_first_day():
    times = grid(5, 8 * HOUR_MS, start=T0 + 16 * HOUR_MS)  # 16:00, 00:00, 08:00, 16:00, 00:00
    t, e = daily_points(times, np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert list(t) == [times[0], times[1], times[4]]
    assert list(e) == [1.0, 2.0, 5.0]


def test_sharpe_and_sortino_by_hand():
    """Daily returns +1%, +3%: mean 2%, sample std 1.4142%: Sharpe sqrt(2 x 365), no losing day so no
    Sortino. Returns +1%, -1%, +3%: mean 1%, downside deviation 1% / sqrt(3): Sortino sqrt(3 x 365)."""
    m = metrics_of(grid(3), [100.0, 101.0, 101.0 * 1.03])
    assert m.sharpe == pytest.approx(math.sqrt(2 * 365))
    assert m.volatility == pytest.approx(0.01 * math.sqrt(2) * math.sqrt(365))
    assert m.sortino is None
    m = metrics_of(grid(4), [100.0, 101.0, 99.99, 99.99 * 1.03])
    assert m.sortino == pytest.approx(math.sqrt(3 * 365))
    assert m.worst_day == pytest.approx(-0.01)


def test_too_few_days_leave_the_statistics_unknown():
    m = metrics_of(grid(2), [100.0, 105.0])
    assert m.volatility is None and m.sharpe is None and m.sortino is None
    assert m.worst_day == pytest.approx(0.05)
    m = metrics_of(grid(1), [100.0])
    assert m.cagr is None and m.worst_day is None and m.total_return == 0.0


def test_ruin_is_minus_100_percent_and_ends_the_returns():
    """Equity through zero: the day into ruin returns -100% (not -120%), later days have no return."""
    m = metrics_of(grid(4), [100.0, 50.0, -10.0, 5.0])
    assert m.worst_day == -1.0
    assert m.max_drawdown == 1.0
    assert m.cagr == -1.0
    _, r = daily_returns(grid(4), np.array([100.0, 50.0, -10.0, 5.0]))
    assert list(r) == [-0.5, -1.0]


def test_a_layer_without_capital_has_no_return_metrics():
    m = metrics_of(grid(3), [0.0, 0.0, 0.0], funding_pnl=0.0, fees=0.0, gross=[0.0, 0.0])
    assert m.total_return is None and m.max_drawdown is None and m.sharpe is None
    assert m.fees == 0.0 and m.time_in_market == 0.0


def test_turnover_and_time_in_market():
    """100 traded each day on a flat 1,000 for a year: 36,500 / 1,000 = 36.5 times a year; exposure
    held on half the bars."""
    k = 365
    gross = np.where(np.arange(k) % 2 == 0, 500.0, 0.0)
    m = metrics_of(grid(k + 1), np.full(k + 1, 1000.0), traded=np.full(k, 100.0), gross=gross)
    assert m.turnover == pytest.approx(36.5)
    assert m.time_in_market == pytest.approx(183 / 365)


def test_as_dict_keys_cli_first():
    m = metrics_of(grid(3), [100.0, 101.0, 99.0], funding_pnl=1.0, fees=0.5, price_pnl=-1.5)
    d = m.as_dict()
    assert tuple(d)[: len(METRIC_KEYS)] == METRIC_KEYS
    assert tuple(d)[len(METRIC_KEYS) :] == (
        "max_drawdown_days",
        "time_in_market",
        "worst_day",
        "worst_day_time",
        "final_equity",
        "days",
    )
    assert d["worst_day_time"] == "2024-01-03T00:00:00Z"
    assert d["funding_pnl"] == 1.0 and d["fees"] == 0.5


def test_bad_paths_are_refused():
    with pytest.raises(UsageError):
        metrics_of(grid(3), [100.0, float("nan"), 99.0])
    with pytest.raises(ValueError):
        metrics_of(grid(3), [100.0, 99.0])


def test_layer_and_total_metrics_of_a_result():
    """Two layers: a flat carry earning funding and a trend layer that falls; the total sums them."""
    times = grid(3)
    carry = layer("carry", [600.0, 606.0, 612.0], gross=[600.0, 600.0], traded=[1200.0, 0.0], funding=12.0)
    trend = layer("trend", [400.0, 380.0, 390.0], gross=[400.0, 0.0], traded=[400.0, 400.0], fees=0.4)
    result = result_of(times, carry, trend)
    by_layer = layer_metrics(result)
    assert list(by_layer) == ["carry", "trend"]
    assert by_layer["carry"].total_return == pytest.approx(0.02)
    assert by_layer["carry"].funding_pnl == 12.0
    assert by_layer["trend"].max_drawdown == pytest.approx(0.05)
    total = total_metrics(result)
    assert total.final_equity == pytest.approx(1002.0)
    assert total.total_return == pytest.approx(0.002)
    assert total.funding_pnl == 12.0 and total.fees == 0.4
    assert total.time_in_market == 1.0
    assert total.max_drawdown == pytest.approx(1 - 986 / 1000)


# --- properties -----------------------------------------------------------------------------------

paths = st.lists(st.floats(min_value=-0.5, max_value=0.5), min_size=1, max_size=80).map(
    lambda rs: 1000.0 * np.cumprod(np.r_[1.0, 1.0 + np.asarray(rs)])
)


@settings(max_examples=200, deadline=None)
@given(paths, st.sampled_from([HOUR_MS, 8 * HOUR_MS, DAY_MS]))
def test_drawdown_is_a_fraction_and_bounds_every_fall(equity, step):
    times = grid(len(equity), step)
    m = metrics_of(times, equity)
    assert 0.0 <= m.max_drawdown <= 1.0
    falls = 1 - equity[None, :] / equity[:, None]
    later = np.triu(np.ones_like(falls, dtype=bool))
    assert m.max_drawdown == pytest.approx(max(0.0, falls[later].max()), abs=1e-12)
    assert 0.0 <= m.max_drawdown_days <= m.days


@settings(max_examples=200, deadline=None)
@given(paths, st.sampled_from([4 * HOUR_MS, DAY_MS]))
def test_worst_day_is_no_better_than_the_average_day(equity, step):
    times = grid(len(equity), step)
    m = metrics_of(times, equity)
    _, r = daily_returns(times, equity)
    if len(r):
        assert m.worst_day <= r.mean() + 1e-15
        assert m.worst_day >= -1.0
    if m.volatility is not None:
        assert m.volatility >= 0


# --- real data: the engine's run on Binance history against pandas -----------------------------------


def test_metrics_of_a_real_run_match_an_independent_pandas_computation(binance_data):
    """Long BTC with half the equity and a BTC carry (short perp, long spot) on the real 8h bars
    2020-2026: every layer's daily statistics from pandas' own resampling (days closed on the right at
    00:00 UTC)."""
    import pandas as pd

    from perptui.domain.backtest.engine import run_backtest
    from tests.backtest_data import always, binance_history, book

    history = binance_history(["BTC/USDT:USDT"])
    result = run_backtest(
        history,
        [(always(book([0.5]), "long"), 10_000.0), (always(book([-0.5], [0.5], [2.0]), "carry"), 10_000.0)],
    )
    paths = {layer.name: layer.equity for layer in result.layers} | {"total": result.equity}
    computed = layer_metrics(result) | {"total": total_metrics(result)}
    for name, equity in paths.items():
        s = pd.Series(equity, index=pd.to_datetime(result.times, unit="ms", utc=True))
        daily = s.resample("1D", closed="right", label="right").last().dropna()
        r = daily.pct_change().dropna()
        m = computed[name]
        years = (s.index[-1] - s.index[0]).total_seconds() / 86400 / 365
        assert m.cagr == pytest.approx((s.iloc[-1] / s.iloc[0]) ** (1 / years) - 1, rel=1e-9)
        assert m.volatility == pytest.approx(r.std() * math.sqrt(365), rel=1e-9)
        assert m.sharpe == pytest.approx(r.mean() / r.std() * math.sqrt(365), rel=1e-9)
        downside = math.sqrt((r.clip(upper=0) ** 2).mean())
        assert m.sortino == pytest.approx(r.mean() / downside * math.sqrt(365), rel=1e-9)
        assert m.worst_day == pytest.approx(r.min(), rel=1e-12)
        assert pd.Timestamp(m.worst_day_time, unit="ms", tz="UTC") == r.idxmin()
        drawdown = 1 - s / s.cummax()
        assert m.max_drawdown == pytest.approx(drawdown.max(), rel=1e-12)
        trough = drawdown.idxmax()
        peak = s[:trough][s[:trough] == s[:trough].max()].index[-1]
        back = s[trough:][s[trough:] >= s[peak]]
        end = back.index[0] if len(back) else s.index[-1]
        assert m.max_drawdown_days == pytest.approx((end - peak).total_seconds() / 86400)
