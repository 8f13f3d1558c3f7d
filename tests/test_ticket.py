"""The plain-text trade ticket and the one price and quantity format it uses: prices to the tick,
quantities to the step, money to cents, unknowns as ``—``, warnings prefixed so they stand out when
pasted."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perptui.domain.errors import UsageError
from perptui.domain.precision import step_decimals
from perptui.domain.quantities import PRICE
from perptui.domain.sizing import TakeProfitSpec, size_position
from perptui.domain.tiers import default_tiers
from perptui.presentation.numbers import UNKNOWN, num, price, qty
from perptui.presentation.parse import parse_number
from perptui.presentation.ticket import ticket_lines, ticket_text
from tests.test_sizing import BTC, trade


def rows(text: str) -> dict[str, str]:
    """label -> value of a ticket (the label column is padded to the widest label)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("! "):
            label, _, value = line.partition("  ")
            out[label.strip()] = value.strip()
    return out


def test_the_reference_trade_ticket() -> None:
    """The 10,000 / 1% BTC long at 10x with a 2R target on half and 63,000 for the rest."""
    r = size_position(
        trade(
            leverage=10,
            slippage_bps=5,
            funding_rate=0.0001,
            take_profits=(TakeProfitSpec(r=2, share=0.5), TakeProfitSpec(price=63_000.0)),
        )
    )
    text = ticket_text(r, 0.1, 0.001, "USDT")
    assert text == "\n".join(ticket_lines(r, 0.1, 0.001, "USDT"))
    t = rows(text)
    assert t["Market"] == "BTC/USDT:USDT on binanceusdm"
    assert t["Side"] == "LONG"
    assert t["Quantity"] == "0.077"
    assert t["Entry"] == "60,000.0" and t["Stop"] == "58,800.0"
    assert t["Leverage"] == "10x, isolated"
    assert t["Notional"] == "4,620.00 USDT"
    assert t["Initial margin"] == "462.00 USDT"
    assert t["Risk at stop"] == "99.24 USDT (0.99% of equity)"
    assert t["Fees"] == "4.57 USDT (entry 2.31, stop exit 2.26)"
    assert t["Liquidation"] == "54,216.9"  # 54,216.867 to the 0.1 tick
    assert t["Break-even"] == "60,060.0"
    assert t["Funding"] == "-0.46 USDT per 8h, -1.39 USDT a day (rate +0.0100%)"
    assert t["Sized by"] == "risk: a stop-out loses at most the 100.00 budget"
    assert t["Take-profit 1"] == "62,638.9  2.00R  0.038 (50%)  +97.95 USDT"
    assert t["Take-profit 2"] == "63,000.0  2.28R  0.039 (50%)  +114.60 USDT"
    assert not any(line.startswith("!") for line in text.splitlines())
    # the values line up in one column
    starts = {len(line) - len(line[line.index("  ") :].lstrip()) for line in text.splitlines()}
    assert len(starts) == 1


def test_unknown_funding_shows_unknown_not_zero() -> None:
    """No funding rate: '—', never 0.00; a rate without an interval has no daily figure."""
    assert rows(ticket_text(size_position(trade()), 0.1, 0.001, "USDT"))["Funding"] == UNKNOWN
    # 0.079 BTC (no slippage) x 60,000 x 0.0001 = 0.474 an interval
    no_interval = size_position(trade(replace(BTC, funding_interval_hours=None), funding_rate=0.0001))
    funding = rows(ticket_text(no_interval, 0.1, 0.001, "USDT"))["Funding"]
    assert funding == "-0.47 USDT per interval unknown, — a day (rate +0.0100%)"


def test_prices_follow_the_tick_and_quantities_the_step() -> None:
    assert price(54_216.867, 0.1) == "54,216.9"
    assert price(54_216.867, 0.01) == "54,216.87"
    assert price(54_216.867, 1.0) == "54,217"
    assert price(54_216.867, 5.0) == "54,217"
    assert price(54_216.867, 0.5) == "54,216.9"  # a half tick has one decimal
    assert price(0.0000123456, 1e-7) == "0.0000123"
    assert price(85_913.487, 0.1) == "85,913.5"
    assert price(0.085722802, 0.000001) == "0.085723"
    assert price(0.085722802, 1e-8) == "0.08572280"  # the tick's decimals, zeros kept: digits never cut
    assert price(1_234_567.891, 0.01) == "1,234,567.89"
    assert price(-12.5, 0.1) == "-12.5"
    for unknown in (None, float("nan"), float("inf")):
        assert price(unknown, 0.1) == UNKNOWN and qty(unknown, 0.001) == UNKNOWN
    assert qty(0.077, 0.001) == "0.077"
    assert qty(0.1, 0.001) == "0.100"
    assert qty(1_230.0, 10.0) == "1,230"
    assert qty(12.0, 1.0) == "12"
    assert qty(0.0773, None) == "0.0773"


