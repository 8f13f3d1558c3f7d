"""Tier lookups and liquidation prices against Binance's real brackets, worked by hand.

The brackets are read from ``../shared/data/binance/leverage_tiers_2024-10-24.json`` (ccxt's
``fetch_leverage_tiers()`` output as freqtrade ships it); every expected price below is the exchange's
formula LP = (WB + cum - s x Q x E) / (Q x MMR - s x Q) with the numbers written out.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import pytest

from perptui.domain.liquidation import (
    liquidation_price,
    margin_balance_at,
    max_leverage,
    max_notional_at_leverage,
    tier_allowing,
    tier_for_notional,
)
from perptui.domain.tiers import continuous_maint_amounts
from perptui.domain.types import LeverageTier

TIERS_FILE = "leverage_tiers_2024-10-24.json"


@functools.cache
def _load(path: Path) -> dict[str, list[dict[str, object]]]:
    return json.loads(path.read_text())


def binance_tiers(data_dir: Path, symbol: str) -> tuple[LeverageTier, ...]:
    """A market's brackets from the file: minNotional, maxNotional, maintenanceMarginRate, maxLeverage and
    Binance's own ``cum`` (info.cum, a string)."""
    rows = _load(data_dir / TIERS_FILE)[symbol]
    return tuple(
        LeverageTier(
            min_notional=float(t["minNotional"]),  # type: ignore[arg-type]
            max_notional=float(t["maxNotional"]),  # type: ignore[arg-type]
            mmr=float(t["maintenanceMarginRate"]),  # type: ignore[arg-type]
            maint_amount=float(t["info"]["cum"]),  # type: ignore[index]
            max_leverage=float(t["maxLeverage"]),  # type: ignore[arg-type]
        )
        for t in rows
    )


@pytest.fixture
def btc(binance_data: Path) -> tuple[LeverageTier, ...]:
    return binance_tiers(binance_data, "BTC/USDT:USDT")


@pytest.fixture
def eth(binance_data: Path) -> tuple[LeverageTier, ...]:
    return binance_tiers(binance_data, "ETH/USDT:USDT")


def test_the_file_holds_the_brackets_the_examples_use(btc: tuple[LeverageTier, ...]) -> None:
    """BTCUSDT's first brackets as Binance published them on 2024-10-24, with ``cum`` continuous (the
    maintenance margin has no jump at a bracket edge), which the liquidation maths relies on."""
    assert btc[:4] == (
        LeverageTier(0.0, 50_000.0, 0.004, 0.0, 125.0),
        LeverageTier(50_000.0, 600_000.0, 0.005, 50.0, 100.0),
        LeverageTier(600_000.0, 3_000_000.0, 0.0065, 950.0, 75.0),
        LeverageTier(3_000_000.0, 12_000_000.0, 0.01, 11_450.0, 50.0),
    )
    assert [t.maint_amount for t in btc] == pytest.approx(
        continuous_maint_amounts((t.min_notional, t.mmr) for t in btc)
    )


# --- tier lookups ----------------------------------------------------------------------------------


def test_tier_by_notional_is_half_open_and_the_cap_is_still_allowed(btc: tuple[LeverageTier, ...]) -> None:
    """Maintenance uses [min, max): 50,000 of notional is in the second bracket (0.5%); the leverage limit
    of 50,000 is still the first bracket's 125x (its cap is the largest notional it permits)."""
    assert tier_for_notional(btc, 49_999.99).mmr == 0.004
    assert tier_for_notional(btc, 50_000.0).mmr == 0.005
    assert tier_for_notional(btc, -120_000.0).mmr == 0.005  # a short's signed notional
    assert tier_for_notional(btc, 5e9) == btc[-1]  # beyond the ladder: the last bracket
    assert tier_allowing(btc, 50_000.0).max_leverage == 125
    assert tier_allowing(btc, 50_000.01).max_leverage == 100
    assert tier_for_notional((), 1.0) is None and tier_allowing((), 1.0) is None


