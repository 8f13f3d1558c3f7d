"""How the alert rules screen (``a`` on the risk pane) and its add form look at 80x24 and 120x40 (and
the screen at 200x50). Frozen clock, seeded demo market, the default rules. Review the report before
``pytest --snapshot-update``."""

from __future__ import annotations

import pytest

from perptui.ui.screenshots import SHOTS


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_alert_rules_screen_at(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=SHOTS["alerts"])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_alert_rule_form_at(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=SHOTS["alerts-form"])
