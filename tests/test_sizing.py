"""The sizing calculator on realistic trades, computed by hand; its warnings; its validation; Kelly.

Worked examples use Binance's real BTCUSDT and ETHUSDT brackets of 2024-10-24 (skipped without
../shared); the warning and validation tests use a market with BTCUSDT's first brackets written out, so
they run in a fresh clone too.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from perptui.domain.errors import UsageError
from perptui.domain.sizing import (
    JSON_KEYS,
    SizingError,
    SizingRequest,
    SizingResult,
    TakeProfitSpec,
    breakeven_price,
    ceil_to_step,
    floor_to_step,
    kelly,
    loss_per_unit,
    net_pnl_per_unit,
    size_position,
    step_decimals,
    steps_to_qty,
    stop_price,
)
from perptui.domain.tiers import default_tiers
from perptui.domain.types import LeverageTier, Market
from tests.test_liquidation import binance_tiers

#: BTCUSDT's first three brackets on Binance (2024-10-24): enough for every trade below 3M of notional.
BTC_BRACKETS = (
    LeverageTier(0.0, 50_000.0, 0.004, 0.0, 125.0),
    LeverageTier(50_000.0, 600_000.0, 0.005, 50.0, 100.0),
    LeverageTier(600_000.0, 3_000_000.0, 0.0065, 950.0, 75.0),
)


def perp(base: str, tiers: tuple[LeverageTier, ...], **kw: object) -> Market:
    """A USDT perp listed the way Binance lists BTCUSDT: step 0.001, tick 0.1, min 0.001 and 100 USDT,
    taker 0.05%, 125x, 8-hourly funding (override any of it)."""
    fields: dict[str, object] = {
        "amount_step": 0.001,
        "price_tick": 0.1,
        "min_qty": 0.001,
        "max_qty": 1000.0,
        "min_notional": 100.0,
        "taker_fee": 0.0005,
        "maker_fee": 0.0002,
        "max_leverage": 125.0,
        "funding_interval_hours": 8.0,
        "tiers": tiers,
    }
    fields.update(kw)
    return Market(
        exchange="binanceusdm",
        symbol=f"{base}/USDT:USDT",
        id=f"{base}USDT",
        base=base,
        quote="USDT",
        settle="USDT",
        **fields,  # type: ignore[arg-type]
    )


BTC = perp("BTC", BTC_BRACKETS)


@pytest.fixture
def real_btc(binance_data: Path) -> Market:
    return perp("BTC", binance_tiers(binance_data, "BTC/USDT:USDT"))


@pytest.fixture
def real_eth(binance_data: Path) -> Market:
    return perp("ETH", binance_tiers(binance_data, "ETH/USDT:USDT"), price_tick=0.01, min_notional=20.0)


def trade(market: Market = BTC, **kw: object) -> SizingRequest:
    """The reference trade: 10,000 of equity, 1% risk, BTC long at 60,000 with the stop at 58,800."""
    fields: dict[str, object] = {
        "market": market,
        "side": "long",
        "entry": 60_000.0,
        "stop": 58_800.0,
        "equity": 10_000.0,
        "risk_fraction": 0.01,
    }
    if "risk_amount" in kw and "risk_fraction" not in kw:
        fields["risk_fraction"] = None
    fields.update(kw)
    return SizingRequest(**fields)  # type: ignore[arg-type]


def codes(r: SizingResult) -> list[str]:
    return [w.code for w in r.warnings]


# --- worked examples on Binance's brackets --------------------------------------------------------------


def test_btc_long_one_percent_risk_field_by_field(real_btc: Market) -> None:
    """10,000 equity, 1% risk (100), BTC long at 60,000, stop 58,800, taker 0.05% both ways, 5 bps of
    slippage, 10x isolated.

    Loss per BTC at the stop = 1,200 + 60,000 x 0.0005 + 58,800 x 1.0005 x 0.0005 + 58,800 x 0.0005
    (the exit fee on the worst fill the slippage allows) = 1,200 + 30 + 29.4147 + 29.40 = 1,288.8147;
    100 / 1,288.8147 = 0.07759 BTC, down to the step: 0.077. Notional 4,620; margin 462; fees 2.31 in
    + 2.264932 out; risk 0.077 x 1,288.8147 = 99.2387319 (0.992%).
    Break-even = 60,000 x 1.0005 / 0.9995 = 60,060.03. Liquidation (bracket 1, cum 0):
    60,000 x 0.9 / 0.996 = 54,216.87, 7.64% of the entry below the stop.
    Funding at +0.01% per 8h costs the long 0.077 x 60,000 x 0.0001 = 0.462 per interval, 1.386 a day,
    10.95% a year (under the 20% warning).
    Take-profits: 2R on half = (60,030 + 2 x 1,288.8147) / 0.9995 = 62,638.95 for 0.038 BTC, +97.9499;
    the rest (0.039) at 63,000 nets 3,000 - 30 - 31.50 = 2,938.50 a BTC = 2.28R, +114.6015."""
    r = size_position(
        trade(
            real_btc,
            leverage=10,
            slippage_bps=5,
            funding_rate=0.0001,
            take_profits=(TakeProfitSpec(r=2, share=0.5), TakeProfitSpec(price=63_000.0)),
        )
    )
    assert r.loss_per_unit == pytest.approx(1_288.8147, rel=1e-12)
    assert r.risk_budget == 100.0
    assert r.limits["risk"] == pytest.approx(100 / 1_288.8147)
    assert r.quantity == 0.077
    assert r.binding_constraint == "risk"
    assert r.binding_text == "risk: a stop-out loses at most the 100.00 budget"
    assert r.notional == pytest.approx(4_620.0)
    assert r.initial_margin == pytest.approx(462.0)
    assert r.leverage == 10 and not r.leverage_auto
    assert r.fee_entry_usd == pytest.approx(2.31)
    assert r.fee_exit_usd == pytest.approx(2.264932)
    assert r.fees_usd == pytest.approx(4.574932)
    assert r.risk_usd == pytest.approx(99.2387319)
    assert r.risk_pct == pytest.approx(0.00992387319)
    assert r.breakeven_price == pytest.approx(60_030 / 0.9995)
    assert r.breakeven_price == pytest.approx(60_060.030015, rel=1e-10)
    assert r.liquidation_price == pytest.approx(54_216.867469879, rel=1e-12)
    assert r.liquidation_tier == real_btc.tiers[0] and not r.never_liquidated
    assert r.stop_liquidation_gap == pytest.approx((58_800 - 54_216.867469879) / 60_000)
    assert r.funding_per_interval == pytest.approx(-0.462)
    assert r.funding_per_day == pytest.approx(-1.386)
    assert r.funding_apr == pytest.approx(-0.1095)
    tp1, tp2 = r.take_profits
    # 2R is at 62,607.6294 / 0.9995 = 62,638.9489; on the 0.1 tick toward the entry: 62,638.9, a hair
    # under 2R (never more reward promised than the exchange would take).
    assert (tp1.share, tp1.qty) == (0.5, 0.038)
    assert tp1.price == 62_638.9
    per_unit = (62_638.9 * 0.9995) - 60_000 * 1.0005
    assert tp1.r == pytest.approx(per_unit / 1_288.8147) and 1.9999 < tp1.r < 2
    assert tp1.pnl == pytest.approx(0.038 * per_unit)
    assert (tp2.price, tp2.share, tp2.qty) == (63_000.0, 0.5, 0.039)  # the last takes what rounding left
    assert tp2.r == pytest.approx(2_938.50 / 1_288.8147)
    assert tp2.pnl == pytest.approx(114.6015)
    assert r.min_quantity == 0.002  # 100 USDT minimum / 60,000 = 0.00167, up to the step
    assert r.min_quantity_risk == pytest.approx(0.002 * 1_288.8147)
    assert r.tradable and r.warnings == ()


def test_auto_leverage_is_the_lowest_whole_one_the_margin_allows(real_btc: Market) -> None:
    """Same account, stop 0.2% away (59,880), no slippage: 1% buys 100 / 179.94 = 0.5557 BTC (33,344 of
    notional); 3x would need 33,344 x (1/3 + 0.0005) = 11,131 of margin, more than the 10,000 free;
    4x needs 8,353: auto leverage is 4x. 0.555 BTC: margin 8,325, liquidation 60,000 x 0.75 / 0.996."""
    r = size_position(trade(real_btc, stop=59_880.0))
    assert r.loss_per_unit == pytest.approx(120 + 30 + 29.94)
    assert r.leverage == 4 and r.leverage_auto
    assert r.quantity == 0.555 and r.binding_constraint == "risk"
    assert r.initial_margin == pytest.approx(8_325.0)
    assert r.liquidation_price == pytest.approx(45_000 / 0.996)


def test_margin_binds_a_small_account_at_low_leverage(real_btc: Market) -> None:
    """1,000 of equity risking 5% with a 0.5% stop at 2x: the risk allows 50 / 359.85 = 0.139 BTC but
    the margin buys 1,000 / (60,000 x (1/2 + 0.0005)) = 0.0333: 0.033 BTC, margin 990 + fee 0.99 fit in
    1,000, and 0.034 (1,020 + 1.02) would not."""
    r = size_position(trade(real_btc, equity=1_000.0, risk_fraction=0.05, stop=59_700.0, leverage=2))
    assert r.limits["risk"] == pytest.approx(50 / 359.85)
    assert r.limits["margin"] == pytest.approx(1_000 / 30_030)
    assert r.quantity == 0.033 and r.binding_constraint == "margin"
    assert r.initial_margin == pytest.approx(990.0)
    assert r.initial_margin + r.fee_entry_usd == pytest.approx(990.99)
    assert r.risk_usd == pytest.approx(0.033 * 359.85)
    assert r.binding_text == "margin: the free margin buys no more at 2x"


def test_tier_binds_at_125x_and_the_stop_lies_beyond_liquidation(real_btc: Market) -> None:
    """1,000,000 risking 1% with a 1% stop at 125x: risk allows 15.16 BTC, but 125x is allowed only up
    to 50,000 of notional: 0.833 BTC (49,980). Its liquidation price 60,000 x (1 - 1/125) / 0.996 =
    59,759.04 is above the stop at 59,400, so the stop can never fill: loudly warned."""
    r = size_position(trade(real_btc, equity=1_000_000.0, stop=59_400.0, leverage=125))
    assert r.limits["tier"] == pytest.approx(50_000 / 60_000)
    assert r.quantity == 0.833 and r.binding_constraint == "tier"
    assert r.notional == pytest.approx(49_980.0)
    assert r.liquidation_price == pytest.approx(60_000 * 0.992 / 0.996)
    assert codes(r) == ["stop_beyond_liquidation"]
    assert "the stop 59,400.0 lies beyond the liquidation price 59,759.0:" in r.warnings[0].message
    assert r.binding_text == "tier: at 125x the brackets allow at most 50,000.00 of notional"


def test_max_quantity_binds() -> None:
    """A market taking at most 0.05 BTC per order caps the 0.077 the risk would allow."""
    r = size_position(trade(replace(BTC, max_qty=0.05), leverage=10))
    assert r.quantity == 0.05 and r.binding_constraint == "max_qty"
    assert r.binding_text == "max quantity: the market takes at most 0.05 per order"


def test_eth_short_with_funding_in_its_favour(real_eth: Market) -> None:
    """5,000 of equity risking 50 on an ETH short at 2,500, stop 2,550, taker 0.04%, 20x isolated:
    loss per ETH = 50 + 1 + 1.02 = 52.02; 50 / 52.02 = 0.9612: 0.961 ETH (2,402.50, margin 120.125).
    Break-even = 2,500 x 0.9996 / 1.0004 = 2,498.00. Liquidation 2,500 x 1.05 / 1.004 = 2,614.54, above
    the stop. Funding at +0.03% per 8h pays the short 0.961 x 2,500 x 0.0003 = 0.72075 an interval."""
    r = size_position(
        SizingRequest(
            market=real_eth,
            side="short",
            entry=2_500.0,
            stop=2_550.0,
            equity=5_000.0,
            risk_amount=50.0,
            leverage=20,
            fee_entry=0.0004,
            fee_exit=0.0004,
            funding_rate=0.0003,
        )
    )
    assert r.loss_per_unit == pytest.approx(52.02)
    assert r.quantity == 0.961 and r.binding_constraint == "risk"
    assert r.notional == pytest.approx(2_402.5)
    assert r.initial_margin == pytest.approx(120.125)
    assert r.risk_usd == pytest.approx(0.961 * 52.02) and r.risk_pct == pytest.approx(0.961 * 52.02 / 5_000)
    assert r.breakeven_price == pytest.approx(2_499 / 1.0004)
    assert r.liquidation_price == pytest.approx(2_625 / 1.004)
    assert r.stop_liquidation_gap == pytest.approx((2_625 / 1.004 - 2_550) / 2_500)
    assert r.funding_per_interval == pytest.approx(0.72075)
    assert r.funding_per_day == pytest.approx(2.16225)
    assert r.funding_apr == pytest.approx(0.3285)
    assert r.warnings == ()  # funding in its favour is never a warning


def test_cross_margin_liquidation_uses_the_cross_balance(real_btc: Market) -> None:
    """The reference trade at 10x on cross margin. With a cross balance of 1,000 the wallet behind it is
    1,000 - 2.31 (entry fee) = 997.69: LP = (997.69 - 4,620) / (0.077 x 0.004 - 0.077) = 47,231.91.
    With the whole 10,000 equity behind it the long survives a fall to zero."""
    r = size_position(
        trade(real_btc, leverage=10, slippage_bps=5, margin_mode="cross", cross_balance=1_000.0)
    )
    assert r.quantity == 0.077 and r.margin_mode == "cross"
    assert r.liquidation_price == pytest.approx((997.69 - 4_620) / (0.077 * 0.004 - 0.077))
    assert r.liquidation_price == pytest.approx(47_231.91, abs=0.005)
    whole = size_position(trade(real_btc, leverage=10, slippage_bps=5, margin_mode="cross"))
    assert whole.never_liquidated and whole.liquidation_price is None and whole.stop_liquidation_gap is None


# --- warnings ------------------------------------------------------------------------------------------


def test_a_sound_trade_has_no_warnings() -> None:
    r = size_position(trade(leverage=10, slippage_bps=5, funding_rate=0.0001, max_risk_fraction=0.02))
    assert r.warnings == () and r.tradable


def test_stop_beyond_liquidation_only_when_it_is() -> None:
    """A 10% stop at 20x: liquidation 60,000 x 0.95 / 0.996 = 57,228.92, above the stop at 54,000: the
    stop cannot fill. At 5x it is at 48,192.77, below the stop: no warning. Short: stop 66,000 at 20x
    (LP 60,000 x 1.05 / 1.004 = 62,749) warns."""
    r = size_position(trade(stop=54_000.0, leverage=20))
    assert r.liquidation_price == pytest.approx(57_000 / 0.996)
    assert codes(r) == ["stop_beyond_liquidation"]
    assert "can never fill" in r.warnings[0].message
    assert r.stop_liquidation_gap is not None and r.stop_liquidation_gap < 0
    assert codes(size_position(trade(stop=54_000.0, leverage=5))) == []
    short = size_position(trade(side="short", stop=66_000.0, leverage=20))
    assert short.liquidation_price == pytest.approx(63_000 / 1.004)
    assert codes(short) == ["stop_beyond_liquidation"]
    assert codes(size_position(trade(side="short", stop=66_000.0, leverage=5))) == []


def test_below_the_minimum_quantity_shows_the_minimum_sizes_risk() -> None:
    """100 of equity risking 1: 1 / 1,288.80 is under one step (0.001 BTC): nothing is tradable, and the
    minimum (0.001) would risk 1.29 (1.289% of equity)."""
    market = replace(BTC, min_notional=None)
    r = size_position(trade(market, equity=100.0, slippage_bps=5))
    assert r.quantity == 0 and not r.tradable
    assert codes(r) == ["below_min_qty"]
    message = r.warnings[0].message
    assert "minimum quantity 0.001" in message
    assert "would risk 1.29 (1.289% of equity)" in message
    assert r.min_quantity_risk == pytest.approx(1.2888147)


def test_below_the_minimum_notional_names_it() -> None:
    """150 of equity risking 1.50 buys 0.001 BTC = 60 USDT, under Binance's 100 USDT minimum order, which
    needs 0.002 BTC and would risk 2.58 (1.718% of equity)."""
    r = size_position(trade(equity=150.0, slippage_bps=5))
    assert r.quantity == 0.001 and not r.tradable
    assert codes(r) == ["below_min_notional"]
    message = r.warnings[0].message
    assert "minimum order of 100 USDT (0.002)" in message
    assert "would risk 2.58 (1.718% of equity)" in message
    # enough equity for 0.002 BTC: tradable, no warning
    assert codes(size_position(trade(equity=300.0, slippage_bps=5))) == []


def test_risk_above_the_configured_maximum() -> None:
    """3% asked with a 2% maximum warns with both figures; exactly 2% does not, nor does no maximum."""
    r = size_position(trade(risk_fraction=0.03, max_risk_fraction=0.02))
    assert codes(r) == ["risk_above_max"]
    assert "300.00 (3% of equity)" in r.warnings[0].message and "maximum of 2%" in r.warnings[0].message
    assert codes(size_position(trade(risk_fraction=0.02, max_risk_fraction=0.02))) == []
    assert codes(size_position(trade(risk_amount=200.0, max_risk_fraction=0.02))) == []
    assert codes(size_position(trade(risk_amount=201.0, max_risk_fraction=0.02))) == ["risk_above_max"]
    assert codes(size_position(trade(risk_fraction=0.03))) == []


def test_funding_against_the_position_above_the_threshold() -> None:
    """A long paying +0.02% per 8h costs 21.9% a year, above the 20% threshold; +0.018% (19.71%) does
    not warn; a short receives it (no warning) but pays -0.02%; a 4h interval doubles the yearly cost;
    the threshold is the trader's."""
    r = size_position(trade(funding_rate=0.0002))
    assert r.funding_apr == pytest.approx(-0.219)
    assert codes(r) == ["funding_against"]
    assert "21.9% a year" in r.warnings[0].message and "above 20%" in r.warnings[0].message
    assert codes(size_position(trade(funding_rate=0.00018))) == []
    assert codes(size_position(trade(side="short", stop=61_200.0, funding_rate=0.0002))) == []
    assert codes(size_position(trade(side="short", stop=61_200.0, funding_rate=-0.0002))) == [
        "funding_against"
    ]
    four_hourly = size_position(trade(funding_rate=0.0001, funding_interval_hours=4.0))
    assert four_hourly.funding_apr == pytest.approx(-0.219) and codes(four_hourly) == ["funding_against"]
    assert codes(size_position(trade(funding_rate=0.0001, funding_warn_apr=0.10))) == ["funding_against"]
    # unknown rate or unknown interval: no figure, no warning, no guess
    unknown = size_position(trade(market=replace(BTC, funding_interval_hours=None), funding_rate=0.01))
    assert unknown.funding_per_day is None and unknown.funding_apr is None and codes(unknown) == []
    assert size_position(trade()).funding_per_interval is None


