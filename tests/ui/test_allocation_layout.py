"""The plan pane at 80x24 and on resize: the legs table, the key figures and the trades summary on
screen, the settings bar packed without cutting a setting, the notes and the frontier folded behind
``i`` with a cue (and back)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from perptui.presentation.numbers import MASK
from perptui.ui.panes.allocation.settings_bar import pack
from perptui.ui.screenshots import open_plan
from perptui.ui.widgets.stat import Stat
from tests.ui.helpers import settle, sync
from tests.ui.test_account_layout import on_screen, shown_text

FIGURES = ("plan-return", "plan-volatility", "plan-sharpe", "plan-funding")


def text_of(pane, widget_id: str) -> str:  # type: ignore[no-untyped-def]
    return str(pane.query_one(f"#{widget_id}", Static).render())


@sync
async def test_at_80x24_the_table_the_key_figures_and_the_trades_are_on_screen(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_plan(pilot)
        plan = pane.plan
        assert pane.has_class("-narrow")
        assert on_screen(app, pane.table) and pane.table.region.height >= 8
        for figure in FIGURES:
            stat = pane.query_one(f"#{figure}", Stat)
            shown = shown_text(stat)
            assert on_screen(app, stat) and any(c.isdigit() for c in stat.text), figure
            assert shown.endswith(stat.text) and len(shown) <= stat.size.width, shown
        assert pane.query_one("#plan-sharpe", Stat).text == f"{plan.sharpe:.2f}"
        assert pane.query_one("#plan-return", Stat).text == f"{plan.expected_return * 100:.1f}% /yr"
        trades = pane.query_one("#plan-trades")
        assert on_screen(app, trades)
        assert text_of(pane, "plan-trades").startswith(f"{len(plan.trades)} trades to reach the plan")
        assert len(text_of(pane, "plan-trades")) <= trades.size.width  # whole: "x sends them" included
        # The settings bar: two lines, every value in it, none wider than the pane.
        bar = text_of(pane, "plan-settings").split("\n")
        assert len(bar) == 2 and all(len(line) <= pane.size.width for line in bar)
        assert "c capital 6,350" in bar[0] and "b lookback 30d" in bar[1]
        await pilot.press("p")  # privacy masks the funding as every other amount
        await pilot.pause()
        assert pane.query_one("#plan-funding", Stat).text == MASK


@sync
async def test_narrow_notes_and_frontier_fold_behind_i_and_come_back(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_plan(pilot)
        notes, frontier, cue = (pane.query_one(f"#plan-{w}") for w in ("notes", "frontier", "fold"))
        assert not notes.display and not frontier.display
        assert on_screen(app, cue) and "i shows 2 notes and the frontier" in text_of(pane, "plan-fold")
        await pilot.press("i")
        await settle(pilot)
        assert on_screen(app, notes) and on_screen(app, frontier) and not pane.table.display
        assert "dropped" in text_of(pane, "plan-notes")
        assert all(on_screen(app, pane.query_one(f"#{f}")) for f in FIGURES)  # the figures stay
        assert "back to the legs table" in text_of(pane, "plan-fold")
        assert app.focused is pane  # the pane's keys still work with the table hidden
        await pilot.press("i")
        await settle(pilot)
        assert on_screen(app, pane.table) and app.focused is pane.table and not notes.display


@sync
async def test_the_layout_follows_a_resize(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_plan(pilot)
        frontier = pane.query_one("#plan-frontier")

        def beside_the_table(widget_id: str) -> bool:
            return pane.query_one(f"#{widget_id}").region.x > pane.table.region.right

        assert not pane.classes & {"-narrow", "-wide"}
        assert on_screen(app, frontier)
        assert beside_the_table("plan-figures") and beside_the_table("plan-notes")
        assert not pane.query_one("#plan-fold").display
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert pane.has_class("-narrow") and not frontier.display
        assert pane.query_one("#plan-figures").region.y > pane.table.region.y  # under the table
        assert all(on_screen(app, pane.query_one(f"#{f}")) for f in FIGURES)
        await pilot.press("i")  # details on; a resize out of narrow brings the table back
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert pane.has_class("-wide") and not pane.classes & {"-narrow", "-details"}
        assert on_screen(app, pane.table) and on_screen(app, frontier) and beside_the_table("plan-figures")
        assert len(text_of(pane, "plan-settings").split("\n")) == 1  # short labels fit on one line


def test_settings_pack_into_lines_without_cutting_one() -> None:
    parts = [Content(text) for text in ("a 1", "bb 22", "ccc 333", "d 4")]
    assert [str(line) for line in pack(parts, 12, gap=2)] == ["a 1  bb 22", "ccc 333  d 4"]
    assert [str(line) for line in pack(parts, 5, gap=2)] == ["a 1", "bb 22", "ccc 333", "d 4"]
