"""How the sizing pane and its order confirmation look on a small (80x24) and a common (120x40) terminal
(frozen clock, seeded demo market). Review the report before ``pytest --snapshot-update``."""

from __future__ import annotations

from perptui.ui.screenshots import SHOTS

SMALL = (80, 24)
MEDIUM = (120, 40)


def test_sizing_pane_long_small(snap_compare, make_app) -> None:
    """The Trade form and the whole Position card side by side, the ladder folded, the targets below."""
    assert snap_compare(make_app(history=True), terminal_size=SMALL, run_before=SHOTS["sizing-long"])


def test_sizing_pane_long_medium(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=MEDIUM, run_before=SHOTS["sizing-long"])


def test_sizing_pane_warnings_small(snap_compare, make_app) -> None:
    """The warnings right under the cards: the stop beyond the liquidation price, the risk above the max."""
    assert snap_compare(make_app(history=True), terminal_size=SMALL, run_before=SHOTS["sizing-warning"])


def test_sizing_order_confirmation_small(snap_compare, make_app) -> None:
    """How the order is sent and its warnings first, then the ticket."""
    assert snap_compare(make_app(history=True), terminal_size=SMALL, run_before=SHOTS["sizing-order"])


def test_sizing_order_confirmation_medium(snap_compare, make_app) -> None:
    assert snap_compare(make_app(history=True), terminal_size=MEDIUM, run_before=SHOTS["sizing-order"])