def test_max_leverage_and_the_largest_notional_at_a_leverage(btc: tuple[LeverageTier, ...]) -> None:
    """125x is BTCUSDT's maximum (the first bracket's) unless the market states a lower one; at 20x a
    position may reach the 100M cap of the 20x bracket, at 21x only the 70M of the 25x one; at 125x,
    50,000; nothing allows 126x."""
    assert max_leverage(btc) == 125
    assert max_leverage(btc, 100.0) == 100
    assert max_leverage((), None) is None
    assert max_notional_at_leverage(btc, 20) == 100_000_000
    assert max_notional_at_leverage(btc, 21) == 70_000_000
    assert max_notional_at_leverage(btc, 125) == 50_000
    assert max_notional_at_leverage(btc, 1) == 1_800_000_000
    assert max_notional_at_leverage(btc, 126) is None


# --- liquidation prices, worked by hand ---------------------------------------------------------------


def test_btc_long_isolated_10x_in_the_first_bracket(btc: tuple[LeverageTier, ...]) -> None:
    """0.5 BTC long at 60,000, 10x isolated: WB = 3,000, cum = 0, so LP = E(1 - 1/L)/(1 - MMR)
    = 60,000 x 0.9 / 0.996 = 54,216.87 (0.9036 x E), whatever the size within the bracket."""
    liq = liquidation_price("long", 0.5, 60_000.0, 3_000.0, btc)
    assert liq is not None and liq.tier == btc[0]
    assert liq.price == pytest.approx(60_000 * 0.9 / 0.996, rel=1e-12)
    assert liq.price == pytest.approx(54_216.867469879, rel=1e-12)
    assert liq.price / 60_000 == pytest.approx(0.9036, abs=5e-5)  # the docs' example
    # at LP the margin balance is the maintenance margin: 3,000 - 0.5 x 5,783.13 = 0.5 x LP x 0.4%
    assert margin_balance_at("long", 0.5, 60_000.0, 3_000.0, liq.price) == pytest.approx(
        0.5 * liq.price * 0.004, rel=1e-9
    )


def test_btc_short_isolated_10x(btc: tuple[LeverageTier, ...]) -> None:
    """0.5 BTC short at 60,000, 10x: LP = (3,000 + 0 + 30,000) / (0.5 x 0.004 + 0.5) = 33,000 / 0.502
    = 65,737.05 = E(1 + 1/L)/(1 + MMR)."""
    liq = liquidation_price("short", 0.5, 60_000.0, 3_000.0, btc)
    assert liq is not None and liq.tier == btc[0]
    assert liq.price == pytest.approx(33_000 / 0.502, rel=1e-12)
    assert liq.price == pytest.approx(65_737.051792829, rel=1e-12)


def test_btc_long_in_the_second_bracket_uses_its_mmr_and_cum(btc: tuple[LeverageTier, ...]) -> None:
    """2 BTC long at 60,000 (120,000 of notional), 20x isolated: WB = 6,000; the second bracket (0.5%,
    cum 50) holds both the entry and the liquidation notional:
    LP = (6,000 + 50 - 120,000) / (2 x 0.005 - 2) = -113,950 / -1.99 = 57,261.31 (notional 114,522)."""
    liq = liquidation_price("long", 2.0, 60_000.0, 6_000.0, btc)
    assert liq is not None and liq.tier == btc[1]
    assert liq.price == pytest.approx(113_950 / 1.99, rel=1e-12)
    assert liq.price == pytest.approx(57_261.306532663, rel=1e-12)


