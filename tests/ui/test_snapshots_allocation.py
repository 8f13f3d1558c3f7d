"""How the plan pane (key 4) and the confirmation of its trades (``x``) look at 80x24 and 120x40, and
the narrow pane's details view (``i``). Frozen clock, seeded demo market, the sample account's equity.
Review the report before ``pytest --snapshot-update``."""

from __future__ import annotations

import pytest

from perptui.ui.screenshots import SHOTS

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@SIZES
def test_plan_pane(snap_compare, make_app, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(history=True), terminal_size=size, run_before=SHOTS["allocation"])


@SIZES
def test_plan_trades_confirmation(snap_compare, make_app, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(history=True), terminal_size=size, run_before=SHOTS["plan-trades"])


def test_plan_pane_details_when_narrow(snap_compare, make_app) -> None:
    """80x24 after ``i``: the notes and the frontier in the table's place, the key figures kept."""
    assert snap_compare(
        make_app(history=True), terminal_size=(80, 24), run_before=SHOTS["allocation-details"]
    )
