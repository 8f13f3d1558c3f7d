"""The backtester's perp fills follow the market rules (``domain.market_rules``) when the history knows
them: whole steps, no trade under the minimum quantity or notional, reductions free of the minimum
notional. Without rules nothing changes (the other engine tests)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from perptui.domain.backtest.engine import run_backtest
from perptui.domain.backtest.reconcile import reconcile
from perptui.domain.backtest.types import LEG_PERP, Costs, Schedule
from perptui.domain.market_rules import MarketRules
from tests.backtest_data import FixedStrategy, always, book, hand_history

FREE = Costs(perp_taker=0.0, spot_taker=0.0, slippage=0.0)
ETH = "ETH/USDT:USDT"
SOL = "SOL/USDT:USDT"
#: Steps of 0.1 ETH, at least 0.1 and 20 USDT an order.
ETH_RULES = MarketRules(ETH, step=0.1, tick=0.01, min_qty=0.1, min_notional=20.0)


def test_positions_are_whole_steps_toward_zero_and_the_hedge_matches() -> None:
    """A carry of 0.47 of 1,000 on ETH at 300: 1.5667 ETH wanted, 1.5 sold; the spot leg buys minus
    the perp's rounded quantity."""
    h = dataclasses.replace(hand_history([ETH], [300.0] * 3, spot_open=[300.0] * 3), rules=(ETH_RULES,))
    targets = dataclasses.replace(book([-0.47], [0.47]), hedge=np.array([True]))
    result = run_backtest(h, [(always(targets), 1000.0)], costs=FREE)
    assert result.fills.qty.tolist() == pytest.approx([-1.5, 1.5])
    assert reconcile(result, h) <= 1e-9 * 1000


def test_a_trade_under_the_minimum_notional_is_not_made_but_a_reduction_is() -> None:
    """A 50 USDT minimum. Equity 1,000, long 0.5 of it in ETH at 300: 1.6667 wanted, 1.6 bought (480);
    at bar 2 (310, equity 1,016) 0.52 asks for 1.7043 -> 1.7: +0.1 ETH is 31 USDT, under 50: not made;
    at bar 3 the target 0 sells the whole 1.6 ETH (a reduction: no minimum notional)."""
    opens = [300.0, 300.0, 310.0, 310.0]
    rules = dataclasses.replace(ETH_RULES, min_notional=50.0)
    h = dataclasses.replace(hand_history([ETH], opens), rules=(rules,))
    strategy = FixedStrategy({0: book([0.5]), 1: book([0.5]), 2: book([0.52]), 3: book([0.0])})
    result = run_backtest(h, [(strategy, 1000.0)], costs=FREE, schedule=Schedule(every_bars=1))
    perp = result.fills.leg == LEG_PERP
    assert result.fills.qty[perp].tolist() == pytest.approx([1.6, -1.6])
    assert any("under the market's minimum quantity or notional were not made" in n for n in result.notes)
    assert reconcile(result, h) <= 1e-9 * 1000


def test_every_perp_fill_is_whole_steps_on_a_random_walk() -> None:
    rng = np.random.default_rng(3)
    opens = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, (60, 2)), axis=0))
    rules = (MarketRules(ETH, step=0.01, min_notional=5.0), MarketRules(SOL, step=1.0, min_qty=1.0))
    h = dataclasses.replace(hand_history([ETH, SOL], opens), rules=rules)
    weights = rng.uniform(-0.4, 0.4, (60, 2))
    strategy = FixedStrategy(lambda k: book(list(weights[k])))
    result = run_backtest(h, [(strategy, 5_000.0)], costs=FREE, schedule=Schedule(every_bars=1))
    perp = result.fills.leg == LEG_PERP
    for symbol, step in ((0, 0.01), (1, 1.0)):
        qty = result.fills.qty[perp & (result.fills.symbol == symbol)]
        assert len(qty) > 5
        assert np.allclose(qty / step, np.round(qty / step), atol=1e-6)
    assert reconcile(result, h) <= 1e-9 * 5_000