def test_btc_long_liquidated_in_a_lower_bracket_than_its_entry(btc: tuple[LeverageTier, ...]) -> None:
    """1 BTC long at 60,000, 5x isolated: the entry notional (60,000) is in the second bracket, but with
    it LP = (12,000 + 50 - 60,000) / (0.005 - 1) = 48,190.95, a notional of 48,191 that is in the FIRST
    bracket. Binance recomputes with that one: LP = (12,000 + 0 - 60,000) / (0.004 - 1) = 48,192.77
    (notional 48,193 < 50,000: consistent). The entry bracket's price would be 1.82 too low."""
    liq = liquidation_price("long", 1.0, 60_000.0, 12_000.0, btc)
    assert liq is not None and liq.tier == btc[0]
    assert liq.price == pytest.approx(48_000 / 0.996, rel=1e-12)
    assert liq.price == pytest.approx(48_192.771084337, rel=1e-12)
    assert liq.price - 47_950 / 0.995 == pytest.approx(1.82, abs=0.005)


def test_short_liquidated_in_a_higher_bracket_than_its_entry(btc: tuple[LeverageTier, ...]) -> None:
    """0.8 BTC short at 60,000 (48,000: first bracket), 2x isolated, WB = 24,000: the first bracket gives
    72,000 / 0.8032 = 89,641.43, a notional of 71,713, in the second bracket; with it
    LP = (24,000 + 50 + 48,000) / (0.8 x 0.005 + 0.8) = 72,050 / 0.804 = 89,614.43 (notional 71,691.5)."""
    liq = liquidation_price("short", 0.8, 60_000.0, 24_000.0, btc)
    assert liq is not None and liq.tier == btc[1]
    assert liq.price == pytest.approx(72_050 / 0.804, rel=1e-12)
    assert liq.price == pytest.approx(89_614.427860697, rel=1e-12)


def test_a_large_btc_position_in_the_fourth_bracket(btc: tuple[LeverageTier, ...]) -> None:
    """100 BTC long at 60,000 (6M), 20x isolated, WB = 300,000, bracket 4 (1%, cum 11,450):
    LP = (300,000 + 11,450 - 6,000,000) / (100 x 0.01 - 100) = 5,688,550 / 99 = 57,460.10."""
    liq = liquidation_price("long", 100.0, 60_000.0, 300_000.0, btc)
    assert liq is not None and liq.tier == btc[3]
    assert liq.price == pytest.approx(5_688_550 / 99, rel=1e-12)


def test_cross_margin_long_with_a_given_wallet(btc: tuple[LeverageTier, ...]) -> None:
    """Cross margin backs 1 BTC long at 60,000 with the whole wallet of 20,000: the second bracket's
    price (39,950 / 0.995 = 40,150.75) is a notional in the first, whose price is
    LP = (20,000 - 60,000) / (0.004 - 1) = 40,160.64."""
    liq = liquidation_price("long", 1.0, 60_000.0, 20_000.0, btc)
    assert liq is not None and liq.tier == btc[0]
    assert liq.price == pytest.approx(40_000 / 0.996, rel=1e-12)
    assert liq.price == pytest.approx(40_160.642570281, rel=1e-12)


def test_cross_margin_eth_short(eth: tuple[LeverageTier, ...]) -> None:
    """10 ETH short at 2,500 on a cross wallet of 5,000: LP = (5,000 + 0 + 25,000) / (10 x 0.004 + 10)
    = 30,000 / 10.04 = 2,988.05."""
    liq = liquidation_price("short", 10.0, 2_500.0, 5_000.0, eth)
    assert liq is not None and liq.tier == eth[0]
    assert liq.price == pytest.approx(30_000 / 10.04, rel=1e-12)


def test_doge_long_in_its_third_bracket(binance_data: Path) -> None:
    """500,000 DOGE long at 0.15 (75,000: bracket 3, 1%, cum 170), 10x isolated, WB = 7,500:
    LP = (7,500 + 170 - 75,000) / (500,000 x 0.01 - 500,000) = 67,330 / 495,000 = 0.13602."""
    doge = binance_tiers(binance_data, "DOGE/USDT:USDT")
    liq = liquidation_price("long", 500_000.0, 0.15, 7_500.0, doge)
    assert liq is not None and liq.tier == doge[2] and doge[2].maint_amount == 170
    assert liq.price == pytest.approx(67_330 / 495_000, rel=1e-12)


