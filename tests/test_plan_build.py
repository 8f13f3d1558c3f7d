"""The hybrid plan on synthetic inputs: the neutral picks and their equal-notional legs, the directional
layer against the optimiser (leverage cap, per-asset caps, volatility target), the regime scale, the
whole-plan figures, config checks and hypothesis properties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.errors import UsageError
from perptui.domain.optimize import optimize
from perptui.domain.plan import CurrentPosition, PlanConfig, build_plan
from perptui.domain.plan.directional import directional_layer, problem
from perptui.domain.plan.plan import PLAN_KEYS
from tests.plan_data import UNIVERSE, inputs

AAA, BBB, CCC, DDD, EEE = UNIVERSE
DATA = inputs(UNIVERSE)


def test_neutral_base_picks_the_best_net_carries_with_equal_notional_legs() -> None:
    plan = build_plan(DATA, PlanConfig(capital=10_000, neutral_count=2))
    pairs = {leg.symbol for leg in plan.neutral}
    assert pairs == {AAA, BBB}  # 30% and 15% APR; CCC (2%) nets below 5%, DDD needs a borrow
    assert any("DDD" in n and "spot borrow" in n for n in plan.notes)
    for symbol in pairs:
        spot, perp = (
            next(x for x in plan.neutral if x.symbol == symbol and x.leg == k) for k in ("spot", "perp")
        )
        assert (spot.side, perp.side) == ("long", "short")  # positive funding: the short perp earns it
        assert spot.qty == perp.qty and spot.notional == perp.notional
        assert spot.weight == pytest.approx(-perp.weight)
        assert perp.margin == pytest.approx(perp.notional)  # 1x
    used = sum(x.margin for x in plan.neutral)  # type: ignore[misc]
    assert used <= 7_000 + 1e-6
    assert used > 7_000 * 0.99  # two pairs capped at 50% each fill the layer
    assert sum(x.risk_contribution for x in plan.neutral) == pytest.approx(1.0)  # type: ignore[misc]


def test_neutral_pair_sizes_follow_the_leverage_of_the_perp_leg() -> None:
    plan = build_plan(DATA, PlanConfig(capital=10_000, neutral_count=2, neutral_leverage=2.0))
    perp = next(x for x in plan.neutral if x.leg == "perp")
    assert perp.margin == pytest.approx(perp.notional / 2)
    assert sum(x.margin for x in plan.neutral) <= 7_000 + 1e-6  # type: ignore[misc]
    assert sum(x.notional for x in plan.neutral if x.leg == "perp") == pytest.approx(7_000 / 1.5, rel=1e-3)


def test_negative_carry_is_included_with_borrow_when_allowed() -> None:
    plan = build_plan(DATA, PlanConfig(capital=10_000, neutral_count=5, allow_spot_short=True))
    ddd = {x.leg: x for x in plan.neutral if x.symbol == DDD}
    assert (ddd["spot"].side, ddd["perp"].side) == ("short", "long")
    # net = 30% funding - 10% borrow - costs (2 x (0.1% + 0.05%) + 0.1%) x 365 / 30, on the lookback's mean
    assert ddd["perp"].expected_return == pytest.approx(0.30 - 0.10 - 0.004 * 365 / 30, abs=0.02)


def test_directional_layer_is_the_optimisers_solution_within_the_limits() -> None:
    config = PlanConfig(capital=10_000, neutral_pct=0, objective="max_utility", risk_aversion=0.5,
                        leverage_cap=2.0, max_weight=0.3, vol_target=0.25)  # fmt: skip
    plan = build_plan(DATA, config)
    assert plan.neutral == () and plan.optimizer is not None
    layer = directional_layer(DATA, config, 10_000, 10_000)  # the layer's mu and covariance
    assert layer.cov is not None and layer.assets == plan.assets
    direct = optimize(problem(config, layer.mu, layer.cov, layer.assets))
    assert np.allclose(plan.optimizer.weights, direct.weights, atol=1e-9)
    w = plan.optimizer.weights
    assert np.abs(w).sum() <= 2.0 + 1e-9
    assert np.all(np.abs(w) <= 0.3 * 2.0 + 1e-9)
    assert plan.optimizer.volatility <= 0.25 + 1e-9
    gross = sum(abs(x.notional) for x in plan.directional)
    assert gross <= 2.0 * 10_000 + 1e-6
    assert sum(x.margin for x in plan.directional) <= 10_000 + 1e-6  # type: ignore[misc]
    assert sum(x.risk_contribution for x in plan.directional) == pytest.approx(1.0)  # type: ignore[misc]
    for x in plan.directional:
        assert x.signal is not None and -1 <= x.signal <= 1
        i = plan.assets.index(x.symbol)
        assert x.expected_return == pytest.approx(np.sign(w[i]) * layer.mu[i])


def test_the_regime_scales_the_directional_weights() -> None:
    calm = build_plan(DATA, PlanConfig(capital=10_000, neutral_pct=0))
    assert calm.regime.state == "calm" and calm.chosen is not None
    # make the last 30 days 2.5x as volatile as before: half the weights
    spiked = {}
    for s, series in DATA.closes.items():
        prices = np.array([p for _, p in series])
        r = prices[1:] / prices[:-1] - 1
        r[-30:] = r[-30:] * 2.5
        path = prices[0] * np.cumprod(np.concatenate([[1.0], 1 + r]))
        spiked[s] = [(t, float(p)) for (t, _), p in zip(series, path, strict=True)]
    plan = build_plan(dataclasses.replace(DATA, closes=spiked), PlanConfig(capital=10_000, neutral_pct=0))
    assert plan.regime.state in ("elevated", "off")
    assert 0 <= plan.regime.scale < 1
    assert plan.regime.realised_vol > 2 * plan.regime.median_vol  # type: ignore[operator]
    assert plan.chosen is not None and plan.optimizer is not None
    assert np.allclose(plan.chosen.weights, plan.optimizer.weights * plan.regime.scale)
    assert plan.regime.as_dict()["state"] == plan.regime.state


def test_a_hundred_percent_neutral_has_no_directional_layer() -> None:
    plan = build_plan(DATA, PlanConfig(capital=10_000, neutral_pct=100))
    assert plan.directional == () and plan.neutral
    assert plan.optimizer is None and plan.frontier == ()


def test_whole_plan_figures_add_the_layers() -> None:
    plan = build_plan(DATA, PlanConfig(capital=10_000))
    assert plan.expected_return is not None and plan.volatility is not None
    assert plan.sharpe == pytest.approx(plan.expected_return / plan.volatility)
    assert len(plan.frontier) == 15
    vols = [p.volatility for p in plan.frontier]
    assert vols == sorted(vols)
    # funding per day: the neutral shorts earn AAA's and BBB's funding on their notional
    neutral_income = sum(
        x.notional * (0.30 if x.symbol == AAA else 0.15) / 365 for x in plan.neutral if x.leg == "perp"
    )
    assert plan.funding_per_day == pytest.approx(
        neutral_income + sum(d_income(x) for x in plan.directional), rel=0.05
    )
    data = plan.as_dict()
    assert tuple(data) == PLAN_KEYS
    assert set(data["neutral"][0]) >= {"symbol", "leg", "side", "qty", "notional", "weight"}


def d_income(leg) -> float:  # type: ignore[no-untyped-def]
    apr = UNIVERSE[leg.symbol][3]
    return (1 if leg.side == "short" else -1) * leg.notional * apr / 365


def test_trades_from_current_positions() -> None:
    plan = build_plan(DATA, PlanConfig(capital=10_000, neutral_pct=100, neutral_count=1))
    perp = next(x for x in plan.neutral if x.leg == "perp")
    current = [CurrentPosition(perp.symbol, "short", perp.qty), CurrentPosition("ZZZ/USDT:USDT", "long", 1.0)]
    again = build_plan(DATA, plan.config, current)
    kinds = [(t.symbol, t.leg, t.side, t.reduce_only) for t in again.trades]
    assert kinds == [("ZZZ/USDT:USDT", "perp", "short", True), (perp.symbol, "spot", "long", False)]


def test_no_history_says_so_and_leaves_the_layers_empty() -> None:
    empty = dataclasses.replace(DATA, closes={}, funding={}, notes=("offline: from the cache",))
    plan = build_plan(empty, PlanConfig(capital=10_000))
    assert plan.neutral == () and plan.directional == ()
    assert plan.notes[0] == "offline: from the cache"
    assert any("funding history" in n for n in plan.notes)
    assert any("directional" in n and "history" in n for n in plan.notes)
    assert plan.sharpe is None and plan.regime.state == "unknown"
    unranked = build_plan(dataclasses.replace(DATA, volume_usd={}), PlanConfig(capital=10_000))
    assert unranked.directional == ()
    assert any("no perp has a known 24h volume" in n for n in unranked.notes)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("capital", 0, "plan capital must be above 0"),
        ("neutral_pct", 120, "plan neutral_pct must be at most 100"),
        ("objective", "max_fun", "plan objective must be one of"),
        ("lookback_days", 14, "plan lookback_days must be one of 7, 30, 90"),
        ("timeframe", "15m", "plan timeframe"),
        ("regime_zero_at", 1.5, "plan regime_zero_at must be above 2"),
        ("ma_slow", 5, "plan ma_slow must be a whole number of at least 11"),
    ],
)
def test_bad_config_names_the_field(field: str, value: object, words: str) -> None:
    with pytest.raises(UsageError, match=words) as info:
        PlanConfig(**{"capital": 1_000.0, field: value})  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    assert PlanConfig(capital=1.0).with_(capital=2.0).capital == 2.0


@settings(max_examples=25, deadline=None)
@given(
    capital=st.floats(200.0, 500_000.0),
    neutral_pct=st.floats(0.0, 100.0),
    leverage_cap=st.floats(0.5, 5.0),
    objective=st.sampled_from(["max_utility", "min_variance", "max_sharpe", "efficient_risk"]),
)
def test_plan_properties(capital: float, neutral_pct: float, leverage_cap: float, objective: str) -> None:
    config = PlanConfig(
        capital=capital,
        neutral_pct=neutral_pct,
        leverage_cap=leverage_cap,
        objective=objective,
        frontier_points=0,
    )
    plan = build_plan(DATA, config)
    for x in plan.legs:
        step = DATA.markets[x.symbol].amount_step
        assert x.qty > 0 and abs(x.qty / step - round(x.qty / step)) < 1e-6  # type: ignore[operator]
        assert x.notional == pytest.approx(x.qty * DATA.marks[x.symbol])
    layer = capital * (100 - neutral_pct) / 100
    assert sum(x.notional for x in plan.directional) <= leverage_cap * layer * (1 + 1e-9)
    for symbol in {x.symbol for x in plan.neutral}:
        spot = sum(x.notional for x in plan.neutral if x.symbol == symbol and x.leg == "spot")
        perp = sum(x.notional for x in plan.neutral if x.symbol == symbol and x.leg == "perp")
        assert abs(spot - perp) <= DATA.markets[symbol].amount_step * DATA.marks[symbol]  # type: ignore[operator]
    assert sum(x.margin for x in plan.neutral) <= capital * neutral_pct / 100 * (1 + 1e-9)  # type: ignore[misc]
