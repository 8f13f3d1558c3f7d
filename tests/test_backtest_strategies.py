"""The backtest's strategies: the carry base, the trend layer and the hybrid decide as the allocation plan
would at each bar, from the past only. What a trader relies on: the carry takes the best net carries and
never a negative-funding one it cannot hedge; the trend layer keeps its leverage, per-asset and volatility
limits and the regime's scale; no decision looks at a later price or funding print; a late listing is not
traded before it has the history the signals need."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.params import BacktestParams, parse_params
from perptui.domain.backtest.reconcile import reconcile
from perptui.domain.backtest.run import run_strategy
from perptui.domain.backtest.strategies import CarryLayer, TrendLayer, build_layers
from perptui.domain.backtest.strategies.funding import daily_income, prints_by_symbol, trailing_apr
from perptui.domain.backtest.types import LEG_PERP, LEG_SPOT, LayerTargets
from perptui.domain.carry import carry
from perptui.domain.errors import UsageError
from perptui.domain.estimators import covariance
from perptui.domain.plan import PlanInputs
from perptui.domain.plan.config import PlanConfig
from perptui.domain.plan.directional import directional_layer
from perptui.domain.plan.neutral import daily_income as plan_daily_income
from perptui.domain.plan.neutral import mean_funding_apr, neutral_weights, rank_carries
from perptui.domain.plan.regime import basket_returns, regime
from perptui.domain.plan.signals import signals
from perptui.domain.timeframes import DAY_MS, HOUR_MS, parse_utc, timeframe_ms
from tests.backtest_data import binance_history, hand_history
from tests.conftest import BINANCE_DATA
from tests.plan_data import market

T0 = 1_609_459_200_000  # 2021-01-01T00:00Z
H8 = 8 * HOUR_MS
SYMS = ("AAA/USDT:USDT", "BBB/USDT:USDT", "CCC/USDT:USDT", "DDD/USDT:USDT")


def synthetic(
    bars: int = 160,
    *,
    timeframe: str = "1d",
    funding_apr: tuple[float, ...] = (0.30, 0.15, 0.02, -0.30),
    drift: tuple[float, ...] = (0.004, -0.004, 0.0, 0.002),
    vol: tuple[float, ...] = (0.03, 0.04, 0.02, 0.05),
    listed: tuple[int, ...] = (0, 0, 0, 60),
    seed: int = 3,
    symbols: tuple[str, ...] = SYMS,
) -> MarketHistory:
    """Geometric walks (open = the previous close), spot a hair under the perp, 8-hourly funding prints
    at each symbol's APR with noise from its listing bar on; NaN before the listing."""
    rng = np.random.default_rng(seed)
    n, step = len(symbols), timeframe_ms(timeframe)
    rets = np.asarray(drift) + np.asarray(vol) * rng.standard_normal((bars, n))
    close = 100.0 * np.cumprod(1.0 + rets, axis=0)
    opens = np.vstack([close[:1] / (1 + rets[:1]), close[:-1]])
    for i, first in enumerate(listed):
        close[:first, i] = opens[:first, i] = np.nan
    spot_close, spot_open = close * 0.9995, opens * 0.9995
    end = T0 + bars * step
    prints = []
    for i, first in enumerate(listed):
        t = np.arange(T0 + first * step, end, H8)
        rates = funding_apr[i] / 1095 * (1 + 0.3 * rng.standard_normal(len(t)))
        prints += [(int(a), i, float(r)) for a, r in zip(t, rates, strict=True)]
    return hand_history(
        symbols, opens, close=close, spot_open=spot_open, spot_close=spot_close, funding=prints,
        timeframe=timeframe, t0=T0,
    )  # fmt: skip


SMALL = BacktestParams(
    lookback_days=7.0,
    cov_lookback_days=20.0,
    ma_fast=3,
    ma_slow=8,
    donchian_bars=5,
    momentum_bars=6,
    regime_window_days=5,
    regime_history_days=70,
    hold_days=60.0,
)
"""Short windows, so a 160-day history has decisions, a regime reference and a late listing's start."""