def test_a_long_whose_margin_covers_a_fall_to_zero_is_never_liquidated(btc: tuple[LeverageTier, ...]) -> None:
    """1x isolated: the margin is the whole notional, so no positive price liquidates the long (the
    formula gives 0 in the first bracket, below 0 in the second)."""
    for qty in (0.5, 2.0):
        liq = liquidation_price("long", qty, 60_000.0, qty * 60_000.0, btc)
        assert liq is not None and liq.price is None
    # a 1x short is liquidated when the price about doubles: the first bracket's 60,000 / 0.502 =
    # 119,521.91 is a notional of 59,761 (second bracket), whose price is 60,050 / 0.5025 = 119,502.49
    short = liquidation_price("short", 0.5, 60_000.0, 30_000.0, btc)
    assert short is not None and short.tier == btc[1]
    assert short.price == pytest.approx(60_050 / 0.5025, rel=1e-12)


def test_a_wallet_below_maintenance_is_liquidated_at_once_never_safe(btc: tuple[LeverageTier, ...]) -> None:
    """A cross wallet already below what the position needs liquidates it at the entry side: a long's
    price is above its entry, and a short with a wallet of -20,000 against 4,800 of notional is liquidated
    at any price (reported 0), not "never" nor at a price from a far bracket's cum."""
    long = liquidation_price("long", 0.08, 60_000.0, -100.0, btc)
    assert long is not None and long.price is not None and long.price > 60_000
    short = liquidation_price("short", 0.08, 60_000.0, -20_000.0, btc)
    assert short is not None and short.price == 0.0


def test_no_position_or_no_brackets_has_no_price(btc: tuple[LeverageTier, ...]) -> None:
    assert liquidation_price("long", 0.0, 60_000.0, 100.0, btc) is None
    assert liquidation_price("long", 1.0, 60_000.0, 100.0, ()) is None
    assert liquidation_price("short", 1.0, 0.0, 100.0, btc) is None


@pytest.mark.parametrize(
    "symbol", ["BTC/USDT:USDT", "ETH/USDT:USDT", "1000PEPE/USDT:USDT", "DOGE/USDT:USDT", "SOL/USDT:USDT"]
)
@pytest.mark.parametrize("side", ["long", "short"])
def test_every_real_bracket_satisfies_the_formula_at_its_price(
    binance_data: Path, symbol: str, side: str
) -> None:
    """Across each real ladder (positions from 1,000 to 500M of notional, 1x to the bracket's maximum),
    the margin balance at LP equals the maintenance margin of the notional at LP computed from the bracket
    that holds it: WB + s x Q x (LP - E) = Q x LP x mmr - cum."""
    tiers = binance_tiers(binance_data, symbol)
    entry = 100.0
    s = 1 if side == "long" else -1
    for notional in (1_000.0, 49_000.0, 51_000.0, 700_000.0, 5e6, 5e7, 5e8):
        if notional > tiers[-1].max_notional:
            continue
        qty = notional / entry
        top = tier_allowing(tiers, notional).max_leverage
        for lev in sorted({x for x in (1.0, 2.0, 5.0, top / 2, top) if 1 <= x <= top}):
            wb = notional / lev
            liq = liquidation_price(side, qty, entry, wb, tiers)  # type: ignore[arg-type]
            assert liq is not None
            if liq.price is None:
                assert side == "long" and wb >= notional * (1 - 1e-12)
                continue
            held = tier_for_notional(tiers, qty * liq.price)
            assert held is not None
            balance = wb + s * qty * (liq.price - entry)
            assert balance == pytest.approx(
                qty * liq.price * held.mmr - held.maint_amount, rel=1e-9, abs=1e-6
            )
            assert math.copysign(1, entry - liq.price) == s  # on the losing side of the entry
