"""The scanner pane's typed filters and its remembered view: what a trader types is read as meant, a bad
entry says what is accepted, a stored view that no longer makes sense falls back to the defaults."""

from __future__ import annotations

import pytest

from perptui.config.settings import ScanSettings
from perptui.ui.panes.scanner.filters import (
    FilterError,
    apr_text,
    parse_min_apr,
    parse_min_volume,
    volume_text,
)
from perptui.ui.panes.scanner.memory import ScanView


@pytest.mark.parametrize(
    ("text", "usd"),
    [
        ("", 0.0),
        ("0", 0.0),
        ("250k", 250e3),
        ("5m", 5e6),
        ("$1.5B", 1.5e9),
        ("1,000,000", 1e6),
        (" 2M ", 2e6),
    ],
)
def test_min_volume_reads_suffixes_and_separators(text: str, usd: float) -> None:
    assert parse_min_volume(text) == pytest.approx(usd)


@pytest.mark.parametrize("text", ["lots", "inf", "5x", "m"])
def test_a_bad_min_volume_says_what_is_accepted(text: str) -> None:
    with pytest.raises(FilterError, match=r"is not a number \(e.g. 5m, 250k or 1000000 USD of 24h volume\)"):
        parse_min_volume(text)


def test_a_negative_min_volume_is_refused_as_negative_not_as_text() -> None:
    with pytest.raises(FilterError, match=r"^min volume '-5m' must be 0 or more$"):
        parse_min_volume("-5m")


def test_min_apr_is_a_percent_with_or_without_the_sign() -> None:
    assert parse_min_apr("10") == pytest.approx(0.10) == parse_min_apr("10 %")
    assert parse_min_apr("") == 0.0
    with pytest.raises(FilterError, match=r"^min \|APR\| '-3' must be 0 or more$"):
        parse_min_apr("-3")
    with pytest.raises(FilterError, match=r"e.g. 10 for 10% a year"):
        parse_min_apr("ten")


def test_filters_shown_back_as_typed() -> None:
    assert [volume_text(v) for v in (0, 5e6, 250e3, 1.5e9, 1234.0)] == ["", "5m", "250k", "1.5b", "1234"]
    assert parse_min_volume(volume_text(1234.0)) == 1234.0
    assert (apr_text(0.0), apr_text(0.1)) == ("", "10")


def test_sorting_by_a_column_starts_in_its_natural_direction_and_again_flips_it() -> None:
    view = ScanView()
    assert (view.sort, view.descending) == ("abs_apr", True)
    by_name = view.sorted_by("symbol")
    assert (by_name.sort, by_name.descending) == ("symbol", False)  # A to Z first
    assert by_name.sorted_by("symbol").descending is True
    assert view.sorted_by("breakeven_days").descending is False  # quickest break-even first
    assert view.sorted_by("mean_apr_30d").descending is True


def test_a_remembered_view_is_read_back_and_nonsense_falls_back_to_the_defaults() -> None:
    defaults = ScanView.defaults(ScanSettings(min_volume_usd=1e6, min_apr_pct=5))
    assert (defaults.min_volume_usd, defaults.min_apr) == (1e6, 0.05)
    view = ScanView(sort="mean_apr_30d", descending=False, text="sol", min_volume_usd=5e6, detail=False)
    assert ScanView.from_dict(view.as_dict(), defaults) == view
    assert ScanView.from_dict({"sort": "nope", "descending": False}, defaults) == defaults
    assert ScanView.from_dict({"min_volume_usd": -1, "text": 3}, defaults) == defaults
    assert ScanView.from_dict({"min_volume_usd": 7}, defaults).min_volume_usd == 7  # an int is a number
    assert ScanView.from_dict("garbage", defaults) == defaults