def prepared(layer: CarryLayer | TrendLayer, history: MarketHistory) -> CarryLayer | TrendLayer:
    layer.prepare(history)
    return layer


def decisions(layer: CarryLayer | TrendLayer, bars: range) -> list[LayerTargets | None]:
    return [layer.targets(k) for k in bars]


# --- funding over history -----------------------------------------------------------------------------


@pytest.mark.skipif(not BINANCE_DATA.is_dir(), reason=f"real Binance data not present at {BINANCE_DATA}")
def test_trailing_funding_equals_the_plans_mean_on_real_prints() -> None:
    """SOL settled every 2h/4h around FTX and ARB lists in 2023: every 50th bar close, 7, 30 and 90 days
    and a fractional window, NaN exactly where the plan's ``mean_funding_apr`` is None."""
    syms = ["SOL/USDT:USDT", "ARB/USDT:USDT", "BTC/USDT:USDT"]
    h = binance_history(syms)
    assert h is not None
    prints = prints_by_symbol(h)
    asof = h.times + h.bar_ms
    for days in (7, 30, 90, 2.5):
        grid = trailing_apr(h, days, prints)
        checked = 0
        for r in range(0, h.n_bars, 50):
            for i in range(len(syms)):
                series = list(zip(prints[i].time.tolist(), prints[i].rate.tolist(), strict=True))
                want = mean_funding_apr(series, int(asof[r]), days, None)  # type: ignore[arg-type]
                if want is None:
                    assert np.isnan(grid[r, i]), (days, r, i)
                else:
                    checked += 1
                    assert grid[r, i] == pytest.approx(want, rel=1e-11, abs=1e-13), (days, r, i)
        assert checked > 50
    arb_first = int(prints[1].time[0])
    assert np.isnan(trailing_apr(h, 30, prints)[h.bar_of(arb_first + 29 * DAY_MS), 1])


def test_daily_income_equals_the_plans() -> None:
    h = synthetic()
    p = prints_by_symbol(h)[0]
    series = list(zip(p.time.tolist(), p.rate.tolist(), strict=True))
    now = int(h.times[100]) + 5 * HOUR_MS
    for days in (1, 7, 30):
        np.testing.assert_allclose(
            daily_income(p, now, days, -1.0), plan_daily_income(series, now, days, -1.0), rtol=0, atol=1e-15
        )
    assert len(daily_income(p, now, 2.5)) == 3


# --- carry ------------------------------------------------------------------------------------------


def test_carry_takes_the_best_net_carries_and_skips_negative_funding() -> None:
    """AAA earns 30%, BBB 15%, CCC 2% (under the cost of the round trip), DDD pays 30% to shorts: a
    carry on it would be long perp + short spot, which needs a borrow the backtest does not model."""
    h = synthetic(listed=(0, 0, 0, 0))
    p = SMALL.with_(top_n=3, min_carry_apr=0.02, weighting="equal")
    layer = prepared(CarryLayer(p), h)
    t = layer.targets(100)
    assert t is not None
    assert list(np.flatnonzero(t.perp)) == [0, 1]
    assert t.perp[3] == 0 and t.spot[3] == 0
    np.testing.assert_array_equal(t.spot, -t.perp)
    assert t.perp[0] == pytest.approx(-0.25)  # two pairs, equal weights, 1x: half the equity in spot
    assert (t.leverage[:2] == 1.0).all()
    assert list(layer.picks(100)) == [0, 1]
    single = prepared(CarryLayer(p.with_(top_n=1)), h).targets(100)
    assert single is not None and list(np.flatnonzero(single.perp)) == [0]


def test_carry_net_apr_is_the_carry_maths_of_the_scanner() -> None:
    h = synthetic()
    p = SMALL
    layer = prepared(CarryLayer(p), h)
    for r, i in ((50, 0), (120, 1), (150, 2)):
        c = carry(
            float(layer.funding[r, i]), spot_taker=p.spot_taker, perp_taker=p.perp_taker,
            slippage=4 * p.slippage, hold_days=p.hold_days,
        )  # fmt: skip
        assert c is not None and c.direction == "long_spot_short_perp"
        assert layer.net[r, i] == c.net_apr


