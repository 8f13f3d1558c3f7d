"""The one number reader of every field and flag: what it reads, what it refuses and why, and the limits of
each kind of quantity (the same for the CLI and the panes)."""

from __future__ import annotations

import argparse
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perptui.domain.errors import UsageError
from perptui.domain.quantities import (
    ATR_MULTIPLE,
    MULTIPLE,
    NON_NEGATIVE,
    OPEN_PERCENT,
    PERCENT,
    POSITIVE,
    PRICE,
    QUANTITY,
    SIGNED,
    SIGNED_PERCENT,
    WIN_RATE,
    Quantity,
    count,
    leverage,
    money,
)
from perptui.presentation.parse import arg_list_type, arg_type, parse_number, read_number

POSITIVE_KINDS: list[Quantity] = [
    PRICE,
    QUANTITY,
    money(),
    PERCENT,
    OPEN_PERCENT,
    MULTIPLE,
    POSITIVE,
    leverage(),
    leverage(20, "BTC/USDT:USDT"),
    count(1),
]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.013", 0.013),
        (".5", 0.5),
        ("12.", 12.0),
        ("1e3", 1000.0),
        ("2.5E-4", 0.00025),
        ("65,000", 65000.0),
        ("1,000", 1000.0),
        ("1,234,567.5", 1234567.5),
        ("1,500.25", 1500.25),
        ("1 234 567", 1234567.0),
        ("1_000.5", 1000.5),
        ("0,013", 0.013),  # a lone 0 starts no thousands group: a decimal comma
        ("1,5", 1.5),
        ("12,3456", 12.3456),
        ("1234,5", 1234.5),
        ("  +7 ", 7.0),
        ("-0.5", -0.5),
        ("- 5", -5.0),
    ],
)
def test_reads_points_thousands_and_unmistakable_decimal_commas(text: str, value: float) -> None:
    assert read_number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "1,500",
            "'1,500' is ambiguous: a comma may be a thousands separator or a decimal comma; type 1500 or 1.5",
        ),
        ("-2,250", "type -2250 or -2.25"),
        ("abc", "'abc' is not a number (e.g. 0.01 or -0.01)"),
        ("0.5,000", "'0.5,000' is not a number"),
        ("1.234,5", "'1.234,5' is not a number"),
        ("1,50,000", "'1,50,000' is not a number"),
        ("1,000_000", "'1,000_000' is not a number"),  # one kind of separator per number
        ("1.2.3", "is not a number"),
        ("12\n3", "is not a number"),
        ("$100", "is not a number"),
        ("nan", "'nan' is not a number"),
        ("inf", "'inf' is not a number"),
        ("-Infinity", "is not a number"),
        ("1e999", "'1e999' is too large to be a number here"),
        ("", "'' is empty: type a number"),
        ("   ", "is empty"),
    ],
)
def test_refuses_with_one_line_saying_why(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        read_number(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value) and info.value.exit_code == 2


@pytest.mark.parametrize("kind", POSITIVE_KINDS, ids=lambda q: q.noun)
@pytest.mark.parametrize("text", ["0", "-1", "-0", "0.0", "-0.013", "-1e3", "-65,000"])
def test_every_positive_kind_refuses_zero_and_negatives_as_not_above_0(kind: Quantity, text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_number(text, kind)
    assert str(info.value) == f"{text!r} must be above 0"


@given(st.sampled_from(POSITIVE_KINDS), st.floats(max_value=0, allow_nan=False, allow_infinity=False))
def test_no_positive_kind_takes_a_number_at_or_below_zero(kind: Quantity, value: float) -> None:
    with pytest.raises(UsageError, match="must be above 0"):
        parse_number(repr(value), kind)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("1e15", money(), "'1e15' is above the largest accepted amount 1,000,000,000 USDT"),
        ("1e12", money("USDC"), "'1e12' is above the largest accepted amount 1,000,000,000 USDC"),
        ("0.000001", money(), "'0.000001' is below the smallest accepted amount 0.01 USDT"),
        ("150", PERCENT, "'150' is above the largest accepted percent 100%"),
        ("101", WIN_RATE, "'101' is above the largest accepted win rate 100%"),
        ("0.5", leverage(), "'0.5' is below the smallest accepted leverage 1x"),
        ("126", leverage(), "'126' is above the largest accepted leverage 125x"),
        (
            "21x",
            leverage(20, "BTC/USDT:USDT"),
            "'21x' is above the largest accepted leverage 20x (BTC/USDT:USDT's maximum)",
        ),
        ("2.5", count(1), "'2.5' is not a whole number (e.g. 10)"),
        ("200001", count(0, 100_000), "'200001' is above the largest accepted count 100,000"),
        ("-1", NON_NEGATIVE, "'-1' must be 0 or more"),
        ("1e13", PRICE, "'1e13' is above the largest accepted price 1,000,000,000,000"),
        ("abc", PRICE, "'abc' is not a number (e.g. 85913.5 or 0.013)"),
    ],
)
def test_each_kind_says_its_limit(text: str, kind: Quantity, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_number(text, kind)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("1.5%", PERCENT, 1.5),
        (" 70 % ", PERCENT, 70.0),
        ("10x", leverage(), 10.0),
        ("2X", ATR_MULTIPLE, 2.0),
        ("1.5R", MULTIPLE, 1.5),
        ("250 USDT", money(), 250.0),
        ("1,000.50usdt", money(), 1000.5),
        ("0.01", money(), 0.01),
        ("1e9", money(), 1e9),
        ("-0.0009", SIGNED, -0.0009),
        ("-2.5%", SIGNED_PERCENT, -2.5),
        ("0", NON_NEGATIVE, 0.0),
        ("125", leverage(), 125.0),
        ("20", leverage(20, "X"), 20.0),
        ("100", PERCENT, 100.0),
        ("10", count(1), 10.0),
    ],
)
def test_each_kind_takes_its_unit_and_its_range(text: str, kind: Quantity, value: float) -> None:
    assert parse_number(text, kind) == value