def test_approximate_brackets_are_flagged() -> None:
    """A market with the conservative default ladder instead of its own brackets says so."""
    approx = replace(BTC, tiers=tuple(default_tiers(125.0)), tiers_approximate=True)
    r = size_position(trade(approx, leverage=10))
    assert codes(r) == ["tiers_approximate"] and r.tiers_approximate
    assert "brackets are unknown" in r.warnings[0].message
    assert "tiers_approximate" not in codes(size_position(trade(leverage=10)))


def test_leverage_above_the_bracket_of_the_notional_on_inconsistent_brackets() -> None:
    """Bad bracket data (a middle bracket allowing less than the one after it) lets 50x reach 100,000
    of notional although the 56,580 it sizes (0.943 BTC) sits in a 10x bracket: that is warned about."""
    odd = (
        LeverageTier(0.0, 10_000.0, 0.01, 0.0, 50.0),
        LeverageTier(10_000.0, 80_000.0, 0.01, 0.0, 10.0),
        LeverageTier(80_000.0, 100_000.0, 0.01, 0.0, 50.0),
    )
    r = size_position(
        trade(replace(BTC, tiers=odd, max_leverage=50.0), equity=100_000.0, stop=59_000.0, leverage=50)
    )
    assert r.notional == pytest.approx(56_580.0)
    assert codes(r) == ["stop_beyond_liquidation", "leverage_above_tier"]
    assert "50x is above the 10x the bracket allows for 56,580.00 USDT" in r.warnings[1].message
    # on Binance's consistent brackets 50x stops at 600,000 of notional: never above its bracket
    assert "leverage_above_tier" not in codes(
        size_position(trade(equity=100_000.0, stop=59_000.0, leverage=50))
    )