def test_carry_capital_per_pair_is_spot_plus_margin_and_fills_the_equity() -> None:
    h = synthetic(listed=(0, 0, 0, 0))
    for lev in (1.0, 2.0, 5.0):
        for weighting in ("equal", "optimizer"):
            p = SMALL.with_(top_n=2, min_carry_apr=0.0, neutral_leverage=lev, weighting=weighting)
            t = prepared(CarryLayer(p), h).targets(120)
            assert t is not None
            used = float(np.sum(t.spot) + np.sum(np.abs(t.perp) / t.leverage))
            assert used == pytest.approx(1.0, abs=1e-12)
            assert (t.leverage[t.perp != 0] == lev).all()


@pytest.mark.parametrize("timeframe", ["1d", "8h"])
def test_carry_picks_and_weights_equal_the_plans_neutral_base(timeframe: str) -> None:
    """The plan's ``rank_carries`` and ``neutral_weights`` on the same past (``until(k)``)."""
    h = synthetic(bars=120 if timeframe == "1d" else 360, timeframe=timeframe, listed=(0, 0, 0, 0))
    h = dataclasses.replace(h, funding_rate=h.funding_rate * 4)  # rich enough to pick three
    p = parse_params(["lookback_days=30", "top_n=3", "min_carry_apr=0.0", "neutral_max_weight=0.4"])
    layer = prepared(CarryLayer(p), h)
    config = PlanConfig(
        capital=1.0, neutral_count=3, min_carry_apr=0.0, lookback_days=30, hold_days=p.hold_days,
        spot_taker=p.spot_taker, slippage=4 * p.slippage, neutral_max_weight=0.4,
    )  # fmt: skip
    for k in range(h.n_bars - 40, h.n_bars, 13):
        inputs = plan_inputs(h, k)
        picks, _ = rank_carries(inputs, config, dict.fromkeys(h.symbols, p.perp_taker))
        mine = layer.picks(k)
        assert [h.symbols[i] for i in mine] == [c.symbol for c in picks]
        for i, c in zip(mine, picks, strict=True):
            assert layer.net[k - 1, i] == pytest.approx(c.carry.net_apr, rel=1e-11)
        want, _, _ = neutral_weights(picks, inputs, config)
        np.testing.assert_allclose(layer.weights(k, mine), want / want.sum(), atol=1e-7)


def test_carry_with_rebalance_never_holds_one_position_for_the_whole_run() -> None:
    """The issue's hand-checkable case: one symbol, top_n = 1, never rebalanced. The layer waits for
    the lookback's funding, enters once (spot and perp at the same open) and then only collects
    funding; its funding equals -qty x mark x rate summed over the prints after the entry."""
    h = synthetic(bars=120, listed=(0,), funding_apr=(0.2,), drift=(0.001,), vol=(0.02,), symbols=SYMS[:1])
    p = SMALL.with_(rebalance="never", top_n=1)
    res = run_strategy(h, "carry", p, 10_000.0)
    fills = res.fills
    assert len(fills.time) == 2
    assert set(fills.leg.tolist()) == {LEG_PERP, LEG_SPOT}
    entry = int(fills.time[0])
    assert (fills.time == entry).all()
    assert entry == h.times[7]  # the first decision with 7 days of prints behind it
    q = float(fills.qty[fills.leg == LEG_PERP][0])
    assert q < 0 < float(fills.qty[fills.leg == LEG_SPOT][0])
    after = h.funding_time > entry
    marks = h.open[h.bar_of(h.funding_time[after]), 0]
    assert res.funding_pnl == pytest.approx(float(np.sum(-q * marks * h.funding_rate[after])), rel=1e-12)
    assert np.all(res.layers[0].gross[8:] > 0)  # held to the end
    assert reconcile(res, h) < 1e-6


# --- trend ------------------------------------------------------------------------------------------