def test_a_unit_belongs_to_its_kind() -> None:
    with pytest.raises(UsageError, match="is not a number"):
        parse_number("10%", PRICE)
    with pytest.raises(UsageError, match="is not a number"):
        parse_number("%", PERCENT)


def _grouped(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False), st.integers(0, 8))
def test_a_number_written_with_thousands_separators_reads_back(value: float, decimals: int) -> None:
    """Formatting with thousands separators (how the app shows numbers) and reading gives the number;
    only a whole number with one group such as ``1,500`` is refused (1500 or 1.5?), never misread."""
    text = _grouped(value, decimals)
    if decimals == 0 and text.count(",") == 1 and not text.endswith(",000"):
        with pytest.raises(UsageError, match="is ambiguous"):
            read_number(text)
    else:
        assert read_number(text) == float(text.replace(",", ""))


@given(st.integers(1_000, 999_999).filter(lambda n: n % 1000 != 0))
def test_a_whole_number_with_one_thousands_group_is_ambiguous(value: int) -> None:
    with pytest.raises(UsageError, match="is ambiguous"):
        read_number(f"{value:,}")
    assert read_number(f"{value:,}.0") == value == read_number(str(value))


@given(st.integers(1, 999), st.integers(0, 999).filter(lambda n: n % 1000 != 0))
def test_one_comma_before_three_digits_is_never_guessed(whole: int, group: int) -> None:
    """``1,500`` could be 1500 or 1.5: refused, naming both readings, unless the group is ``000``."""
    text = f"{whole},{group:03d}"
    with pytest.raises(UsageError, match="is ambiguous"):
        read_number(text)
    assert read_number(f"{whole},000") == whole * 1000


@given(st.integers(0, 10**6), st.text("0123456789", min_size=1, max_size=6).filter(lambda d: len(d) != 3))
def test_a_comma_that_cannot_be_a_thousands_separator_is_a_decimal_comma(whole: int, digits: str) -> None:
    text = f"{whole},{digits}"
    assert read_number(text) == float(f"{whole}.{digits}")


@given(st.text("0123456789", min_size=1, max_size=8))
def test_a_comma_after_a_lone_zero_is_a_decimal_comma(digits: str) -> None:
    assert read_number(f"0,{digits}") == float(f"0.{digits}")


def test_argparse_types_raise_argument_type_errors() -> None:
    price = arg_type(PRICE)
    assert price("85,913.5") == 85913.5
    with pytest.raises(argparse.ArgumentTypeError, match=r"^'-1' must be above 0$"):
        price("-1")
    whole = arg_type(count(1))
    assert whole("12") == 12 and isinstance(whole("12"), int)
    pair = arg_list_type(WIN_RATE, MULTIPLE, most=2)
    assert pair("55,1.5") == (55.0, 1.5)
    with pytest.raises(argparse.ArgumentTypeError, match=r"^in '55,0': '0' must be above 0$"):
        pair("55,0")
    with pytest.raises(argparse.ArgumentTypeError, match="give at most 2"):
        pair("1,2,3")
    with pytest.raises(argparse.ArgumentTypeError, match="holds no numbers"):
        pair(" , ")


def test_nan_and_infinity_as_numbers_are_refused() -> None:
    from perptui.domain.quantities import check

    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(UsageError, match="is not a number"):
            check(value, SIGNED)
