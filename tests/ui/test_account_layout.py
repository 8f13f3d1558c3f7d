"""The account pane at 80x24 and on resize: every figure whole and on screen (the cards fold into two
columns), the equity chart taking the rows left and folding to one line when fewer than 8 are left."""

from __future__ import annotations

from textual.app import App
from textual.widget import Widget

from perptui.ui.widgets.equity_chart import EquityChart
from perptui.ui.widgets.stat import Stat, fit
from tests.ui.helpers import settle, sync


def on_screen(app: App, widget: Widget) -> bool:
    """The widget is drawn, inside the screen, and not covered (by another widget than its own parts, a
    scrollbar, a plot) at its top-left and bottom-right cells."""
    region = widget.region
    if not widget.display or region.height == 0 or region.width == 0:
        return False
    if not app.screen.region.contains_region(region):
        return False
    ends = ((region.x, region.y), (region.right - 1, region.bottom - 1))
    hits = [app.screen.get_widget_at(x, y)[0] for x, y in ends]
    return all(hit is widget or widget in hit.ancestors for hit in hits)


def shown_text(stat: Stat) -> str:
    return stat.render().plain


@sync
async def test_at_80x24_every_account_figure_is_whole_and_on_screen(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        stats = list(app.pane("account").query(Stat))
        assert len(stats) == 14
        for stat in stats:
            assert stat.text and any(c.isdigit() for c in stat.text), stat.id
            assert on_screen(app, stat), stat.id
            shown = shown_text(stat)
            assert shown.endswith(stat.text) and len(shown) <= stat.size.width, (stat.id, shown)
        # Nothing needed cutting: each label is whole too at this size.
        assert all(shown_text(s).startswith(s.label) for s in stats)
        chart = app.query_one(EquityChart)
        assert on_screen(app, chart) and not chart.folded and chart.outer_size.height >= 8


@sync
async def test_the_chart_folds_to_a_line_when_short_and_comes_back(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        chart = app.query_one(EquityChart)
        line = chart.query_one("#folded")
        assert chart.folded and on_screen(app, line)
        text = str(line.render())
        assert text.startswith("Equity 1M: 5,000.00 → 6,350.00 (+27.0%)") and "chart folded" in text
        assert chart.plot is None or not chart.plot.display
        await pilot.press("]")
        await pilot.pause()
        assert str(line.render()).startswith("Equity ALL: ")
        await pilot.resize_terminal(80, 30)
        await settle(pilot)
        assert not chart.folded and not line.display
        assert chart.plot is not None and on_screen(app, chart.plot)


@sync
async def test_the_cards_follow_the_terminal_size(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.pane("account")
        cards = [pane.query_one(f"#{card}") for card in ("capital", "risk", "plan")]

        def rows() -> set[int]:
            return {card.region.y for card in cards}

        assert not pane.classes & {"-narrow", "-wide", "-short"} and len(rows()) == 1  # one row of three
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert pane.has_class("-narrow", "-short") and len(rows()) == 2  # two above, the plan below
        assert all(on_screen(app, s) for s in pane.query(Stat))
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert pane.has_class("-wide") and not pane.classes & {"-narrow", "-short"}
        assert len(rows()) == 3 and len({card.region.x for card in cards}) == 1  # a column
        assert app.query_one(EquityChart).region.x > cards[0].region.right  # beside the chart


def test_a_stat_keeps_its_value_and_cuts_its_label() -> None:
    assert fit("Directional capital", "1,905.00 USDT", 40) == ("Directional capital", "1,905.00 USDT")
    assert fit("Directional capital", "1,905.00 USDT", 24) == ("Direction…", "1,905.00 USDT")
    assert fit("Directional capital", "1,905.00 USDT", 14) == ("", "1,905.00 USDT")
    assert fit("Equity", "12,345,678.00 USDT", 13) == ("", "12,345,678.00")  # the unit goes first
    assert fit("Equity", "12,345,678.00 USDT", 8) == ("", "12,345,…")  # cut, with the cue


@sync
async def test_a_resize_while_the_pane_is_hidden_shows_when_it_comes_back(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        pane = app.pane("account")
        assert pane.has_class("-narrow", "-short")
        assert all(on_screen(app, s) for s in pane.query(Stat))
