"""How the scanner looks at 80x24 (the table gets the width, the side panel folded; ``i`` lays it over
the table), 120x40 and 200x50 (the panel beside the table). Frozen clock, seeded demo market. Review
the report before ``pytest --snapshot-update``."""

from __future__ import annotations

import pytest

from perptui.ui.screenshots import SHOTS

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_scanner_pane_at(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(history=True), terminal_size=size, run_before=SHOTS["scanner"])


def test_scanner_side_panel_over_the_table_at_80x24(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=(80, 24), run_before=SHOTS["scanner-panel"])
