"""How the risk pane looks at 80x24 (positions, alerts, compact portfolio and limits; charts folded),
120x40 and 200x50, and its close confirmation at 80x24 and 120x40. Frozen clock, seeded demo market,
the three sample paper positions. Review the report before ``pytest --snapshot-update``."""

from __future__ import annotations

import pytest

from perptui.ui.screenshots import SHOTS


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_risk_pane_at(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(history=True), terminal_size=size, run_before=SHOTS["risk"])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_risk_close_confirmation_at(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(history=True), terminal_size=size, run_before=SHOTS["risk-close"])
