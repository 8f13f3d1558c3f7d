"""A typed price more than 30% from the mark is flagged with one line; within it, or unknown, it is not."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.presentation.price_checks import far_from_mark


def test_a_decimal_comma_read_as_thousands_is_flagged_at_the_markets_precision() -> None:
    assert (
        far_from_mark(13.0, 0.013006, what="entry", tick=0.000001)
        == "entry 13.000000 is 99,854% above the mark 0.013006"
    )
    assert far_from_mark(60.0, 100.0, what="stop", tick=0.1) == "stop 60.0 is 40% below the mark 100.0"


@pytest.mark.parametrize("price", [70.0, 100.0, 130.0, 129.99])
def test_within_30_percent_is_fine(price: float) -> None:
    assert far_from_mark(price, 100.0) is None


@pytest.mark.parametrize("mark", [None, 0.0, -1.0, math.nan, math.inf])
def test_an_unknown_mark_flags_nothing(mark: float | None) -> None:
    assert far_from_mark(1e9, mark) is None


@settings(derandomize=True, database=None, max_examples=200)
@given(
    st.floats(1e-8, 1e8, allow_nan=False),
    st.floats(1e-8, 1e8, allow_nan=False),
    st.floats(0.01, 0.99),
)
def test_flagged_exactly_when_the_gap_is_above_the_limit(price: float, mark: float, limit: float) -> None:
    flagged = far_from_mark(price, mark, limit) is not None
    assert flagged == (abs(price - mark) / mark > limit)
