"""How the backtest view looks at 80x24: the metrics first as two tables that do not wrap, the charts
folded with a line saying so, then Monte Carlo and the stress windows (the rest scrolls). Frozen clock,
seeded demo market. Review the report before ``pytest --snapshot-update``."""

from __future__ import annotations

from perptui.ui.screenshots import SHOTS


def test_backtest_view_at_80x24(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=(80, 24), run_before=SHOTS["backtest"])
