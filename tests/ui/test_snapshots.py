"""How the app looks (120x40, frozen clock, seeded demo market). Review the report before
``pytest --snapshot-update``."""

from __future__ import annotations

from perptui.ui.screenshots import SHOTS, SIZE


def test_shell_and_account_pane(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["account"])


def test_account_pane_in_privacy_mode(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["account-privacy"])


def test_help_screen(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["help"])


def test_sizing_pane_long(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["sizing-long"])


def test_sizing_pane_short(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["sizing-short"])


def test_sizing_pane_warnings(snap_compare, make_app) -> None:
    """High leverage with the stop beyond the liquidation price, and risk above the maximum."""
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["sizing-warning"])


def test_scanner_pane(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["scanner"])


def test_scanner_pane_wide_sorted_and_filtered(snap_compare, make_app) -> None:
    """No side panel, sorted by the 30-day mean APR, perps under 10% |APR| hidden."""
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["scanner-wide"])


def test_risk_pane_with_safe_warning_and_critical_positions(snap_compare, make_app) -> None:
    """BTC far from liquidation (green), ETH near the minimum distance (yellow), SOL inside it (red)."""
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["risk"])


def test_allocation_pane_plan_on_the_demo_market(snap_compare, make_app) -> None:
    """The neutral base and the directional layer from the sample account's equity, the frontier."""
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["allocation"])


def test_backtest_view_after_a_run(snap_compare, make_app) -> None:
    """The plan's hybrid over two years of demo 8h bars: metrics per layer, return, drawdown and Monte
    Carlo charts, stress windows (outside the demo's span), the reconciliation and the notes."""
    assert snap_compare(make_app(history=True), terminal_size=SIZE, run_before=SHOTS["backtest"])