# --- validation: the field is named, nothing is computed --------------------------------------------------


@pytest.mark.parametrize(
    ("field", "changes", "says"),
    [
        ("entry", {"entry": 0.0}, "a price above 0"),
        ("entry", {"entry": float("nan")}, "a price above 0"),
        ("entry", {"entry": "60000"}, "a price above 0"),
        ("stop", {"stop": 61_000.0}, "a long's stop goes below it"),
        ("stop", {"side": "short"}, "a short's stop goes above it"),
        ("stop", {"stop": 60_000.0}, "equals the entry"),
        ("stop", {"stop": -5.0}, "not above 0"),
        ("stop", {"stop": float("inf")}, "must be a price"),
        ("equity", {"equity": -10_000.0}, "an amount above 0"),
        ("risk", {"risk_fraction": None}, "exactly one"),
        ("risk", {"risk_fraction": 0.01, "risk_amount": 100.0}, "exactly one"),
        ("risk", {"risk_fraction": 0.0}, "more than 0%"),
        ("risk", {"risk_fraction": 1.5}, "at most 100%"),
        ("risk", {"risk_fraction": None, "risk_amount": 20_000.0}, "more than the equity"),
        ("leverage", {"leverage": 0.5}, "below 1x"),
        ("leverage", {"leverage": 150.0}, "maximum of 125x"),
        ("leverage", {"leverage": float("inf")}, "must be a number"),
        ("fee", {"fee_entry": 0.01}, "under 0.01"),
        ("fee", {"fee_exit": -0.0005}, "from 0"),
        ("fee", {"market": replace(BTC, taker_fee=None)}, "does not publish its taker fee"),
        ("slippage", {"slippage_bps": -1.0}, "from 0"),
        ("slippage", {"slippage_bps": 1000.0}, "under 1000 bps"),
        ("side", {"side": "buy"}, "long or short"),
        ("margin mode", {"margin_mode": "portfolio"}, "isolated or cross"),
        ("free margin", {"free_margin": -1.0}, "0 or more"),
        ("cross balance", {"cross_balance": 0.0}, "above 0"),
        (
            "take-profit 2",
            {"take_profits": (TakeProfitSpec(r=2), TakeProfitSpec(r=1, price=62_000))},
            "not both",
        ),
        ("take-profit 1", {"take_profits": (TakeProfitSpec(),)}, "or neither"),
        ("take-profit 1", {"take_profits": (TakeProfitSpec(price=60_010.0),)}, "makes no profit after fees"),
        ("take-profit 2", {"take_profits": (TakeProfitSpec(r=1), TakeProfitSpec(r=-1))}, "above 0"),
        ("take-profit 1", {"take_profits": (TakeProfitSpec(r=1, share=0),)}, "more than 0%"),
        (
            "take-profit",
            {"take_profits": (TakeProfitSpec(r=1, share=0.7), TakeProfitSpec(r=2, share=0.6))},
            "130%",
        ),
        (
            "take-profit 1",
            {"side": "short", "stop": 61_200.0, "take_profits": (TakeProfitSpec(r=80),)},
            "below zero",
        ),
        ("funding rate", {"funding_rate": float("nan")}, "must be a number"),
        ("funding interval", {"funding_interval_hours": 0.0}, "above 0"),
        ("mark", {"mark": -1.0}, "a price above 0"),
        ("max risk", {"max_risk_fraction": 2.0}, "at most 100%"),
    ],
)
def test_bad_input_names_its_field_and_computes_nothing(
    field: str, changes: dict[str, object], says: str
) -> None:
    with pytest.raises(SizingError) as caught:
        size_position(trade(**changes))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ") and says in str(caught.value)
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2


