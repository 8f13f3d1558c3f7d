"""The backtest engine's accounting on small histories worked out by hand, and its identity (final
equity = capital + price PnL + funding - fees, price PnL recomputed from the fills alone) on random
ones. The strategies here are fixed tables of targets, so the engine is tested alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.backtest.engine import run_backtest
from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.margin import MARGIN_MODES, LiquidationTable
from perptui.domain.backtest.reconcile import reconcile
from perptui.domain.backtest.types import (
    KIND_CLOSE,
    KIND_LIQUIDATION,
    KIND_TRADE,
    LEG_PERP,
    LEG_SPOT,
    BacktestResult,
    Costs,
    LayerTargets,
    Schedule,
)
from perptui.domain.errors import UsageError
from perptui.domain.liquidation import liquidation_price
from perptui.domain.tiers import continuous_maint_amounts, default_tiers, maintenance_margin
from perptui.domain.types import LeverageTier
from tests.backtest_data import T0, FixedStrategy, always, book, hand_history

H8 = 8 * 3_600_000
FREE = Costs(perp_taker=0.0, spot_taker=0.0, slippage=0.0)
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
#: Binance's first BTCUSDT bracket (2024-10-24): 0.4% maintenance up to 50,000 USDT of notional.
ONE_BRACKET = (LeverageTier(0.0, 50_000.0, 0.004, 0.0, 125.0),)
#: Made-up brackets steep enough that random cross layers reach their maintenance margin often.
STEEP = tuple(
    LeverageTier(lo, hi, mmr, cum, 4.0)
    for lo, hi, mmr, cum in zip(
        (0.0, 1_000.0, 100_000.0),
        (1_000.0, 100_000.0, float("inf")),
        (0.1, 0.2, 0.3),
        continuous_maint_amounts([(0.0, 0.1), (1_000.0, 0.2), (100_000.0, 0.3)]),
        strict=True,
    )
)


def run(history: MarketHistory, layers: list, **kwargs: object) -> BacktestResult:
    """Every run in these tests is reconciled from its ledgers."""
    result = run_backtest(history, layers, **kwargs)  # type: ignore[arg-type]
    scale = max(1.0, float(np.max(np.abs(result.equity))), result.capital)
    assert reconcile(result, history) <= 1e-9 * scale
    for layer in result.layers:
        final = layer.capital + layer.price_pnl + layer.funding_pnl - layer.fees
        assert layer.equity[-1] == pytest.approx(final, rel=1e-12, abs=1e-9)
    return result


# --- by hand ---------------------------------------------------------------------------------------


def test_a_short_held_through_funding_prints_earns_exactly_q_mark_rate() -> None:
    """Short 1 BTC at 100, prints of 0.0001: at bar 1's open (mark 110, paid by the position held
    before that open), inside bar 2 (mark = bar 2's open, 90) and at bar 3's open (mark 120). A print at
    the first open comes before the entry (nothing held: no row) and one at the final close belongs to
    the next bar (not in the run)."""
    opens = [100.0, 110.0, 90.0, 120.0, 100.0]
    prints = [(T0, 0, 0.0001), (T0 + H8, 0, 0.0001), (T0 + 2 * H8 + 4 * 3_600_000, 0, 0.0001)]
    prints += [(T0 + 3 * H8, 0, 0.0001), (T0 + 5 * H8, 0, 0.0001)]
    h = hand_history([BTC], opens, funding=prints)
    result = run(h, [(always(book([-1.0])), 100.0)], costs=FREE)
    layer = result.layers[0]
    f = result.funding
    assert f.time.tolist() == [T0 + H8, T0 + 2 * H8 + 4 * 3_600_000, T0 + 3 * H8]
    assert f.qty.tolist() == [-1.0, -1.0, -1.0]
    assert f.mark.tolist() == [110.0, 90.0, 120.0]
    assert f.amount == pytest.approx([0.011, 0.009, 0.012], abs=1e-15)
    assert layer.funding_pnl == pytest.approx(0.032, abs=1e-15)
    # Closes are the next opens: 110, 90, 120, 100, 100; the short gains what the price loses.
    assert layer.equity == pytest.approx([100.0, 90.0, 110.011, 80.02, 100.032, 100.032], abs=1e-12)
    assert layer.price_pnl == 0.0 and layer.fees == 0.0
    assert result.times.tolist() == [T0 + i * H8 for i in range(6)]


def test_a_print_at_an_open_is_paid_by_the_book_held_before_that_opens_trades() -> None:
    """A long opened at bar 1 does not pay the print at bar 1's open; closed at bar 3 it still pays the
    print at bar 3's open (it was held at the funding time)."""
    h = hand_history([BTC], [100.0] * 5, funding=[(T0 + i * H8, 0, 0.001) for i in range(5)])
    table = {1: book([1.0]), 3: book([0.0])}
    result = run(h, [(FixedStrategy(table), 1000.0)], costs=FREE, schedule=Schedule(every_bars=2))
    assert result.funding.time.tolist() == [T0 + 2 * H8, T0 + 3 * H8]
    assert result.funding.amount.tolist() == pytest.approx([-1.0, -1.0])


def test_a_round_trip_pays_its_fees_and_slippage_by_hand() -> None:
    """Buy 10 at 100 with 0.2% slippage and 0.1% taker, sell at 110: 100.2 and 109.78, fees 1.002 and
    1.0978, price PnL 10 x 9.58 = 95.8."""
    h = hand_history([ETH], [100.0, 105.0, 110.0, 110.0])
    strategy = FixedStrategy({0: book([1.0]), 2: book([0.0])})
    costs = Costs(perp_taker=0.001, spot_taker=0.0, slippage=0.002)
    result = run(h, [(strategy, 1000.0)], costs=costs, schedule=Schedule(every_bars=2))
    fills, layer = result.fills, result.layers[0]
    assert fills.time.tolist() == [T0, T0 + 2 * H8]
    assert fills.qty.tolist() == pytest.approx([10.0, -10.0])
    assert fills.price.tolist() == pytest.approx([100.2, 109.78])
    assert fills.fee.tolist() == pytest.approx([1.002, 1.0978])
    assert fills.kind.tolist() == [KIND_TRADE, KIND_TRADE]
    assert layer.price_pnl == pytest.approx(95.8)
    assert layer.fees == pytest.approx(2.0998)
    assert layer.equity[-1] == pytest.approx(1093.7002)
    # Marked at the closes: 105 after the buy at 100.2 and its fee, then the sale.
    assert layer.equity[1] == pytest.approx(1000 + 10 * (105 - 100.2) - 1.002)
    assert layer.traded.tolist() == pytest.approx([1002.0, 0.0, 1097.8, 0.0])


def test_a_carry_pays_the_spot_taker_on_its_spot_leg_and_no_funding_on_it() -> None:
    h = hand_history(
        [BTC], [100.0, 100.0, 100.0], spot_open=[99.0, 99.0, 99.0], funding=[(T0 + H8, 0, 0.001)]
    )
    costs = Costs(perp_taker=0.0005, spot_taker=0.001, slippage=0.0)
    result = run(h, [(always(book([-0.5], [0.5])), 1000.0)], costs=costs)
    fills = result.fills
    assert fills.leg.tolist() == [LEG_PERP, LEG_SPOT]
    assert fills.qty.tolist() == pytest.approx([-5.0, 500 / 99])
    assert fills.fee.tolist() == pytest.approx([500 * 0.0005, 500 * 0.001])
    assert result.funding.qty.tolist() == [-5.0]
    assert result.funding_pnl == pytest.approx(0.5)


def test_an_unchanged_target_trades_nothing_at_a_rebalance() -> None:
    h = hand_history([BTC], [100.0] * 6)
    strategy = always(book([0.5]))
    result = run(h, [(strategy, 1000.0)], costs=FREE, schedule=Schedule(every_bars=2))
    assert strategy.asked == [0, 2, 4]
    assert len(result.fills.time) == 1


def test_layers_are_separate_accounts_in_the_given_order() -> None:
    h = hand_history([BTC, ETH], [[100.0, 10.0], [120.0, 10.0], [130.0, 10.0]])
    a, b = always(book([1.0, 0.0]), "long"), always(book([0.0, -1.0]), "short")
    result = run(h, [(a, 1000.0), (b, 500.0)], costs=FREE)
    assert [layer.name for layer in result.layers] == ["long", "short"]
    assert result.fills.layer.tolist() == [0, 1]
    assert result.fills.symbol.tolist() == [0, 1]
    assert result.layers[0].equity[-1] == pytest.approx(1300.0)
    assert result.layers[1].equity[-1] == pytest.approx(500.0)
    assert result.equity[-1] == pytest.approx(1800.0)


def test_a_book_needing_more_margin_than_the_equity_is_scaled_down_and_noted() -> None:
    """Perp 2.0 at 2x needs 1.0 of margin and spot 0.5 is paid in cash: 1.5 > 1, so everything is
    scaled by 1/1.5."""
    h = hand_history([BTC], [100.0] * 4, spot_open=[100.0] * 4)
    strategy = always(book([2.0], [0.5], [2.0]))
    result = run(h, [(strategy, 1500.0)], costs=FREE, schedule=Schedule(every_bars=1))
    assert result.fills.qty.tolist() == pytest.approx([20.0, 5.0])
    assert any("scaled down to fit" in n and "4 time(s)" in n for n in result.notes)


# --- markets that start late, stop, or have holes ----------------------------------------------------


def _listed_strategy(weight: float) -> FixedStrategy:
    """Equal weight on every symbol that had a close before the decision (reads only until(k))."""
    holder: dict[str, MarketHistory] = {}

    def targets(k: int) -> LayerTargets | None:
        past = holder["h"].until(k)
        if k == 0:
            return book(np.zeros(len(past.symbols)))
        return book(np.where(np.isfinite(past.close[-1]), weight, 0.0))

    strategy = FixedStrategy(targets)
    original = strategy.prepare

    def prepare(history: object) -> None:
        original(history)
        holder["h"] = history  # type: ignore[assignment]

    strategy.prepare = prepare  # type: ignore[method-assign]
    return strategy


def test_a_late_listing_joins_at_the_first_rebalance_after_its_first_bar() -> None:
    opens = np.array([[100.0, np.nan]] * 4 + [[100.0, 50.0]] * 6)
    h = hand_history([BTC, ETH], opens, close=opens)
    result = run(h, [(_listed_strategy(0.4), 1000.0)], costs=FREE, schedule=Schedule(every_bars=1))
    eth = result.fills.symbol == 1
    assert result.fills.time[eth].tolist() == [T0 + 5 * H8]  # its first close is bar 4's
    assert result.fills.qty[eth].tolist() == pytest.approx([0.4 * 1000 / 50])
    assert not [n for n in result.notes if "ETH" in n and "tiers" not in n]


def test_a_target_on_a_symbol_without_a_price_is_not_traded_and_said() -> None:
    opens = np.array([[100.0, np.nan]] * 3 + [[100.0, 50.0]] * 3)
    h = hand_history([BTC, ETH], opens, close=opens)
    result = run(h, [(always(book([0.2, 0.2])), 1000.0)], costs=FREE, schedule=Schedule(every_bars=1))
    assert result.fills.time[result.fills.symbol == 1].tolist() == [T0 + 3 * H8]
    said = [n for n in result.notes if "ETH/USDT:USDT perp" in n]
    assert any("3 rebalance(s) without an open price" in n for n in said)


def test_a_market_that_stops_is_closed_at_its_last_close_with_its_fee() -> None:
    opens = np.array([[100.0, 10.0]] * 4 + [[100.0, np.nan]] * 3)
    closes = opens.copy()
    closes[3, 1] = 12.0
    prints = [(T0 + i * H8, 1, 0.001) for i in range(7)]
    h = hand_history([BTC, ETH], opens, close=closes, funding=prints)
    costs = Costs(perp_taker=0.001, spot_taker=0.0, slippage=0.0)
    result = run(h, [(always(book([0.0, -1.0])), 1000.0)], costs=costs)
    closed = result.fills.kind == KIND_CLOSE
    assert result.fills.qty[closed].tolist() == pytest.approx([100.0])
    assert result.fills.price[closed].tolist() == [12.0]
    assert result.fills.time[closed].tolist() == [T0 + 4 * H8]
    assert result.fills.fee[closed].tolist() == pytest.approx([100 * 12 * 0.001])
    assert result.funding.time.max() == T0 + 3 * H8  # nothing held at the print of bar 4's open
    assert any("ETH/USDT:USDT perp: its market has no bars after" in n for n in result.notes)
    layer = result.layers[0]
    expected = 1000 - 1.0 + 100 * (10 - 12) - 1.2 + 0.001 * 1000 * 3
    assert layer.equity[-1] == pytest.approx(expected)
    assert layer.equity[-3:].tolist() == pytest.approx([expected] * 3)


def test_a_hole_in_the_data_is_valued_at_the_last_price_and_noted() -> None:
    opens = np.array([100.0, 101.0, 102.0, np.nan, np.nan, 104.0, 105.0])
    h = hand_history([BTC], opens, close=opens)
    result = run(h, [(always(book([1.0])), 1000.0)], costs=FREE)
    # 10 BTC bought at 100; closes 100, 101, 102, (102, 102 carried through the hole), 104, 105.
    assert result.layers[0].equity.tolist() == pytest.approx([1000, 1000, 1010, 1020, 1020, 1020, 1040, 1050])
    gap = [n for n in result.notes if "no bars from" in n]
    assert gap == [
        "BTC/USDT:USDT perp: no bars from 2021-01-02T00:00:00Z to 2021-01-02T08:00:00Z; held positions "
        "were valued at their last known price through the gap"
    ]


# --- margin and liquidation ----------------------------------------------------------------------------


def test_a_3x_long_through_a_40_percent_drop_is_liquidated_and_loses_exactly_its_margin() -> None:
    """1.5 of equity at 3x: 15 BTC at 100 on 500 of margin. LP = (500 - 15 x 100) / (15 x 0.004 - 15)
    = 66.934..., crossed by bar 3 (open 60 after a 40% fall). The exchange keeps the maintenance margin
    at LP; the layer is flat until its next rebalance (bar 4), where it buys again with what is left."""
    opens = [100.0, 100.0, 90.0, 60.0, 60.0, 62.0]
    low = [99.0, 88.0, 80.0, 58.0, 59.0, 61.0]
    h = hand_history([BTC], opens, low=low, high=[101.0, 101.0, 91.0, 61.0, 63.0, 63.0], tiers=[ONE_BRACKET])
    strategy = always(book([1.5], leverage=[3.0]))
    result = run(h, [(strategy, 1000.0)], costs=FREE, schedule=Schedule(every_bars=4))
    lp = liquidation_price("long", 15.0, 100.0, 500.0, ONE_BRACKET).price  # type: ignore[union-attr]
    assert lp == pytest.approx(1000 / 14.94)
    fills, layer = result.fills, result.layers[0]
    liq = fills.kind == KIND_LIQUIDATION
    assert fills.price[liq].tolist() == [lp]
    assert fills.qty[liq].tolist() == [-15.0]
    assert fills.time[liq].tolist() == [T0 + 3 * H8]
    assert fills.fee[liq] == pytest.approx([15 * lp * 0.004])
    loss = 15 * (lp - 100.0) - fills.fee[liq][0]
    assert loss == pytest.approx(-500.0, abs=1e-9)
    assert layer.liquidations == 1
    assert layer.equity[4] == pytest.approx(500.0)  # close of bar 3: what was left
    assert fills.time[~liq].tolist() == [T0, T0 + 4 * H8]
    assert fills.qty[~liq][1] == pytest.approx(1.5 * 500 / 60)
    assert any("liquidated at 66.9344" in n for n in result.notes)


def test_a_short_is_liquidated_by_the_high_and_stays_flat_without_a_rebalance() -> None:
    opens = [100.0, 100.0, 100.0, 100.0]
    high = [101.0, 150.0, 101.0, 101.0]
    h = hand_history([BTC], opens, high=high, tiers=[ONE_BRACKET])
    strategy = always(book([-1.0], leverage=[2.0]))
    result = run(h, [(strategy, 1000.0)], costs=FREE)
    lp = liquidation_price("short", 10.0, 100.0, 500.0, ONE_BRACKET).price  # type: ignore[union-attr]
    assert lp == pytest.approx(1500 / 10.04)
    liq = result.fills.kind == KIND_LIQUIDATION
    assert result.fills.price[liq].tolist() == [lp]
    assert result.fills.time[liq].tolist() == [T0 + H8]
    assert len(result.fills.time) == 2 and strategy.asked == [0]
    assert result.layers[0].equity[2:].tolist() == pytest.approx([500.0] * 3)


def test_a_rebalance_margins_a_position_on_its_notional_at_that_bar() -> None:
    """10 BTC at 100, 2x: wallet 500, liquidation at 50.2. At the rebalance of bar 2 the price is 200
    and the target quantity is unchanged (10 = 1 x 2000 / 200), but the position is now margined on
    its notional: margin balance 2000 / 2 = 1000, i.e. wallet 1000 - 10 x (200 - 100) = 0, and the
    liquidation price moves to 1000 / 9.96 = 100.40; bar 3's low of 100 reaches it. The layer loses
    that margin balance: from 2000 at the rebalance its equity falls to 1000."""
    opens = [100.0, 100.0, 200.0, 150.0, 150.0]
    low = [100.0, 100.0, 190.0, 100.0, 150.0]
    h = hand_history([BTC], opens, low=low, tiers=[ONE_BRACKET])
    strategy = always(book([1.0], leverage=[2.0]))
    result = run(h, [(strategy, 1000.0)], costs=FREE, schedule=Schedule(every_bars=2))
    fills = result.fills
    assert strategy.asked == [0, 2, 4]
    assert fills.kind.tolist() == [KIND_TRADE, KIND_LIQUIDATION, KIND_TRADE]
    lp = liquidation_price("long", 10.0, 100.0, 0.0, ONE_BRACKET).price  # type: ignore[union-attr]
    assert lp == pytest.approx(1000 / 9.96)
    assert fills.price[1] == lp and fills.time[1] == T0 + 3 * H8
    assert result.layers[0].equity[2:5].tolist() == pytest.approx([2000.0, 1500.0, 1000.0])


def test_without_brackets_there_is_no_liquidation_check_and_it_is_said() -> None:
    h = hand_history([BTC], [100.0, 100.0, 100.0], low=[99.0, 1.0, 99.0])
    result = run(h, [(always(book([1.0], leverage=[5.0])), 1000.0)], costs=FREE)
    assert result.layers[0].liquidations == 0
    assert any("no leverage tiers for BTC/USDT:USDT" in n for n in result.notes)


def test_a_layer_whose_equity_is_gone_closes_everything_and_stops() -> None:
    opens = [100.0, 100.0, 40.0, 30.0, 50.0]
    h = hand_history([BTC], opens)
    strategy = always(book([2.0], leverage=[2.0]))
    result = run(h, [(strategy, 1000.0)], costs=FREE, schedule=Schedule(every_bars=1))
    layer = result.layers[0]
    # 20 BTC; the close of bar 1 is 40: equity 1000 - 1200 < 0, everything closed there.
    assert result.fills.kind.tolist() == [KIND_TRADE, KIND_CLOSE]
    assert layer.equity.tolist() == pytest.approx([1000, 1000, -200, -200, -200, -200])
    assert strategy.asked == [0, 1]
    assert any("stopped trading" in n for n in result.notes)


# --- cross margin ---------------------------------------------------------------------------------------


def test_a_hedged_carry_survives_a_doubling_in_cross_margin_but_not_isolated() -> None:
    """5 BTC short perp at 1x + 5 BTC long spot at 100; BTC goes to 200 and back. Isolated, the short
    is margined on its own 500: LP = 1000 / 5.02 = 199.2, reached by bar 2's high of 200, so it loses
    its 500 while the spot's gain is given back afterwards (the layer ends at 500). In cross margin
    the spot gain carries the perp loss: equity stays 1000 against a maintenance margin of at most
    5 x 200 x 0.4% = 4, nothing is liquidated and the pair is held to the end."""
    prices = [100.0, 100.0, 150.0, 200.0, 100.0, 100.0]
    h = hand_history([BTC], prices, spot_open=prices, tiers=[ONE_BRACKET])
    carry = book([-0.5], [0.5], [1.0])
    isolated = run(h, [(always(carry), 1000.0)], costs=FREE)
    assert isolated.layers[0].liquidations == 1
    assert isolated.fills.time[isolated.fills.kind == KIND_LIQUIDATION].tolist() == [T0 + 2 * H8]
    assert isolated.layers[0].equity[-1] == pytest.approx(500.0)

    cross = run(h, [(always(carry, margin_mode="cross"), 1000.0)], costs=FREE)
    assert cross.layers[0].liquidations == 0
    assert cross.fills.kind.tolist() == [KIND_TRADE, KIND_TRADE]
    assert cross.layers[0].equity.tolist() == pytest.approx([1000.0] * 7)
    assert not [n for n in cross.notes if "liquidat" in n]


def test_an_unhedged_3x_long_in_cross_margin_goes_at_the_first_close_at_its_maintenance() -> None:
    """15 BTC at 100 on 1000 (3x). Equity at a close c: 1000 + 15 (c - 100); maintenance 15 x c x
    0.4%. Bar 1 dips to 30 inside (an isolated position would go there, at 66.93) but closes at 60:
    cross margin checks closes only. Closes 34 (equity 10 > 2.04) then 33.4: equity 1.0 <= 2.004,
    liquidated at that close. The exchange keeps the 1.0 left (the fill's fee): the layer ends at 0
    and stops."""
    opens = [100.0, 90.0, 60.0, 34.0, 33.4, 33.4, 40.0]
    low = [90.0, 30.0, 34.0, 33.4, 33.4, 33.4, 33.4]
    h = hand_history([BTC], opens, low=low, tiers=[ONE_BRACKET])
    target = book([1.5], leverage=[3.0])
    isolated = run(h, [(always(target), 1000.0)], costs=FREE)
    assert isolated.fills.time[isolated.fills.kind == KIND_LIQUIDATION].tolist() == [T0 + H8]

    strategy = always(target, margin_mode="cross")
    result = run(h, [(strategy, 1000.0)], costs=FREE, schedule=Schedule(every_bars=4))
    fills, layer = result.fills, result.layers[0]
    assert fills.kind.tolist() == [KIND_TRADE, KIND_LIQUIDATION]
    assert fills.time[1] == T0 + 4 * H8  # the close of bar 3
    assert fills.qty[1] == -15.0 and fills.price[1] == 33.4
    before = 1000 + 15 * (33.4 - 100)
    assert before == pytest.approx(1.0) and before <= 15 * 33.4 * 0.004
    assert fills.fee[1] == pytest.approx(before, abs=1e-9)
    assert layer.equity.tolist() == pytest.approx([1000, 850, 400, 10, 0, 0, 0, 0], abs=1e-9)
    assert layer.liquidations == 1
    assert strategy.asked == [0]  # stopped at the close of bar 3: no decision at bar 4
    assert any("cross margin: equity 1 at or below the maintenance margin 2.004" in n for n in result.notes)


@pytest.mark.parametrize(("close", "kept"), [(58.0, 34.0), (50.0, 0.0)])
def test_a_cross_liquidation_sells_the_spot_collateral_and_shares_what_is_kept_by_maintenance(
    close: float, kept: float
) -> None:
    """Long 10 A and 10 B perps at 3x and 3 A spot, all at 100; maintenance rates 5% (A) and 2.5% (B).
    At a close of 58 the equity is 1000 - 2 x 420 - 126 = 34 against 0.75 x 58 = 43.5: everything
    closes there as liquidation fills, the spot without a fee, and the 34 left is kept as the perps'
    fees, 2:1 as their maintenance margins. At 50 the close is past bankruptcy (equity -150): the
    exchange keeps nothing and the layer keeps its deficit."""
    tiers = [
        (LeverageTier(0.0, float("inf"), 0.05, 0.0, 10.0),),
        (LeverageTier(0.0, float("inf"), 0.025, 0.0, 20.0),),
    ]
    a = [100.0, 100.0, close, close]
    h = hand_history(
        ["A/USDT:USDT", "B/USDT:USDT"],
        np.column_stack([a, a]),
        spot_open=np.column_stack([a, [np.nan] * 4]),
        tiers=tiers,
    )
    strategy = always(book([1.0, 1.0], [0.3, 0.0], [3.0, 3.0]), margin_mode="cross")
    result = run(h, [(strategy, 1000.0)], costs=FREE)
    fills, layer = result.fills, result.layers[0]
    liq = fills.kind == KIND_LIQUIDATION
    assert fills.symbol[liq].tolist() == [0, 1, 0] and fills.leg[liq].tolist() == [
        LEG_PERP,
        LEG_PERP,
        LEG_SPOT,
    ]
    assert fills.qty[liq].tolist() == pytest.approx([-10.0, -10.0, -3.0])
    assert fills.price[liq].tolist() == [close] * 3
    assert (fills.time[liq] == T0 + 2 * H8).all()
    assert fills.fee[liq].tolist() == pytest.approx([kept * 2 / 3, kept / 3, 0.0], abs=1e-9)
    final = min(1000 + 23 * (close - 100), 0.0)
    assert layer.equity[2:].tolist() == pytest.approx([final] * 3, abs=1e-9)
    assert layer.liquidations == 2


def test_a_margin_mode_other_than_isolated_or_cross_is_refused() -> None:
    h = hand_history([BTC], [100.0] * 3)
    with pytest.raises(UsageError, match="margin mode 'portfolio': use one of isolated, cross"):
        run_backtest(h, [(always(book([0.5]), margin_mode="portfolio"), 1000.0)])
    assert MARGIN_MODES == ("isolated", "cross")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(1.0, 5e6), st.floats(0.001, 0.5), st.floats(0.0, 20_000.0)),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.floats(0.0, 5e7), min_size=1, max_size=8),
)
def test_the_vectorised_maintenance_margin_is_the_tier_formula(
    raw: list[tuple[float, float, float]], notionals: list[float]
) -> None:
    """``LiquidationTable.maintenance`` gives what ``tiers.maintenance_margin`` gives, bracket choice
    included; a symbol without brackets counts 0."""
    edges = np.cumsum([0.0] + [r[0] for r in raw])
    tiers = tuple(
        LeverageTier(edges[i], edges[i + 1] if i + 1 < len(raw) else float("inf"), r[1], r[2], 10.0)
        for i, r in enumerate(raw)
    )
    table = LiquidationTable.of([tiers, ()], 2)
    notional = np.column_stack([notionals, notionals])
    got = table.maintenance(np.array([0, 1]), notional)
    assert got[:, 0].tolist() == [maintenance_margin(tiers, x) for x in notionals]
    assert (got[:, 1] == 0).all()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(1.0, 5e6),
            st.floats(0.001, 0.5),
            st.floats(0.0, 20_000.0),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
    st.floats(0.01, 1e5),
    st.floats(1.0, 1e5),
    st.floats(-0.5, 1.0),
    st.booleans(),
)
def test_the_vectorised_liquidation_price_is_the_exchange_formula(
    raw: list[tuple[float, float, float, bool]], qty: float, entry: float, wallet_frac: float, long: bool
) -> None:
    """``LiquidationTable.prices`` gives what ``liquidation_price`` gives, bracket choice included."""
    edges = np.cumsum([0.0] + [r[0] for r in raw])
    tiers = tuple(
        LeverageTier(edges[i], edges[i + 1] if i + 1 < len(raw) else float("inf"), r[1], r[2], 10.0)
        for i, r in enumerate(raw)
    )
    wallet = wallet_frac * qty * entry
    table = LiquidationTable.of([tiers], 1)
    signed = np.array([qty if long else -qty])
    got = table.prices(np.array([0]), signed, np.array([entry]), np.array([wallet]))[0]
    want = liquidation_price("long" if long else "short", qty, entry, wallet, tiers)
    if want is None or want.price is None:
        assert np.isnan(got)
    else:
        assert got == want.price


