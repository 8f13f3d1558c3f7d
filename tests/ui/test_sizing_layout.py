"""The sizing pane on small and large terminals: at 80x24 the Trade form and the Position figures are on
screen once sized; the ladder folds under 100 columns and ``L`` brings it back; ↑↓ outside a field scroll
to what is below the fold."""

from __future__ import annotations

from rich.cells import cell_len
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from perptui.presentation.numbers import qty as qty_text
from perptui.ui.panes.sizing.figure import Figure
from tests.ui.helpers import settle, sync
from tests.ui.test_sizing_flows import fill, open_pane

#: The figures a trader acts on.
KEY_FIGURES = ("quantity", "notional", "margin", "leverage", "risk", "liq", "gap")


def on_screen(widget: Widget) -> bool:
    """The widget is laid out inside the screen and nothing covers or clips it (checked at both ends)."""
    region, screen = widget.region, widget.screen
    if not region or not screen.region.contains_region(region):
        return False
    ends = ((region.x, region.y), (region.right - 1, region.bottom - 1))
    return all(screen.get_widget_at(x, y)[0] is widget for x, y in ends)


def cue(pane) -> str:  # type: ignore[no-untyped-def]
    more = pane.query_one("#size-more", Static)
    return str(more.content) if more.display else ""


@sync
async def test_at_80x24_the_trade_form_and_the_position_figures_are_on_screen(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        await settle(pilot)
        result, market = pane.result, pane.market
        assert result is not None
        for name in ("symbol", "side", "margin"):
            assert on_screen(pane.query_one(f"#size-{name}", Static)), name
        for name in ("entry", "stop", "risk", "leverage", "targets"):
            assert on_screen(pane.form_widget.input(name)), name
        assert on_screen(pane.query_one("#size-keys", Static))  # the hint under the form is not cut
        for name in KEY_FIGURES:
            figure = pane.query_one(f"#res-{name}", Figure)
            assert on_screen(figure), name
            text = figure.text
            assert text and text != "unknown", name
            shown = figure.render().plain
            assert shown.endswith(text) and cell_len(shown) <= figure.size.width, f"{name}: the value is cut"
        assert (
            f"{qty_text(result.quantity, market.amount_step)} {market.base}"
            in pane.query_one("#res-quantity", Figure).render().plain
        )
        assert pane.query_one("#res-liq", Figure).text == "none: margin covers 0"  # 1x: never liquidated
        # Then the verdict, directly under the cards.
        assert on_screen(pane.query_one("#size-binding", Static))


@sync
async def test_resizing_folds_and_unfolds_the_ladder(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        await fill(pilot, "targets", "1,2,3")
        ladder = pane.query_one("#size-ladder")
        assert not pane.has_class("-narrow") and not pane.has_class("-short")
        assert on_screen(ladder) and "ladder" not in cue(pane)

        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert pane.has_class("-narrow") and pane.has_class("-short")
        assert not ladder.display or not ladder.region
        assert "L shows the ladder" in cue(pane) and "more below" in cue(pane)
        assert on_screen(pane.query_one("#res-liq", Figure))

        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert not pane.has_class("-narrow") and not pane.has_class("-short") and pane.has_class("-wide")
        assert on_screen(ladder) and cue(pane) == ""
        # Wide: the verdict and the targets beside the cards rather than below them.
        position, verdict = pane.query_one("#size-position"), pane.query_one("#size-verdict")
        assert verdict.region.x >= position.region.right and verdict.region.y == position.region.y


@sync
async def test_L_brings_the_folded_ladder_back_and_folds_it_again(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        ladder = pane.query_one("#size-ladder")
        assert pane.has_class("-no-ladder")
        await pilot.press("L")
        await settle(pilot)
        assert on_screen(ladder) and "ladder" not in cue(pane)
        # The cards stack beside it, the Position first: its figures stay on screen.
        assert pane.query_one("#size-position").region.y < pane.form_widget.region.y
        for name in ("quantity", "liq"):
            assert on_screen(pane.query_one(f"#res-{name}", Figure)), name
        await pilot.press("L")
        await settle(pilot)
        assert pane.has_class("-no-ladder") and "L shows the ladder" in cue(pane)
        form, position = pane.form_widget.region, pane.query_one("#size-position").region
        assert form.y == position.y and form.right < position.x  # side by side again

        # A choice lasts until the width crosses 100 columns; then the default for the new width.
        await pilot.press("L")
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert on_screen(ladder)
        await pilot.press("L")
        await settle(pilot)
        assert pane.has_class("-no-ladder")
        await pilot.resize_terminal(80, 24)
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert on_screen(ladder)


@sync
async def test_up_and_down_outside_a_field_scroll_to_what_is_below_the_fold(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        await fill(pilot, "targets", "1,2,3")
        main = pane.query_one("#size-main", VerticalScroll)
        targets = pane.query_one("#targets-table", Static)
        assert main.scroll_y == 0 and not on_screen(targets) and "more below" in cue(pane)
        stop_before = pane.form.stop
        await pilot.press(*["down"] * 12)
        await settle(pilot)
        assert main.scroll_y > 0 and on_screen(targets)
        assert "more above" in cue(pane) and pane.form.stop == stop_before  # no field was nudged
        await pilot.press(*["up"] * 12)
        await settle(pilot)
        assert main.scroll_y == 0 and "more below" in cue(pane)
