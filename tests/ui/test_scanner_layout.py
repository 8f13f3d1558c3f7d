"""The scanner laid out for the terminal: at 80x24 the table gets the width (the perp, its rate and its
APR in view) and the side panel folds until ``i`` lays it over the table's right side; on a wide
terminal the panel sits beside the table; the layout follows a resize."""

from __future__ import annotations

from perptui.ui.panes.scanner import ScannerPane
from perptui.ui.panes.scanner.detail import ScanDetail
from perptui.ui.panes.scanner.memory import ScanView
from tests.ui.helpers import settle, sync
from tests.ui.test_live_tables import assert_every_cell_whole
from tests.ui.test_risk_layout import on_screen
from tests.ui.test_scanner_flows import open_scanner


def panel(pane: ScannerPane) -> ScanDetail:
    return pane.query_one("#scan-detail", ScanDetail)


@sync
async def test_at_80x24_the_table_gets_the_width_and_i_lays_the_panel_over_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_scanner(pilot)
        table = pane.table
        assert pane.has_class("-narrow") and pane.view.detail  # remembered as shown, folded for the width
        assert not panel(pane).display
        assert table.region.width == pane.content_region.width and on_screen(app, table)
        assert {"perp", "rate", "apr"} <= set(table.visible_columns())
        assert_every_cell_whole(table)
        bar = pane.query_one("#scan-bar")
        assert all(on_screen(app, field) for field in bar.children if field.display)  # the filters fit
        await pilot.press("i")
        await settle(pilot)
        detail = panel(pane)
        assert detail.display and detail.has_class("-overlay") and on_screen(app, detail)
        assert table.region.width == pane.content_region.width  # over the table, not beside it
        assert detail.region.right == table.region.right
        assert str(detail.border_title).startswith(table.cell_text(table.cursor_key, "perp"))
        await pilot.press("j")
        await settle(pilot)
        assert str(detail.border_title).startswith(table.cell_text(table.cursor_key, "perp"))
        await pilot.press("i")
        await settle(pilot)
        assert not detail.display
        assert pane.view == ScanView.defaults(app.ctx.settings.scan)  # the remembered view untouched


@sync
async def test_the_layout_follows_a_resize(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        table, detail = pane.table, panel(pane)
        assert not pane.has_class("-narrow") and detail.display and not detail.has_class("-overlay")
        assert detail.region.x >= table.region.right  # beside the table
        columns_at_120 = len(table.visible_columns())
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert pane.has_class("-narrow") and pane.has_class("-short") and not detail.display
        assert {"perp", "rate", "apr"} <= set(table.visible_columns())
        await pilot.press("i")
        await settle(pilot)
        assert detail.display and detail.has_class("-overlay")
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert not pane.has_class("-narrow") and not pane.has_class("-short")
        assert detail.display and not detail.has_class("-overlay") and detail.region.x >= table.region.right
        assert len(table.visible_columns()) > columns_at_120 + 5  # the extra width shows more columns
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert not detail.display  # the overlay was given up with the width; i brings it back