# --- drift -----------------------------------------------------------------------------------------------


def test_drift_rebalances_the_bar_after_a_weight_strays_past_the_threshold_not_before() -> None:
    """Half in A, half in B (flat at 100). A's weight is p / (100 + p): 0.524 at 110, 0.556 at 125,
    0.6 at 150 (a drift of 0.1, not past 0.1), 0.615 at 160: the close of bar 3 triggers bar 4."""
    a = [100.0, 110.0, 125.0, 150.0, 160.0, 160.0, 160.0]
    opens = np.column_stack([a, [100.0] * 7])
    h = hand_history(["A/USDT:USDT", "B/USDT:USDT"], opens)
    strategy = always(book([0.5, 0.5]))
    result = run(h, [(strategy, 1000.0)], costs=FREE, schedule=Schedule(drift=0.1))
    assert strategy.asked == [0, 4]
    assert sorted(set(result.fills.time.tolist())) == [T0, T0 + 4 * H8]
    equity = 1000 + 5 * 60
    assert result.fills.qty[-2:].tolist() == pytest.approx([0.5 * equity / 160 - 5, 0.5 * equity / 100 - 5])


def test_drift_with_a_looser_threshold_never_triggers() -> None:
    a = [100.0, 110.0, 125.0, 150.0, 160.0, 160.0, 160.0]
    h = hand_history(["A/USDT:USDT", "B/USDT:USDT"], np.column_stack([a, [100.0] * 7]))
    strategy = always(book([0.5, 0.5]))
    run(h, [(strategy, 1000.0)], costs=FREE, schedule=Schedule(drift=0.2))
    assert strategy.asked == [0]


