"""The backtest view laid out for the terminal: at 80x24 the metrics come first, whole and unwrapped (two
tables, the layer repeated), the charts fold with a line saying so until ``v``, and what does not fit
scrolls from the keyboard; the layout follows a resize."""

from __future__ import annotations

from perptui.ui.screenshots import open_backtest
from perptui.ui.widgets.backtest_charts import BacktestCharts
from tests.ui.helpers import settle, sync
from tests.ui.test_backtest_screen import SHORT, text_of
from tests.ui.test_risk_layout import on_screen

HEADERS = ("return", "CAGR", "vol", "Sharpe", "Sortino", "max DD", "Calmar", "price PnL", "funding", "fees")


@sync
async def test_at_80x24_the_metrics_come_first_and_the_charts_fold(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_backtest(pilot, SHORT)
        assert screen.has_class("-narrow") and screen.has_class("-short")
        metrics = screen.query_one("#bt-metrics")
        assert on_screen(app, metrics)
        shown = text_of(screen, "bt-metrics").splitlines()
        layers = [layer.name for layer in screen.shown.report.result.layers]
        # Two tables, each a header and a row per layer and the total; no line wrapped.
        assert metrics.region.height == len(shown) == 2 * (len(layers) + 2)
        assert all(len(line.rstrip()) <= metrics.region.width for line in shown)
        assert all(head in "\n".join(shown) for head in HEADERS)
        total = f"{screen.shown.report.metrics.total_return * 100:.1f}%"
        assert total in shown[len(layers) + 1]
        charts = screen.query_one(BacktestCharts)
        folded = screen.query_one("#bt-charts-folded")
        assert not charts.display and on_screen(app, folded)
        assert "v shows them" in text_of(screen, "bt-charts-folded")
        await pilot.press("v")
        await settle(pilot)
        assert charts.display and charts.region.height >= 10 and not folded.display
        # The screen scrolls from the keyboard to what lies below.
        await pilot.press("pagedown")
        await settle(pilot)
        assert screen.scroll_y > 0


@sync
async def test_the_layout_follows_a_resize(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_backtest(pilot, SHORT)
        charts = screen.query_one(BacktestCharts)
        layers = len(screen.shown.report.result.layers)
        assert not screen.has_class("-narrow") and charts.display
        assert len(text_of(screen, "bt-metrics").splitlines()) == layers + 2  # one table
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert screen.has_class("-narrow") and screen.has_class("-short") and not charts.display
        assert len(text_of(screen, "bt-metrics").splitlines()) == 2 * (layers + 2)
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert not screen.has_class("-short") and charts.display
        assert len(text_of(screen, "bt-metrics").splitlines()) == layers + 2