def test_without_a_tick_a_price_keeps_six_significant_digits_and_never_an_exponent() -> None:
    assert price(54_216.867, None) == "54,216.9"
    assert price(85_913.487, 0) == "85,913.5"
    assert price(0.085722802, None) == "0.0857228"
    assert price(0.000000012345678, None) == "0.0000000123457"
    assert price(1.34949e12, None) == "1,349,490,000,000"
    assert price(0.0, None) == "0"
    assert qty(123_456_789.123, None) == "123,456,789"
    assert qty(0.000123456789, None) == "0.00012345679"
    assert num(1e15) == "1,000,000,000,000,000" and num(0.001) == "0.001" and num(None) == UNKNOWN


@given(
    st.floats(min_value=1e-8, max_value=1e9, allow_nan=False),
    st.sampled_from([10.0, 1.0, 0.5, 0.1, 0.01, 0.0001, 0.000001, 1e-8]),
)
def test_a_price_at_the_tick_reads_back_as_the_price_on_the_tick(value: float, tick: float) -> None:
    """What the app shows, typed back, is the price rounded to the tick's decimals (a whole number with a
    single thousands group such as ``1,500`` excepted: typed back it is refused as ambiguous)."""
    text = price(value, tick)
    decimals = step_decimals(tick)
    if decimals == 0 and text.count(",") == 1 and not text.endswith(",000"):
        with pytest.raises(UsageError, match="is ambiguous"):
            parse_number(text, PRICE)
    elif round(value, decimals) > 0:
        assert parse_number(text, PRICE) == pytest.approx(round(value, decimals), rel=1e-12)


def test_a_whole_unit_market_ticket() -> None:
    """A market with a 0.01 tick and whole-unit steps shows both that way on the ticket."""
    sol = replace(BTC, amount_step=1.0, min_qty=1.0, min_notional=5.0, price_tick=0.01)
    r = size_position(trade(sol, entry=145.0, stop=141.5, leverage=5))
    t = rows(ticket_text(r, 0.01, 1.0, "USDT"))
    assert t["Entry"] == "145.00" and t["Stop"] == "141.50"
    assert t["Quantity"] == "27"  # 100 / (3.50 + 0.0725 + 0.07075) = 27.4, down to whole units


def test_warnings_are_prefixed_and_an_untradable_size_is_marked() -> None:
    """100 of equity cannot buy Binance's 100 USDT minimum: the quantity says NOT TRADABLE, and every
    warning is its own line starting with '! '."""
    r = size_position(trade(equity=100.0, stop=54_000.0, leverage=20, funding_rate=0.0005))
    lines = ticket_lines(r, 0.1, 0.001, "USDT")
    t = rows("\n".join(lines))
    assert t["Quantity"] == "0.000  (NOT TRADABLE)"
    assert t["Liquidation"] == UNKNOWN  # no position, no price
    warned = [line for line in lines if line.startswith("! ")]
    assert [line[2:] for line in warned] == [w.message for w in r.warnings]
    assert len(warned) == 2 and "minimum order of 100 USDT" in warned[0] and "funding costs" in warned[1]
    assert lines[-len(warned) :] == warned  # after the figures


def test_liquidation_never_and_approximate() -> None:
    """A 1x long cannot be liquidated: said in words. Brackets that are the default ladder are flagged on
    the price itself."""
    never = size_position(trade(leverage=1))
    assert (
        rows(ticket_text(never, 0.1, 0.001, "USDT"))["Liquidation"] == "none (margin covers a fall to zero)"
    )
    approx = size_position(
        trade(replace(BTC, tiers=tuple(default_tiers(125.0)), tiers_approximate=True), leverage=10)
    )
    lines = ticket_lines(approx, 0.1, 0.001, "USDT")
    assert rows("\n".join(lines))["Liquidation"].endswith(" (approx. brackets)")
    assert lines[-1].startswith("! the exchange's margin brackets are unknown")


def test_auto_leverage_and_cross_are_shown() -> None:
    r = size_position(trade(stop=59_880.0, margin_mode="cross"))
    assert rows(ticket_text(r, 0.1, 0.001, "USDT"))["Leverage"] == "4x (auto), cross"