# --- no look-ahead -------------------------------------------------------------------------------------


def _walk(seed: int, bars: int, n: int, vol: float = 0.03) -> MarketHistory:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(vol * rng.standard_normal((bars, n)), axis=0))
    opens = np.vstack([closes[:1] * 0.99, closes[:-1]])
    high = np.fmax(opens, closes) * (1 + 0.02 * rng.random((bars, n)))
    low = np.fmin(opens, closes) * (1 - 0.02 * rng.random((bars, n)))
    times = T0 + np.arange(bars) * H8
    prints = [
        (int(t) + off, i, float(rng.normal(1e-4, 3e-4))) for t in times for i in range(n) for off in (0, 7)
    ]
    return hand_history(
        [f"S{i}/USDT:USDT" for i in range(n)],
        opens,
        close=closes,
        high=high,
        low=low,
        spot_open=opens * 1.001,
        spot_close=closes * 1.001,
        funding=prints,
        tiers=[ONE_BRACKET] * n,
    )


def _momentum(margin_mode: str | None = None) -> FixedStrategy:
    """Long what rose over the last 3 closes, short what fell, 3x, from ``until(k)`` only."""
    holder: dict[str, MarketHistory] = {}

    def targets(k: int) -> LayerTargets | None:
        past = holder["h"].until(k)
        if k < 4:
            return None
        signal = np.sign(past.close[-1] - past.close[-4]) * 0.4
        return book(signal, -0.2 * signal, np.full(len(signal), 3.0))

    strategy = FixedStrategy(targets, "momentum", margin_mode)
    original = strategy.prepare

    def prepare(history: object) -> None:
        original(history)
        holder["h"] = history  # type: ignore[assignment]

    strategy.prepare = prepare  # type: ignore[method-assign]
    return strategy


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 58), st.floats(0.5, 2.0), st.sampled_from(MARGIN_MODES))
def test_changing_the_data_after_a_bar_changes_nothing_before_it(
    seed: int, j: int, factor: float, mode: str
) -> None:
    h = _walk(seed, 60, 3)
    changed = dataclasses.replace(
        h,
        open=np.vstack([h.open[:j], h.open[j:] * factor]),
        high=np.vstack([h.high[:j], h.high[j:] * factor * 1.1]),
        low=np.vstack([h.low[:j], h.low[j:] * factor * 0.9]),
        close=np.vstack([h.close[:j], h.close[j:] * factor]),
        funding_rate=np.where(h.funding_time >= h.times[j], -h.funding_rate * factor, h.funding_rate),
    )
    kwargs = dict(costs=Costs(), schedule=Schedule(every_bars=3, drift=0.15))
    a = run(h, [(_momentum(mode), 1000.0)], **kwargs)
    b = run(changed, [(_momentum(mode), 1000.0)], **kwargs)
    before = T0 + j * H8
    for ledger in ("fills", "funding"):
        x, y = getattr(a, ledger), getattr(b, ledger)
        keep_x, keep_y = x.time < before, y.time < before
        for field in dataclasses.fields(x):
            assert np.array_equal(getattr(x, field.name)[keep_x], getattr(y, field.name)[keep_y])
    assert np.array_equal(a.layers[0].equity[: j + 1], b.layers[0].equity[: j + 1])


