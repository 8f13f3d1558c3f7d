"""The risk pane laid out for the terminal: at 80x24 the positions' rows, the alerts, the portfolio
figures and the limits are all on screen (one line a limit, nothing wrapped), the liquidation distance
and R are a column scroll away with the cue in the header, and the charts fold until ``v``; the layout
follows a resize."""

from __future__ import annotations

from textual.geometry import Region
from textual.widget import Widget

from perptui.ui.screenshots import open_risk
from perptui.ui.widgets.risk_chart import RiskChart
from tests.ui.helpers import settle, sync
from tests.ui.test_live_tables import assert_every_cell_whole, lines

BTC, ETH, SOL = "BTCDEMO/USDT:USDT", "ETHDEMO/USDT:USDT", "SOLDEMO/USDT:USDT"


def body(app) -> Region:  # type: ignore[no-untyped-def]
    """The screen between the header and the footer."""
    width, height = app.size
    return Region(0, 1, width, height - 2)


def on_screen(app, widget: Widget) -> bool:  # type: ignore[no-untyped-def]
    return widget.display and widget.region.height > 0 and body(app).contains_region(widget.region)


def text(widget: Widget) -> str:
    return str(widget.render())


@sync
async def test_at_80x24_positions_alerts_portfolio_and_limits_are_all_on_screen(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_risk(pilot)
        table = pane.table
        assert pane.has_class("-narrow") and pane.has_class("-short")
        assert on_screen(app, table)
        # Every position's row is drawn: the header, then one row per position.
        shown_rows = [line.split()[0] for line in lines(table)[1:] if line.strip()]
        assert shown_rows == [BTC, ETH, SOL] == table.keys_in_order()
        alerts = pane.query_one("#risk-alerts")
        assert on_screen(app, alerts)
        assert f"{SOL} liquidation distance" in text(alerts) and f"{ETH} liquidation distance" in text(alerts)
        portfolio = pane.query_one("#risk-portfolio")
        assert on_screen(app, portfolio)
        assert "Equity" in text(portfolio) and "VaR95" in text(portfolio)
        limits = pane.query_one("#risk-limits")
        assert on_screen(app, limits)
        checks = pane.report.limits.summary()
        assert limits.region.height == len(checks) == len(text(limits).splitlines())  # no line wrapped
        assert "to liquidation" in text(limits) and "BREACHED" in text(limits)
        assert not pane.query_one(RiskChart).display


@sync
async def test_at_80x24_the_liquidation_distance_and_r_scroll_in_with_the_cue(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_risk(pilot)
        table = pane.table
        assert lines(table)[0].rstrip().endswith("›")  # columns hidden on the right, and said so
        for wanted in ("to_liq", "r"):
            for _ in range(len(table.specs)):
                if wanted in table.visible_columns():
                    break
                await pilot.press("right")
                await pilot.pause()
            assert wanted in table.visible_columns()
            assert_every_cell_whole(table)
        # R: the unrealised PnL in units of the loss at the stop; SOL has no stop, so no R.
        assert table.cell_text(SOL, "r") == "—"
        btc = next(p for p in pane.report.positions if p.symbol == BTC)
        assert table.cell_text(BTC, "r") == f"{btc.upnl / btc.risk_at_stop:+.2f}R"


@sync
async def test_v_brings_the_folded_charts_back_and_hides_them_again(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_risk(pilot)
        chart = pane.query_one(RiskChart)
        assert not chart.display
        await pilot.press("v")
        await settle(pilot)
        assert on_screen(app, chart) and chart.region.height >= 8
        assert on_screen(app, pane.query_one("#risk-alerts"))  # the alerts stay in view
        await pilot.press("v")
        await settle(pilot)
        assert not chart.display


@sync
async def test_the_layout_follows_a_resize(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_risk(pilot)
        chart = pane.query_one(RiskChart)
        portfolio = pane.query_one("#risk-portfolio")
        assert not pane.has_class("-narrow") and not pane.has_class("-short") and chart.display
        assert "1-day VaR" in text(portfolio)  # the full portfolio with its VaR table
        await pilot.press("v")  # hidden by hand on a tall terminal
        await settle(pilot)
        assert not chart.display
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert pane.has_class("-narrow") and pane.has_class("-short") and not chart.display
        assert "1-day VaR" not in text(portfolio) and "VaR95" in text(portfolio)
        assert on_screen(app, pane.query_one("#risk-limits"))
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert not pane.has_class("-narrow") and not pane.has_class("-short")
        assert chart.display  # the height changed: the charts follow it again
        assert "1-day VaR" in text(portfolio)
        # The extra width: every column of the positions table at once.
        assert pane.table.visible_columns() == [spec.key for spec in pane.table.specs]
        for widget in (pane.table, pane.query_one("#risk-alerts"), portfolio, chart):
            assert on_screen(app, widget)