def test_take_profit_messages_say_where_a_target_goes() -> None:
    """A long's unprofitable target names the break-even it must clear."""
    with pytest.raises(SizingError, match=r"a long's target goes above 60,060\.03"):
        size_position(trade(take_profits=(TakeProfitSpec(price=59_000.0),)))


# --- stops, steps, break-even -------------------------------------------------------------------------------


def test_stop_from_a_price_a_percentage_or_an_atr_multiple() -> None:
    assert stop_price("long", 60_000.0, price=58_800.0) == 58_800.0
    assert stop_price("long", 60_000.0, pct=0.02) == pytest.approx(58_800.0)
    assert stop_price("short", 60_000.0, pct=0.02) == pytest.approx(61_200.0)
    assert stop_price("long", 60_000.0, atr=450.0, atr_mult=2.0) == pytest.approx(59_100.0)
    assert stop_price("short", 60_000.0, atr=450.0, atr_mult=1.5) == pytest.approx(60_675.0)
    bad = [
        ({"price": 58_800.0, "pct": 0.02}, "exactly one"),
        ({}, "exactly one"),
        ({"pct": 1.0}, "less than 100%"),
        ({"pct": 0.0}, "more than 0%"),
        ({"atr": None, "atr_mult": 2.0}, "too few candles"),
        ({"atr": 0.0, "atr_mult": 2.0}, "ATR must be above 0"),
        ({"atr": 450.0, "atr_mult": -1.0}, "multiple must be above 0"),
        ({"atr": 40_000.0, "atr_mult": 2.0}, "not above 0"),  # 60,000 - 80,000: below zero
        ({"price": 61_000.0}, "a long's stop goes below it"),
    ]
    for kwargs, says in bad:
        with pytest.raises(SizingError, match=says) as caught:
            stop_price("long", 60_000.0, **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == "stop"
    with pytest.raises(SizingError) as caught:
        stop_price("long", 0.0, pct=0.02)
    assert caught.value.field == "entry"


def test_quantities_round_to_the_step_without_float_noise() -> None:
    assert floor_to_step(0.07759, 0.001) == 0.077
    assert floor_to_step(0.3, 0.1) == 0.3  # 0.3 / 0.1 = 2.9999999999999996 must not lose a step
    assert floor_to_step(0.29999, 0.1) == 0.2
    assert floor_to_step(1_234.5, 10.0) == 1_230.0
    assert floor_to_step(0.0009, 0.001) == 0.0
    assert floor_to_step(0.07759, None) == 0.07759
    assert ceil_to_step(100 / 60_000, 0.001) == 0.002
    assert ceil_to_step(0.3, 0.1) == 0.3
    assert steps_to_qty(3, 0.1) == 0.3 and steps_to_qty(77, 0.001) == 0.077
    assert [step_decimals(s) for s in (0.001, 1.0, 5.0, 0.1, 10.0, 1e-8)] == [3, 0, 0, 1, 0, 8]


def test_break_even_and_loss_per_unit() -> None:
    """At break-even the trade nets zero after both fees; the loss per unit adds both fees and slippage."""
    for side, entry in (("long", 60_000.0), ("short", 60_000.0)):
        be = breakeven_price(side, entry, 0.0005, 0.0004)  # type: ignore[arg-type]
        assert net_pnl_per_unit(side, entry, be, 0.0005, 0.0004) == pytest.approx(0.0, abs=1e-9)  # type: ignore[arg-type]
    assert breakeven_price("long", 60_000.0, 0.0, 0.0) == 60_000.0
    assert loss_per_unit(60_000.0, 58_800.0, 0.0005, 0.0005, 0.0005) == pytest.approx(1_288.8147)
    assert loss_per_unit(60_000.0, 61_200.0, 0.0, 0.0, 0.0) == 1_200.0


def test_json_keys_come_first_and_in_order() -> None:
    data = size_position(trade(leverage=10)).as_dict()
    assert list(data)[: len(JSON_KEYS)] == list(JSON_KEYS)
    assert data["binding_constraint"] == "risk" and data["warnings"] == []


# --- Kelly -----------------------------------------------------------------------------------------------


def test_kelly_half_and_capped() -> None:
    """55% winners paying 2:1: f* = 0.55 - 0.45 / 2 = 0.325; half Kelly 0.1625, capped at a 2% maximum."""
    k = kelly(0.55, 2.0)
    assert k.full == pytest.approx(0.325) and k.fraction == 0.5
    assert k.suggested == pytest.approx(0.1625) and not k.capped
    capped = kelly(0.55, 2.0, cap=0.02)
    assert capped.suggested == 0.02 and capped.capped and capped.full == pytest.approx(0.325)
    assert kelly(0.55, 2.0, fraction=1.0).suggested == pytest.approx(0.325)
    assert kelly(0.6, 1.0, fraction=0.25).suggested == pytest.approx(0.25 * 0.2)


def test_kelly_is_never_negative() -> None:
    """30% winners at 1:1 have no edge (f* = 0.3 - 0.7 = -0.4): risk nothing; break-even (p = 1/3,
    b = 2) is exactly 0."""
    k = kelly(0.3, 1.0)
    assert k.full == 0.0 and k.suggested == 0.0 and not k.capped
    assert kelly(1 / 3, 2.0).full == pytest.approx(0.0, abs=1e-15)
    assert kelly(0.0, 5.0).suggested == 0.0
    assert kelly(1.0, 1.0).full == 1.0


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((1.5, 2.0), {}, "win rate"),
        ((float("nan"), 2.0), {}, "win rate"),
        ((0.5, 0.0), {}, "payoff ratio"),
        ((0.5, -1.0), {}, "payoff ratio"),
        ((0.5, 2.0), {"fraction": 0.0}, "Kelly fraction"),
        ((0.5, 2.0), {"fraction": 1.5}, "Kelly fraction"),
    ],
)
def test_kelly_rejects_what_is_not_a_rate(
    args: tuple[float, float], kwargs: dict[str, float], field: str
) -> None:
    with pytest.raises(SizingError) as caught:
        kelly(*args, **kwargs)
    assert caught.value.field == field