def test_trend_keeps_the_leverage_cap_the_per_asset_cap_and_the_volatility_target() -> None:
    h = synthetic(listed=(0, 0, 0, 0), vol=(0.05, 0.06, 0.04, 0.07))
    for objective, cap, max_w, vol in (("max_utility", 3.0, 0.5, 0.3), ("max_sharpe", 1.5, 0.3, 0.2)):
        p = SMALL.with_(
            objective=objective, leverage_cap=cap, max_weight=max_w, vol_target=vol, regime_k=50.0,
            regime_zero_at=60.0, signal_ic=2.0, shrinkage=0.0,
        )  # fmt: skip
        layer = prepared(TrendLayer(p), h)
        busy = 0
        for k in range(40, h.n_bars):
            t = layer.targets(k)
            assert t is not None
            w = t.perp
            cols = np.flatnonzero(layer.eligible[k - 1])
            cov = covariance(layer.returns[k - layer.window : k, cols], "1d", "ledoit_wolf")
            assert np.abs(w).sum() <= cap * (1 + 1e-9)
            assert np.abs(w).max() <= max_w * cap * (1 + 1e-9)
            assert float(np.sqrt(w[cols] @ cov @ w[cols])) <= vol * (1 + 1e-7)
            assert (t.spot == 0).all()
            assert np.all(t.leverage >= 1)
            assert float(np.sum(np.abs(w) / t.leverage)) <= 1 + 1e-9  # the margins fit the equity
            busy += np.abs(w).sum() > 0.1
        assert busy > 50


def test_trend_weights_equal_the_plans_directional_layer() -> None:
    """The plan's ``directional_layer`` (cold solve, no frontier) on ``until(k)``: same universe (DDD
    joins once listed long enough), same weights after the regime's scale."""
    h = synthetic(listed=(0, 0, 0, 30))
    p = SMALL.with_(lookback_days=30.0, cov_lookback_days=30.0)
    config = PlanConfig(
        capital=1.0, universe_size=4, lookback_days=30, timeframe="1d", ma_fast=3, ma_slow=8,
        donchian_bars=5, momentum_bars=6, regime_window_days=5, regime_history_days=70, frontier_points=0,
    )  # fmt: skip
    universes = set()
    for k in range(45, h.n_bars, 7):
        layer = prepared(TrendLayer(p), h)  # a fresh layer solves cold, as the plan does
        mine = layer.targets(k)
        plan = directional_layer(plan_inputs(h, k), config, 1.0, 1.0)
        assert mine is not None and layer.last_regime is not None
        assert set(plan.assets) == {h.symbols[i] for i in np.flatnonzero(layer.eligible[k - 1])}
        got = np.array([mine.perp[h.symbols.index(s)] for s in plan.assets])
        np.testing.assert_allclose(got, plan.weights, atol=1e-7)
        assert layer.last_regime.scale == plan.regime.scale
        universes.add(len(plan.assets))
    assert universes == {3, 4}


def test_the_regime_scale_multiplies_the_weights_and_equals_the_plans_regime() -> None:
    """A calm stretch, then a storm: the basket's 5-day volatility jumps past 2x its 70-day median, the
    layer is scaled down (linearly to 0 at 3x) and the scale is the plan's ``regime`` on the basket."""
    h = synthetic(bars=160, listed=(0, 0, 0, 0), vol=(0.01, 0.01, 0.01, 0.01), seed=5)
    wild = h.close.copy()
    rng = np.random.default_rng(9)
    wild[130:] = wild[129] * np.cumprod(1 + 0.06 * rng.standard_normal((30, 4)), axis=0)
    h = dataclasses.replace(h, close=wild, open=np.vstack([wild[:1], wild[:-1]]))
    p = SMALL.with_(signal_ic=2.0, shrinkage=0.0)
    on = prepared(TrendLayer(p), h)
    off = prepared(TrendLayer(p.with_(regime_k=1e6, regime_zero_at=2e6)), h)
    scales = []
    for k in range(100, 160):
        a, b = on.targets(k), off.targets(k)
        assert a is not None and b is not None and on.last_regime is not None
        scale = on.last_regime.scale
        np.testing.assert_allclose(a.perp, b.perp * scale, atol=1e-12)
        daily = {
            s: [(int(h.times[t]), float(h.close[t, i])) for t in range(k)] for i, s in enumerate(h.symbols)
        }
        want = regime(basket_returns(daily), k=2.0, zero_at=3.0, window=5, history=70)
        assert scale == want.scale and on.last_regime.state == want.state
        scales.append(scale)
    assert min(scales) < 1.0 and scales[0] == 1.0


