"""Per-position risk metrics: worked examples by hand, unknowns as None, cross wallets, and properties
(distance to liquidation > 0 exactly while the margin ratio is below 1; funding sign conventions)."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perptui.domain.liquidation import liquidation_price
from perptui.domain.risk_position import PositionInput, position_risk, with_cross_wallet
from perptui.domain.tiers import continuous_maint_amounts, default_tiers, maintenance_margin
from perptui.domain.types import LeverageTier

PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=400,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Binance's first two BTC brackets (2024-10-24): 0.4% up to 50k, 0.5% with cum 50 up to 500k.
BTC_TIERS = (
    LeverageTier(0.0, 50_000.0, 0.004, 0.0, 125.0),
    LeverageTier(50_000.0, 500_000.0, 0.005, 50.0, 100.0),
)


def btc_long(**changes: object) -> PositionInput:
    pos = PositionInput(
        symbol="BTC/USDT:USDT",
        side="long",
        qty=0.1,
        entry=60_000.0,
        mark=63_000.0,
        leverage=10.0,
        margin_mode="isolated",
        wallet_balance=600.0,
        tiers=BTC_TIERS,
        funding_rate=0.0001,
        funding_interval_hours=8.0,
        next_funding_time=1_748_764_800_000,
        funding_so_far=-1.25,
        daily_vol=0.03,
        stop=58_000.0,
    )
    return replace(pos, **changes)  # type: ignore[arg-type]


def test_isolated_long_worked_by_hand() -> None:
    r = position_risk(btc_long())
    assert r.notional == pytest.approx(6_300.0)
    assert r.exposure == pytest.approx(6_300.0)
    assert r.upnl == pytest.approx(300.0)  # 0.1 x (63,000 - 60,000)
    assert r.initial_margin == pytest.approx(600.0)  # 0.1 x 60,000 / 10
    assert r.roe == pytest.approx(0.5)
    assert r.maintenance_margin == pytest.approx(25.2)  # 6,300 x 0.4%
    assert r.margin_balance == pytest.approx(900.0)
    assert r.margin_ratio == pytest.approx(25.2 / 900.0)
    lp = 60_000 * (1 - 1 / 10) / (1 - 0.004)  # cum = 0: E x (1 - 1/L) / (1 - MMR) = 54,216.87
    assert r.liq_price == pytest.approx(lp, rel=1e-12)
    assert not r.never_liquidated
    assert r.liq_distance == pytest.approx((63_000 - lp) / 63_000)
    assert r.liq_distance_sigma == pytest.approx((63_000 - lp) / 63_000 / 0.03)
    assert r.next_funding == pytest.approx(-0.63)  # a long pays 6,300 x 0.01%
    assert r.next_funding_time == 1_748_764_800_000
    assert r.funding_apr == pytest.approx(-0.0001 * 3 * 365)
    assert r.funding_so_far == -1.25
    assert r.risk_at_stop == pytest.approx(200.0)  # 0.1 x (60,000 - 58,000)


def test_isolated_short_worked_by_hand() -> None:
    r = position_risk(btc_long(side="short", stop=61_000.0, funding_rate=-0.0002))
    assert r.exposure == pytest.approx(-6_300.0)
    assert r.upnl == pytest.approx(-300.0)
    assert r.roe == pytest.approx(-0.5)
    assert r.margin_ratio == pytest.approx(25.2 / 300.0)
    lp = (600 + 0.1 * 60_000) / (0.1 * 0.004 + 0.1)  # (WB + Q x E) / (Q x MMR + Q) = 65,737.05
    assert r.liq_price == pytest.approx(lp, rel=1e-12)
    assert r.liq_distance == pytest.approx((lp - 63_000) / 63_000)
    assert r.next_funding == pytest.approx(-1.26)  # negative rate: shorts pay longs
    assert r.risk_at_stop == pytest.approx(100.0)


def test_unknowns_are_none_never_guessed() -> None:
    r = position_risk(btc_long(mark=None))
    assert (r.notional, r.upnl, r.roe, r.margin_ratio, r.liq_distance, r.next_funding) == (None,) * 6
    assert r.liq_price is not None  # the liquidation price needs no mark
    r = position_risk(btc_long(tiers=()))
    assert (r.maintenance_margin, r.margin_ratio, r.liq_price, r.liq_distance) == (None,) * 4
    assert not r.never_liquidated
    r = position_risk(btc_long(wallet_balance=None))
    assert (r.margin_balance, r.margin_ratio, r.liq_price) == (None,) * 3
    r = position_risk(btc_long(funding_rate=None, daily_vol=None, leverage=None, stop=None))
    assert (r.next_funding, r.next_funding_time, r.funding_apr) == (None,) * 3
    assert (r.liq_distance_sigma, r.roe, r.initial_margin, r.risk_at_stop) == (None,) * 4
    assert position_risk(btc_long(funding_interval_hours=None)).funding_apr is None


def test_stop_in_profit_risks_nothing_and_a_fully_backed_long_is_never_liquidated() -> None:
    assert position_risk(btc_long(stop=61_000.0)).risk_at_stop == 0.0
    r = position_risk(btc_long(leverage=1.0, wallet_balance=6_000.0))
    assert r.never_liquidated and r.liq_price is None and r.liq_distance is None
    assert r.margin_ratio is not None and r.margin_ratio < 1


def test_margin_balance_gone_gives_an_infinite_ratio() -> None:
    r = position_risk(btc_long(mark=50_000.0))  # 600 - 1,000 < 0
    assert r.margin_ratio == math.inf
    assert r.liq_distance is not None and r.liq_distance < 0


def test_cross_wallet_takes_the_other_cross_positions_pnl_less_their_maintenance() -> None:
    eth_tiers = (LeverageTier(0.0, 50_000.0, 0.005, 0.0, 100.0),)
    btc = btc_long(margin_mode="cross", wallet_balance=None)
    eth = PositionInput("ETH/USDT:USDT", "short", 2.0, 3_000.0, 3_100.0, 5.0, "cross", None, eth_tiers)
    iso = btc_long(symbol="SOL/USDT:USDT")
    filled = with_cross_wallet([btc, eth, iso], 2_000.0)
    eth_part = -2.0 * 100.0 - 6_200.0 * 0.005  # upnl - mm = -231
    btc_part = 300.0 - 25.2
    assert filled[0].wallet_balance == pytest.approx(2_000.0 + eth_part)
    assert filled[1].wallet_balance == pytest.approx(2_000.0 + btc_part)
    assert filled[2] == iso
    # At BTC's liquidation price the account's cross margin ratio (all MM / all margin balance) is 1.
    lp = position_risk(filled[0]).liq_price
    assert lp is not None
    at_lp = with_cross_wallet([replace(btc, mark=lp), eth], 2_000.0)
    risks = [position_risk(p) for p in at_lp]
    total_mm = sum(r.maintenance_margin or 0.0 for r in risks)
    total_balance = 2_000.0 + sum(r.upnl or 0.0 for r in risks)
    assert total_mm / total_balance == pytest.approx(1.0, rel=1e-9)
    assert risks[0].margin_ratio == pytest.approx(1.0, rel=1e-9)
    # Unknown cross wallet, or another cross position without a mark: unknown.
    assert with_cross_wallet([btc, eth], None)[0].wallet_balance is None
    assert with_cross_wallet([btc, replace(eth, mark=None)], 2_000.0)[0].wallet_balance is None
    assert with_cross_wallet([btc, replace(eth, mark=None)], 2_000.0)[1].wallet_balance is not None


# --- properties -------------------------------------------------------------------------------------


def ladder(seed: int) -> tuple[LeverageTier, ...]:
    """A continuous Binance-like ladder (rising rates, cum keeping maintenance margin continuous)."""
    rnd = random.Random(seed)
    if rnd.random() < 0.3:
        return tuple(default_tiers())
    n = rnd.randint(1, 6)
    floors = [0.0]
    while len(floors) < n:
        floors.append(max(floors[-1] * rnd.choice([2.0, 5.0, 10.0]), rnd.choice([5_000.0, 50_000.0])))
    rates = [rnd.choice([0.004, 0.01, 0.02])]
    while len(rates) < n:
        rates.append(min(0.5, rates[-1] * rnd.choice([1.25, 2.0])))
    cums = continuous_maint_amounts(zip(floors, rates, strict=True))
    caps = [*floors[1:], math.inf]
    return tuple(
        LeverageTier(f, c, m, cum, max(1.0, math.floor(0.5 / m)))
        for f, c, m, cum in zip(floors, caps, rates, cums, strict=True)
    )


positions = st.builds(
    lambda side, qty, entry, move, wallet_frac, seed: PositionInput(
        "X/USDT:USDT",
        side,
        qty,
        entry,
        entry * move,
        None,
        "isolated",
        qty * entry * wallet_frac,
        ladder(seed),
    ),
    st.sampled_from(["long", "short"]),
    st.floats(1e-3, 1e4),
    st.floats(1e-2, 1e5),
    st.floats(0.3, 2.0),
    st.floats(0.005, 1.5),
    st.integers(0, 10**6),
)


@PROPERTY
@given(positions)
def test_liq_distance_is_positive_exactly_while_margin_ratio_is_below_one(p: PositionInput) -> None:
    r = position_risk(p)
    assert r.margin_ratio is not None
    if r.never_liquidated:
        assert r.margin_ratio < 1
        return
    assert r.liq_distance is not None
    if r.liq_distance > 1e-9:
        assert r.margin_ratio < 1
    elif r.liq_distance < -1e-9:
        assert r.margin_ratio > 1
    # The liquidation price is where margin balance meets maintenance margin (the formula, checked here).
    assert r.liq_price is not None
    if r.liq_price > 0:
        s = 1 if p.side == "long" else -1
        balance = p.wallet_balance + s * p.qty * (r.liq_price - p.entry)  # type: ignore[operator]
        mm = maintenance_margin(p.tiers, p.qty * r.liq_price)
        assert balance == pytest.approx(mm, rel=1e-7, abs=1e-6 * p.qty * p.entry)


@PROPERTY
@given(positions, st.floats(-0.03, 0.03))
def test_next_funding_sign_conventions(p: PositionInput, rate: float) -> None:
    long = position_risk(replace(p, side="long", funding_rate=rate))
    short = position_risk(replace(p, side="short", funding_rate=rate))
    assert long.next_funding is not None and short.next_funding is not None
    assert long.next_funding == -short.next_funding  # longs pay exactly what shorts receive
    if rate > 0:
        assert long.next_funding < 0 < short.next_funding
    elif rate < 0:
        assert short.next_funding < 0 < long.next_funding
    assert abs(long.next_funding) == pytest.approx(p.qty * p.mark * abs(rate))  # type: ignore[operator]


@PROPERTY
@given(positions)
def test_liquidation_price_is_the_sizing_calculators(p: PositionInput) -> None:
    liq = liquidation_price(p.side, p.qty, p.entry, p.wallet_balance or 0.0, p.tiers)
    assert liq is not None
    assert position_risk(p).liq_price == liq.price
