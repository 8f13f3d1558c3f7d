"""How the account pane looks at 80x24 (the cards in two columns, every figure whole, the chart below)
and at 120x40 (three cards in a row). Frozen clock, seeded demo market, the sample account's history.
Review the report before ``pytest --snapshot-update``."""

from __future__ import annotations

import pytest

from perptui.ui.screenshots import SHOTS


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_account_pane(snap_compare, make_app, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(history=True), terminal_size=size, run_before=SHOTS["account"])


def test_account_pane_folds_the_chart_when_short(snap_compare, make_app) -> None:
    """80x20: fewer than 8 rows are left for the chart, so it folds to one summary line."""
    assert snap_compare(make_app(history=True), terminal_size=(80, 20), run_before=SHOTS["account"])