# --- the identity on random runs ------------------------------------------------------------------------


@st.composite
def random_runs(draw: st.DrawFn) -> tuple[MarketHistory, list, Costs, Schedule, int, int]:
    n = draw(st.integers(1, 3))
    bars = draw(st.integers(3, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    h = _walk(seed, bars, n, draw(st.sampled_from([0.01, 0.05, 0.2])))
    # Late listings, stops and holes: NaN runs at the start, at the end or inside.
    opens, closes = h.open.copy(), h.close.copy()
    for i in range(n):
        a = int(rng.integers(0, bars))
        b = int(rng.integers(a, bars + 1))
        cut = draw(st.sampled_from([None, slice(0, a), slice(a, bars), slice(a, b)]))
        if cut is not None:
            opens[cut, i] = closes[cut, i] = np.nan
    ladder = draw(st.sampled_from([(), ONE_BRACKET, tuple(default_tiers()), STEEP]))
    h = dataclasses.replace(h, open=opens, close=closes, tiers=(ladder,) * n if ladder else ())
    weights = rng.uniform(-1.5, 1.5, (bars, 2, n)) * (rng.random((bars, 2, n)) < 0.7)
    leverage = rng.uniform(1.0, 20.0, (bars, n))
    none = rng.random(bars) < 0.2

    def targets(k: int) -> LayerTargets | None:
        return None if none[k] else book(weights[k, 0], weights[k, 1], leverage[k])

    count = draw(st.integers(1, 2))
    modes = st.sampled_from([None, *MARGIN_MODES])
    layers = [
        (FixedStrategy(targets, f"L{i}", draw(modes)), draw(st.floats(10.0, 1e6))) for i in range(count)
    ]
    costs = Costs(draw(st.floats(0, 0.002)), draw(st.floats(0, 0.002)), draw(st.floats(0, 0.01)))
    schedule = Schedule(
        every_bars=draw(st.none() | st.integers(1, 6)), drift=draw(st.none() | st.floats(0.01, 0.5))
    )
    start = draw(st.integers(0, bars - 1))
    end = draw(st.integers(start + 1, bars))
    return h, layers, costs, schedule, start, end


@settings(max_examples=250, deadline=None)
@given(random_runs())
def test_every_run_reconciles_from_its_ledgers(case: tuple) -> None:
    h, layers, costs, schedule, start, end = case
    result = run(h, layers, costs=costs, schedule=schedule, start=start, end=end)
    k = end - start
    assert len(result.times) == k + 1
    for layer in result.layers:
        assert layer.equity.shape == (k + 1,) and layer.gross.shape == (k,) and layer.traded.shape == (k,)
        assert np.isfinite(layer.equity).all()
    assert (result.fills.fee >= 0).all()
    assert np.all(np.diff(result.fills.time) >= 0) and np.all(np.diff(result.funding.time) >= 0)
    assert ((result.fills.time >= h.times[start]) & (result.fills.time <= T0 + end * H8)).all()
    # Funding rows only for prints of the run's bars, never for the print at the run's final close.
    assert ((result.funding.time > h.times[start]) & (result.funding.time < T0 + end * H8)).all()


def _perp_maintenance(h: MarketHistory, qty: np.ndarray, price: np.ndarray) -> float:
    """The cross maintenance margin of perp quantities ``qty`` at ``price`` by the scalar tier formula."""
    held = [i for i in np.flatnonzero(qty) if h.tiers]
    return sum(maintenance_margin(h.tiers[i], abs(qty[i]) * price[i]) for i in held)


@settings(max_examples=120, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 3),
    st.integers(5, 40),
    st.sampled_from([0.05, 0.1, 0.2]),
    st.sampled_from([ONE_BRACKET, STEEP]),
    st.floats(100.0, 1e6),
    st.none() | st.integers(1, 6),
)
def test_a_cross_layer_is_liquidated_at_the_first_close_at_or_below_its_maintenance(
    seed: int, n: int, bars: int, vol: float, ladder: tuple, capital: float, every: int | None
) -> None:
    """Random leveraged books with spot legs in cross margin, checked against the ledgers and the scalar
    tier formula: at every close before a liquidation the equity is above the maintenance margin of the
    perps then held; at the liquidation close the equity before it was at or below it, the fees kept
    are what was left of it, every leg closes there and nothing trades afterwards."""
    h = dataclasses.replace(_walk(seed, bars, n, vol), tiers=(ladder,) * n)
    rng = np.random.default_rng(seed)
    perp, spot = rng.uniform(-3.0, 3.0, (bars, n)), rng.uniform(-0.3, 0.3, (bars, n))
    leverage = rng.uniform(5.0, 20.0, (bars, n))  # gross perp exposure up to 9x: margin calls are common
    strategy = FixedStrategy(lambda k: book(perp[k], spot[k], leverage[k]), "x", "cross")
    result = run(h, [(strategy, capital)], costs=Costs(), schedule=Schedule(every_bars=every))
    fills, equity = result.fills, result.layers[0].equity
    liq = fills.kind == KIND_LIQUIDATION
    is_perp = fills.leg == LEG_PERP
    tol = 1e-9 * max(capital, float(np.abs(equity).max()))
    end = int(fills.time[liq][0]) if liq.any() else None
    for j, close in enumerate(result.times[1:]):
        if end is not None and close >= end:
            break
        # Held at this close: trades at earlier opens (the next bar's trades share its time stamp).
        done = is_perp & ((fills.time < close) | ((fills.time == close) & (fills.kind != KIND_TRADE)))
        qty = np.bincount(fills.symbol[done], weights=fills.qty[done], minlength=n)
        maintenance = _perp_maintenance(h, qty, h.close[j])
        assert maintenance <= 0 or equity[j + 1] > maintenance - tol
    if end is None:
        assert result.layers[0].liquidations == 0
        return
    j = int(np.searchsorted(result.times, end)) - 1
    at = fills.time == end
    assert (liq == at).all() and fills.time.max() == end  # every leg, then nothing
    qty = np.bincount(fills.symbol[at & is_perp], weights=-fills.qty[at & is_perp], minlength=n)
    kept = float(fills.fee[at].sum())
    before = equity[j + 1] + kept
    assert before <= _perp_maintenance(h, qty, h.close[j]) + tol
    assert kept == pytest.approx(max(before, 0.0), abs=tol)
    assert (fills.fee[at & ~is_perp] == 0).all()
    assert equity[j + 1] <= tol and (equity[j + 1 :] == equity[j + 1]).all()
    assert result.layers[0].liquidations == int((at & is_perp).sum())


# --- bad input ----------------------------------------------------------------------------------------------


def test_bad_targets_and_spans_are_refused_with_what_is_accepted() -> None:
    h = hand_history([BTC], [100.0] * 3)
    with pytest.raises(UsageError, match="expected 1 finite numbers"):
        run_backtest(h, [(always(book([0.5, 0.5])), 1000.0)])
    with pytest.raises(UsageError, match="positive leverage"):
        run_backtest(h, [(always(book([0.5], leverage=[0.0])), 1000.0)])
    with pytest.raises(UsageError, match="not a span"):
        run_backtest(h, [(always(book([0.5])), 1000.0)], start=2, end=2)
    with pytest.raises(UsageError, match="positive amount"):
        run_backtest(h, [(always(book([0.5])), 0.0)])
    with pytest.raises(UsageError, match="whole number"):
        run_backtest(h, [(always(book([0.5])), 1.0)], schedule=Schedule(every_bars=0))


def test_reconcile_finds_a_ledger_that_does_not_add_up() -> None:
    """The identity check is not vacuous: a fee, a funding amount or a fill price changed after the
    run shows up as the discrepancy."""
    h = hand_history([BTC], [100.0, 110.0, 120.0], funding=[(T0 + H8, 0, 0.001)])
    result = run(h, [(always(book([-1.0])), 1000.0)], costs=Costs())
    fills, funding = result.fills, result.funding
    fee = dataclasses.replace(result, fills=dataclasses.replace(fills, fee=fills.fee + 0.5))
    assert reconcile(fee, h) == pytest.approx(0.5)
    amount = dataclasses.replace(result, funding=dataclasses.replace(funding, amount=funding.amount * 2))
    assert reconcile(amount, h) == pytest.approx(abs(funding.amount[0]))
    price = dataclasses.replace(result, fills=dataclasses.replace(fills, price=fills.price + 1.0))
    assert reconcile(price, h) == pytest.approx(10.0)  # -(-10 x 1): the short sold 10 at 1 more


def test_a_hedged_carry_pair_holds_equal_quantities_whatever_the_basis() -> None:
    h = hand_history(["BTC/USDT:USDT"], [100.0, 101.0, 102.0, 103.0], spot_open=[99.0, 100.5, 101.0, 102.0])
    pair = LayerTargets(np.array([-0.5]), np.array([0.5]), np.array([1.0]), hedge=np.array([True]))
    result = run_backtest(h, [(always(pair), 1000.0)], costs=Costs(0.0, 0.0, 0.0))
    f = result.fills
    assert list(f.leg) == [0, 1] and f.qty[1] == -f.qty[0] == pytest.approx(5.0)
    assert reconcile(result, h) < 1e-9