def test_signal_sizing_is_the_combined_signal_times_the_caps_with_the_gross_capped() -> None:
    """``sizing=signal``: weight = the plan's combined signal (from the closes up to the decision) x
    max_weight x leverage_cap, all scaled down when the gross passes the cap; no regime, no optimiser.
    Both sides of the cap are seen: one or two assets fit under it, three or four with strong signals
    do not."""
    h = synthetic(listed=(0, 0, 0, 60))
    p = SMALL.with_(sizing="signal", leverage_cap=1.5, max_weight=0.4)
    layer = prepared(TrendLayer(p), h)
    capped = under = 0
    for k in range(30, h.n_bars):
        t = layer.targets(k)
        assert t is not None and (t.spot == 0).all()
        cols = np.flatnonzero(layer.eligible[k - 1])
        raw = np.zeros(len(h.symbols))
        for c in cols:
            s = signals(h.close[:k, c][np.isfinite(h.close[:k, c])], 3, 8, 5, 6)
            assert s is not None
            raw[c] = s.combined * 0.4 * 1.5
        gross = np.abs(raw).sum()
        want = raw * 1.5 / gross if gross > 1.5 else raw
        np.testing.assert_allclose(t.perp, want, atol=1e-12)
        assert np.abs(t.perp).sum() <= 1.5 * (1 + 1e-12)
        assert float(np.sum(np.abs(t.perp) / t.leverage)) <= 1 + 1e-12  # the margins fit the equity
        capped += gross > 1.5
        under += 0 < gross <= 1.5
    assert capped > 5 and under > 5
    assert layer.last_regime is None
    assert parse_params(["sizing=Signal"]).sizing == "signal" and BacktestParams().sizing == "optimizer"
    with pytest.raises(UsageError, match="sizing=kelly is not accepted: use one of optimizer, signal"):
        parse_params(["sizing=kelly"])


def test_a_late_listing_gets_weight_zero_until_it_has_enough_history() -> None:
    """DDD lists at bar 60. The trend needs 20 days of returns and 8 closes for the signals (and 7 days
    of funding): nothing before bar 60 + 21; the carry needs 7 days of prints: nothing before 60 + 7."""
    h = synthetic(listed=(0, 0, 0, 60), funding_apr=(0.3, 0.15, 0.02, 0.6))
    trend = prepared(TrendLayer(SMALL.with_(signal_ic=2.0, shrinkage=0.0)), h)
    carry_layer = prepared(CarryLayer(SMALL.with_(top_n=4, min_carry_apr=0.0)), h)
    for k in range(1, h.n_bars):
        t, c = trend.targets(k), carry_layer.targets(k)
        if k - 1 < 60 + 20:
            assert t is None or t.perp[3] == 0
        if k < 60 + 7:
            assert c is None or (c.perp[3] == 0 and c.spot[3] == 0)
    assert any((t := trend.targets(k)) is not None and t.perp[3] != 0 for k in range(82, h.n_bars))
    c = carry_layer.targets(68)
    assert c is not None and c.perp[3] < 0  # the richest carry once its lookback is covered
    assert not trend.eligible[:80, 3].any() and trend.eligible[80, 3]


def test_a_symbol_without_a_price_at_the_decision_gets_weight_zero() -> None:
    """BBB's perp has no close at the decision (a gap): no trend weight, no carry; AAA's spot has none:
    no carry on AAA (its perp still trades in the trend layer)."""
    h = synthetic(listed=(0, 0, 0, 0))
    close = h.close.copy()
    close[99, 1] = np.nan
    spot = h.spot_close.copy()
    spot[99, 0] = np.nan
    h = dataclasses.replace(h, close=close, spot_close=spot)
    t = prepared(TrendLayer(SMALL.with_(signal_ic=2.0, shrinkage=0.0)), h).targets(100)
    c = prepared(CarryLayer(SMALL.with_(top_n=4, min_carry_apr=-1.0)), h).targets(100)
    assert t is not None and t.perp[1] == 0 and t.perp[0] != 0
    assert c is not None and c.perp[0] == c.spot[0] == c.perp[1] == c.spot[1] == 0
    assert c.perp[2] < 0 < c.spot[2]  # CCC's positive funding is still there to take