def test_a_stop_from_a_distance_is_rounded_to_the_tick_away_from_the_entry() -> None:
    """The stop a trader can place sits on the tick; rounding away from the entry never risks more than
    was sized. A typed price is kept as typed."""
    long_stop = stop_price("long", 60_001.3, pct=0.02, tick=0.1)  # 58,801.274 -> 58,801.2
    assert long_stop == 58_801.2
    short_stop = stop_price("short", 60_001.3, pct=0.02, tick=0.1)  # 61,201.326 -> 61,201.4
    assert short_stop == 61_201.4
    assert stop_price("short", 100.0, atr=0.333, atr_mult=2, tick=0.01) == 100.67  # 100.666 -> 100.67
    assert stop_price("long", 60_000.0, price=58_800.123, tick=0.1) == 58_800.123


def test_cross_liquidation_takes_the_other_positions_maintenance_off_the_equity() -> None:
    """Cross margin: the wallet backing the trade is the equity less the maintenance margin of the
    account's other positions (and the entry fee). Unknown maintenance margin: unknown liquidation, never
    an optimistic one."""
    big = {"margin_mode": "cross", "leverage": 10, "risk_fraction": 0.05}  # 0.387 BTC, 23,220 of notional
    base = size_position(trade(**big))
    with_others = size_position(trade(**big, other_maintenance=2_000.0))
    assert with_others.quantity == base.quantity
    q, e, mmr = base.quantity, 60_000.0, BTC.tiers[0].mmr
    wallet = 10_000.0 - 2_000.0 - base.fee_entry_usd
    assert with_others.liquidation_price == pytest.approx((wallet - q * e) / (q * mmr - q))
    assert base.liquidation_price is not None
    assert with_others.liquidation_price > base.liquidation_price
    unknown = size_position(trade(margin_mode="cross", leverage=10, other_maintenance=None))
    assert unknown.liquidation_price is None and not unknown.never_liquidated
    assert "liquidation_unknown" in codes(unknown)
    assert "other positions" in next(w.message for w in unknown.warnings if w.code == "liquidation_unknown")
    # Isolated margin does not depend on the other positions.
    isolated = size_position(trade(leverage=10, other_maintenance=None))
    assert isolated.liquidation_price is not None and "liquidation_unknown" not in codes(isolated)