# --- no look-ahead ----------------------------------------------------------------------------------


def _perturbed(h: MarketHistory, j: int, seed: int) -> MarketHistory:
    """Every bar from j on and every print after times[j] changed."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name in ("open", "high", "low", "close", "spot_open", "spot_close"):
        a = getattr(h, name).copy()
        a[j:] *= rng.uniform(0.5, 1.5, a[j:].shape)
        arrays[name] = a
    rate = h.funding_rate.copy()
    later = h.funding_time > h.times[j]
    rate[later] = rng.normal(0.0, 0.003, int(later.sum()))
    return dataclasses.replace(h, funding_rate=rate, **arrays)


def _same_targets(a: LayerTargets | None, b: LayerTargets | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("perp", "spot", "leverage"))


NO_LOOKAHEAD_HISTORY = synthetic(bars=110, listed=(0, 0, 20, 50), funding_apr=(0.3, 0.15, 0.4, 0.6))


@settings(max_examples=25, deadline=None)
@given(
    j=st.integers(1, 109),
    seed=st.integers(0, 2**16),
    strategy=st.sampled_from(["carry", "trend", "hybrid"]),
    weighting=st.sampled_from(["equal", "optimizer"]),
)
def test_no_decision_sees_a_later_price_or_funding_print(
    j: int, seed: int, strategy: str, weighting: str
) -> None:
    """Changing every price from bar j on and every print after times[j] changes no decision for bars
    up to j (each decided at the close of the bar before, from ``until(k)``)."""
    h = NO_LOOKAHEAD_HISTORY
    p = SMALL.with_(top_n=2, min_carry_apr=0.0, weighting=weighting, regime_history_days=62, signal_ic=2.0)
    base = build_layers(strategy, p, 1000.0)
    other = build_layers(strategy, p, 1000.0)
    for (a, _), (b, _) in zip(base, other, strict=True):
        a.prepare(h)
        b.prepare(_perturbed(h, j, seed))
        for k in range(1, j + 1):
            assert _same_targets(a.targets(k), b.targets(k)), (strategy, a.name, k)


# --- composition ------------------------------------------------------------------------------------


def test_hybrid_splits_the_capital_and_runs_both_layers_reconciled() -> None:
    h = synthetic(bars=160, listed=(0, 0, 0, 60))
    layers = build_layers("hybrid", SMALL.with_(neutral_pct=60.0), 10_000.0)
    assert [(s.name, c) for s, c in layers] == [("carry", 6000.0), ("trend", 4000.0)]
    assert [s.name for s, _ in build_layers("hybrid", SMALL.with_(neutral_pct=100.0), 1.0)] == ["carry"]
    assert [s.name for s, _ in build_layers("trend", SMALL, 5.0)] == ["trend"]
    res = run_strategy(h, "hybrid", SMALL.with_(rebalance="7d", drift=0.2, min_carry_apr=0.0), 10_000.0)
    assert res.strategy == "hybrid" and [layer.name for layer in res.layers] == ["carry", "trend"]
    assert res.capital == 10_000.0
    assert res.layers[0].funding_pnl > 0  # shorts on positive funding
    assert (res.fills.layer == 1).any() and (res.fills.leg[res.fills.layer == 1] == LEG_PERP).all()
    assert reconcile(res, h) < 1e-6


def test_unknown_strategy_and_too_short_a_covariance_window_are_refused() -> None:
    from perptui.domain.errors import UsageError

    with pytest.raises(UsageError, match="unknown strategy 'carr'"):
        build_layers("carr", SMALL, 1.0)
    with pytest.raises(UsageError, match="cov_lookback_days=1 is 1 1d bar"):
        prepared(TrendLayer(SMALL.with_(cov_lookback_days=1.0)), synthetic(bars=30))


def plan_inputs(h: MarketHistory, k: int) -> PlanInputs:
    """What the allocation plan would be given at the decision for bar k (``until(k)``)."""
    past = h.until(k)
    closes = {
        s: [(int(t), float(c)) for t, c in zip(past.times, past.close[:, i], strict=True) if np.isfinite(c)]
        for i, s in enumerate(h.symbols)
    }
    funding = {
        s: [
            (int(t), float(r))
            for t, r, c in zip(past.funding_time, past.funding_rate, past.funding_symbol, strict=True)
            if c == i
        ]
        for i, s in enumerate(h.symbols)
    }
    return PlanInputs(
        markets={s: market(s) for s in h.symbols},
        closes=closes,
        funding=funding,
        intervals_h=dict.fromkeys(h.symbols),
        current_rates={},
        marks={s: c[-1][1] for s, c in closes.items() if c},
        spot_available=set(h.symbols),
        volume_usd={s: 1e9 / (i + 1) for i, s in enumerate(h.symbols)},
        now=int(h.times[k]),
    )


def test_run_strategy_pickles_by_name_for_sweeps_in_other_processes() -> None:
    import functools
    import pickle

    job = functools.partial(run_strategy, strategy="carry", params=SMALL.with_(top_n=1), capital=1000.0)
    again = pickle.loads(pickle.dumps(job))
    h = synthetic(bars=60)
    assert again(h).equity[-1] == job(h).equity[-1]


@pytest.mark.skipif(not BINANCE_DATA.is_dir(), reason=f"real Binance data not present at {BINANCE_DATA}")
def test_hybrid_on_real_binance_history_trades_late_listings_only_with_enough_history() -> None:
    """The 15 Binance perps from mid-2022 to late 2023, ARB listing in March 2023: the ledgers reconcile,
    the trend layer trades a perp only once it has 30 days of returns behind it, the carry only with
    30 days of funding prints, and every carry trade is a spot leg against an opposite perp leg."""
    bases = "ADA ARB ATOM AVAX BNB BTC DOGE DOT ETH LINK LTC POL SOL UNI XRP".split()  # noqa: SIM905
    h = binance_history([f"{b}/USDT:USDT" for b in bases])
    assert h is not None
    start, end = int(h.bar_of(parse_utc("2022-06-01"))), int(h.bar_of(parse_utc("2023-09-01")))
    p = BacktestParams().with_(min_carry_apr=0.0)
    res = run_strategy(h, "hybrid", p, 10_000.0, start=start, end=end)
    assert reconcile(res, h) < 1e-6
    first_bar = np.argmax(np.isfinite(h.close), axis=0)
    first_print = np.array([h.funding_time[h.funding_symbol == i].min() for i in range(len(bases))])
    f = res.fills
    trend, carry_ = f.layer == 1, f.layer == 0
    bars = ((f.time - h.times[0]) // h.bar_ms).astype(int)
    assert np.all(bars[trend] - first_bar[f.symbol[trend]] >= 91)  # 90 returns, the 91st bar fills
    assert np.all(f.time[carry_] - first_print[f.symbol[carry_]] >= 30 * DAY_MS - H8)
    arb = bases.index("ARB")
    assert (f.symbol[trend] == arb).any()  # ARB joins the trend layer once it qualifies
    for t in np.unique(f.time[carry_ & (f.kind == 0)]):
        at = carry_ & (f.time == t) & (f.kind == 0)
        spot = {
            int(s): q for s, q, leg in zip(f.symbol[at], f.qty[at], f.leg[at], strict=True) if leg == LEG_SPOT
        }
        perp = {
            int(s): q for s, q, leg in zip(f.symbol[at], f.qty[at], f.leg[at], strict=True) if leg == LEG_PERP
        }
        assert set(spot) == set(perp)
        assert all(np.sign(spot[s]) == -np.sign(perp[s]) for s in spot)
